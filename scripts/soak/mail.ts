/** The in-process SMTP server the soak's Arbiter mails to, with every mail kept and indexed. */
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** Parsed from the approval mail: its decision, tier and step (request or reminder). */
  decisionId: string | null;
  tier: number;
  step: 'request' | 'reminder';
  link: string | null;
  at: number;
  raw: Buffer;
}

/** The approval link in a mail's text (the first /approve/ link is Arbiter's own). */
export function linkIn(text: string): string | null {
  return /(http:\/\/\S+\/approve\/\S+)/.exec(text)?.[1] ?? null;
}

function classify(to: string, subject: string, text: string, raw: Buffer): Mail {
  const decisionId = /Decision (dec_[A-Za-z0-9_-]+)\./.exec(text)?.[1] ?? null;
  const tier = Number(/escalated to you \(tier (\d+)\)/.exec(text)?.[1] ?? 1);
  return { to: to.toLowerCase(), subject, text, decisionId, tier, step: /^\[Arbiter\] Reminder:/.test(subject) ? 'reminder' : 'request', link: linkIn(text), at: Date.now(), raw };
}

export class Inbox {
  readonly all: Mail[] = [];
  private readonly byKey = new Map<string, Mail[]>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private server: SMTPServer | null = null;
  url = '';
  /** SMTP sessions that ended in a connection error (a sender killed mid-mail). */
  connectionErrors = 0;

  static key(decisionId: string, to: string, tier = 1, step = 'request'): string {
    return `${decisionId}|${tier}|${step}|${to.toLowerCase()}`;
  }

  async start(): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      size: 1024 * 1024,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', (e) => callback(e));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw)
            .then((m) => {
              for (const rcpt of session.envelope.rcptTo) this.add(classify(rcpt.address, m.subject ?? '', m.text ?? '', raw));
              callback();
            })
            .catch((e: Error) => callback(e));
        });
      },
    });
    // A sender killed mid-session (the worker, SIGKILLed) resets its connection: that is the soak's point, not an error of ours.
    this.server.on('error', () => (this.connectionErrors += 1));
    await new Promise<void>((ok) => this.server?.listen(0, '127.0.0.1', ok));
    const port = (this.server.server.address() as { port: number }).port;
    this.url = `smtp://127.0.0.1:${port}`;
  }

  private add(m: Mail): void {
    this.all.push(m);
    if (!m.decisionId) return;
    const k = Inbox.key(m.decisionId, m.to, m.tier, m.step);
    const list = this.byKey.get(k) ?? [];
    list.push(m);
    this.byKey.set(k, list);
    const w = this.waiters.get(k);
    if (w) {
      this.waiters.delete(k);
      for (const fn of w) fn();
    }
  }

  get(decisionId: string, to: string, tier = 1, step = 'request'): Mail[] {
    return this.byKey.get(Inbox.key(decisionId, to, tier, step)) ?? [];
  }

  /** The first mail of that key, waiting up to `timeoutMs` for it; null when none came. */
  async waitFor(decisionId: string, to: string, timeoutMs: number, tier = 1, step = 'request'): Promise<Mail | null> {
    const k = Inbox.key(decisionId, to, tier, step);
    const have = this.byKey.get(k);
    if (have?.length) return have[0];
    return new Promise((ok) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(k) ?? [];
        this.waiters.set(k, list.filter((fn) => fn !== done));
        ok(null);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        ok(this.byKey.get(k)?.[0] ?? null);
      };
      this.waiters.set(k, [...(this.waiters.get(k) ?? []), done]);
    });
  }

  /** Every (decision, tier, step, recipient) and how many mails it got. */
  counts(): Map<string, number> {
    return new Map([...this.byKey].map(([k, v]) => [k, v.length]));
  }

  /** Self-test only: delivers a mail a second time over SMTP, as a resend by Arbiter would arrive. */
  async resend(m: Mail): Promise<void> {
    const t = nodemailer.createTransport(this.url);
    await t.sendMail({ envelope: { from: 'arbiter@localhost', to: [m.to] }, raw: m.raw });
    t.close();
  }

  close(): Promise<void> {
    return new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }
}

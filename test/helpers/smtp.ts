import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The Message-ID header, as sent. */
  messageId: string;
}

/** A real SMTP server in the test process: Arbiter sends over the wire, the test reads what arrived. */
export async function startSmtp(): Promise<{ url: string; inbox: ReceivedMail[]; waitFor: (pred: (m: ReceivedMail) => boolean, timeoutMs?: number) => Promise<ReceivedMail>; close: () => Promise<void> }> {
  const inbox: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((m) => {
          for (const rcpt of session.envelope.rcptTo) {
            inbox.push({ to: rcpt.address, subject: m.subject ?? '', text: m.text ?? '', html: typeof m.html === 'string' ? m.html : '', messageId: m.messageId ?? '' });
          }
          callback();
        })
        .catch((e: Error) => callback(e));
    },
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    inbox,
    async waitFor(pred, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const m = inbox.find(pred);
        if (m) return m;
        if (Date.now() > until) throw new Error(`no matching mail within ${timeoutMs} ms; inbox: ${inbox.map((x) => `${x.to}: ${x.subject}`).join('; ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

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

export interface SmtpOptions {
  /**
   * Runs once a message has arrived whole (its end-of-data dot read), before the server
   * answers it. A throw refuses the message with the error's `responseCode` (default 450),
   * and it is not put in the inbox.
   */
  beforeAccept?: (m: ReceivedMail) => Promise<void>;
  /** Runs at each RCPT TO, before the server answers it (so before DATA). */
  onRcpt?: (address: string) => Promise<void>;
}

/** A real SMTP server in the test process: Arbiter sends over the wire, the test reads what arrived. */
export async function startSmtp(opts: SmtpOptions = {}): Promise<{
  url: string;
  inbox: ReceivedMail[];
  /** Messages whose sender went away before the end-of-data dot: discarded, never in the inbox; `bytes` of it had arrived. */
  aborted: { bytes: number }[];
  waitFor: (pred: (m: ReceivedMail) => boolean, timeoutMs?: number) => Promise<ReceivedMail>;
  close: () => Promise<void>;
}> {
  const inbox: ReceivedMail[] = [];
  const aborted: { bytes: number }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!opts.onRcpt) return callback();
      opts.onRcpt(address.address).then(() => callback(), (e: Error) => callback(e));
    },
    onData(stream, session, callback) {
      let bytes = 0;
      stream.on('data', (c: Buffer) => (bytes += c.length));
      // smtp-server destroys the message stream with this error when the client goes away mid-DATA.
      stream.once('error', () => aborted.push({ bytes }));
      simpleParser(stream)
        .then(async (m) => {
          const got = session.envelope.rcptTo.map((rcpt) => ({ to: rcpt.address, subject: m.subject ?? '', text: m.text ?? '', html: typeof m.html === 'string' ? m.html : '', messageId: m.messageId ?? '' }));
          if (opts.beforeAccept) for (const g of got) await opts.beforeAccept(g);
          inbox.push(...got);
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
    aborted,
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

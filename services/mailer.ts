import type { Readable, Writable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import DataStream from 'nodemailer/lib/smtp-connection/data-stream';
import wellKnown from 'nodemailer/lib/well-known';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /**
   * The RFC 5322 Message-ID, fixed per stored mail: should a mail ever go out twice
   * it is the same message, which mail systems recognise.
   */
  messageId?: string;
}

export interface SendOptions {
  /**
   * The commit point (see services/notifier.ts). Called exactly once, synchronously, once
   * the whole message has been handed to the socket and immediately before the end-of-data
   * dot: the dot is written in the same synchronous stretch, right after it returns, so
   * whatever `commit` writes to its own socket reaches the kernel first. A kill before it
   * leaves the server without the dot (it discards the message); a kill after it, after both.
   * If it throws, the dot is never written: the connection is closed mid-DATA and `send`
   * rejects with its error. The outbox calls it at once.
   */
  commit?: () => void;
}

/** Sends mail over SMTP, or, with no SMTP configured, leaves it in the dev outbox (the stored row is the delivery). */
export interface Mailer {
  readonly transport: 'smtp' | 'outbox';
  send(msg: MailMessage, opts?: SendOptions): Promise<{ messageId: string | null }>;
}

/**
 * Bounded well inside the delivery lease (services/notifier.ts): a send that outlived it could
 * overlap a retry. (Given as the SMTP URL's options would be given: they were once passed to
 * `createTransport` as message defaults, where nodemailer ignores them.)
 */
const TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000 };

export function createMailer(opts: { smtpUrl?: string; from: string }): Mailer {
  if (!opts.smtpUrl) {
    return {
      transport: 'outbox',
      send: async (_msg, o) => {
        o?.commit?.();
        return { messageId: null };
      },
    };
  }
  const options = smtpOptions(opts.smtpUrl);
  return { transport: 'smtp', send: (msg, o) => sendSmtp(options, opts.from, msg, o?.commit) };
}

/** SMTP_URL read as nodemailer's SMTP transport reads it: smtp:// or smtps://, user:pass, query options, `service`. */
function smtpOptions(url: string): SMTPConnection.Options {
  if (!/^smtps?:/i.test(url)) throw new Error('SMTP_URL must be an smtp:// or smtps:// URL');
  const parsed = parseConnectionUrl(url) as SMTPConnection.Options & { service?: string; proxy?: unknown; pool?: unknown };
  if (parsed.proxy) throw new Error('SMTP_URL: the proxy option is not supported');
  const known = parsed.service ? wellKnown(parsed.service) : false;
  return { ...parsed, ...(known || {}), ...TIMEOUTS };
}

/** The login nodemailer's SMTP transport would make from the URL's user:pass. */
function authOf(options: SMTPConnection.Options): SMTPConnection.AuthenticationCredentials | null {
  const a = options.auth as { user?: string; pass?: string; options?: unknown } | undefined;
  if (!a || (!a.user && !a.pass)) return null;
  const method = (options as { authMethod?: string }).authMethod;
  return { credentials: { user: a.user ?? '', pass: a.pass ?? '' }, ...(method ? { method } : {}) } as SMTPConnection.AuthenticationCredentials;
}

/**
 * One SMTP session per mail (as nodemailer's SMTP transport does), with the message composed
 * by nodemailer's own MailComposer (as `sendMail` composes it) and handed to smtp-connection's
 * `send` through a gate that holds the end of data until `commit` has run.
 */
async function sendSmtp(options: SMTPConnection.Options, from: string, msg: MailMessage, commit?: () => void): Promise<{ messageId: string | null }> {
  const node = new MailComposer({ from, to: msg.to, subject: msg.subject, text: msg.text, html: msg.html, messageId: msg.messageId, headers: {} }).compile();
  const envelope = node.getEnvelope();
  const messageId = node.messageId();
  const raw = await node.build();
  const auth = authOf(options);
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection(options);
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      conn.close();
      if (err) reject(err);
      else resolve({ messageId: typeof messageId === 'string' ? messageId : null });
    };
    conn.once('error', (err) => finish(err));
    conn.once('end', () => {
      // As nodemailer's transport: a close not followed by the send's own answer is an error.
      setTimeout(() => finish(new Error('SMTP connection closed unexpectedly')), 1000).unref();
    });

    /*
     * smtp-connection pipes the message into its DataStream only once DATA got its 354
     * (`send` → `_setEnvelope` → `_createSendStream`, then `message.pipe(stream)`); the
     * DataStream, piped into the socket, escapes the body and writes the terminating dot
     * from its flush, when it is ended. So the gate is given the DataStream itself: it
     * writes the whole message, waits until every byte of it has left Node for the kernel
     * (nothing buffered in the DataStream or the socket), runs `commit`, and ends the
     * DataStream, which writes `\r\n.\r\n` to the socket synchronously inside `end()`.
     */
    const gate = {
      pipe(dest: Writable): Writable {
        if (!(dest instanceof DataStream)) {
          // The envelope was refused: smtp-connection only drains the message. No DATA, no commit.
          dest.end(raw);
          return dest;
        }
        const data = dest as DataStream;
        data.write(raw);
        const socket = conn._socket as { writableLength?: number } | undefined;
        const flushed = () => data.writableLength === 0 && data.readableLength === 0 && (socket?.writableLength ?? 0) === 0;
        const endOfData = (): void => {
          if (settled) return;
          // A large message, or a slow server: wait for the body to drain (the socket timeout bounds this).
          if (!flushed()) {
            setTimeout(endOfData, 2);
            return;
          }
          try {
            commit?.();
          } catch (e) {
            // No dot: closing mid-DATA makes the server discard the message.
            finish(e instanceof Error ? e : new Error(String(e)));
            return;
          }
          data.end();
        };
        endOfData();
        return dest;
      },
    };

    const send = () => conn.send(envelope, gate as unknown as Readable, (err) => finish(err));
    conn.connect(() => {
      if (settled) return;
      const allowsAuth = (conn as unknown as { allowsAuth?: boolean }).allowsAuth;
      if (auth && (allowsAuth || (options as { forceAuth?: boolean }).forceAuth)) {
        conn.login(auth, (err) => (err ? finish(err) : send()));
      } else {
        send();
      }
    });
  });
}

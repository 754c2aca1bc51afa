import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /**
   * The RFC 5322 Message-ID, fixed per stored mail: a resend after a crash in the send
   * window (at least once) is the same message, which mail systems recognise and drop.
   */
  messageId?: string;
}

/** Sends mail over SMTP, or, with no SMTP configured, leaves it in the dev outbox (the stored row is the delivery). */
export interface Mailer {
  readonly transport: 'smtp' | 'outbox';
  send(msg: MailMessage): Promise<{ messageId: string | null }>;
}

export function createMailer(opts: { smtpUrl?: string; from: string }): Mailer {
  if (!opts.smtpUrl) {
    return { transport: 'outbox', send: async () => ({ messageId: null }) };
  }
  // Bounded well inside the delivery lease (services/notifier.ts): a send that outlives it could overlap a retry.
  const t: Transporter = nodemailer.createTransport(opts.smtpUrl, { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000 });
  return {
    transport: 'smtp',
    async send(msg) {
      const info = await t.sendMail({ from: opts.from, ...msg });
      return { messageId: typeof info.messageId === 'string' ? info.messageId : null };
    },
  };
}

import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
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
  const t: Transporter = nodemailer.createTransport(opts.smtpUrl);
  return {
    transport: 'smtp',
    async send(msg) {
      const info = await t.sendMail({ from: opts.from, ...msg });
      return { messageId: typeof info.messageId === 'string' ? info.messageId : null };
    },
  };
}

/*
 * Sends one mail through a Notifier in a process of its own, so that a test can have it
 * SIGKILLed at an exact point of the send (test/api/mail-commit-point.test.ts). Run as
 * `node --import tsx test/helpers/mail-child.ts` with its settings as JSON in MAIL_CHILD:
 * databaseUrl, smtpUrl, leaseSeconds, approvalId, to, mailKey, subject, and `kill`:
 *   - `before-mark`: at the commit point, before the mark is written (the body is on the wire, the dot is not);
 *   - `between`: right after the mark is written, before the dot (the sliver);
 *   - `after-dot`: once the mark and the dot are both written, in the same tick (before the server answers);
 *   - none: the send completes and the process prints `sent` or `skipped`.
 */
import { createDataSource } from '../../entities/data-source';
import { createMailer } from '../../services/mailer';
import type { Mailer } from '../../services/mailer';
import { Notifier } from '../../services/notifier';

export interface MailChildSettings {
  databaseUrl: string;
  smtpUrl: string;
  leaseSeconds: number;
  approvalId: string;
  to: string;
  mailKey: string;
  subject: string;
  kill?: 'before-mark' | 'between' | 'after-dot';
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.MAIL_CHILD ?? '{}') as MailChildSettings;
  const die = () => process.kill(process.pid, 'SIGKILL');
  const ds = createDataSource(cfg.databaseUrl, { poolSize: 3, appName: 'mail-child' });
  await ds.initialize();
  const real = createMailer({ smtpUrl: cfg.smtpUrl, from: 'arbiter@example.com' });
  const mailer: Mailer = {
    transport: real.transport,
    send: (m, o) =>
      real.send(m, {
        commit: () => {
          if (cfg.kill === 'before-mark') die();
          o?.commit?.();
          if (cfg.kill === 'between') die();
          // The mailer writes the dot as soon as this returns, before anything queued here runs.
          if (cfg.kill === 'after-dot') process.nextTick(die);
        },
      }),
  };
  const notifier = new Notifier(ds, mailer, null, { leaseSeconds: cfg.leaseSeconds });
  const key = { approvalId: cfg.approvalId, tier: 1, step: 'request', recipient: cfg.to };
  const r = await notifier.email('org_default', key, cfg.to, cfg.mailKey, () => Promise.resolve({ subject: cfg.subject, text: 'please decide', html: '<p>please decide</p>' }));
  console.log(r);
  await ds.destroy();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

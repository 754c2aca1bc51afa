import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMailer } from '../../services/mailer';
import type { Mailer } from '../../services/mailer';
import { DeliveryInProgress, Notifier } from '../../services/notifier';
import { startSmtp } from '../helpers/smtp';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

/*
 * The soak found mails sent twice without any crash: a notify activity that ran past its
 * timeout kept sending while Temporal's retry of it sent too. Each delivery is now leased
 * by the attempt sending it. A real SMTP server counts what arrives.
 */
describe('a delivery is sent by one attempt at a time', { timeout: 60_000 }, () => {
  let s: Stack;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  before(async () => {
    s = await startStack({ withWorker: false });
    smtp = await startSmtp();
  });
  after(async () => {
    await s?.close();
    await smtp?.close();
  });

  it('a retry that starts while a slow attempt is still sending waits for it, and the mail arrives once', async () => {
    const real = createMailer({ smtpUrl: smtp.url, from: 'arbiter@example.com' });
    // The first attempt is slow: it holds its send until released.
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    let calls = 0;
    const slow: Mailer = { transport: 'smtp', send: async (m, o) => { calls += 1; if (calls === 1) await held; return real.send(m, o); } };
    const notifier = new Notifier(s.core.ds, slow, null);
    const key = { approvalId: 'apr_lease_test', tier: 1, step: 'request', recipient: 'usr_lease' };
    const mail = () => Promise.resolve({ subject: 'Approval needed: lease test', text: 'please decide', html: '<p>please decide</p>' });
    const first = notifier.email('org_default', key, 'lease@example.com', 'mail-lease-1', () => mail());
    // Let the first attempt claim the delivery and start sending.
    while (calls === 0) await new Promise((r) => setTimeout(r, 10));
    await assert.rejects(notifier.email('org_default', key, 'lease@example.com', 'mail-lease-1', () => mail()), DeliveryInProgress);
    release();
    assert.equal(await first, 'sent');
    // The retry after the first attempt finished finds it sent.
    assert.equal(await notifier.email('org_default', key, 'lease@example.com', 'mail-lease-1', () => mail()), 'skipped');
    await smtp.waitFor((m) => m.subject === 'Approval needed: lease test');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(smtp.inbox.filter((m) => m.subject === 'Approval needed: lease test').length, 1);
    // Every stored mail goes out under its own fixed Message-ID: a resend after a crash in the send window is recognisably the same message.
    const [got] = smtp.inbox.filter((m) => m.subject === 'Approval needed: lease test');
    const [stored] = (await s.core.ds.query(`SELECT id FROM email_messages WHERE "idempotencyKey" = 'mail-lease-1'`)) as { id: string }[];
    assert.equal(got.messageId, `<${stored.id}@arbiter>`);
  });

  it('an attempt whose send failed gives the lease back at once: the retry sends', async () => {
    const real = createMailer({ smtpUrl: smtp.url, from: 'arbiter@example.com' });
    let calls = 0;
    const flaky: Mailer = { transport: 'smtp', send: async (m, o) => { calls += 1; if (calls === 1) throw new Error('421 try again later'); return real.send(m, o); } };
    const notifier = new Notifier(s.core.ds, flaky, null);
    const key = { approvalId: 'apr_lease_test_2', tier: 1, step: 'request', recipient: 'usr_lease' };
    const mail = () => Promise.resolve({ subject: 'Approval needed: lease test 2', text: 'x', html: '<p>x</p>' });
    await assert.rejects(notifier.email('org_default', key, 'lease2@example.com', 'mail-lease-2', () => mail()), /421/);
    assert.equal(await notifier.email('org_default', key, 'lease2@example.com', 'mail-lease-2', () => mail()), 'sent');
    await smtp.waitFor((m) => m.subject === 'Approval needed: lease test 2');
    assert.equal(smtp.inbox.filter((m) => m.subject === 'Approval needed: lease test 2').length, 1);
  });
});

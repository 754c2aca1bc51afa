import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { createDataSource } from '../../entities/data-source';
import { createMailer } from '../../services/mailer';
import { DeliveryInProgress, Notifier } from '../../services/notifier';
import type { MailChildSettings } from '../helpers/mail-child';
import { startSmtp } from '../helpers/smtp';
import type { ReceivedMail } from '../helpers/smtp';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

/*
 * The soak's mails sent twice: a worker SIGKILLed after its SMTP client wrote the end-of-data
 * dot but before the `sent` mark reached PostgreSQL still delivered the mail (the kernel
 * flushes the socket), and the retry sent it again. A mail is now marked sent at a commit
 * point written just before the dot, in the same synchronous stretch. Real parts: an SMTP
 * server in this process, PostgreSQL, and a sender in a child process killed at exact points.
 */

const LEASE_SECONDS = 2;

interface DeliveryRow {
  status: string;
  claimed: boolean;
  leased: boolean;
  error: string | null;
  deliverySentAt: Date | null;
  mailSentAt: Date | null;
  providerId: string | null;
}

describe('a mail is marked sent at its commit point, just before the end of data', { timeout: 120_000 }, () => {
  let s: Stack;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let observer: Client;
  /** What the SMTP server does with a whole message before it answers, and at RCPT TO (per test). */
  let beforeAccept: (m: ReceivedMail) => Promise<void> = () => Promise.resolve();
  let onRcpt: (address: string) => Promise<void> = () => Promise.resolve();

  before(async () => {
    s = await startStack({ withWorker: false });
    smtp = await startSmtp({ beforeAccept: (m) => beforeAccept(m), onRcpt: (a) => onRcpt(a) });
    // Another connection, not the notifier's: what PostgreSQL has committed.
    observer = new Client({ connectionString: s.config.DATABASE_URL });
    await observer.connect();
  });
  after(async () => {
    await observer?.end();
    await s?.close();
    await smtp?.close();
  });

  const mail = (subject: string) => () => Promise.resolve({ subject, text: 'please decide', html: '<p>please decide</p>' });
  const arrived = (subject: string) => smtp.inbox.filter((m) => m.subject === subject).length;
  const settle = () => new Promise((r) => setTimeout(r, 400));

  async function row(approvalId: string): Promise<DeliveryRow | undefined> {
    const r = await observer.query<DeliveryRow>(
      `SELECT d.status, d."claimedUntil" IS NOT NULL AS claimed, COALESCE(d."claimedUntil" > now(), false) AS leased, d.error, d."sentAt" AS "deliverySentAt", m."sentAt" AS "mailSentAt", d."providerId"
         FROM deliveries d LEFT JOIN email_messages m ON m."idempotencyKey" = 'mail-' || d."approvalId" WHERE d."approvalId" = $1`,
      [approvalId],
    );
    return r.rows[0];
  }

  function notifier(ds = s.core.ds): Notifier {
    return new Notifier(ds, createMailer({ smtpUrl: smtp.url, from: 'arbiter@example.com' }), null, { leaseSeconds: LEASE_SECONDS });
  }

  function send(n: Notifier, approvalId: string, subject: string) {
    return n.email('org_default', { approvalId, tier: 1, step: 'request', recipient: `${approvalId}@example.com` }, `${approvalId}@example.com`, `mail-${approvalId}`, mail(subject));
  }

  /** Sends in a child process killed at `kill`; resolves with how it ended. */
  function sendInChild(approvalId: string, subject: string, kill?: MailChildSettings['kill']): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
    const settings: MailChildSettings = { databaseUrl: s.config.DATABASE_URL, smtpUrl: smtp.url, leaseSeconds: LEASE_SECONDS, approvalId, to: `${approvalId}@example.com`, mailKey: `mail-${approvalId}`, subject, kill };
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../helpers/mail-child.ts')], { env: { ...process.env, MAIL_CHILD: JSON.stringify(settings) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    return new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal, out })));
  }

  it('the mark is committed in PostgreSQL when the server reads the end of data, before it answers', async () => {
    const subject = 'Commit point: marked before the answer';
    const seen: { status: string; waitedMs: number }[] = [];
    beforeAccept = async (m) => {
      if (m.subject !== subject) return;
      // The server has the dot and has not answered: the client is still waiting for the 250.
      const t0 = Date.now();
      let r = await row('apr_cp_1');
      seen.push({ status: r?.status ?? 'none', waitedMs: Date.now() - t0 });
      while (r?.status !== 'sent' && Date.now() - t0 < 3000) {
        await new Promise((ok) => setTimeout(ok, 5));
        r = await row('apr_cp_1');
      }
      seen.push({ status: r?.status ?? 'none', waitedMs: Date.now() - t0 });
    };
    try {
      assert.equal(await send(notifier(), 'apr_cp_1', subject), 'sent');
    } finally {
      beforeAccept = () => Promise.resolve();
    }
    console.log(`[commit point] at the server's end of data: first read ${seen[0]?.status} (${seen[0]?.waitedMs} ms), last read ${seen[1]?.status} after ${seen[1]?.waitedMs} ms`);
    assert.equal(seen.at(-1)?.status, 'sent', `the server answered the mail before the mark was committed: ${JSON.stringify(seen)}`);
    const r = await row('apr_cp_1');
    assert.equal(r?.status, 'sent');
    assert.equal(r?.claimed, false);
    assert.ok(r?.deliverySentAt && r.mailSentAt, 'both rows carry sentAt');
    const [stored] = (await s.core.ds.query(`SELECT id, "providerMessageId" FROM email_messages WHERE "idempotencyKey" = 'mail-apr_cp_1'`)) as { id: string; providerMessageId: string }[];
    assert.equal(stored.providerMessageId, `<${stored.id}@arbiter>`);
    assert.equal(r?.providerId, `<${stored.id}@arbiter>`);
    await settle();
    assert.equal(arrived(subject), 1);
  });

  it('a sender killed at the commit point, before the mark, sends nothing; after the lease the retry sends it once', async () => {
    const subject = 'Commit point: killed before the mark';
    const ended = await sendInChild('apr_cp_2', subject, 'before-mark');
    assert.equal(ended.signal, 'SIGKILL');
    // The server had the whole body but never the dot: it discarded the message.
    const deadline = Date.now() + 5000;
    while (smtp.aborted.length === 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
    const cut = smtp.aborted.splice(0);
    console.log(`[commit point] killed before the mark: the server discarded a message of which ${cut.map((c) => c.bytes).join(', ')} bytes had arrived`);
    assert.equal(cut.length, 1, 'the server saw one message cut off before its end');
    assert.ok(cut[0].bytes > 200, `the body was on the wire when the sender died (${cut[0].bytes} bytes)`);
    await settle();
    assert.equal(arrived(subject), 0, 'nothing was delivered');
    const r = await row('apr_cp_2');
    assert.equal(r?.status, 'pending');
    assert.equal(r?.mailSentAt, null);
    assert.equal(r?.leased, true, 'the dead attempt still holds its lease');

    const n = notifier();
    await assert.rejects(send(n, 'apr_cp_2', subject), DeliveryInProgress);
    while ((await row('apr_cp_2'))?.leased) await new Promise((ok) => setTimeout(ok, 100));
    assert.equal(await send(n, 'apr_cp_2', subject), 'sent');
    assert.equal(await send(n, 'apr_cp_2', subject), 'skipped');
    await settle();
    assert.equal(arrived(subject), 1, 'delivered exactly once');
    assert.equal((await row('apr_cp_2'))?.status, 'sent');
  });

  it('a sender killed right after the commit point (mark and dot written, no answer read) delivers once; the retry sends nothing', async () => {
    const subject = 'Commit point: killed after the dot';
    const ended = await sendInChild('apr_cp_3', subject, 'after-dot');
    assert.equal(ended.signal, 'SIGKILL');
    await smtp.waitFor((m) => m.subject === subject, 5000);
    // PostgreSQL commits the mark it received whole, though its client is dead.
    let r = await row('apr_cp_3');
    for (const until = Date.now() + 5000; r?.status !== 'sent' && Date.now() < until; r = await row('apr_cp_3')) await new Promise((ok) => setTimeout(ok, 20));
    assert.equal(r?.status, 'sent');
    assert.ok(r?.mailSentAt, 'the stored mail is marked too');
    assert.equal(r?.claimed, false);
    assert.equal(await send(notifier(), 'apr_cp_3', subject), 'skipped');
    await settle();
    assert.equal(arrived(subject), 1, 'delivered exactly once');
    assert.equal(smtp.aborted.length, 0);
  });

  it('the sliver: a sender killed between the mark and the dot loses the mail (at most once), which is why the mark goes first', async () => {
    const subject = 'Commit point: killed between the mark and the dot';
    const ended = await sendInChild('apr_cp_4', subject, 'between');
    assert.equal(ended.signal, 'SIGKILL');
    let r = await row('apr_cp_4');
    for (const until = Date.now() + 5000; r?.status !== 'sent' && Date.now() < until; r = await row('apr_cp_4')) await new Promise((ok) => setTimeout(ok, 20));
    assert.equal(r?.status, 'sent', 'the mark was written before the dot');
    for (const until = Date.now() + 5000; smtp.aborted.length === 0 && Date.now() < until; ) await new Promise((ok) => setTimeout(ok, 20));
    assert.equal(smtp.aborted.splice(0).length, 1, 'the server got no dot and discarded the message');
    assert.equal(await send(notifier(), 'apr_cp_4', subject), 'skipped');
    await settle();
    assert.equal(arrived(subject), 0, 'never delivered: the one window that loses a mail instead of sending it twice');
  });

  it('a message the server refuses at the end of data is unmarked (pending, unclaimed, error kept); the retry delivers it once', async () => {
    const subject = 'Commit point: refused at the end of data';
    let refusals = 0;
    beforeAccept = (m) => {
      if (m.subject !== subject || refusals > 0) return Promise.resolve();
      refusals += 1;
      return Promise.reject(Object.assign(new Error('try again later'), { responseCode: 451 }));
    };
    const n = notifier();
    try {
      await assert.rejects(send(n, 'apr_cp_5', subject), /451 try again later/);
      const r = await row('apr_cp_5');
      assert.equal(r?.status, 'pending');
      assert.equal(r?.claimed, false, 'the lease is given back: the retry may go at once');
      assert.match(r?.error ?? '', /451 try again later/);
      assert.equal(r?.deliverySentAt, null);
      assert.equal(r?.mailSentAt, null);
      assert.equal(await send(n, 'apr_cp_5', subject), 'sent');
    } finally {
      beforeAccept = () => Promise.resolve();
    }
    await settle();
    assert.equal(refusals, 1);
    assert.equal(arrived(subject), 1, 'delivered exactly once');
    const r = await row('apr_cp_5');
    assert.equal(r?.status, 'sent');
    assert.equal(r?.error, null);
  });

  it('a commit that throws ends the send without the dot: the server discards the message and send rejects', async () => {
    const subject = 'Commit point: commit throws';
    const before = smtp.aborted.length;
    let calls = 0;
    const m = createMailer({ smtpUrl: smtp.url, from: 'arbiter@example.com' });
    await assert.rejects(
      m.send({ to: 'x@example.com', subject, text: 'x', html: '<p>x</p>' }, { commit: () => { calls += 1; throw new Error('no commit'); } }),
      /no commit/,
    );
    for (const until = Date.now() + 5000; smtp.aborted.length === before && Date.now() < until; ) await new Promise((ok) => setTimeout(ok, 20));
    assert.equal(calls, 1);
    assert.equal(smtp.aborted.length, before + 1);
    await settle();
    assert.equal(arrived(subject), 0);
    // Without SMTP (the dev outbox) the commit point is at once.
    let outboxCalls = 0;
    assert.deepEqual(await createMailer({ from: 'arbiter@example.com' }).send({ to: 'x@example.com', subject, text: 'x', html: 'x' }, { commit: () => (outboxCalls += 1) }), { messageId: null });
    assert.equal(outboxCalls, 1);
  });
  it('a mark that fails after the dot, on a mail the server accepted, is written again on another connection: the retry sends nothing', async () => {
    const subject = 'Commit point: mark lost after the dot';
    // Hold the delivery row so the mark waits; once the server has the dot, end the mark's backend.
    const locker = new Client({ connectionString: s.config.DATABASE_URL });
    await locker.connect();
    let terminated = 0;
    onRcpt = async (address) => {
      if (address !== 'apr_cp_7@example.com') return;
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM deliveries WHERE "approvalId" = 'apr_cp_7' FOR UPDATE`);
    };
    beforeAccept = async (m) => {
      if (m.subject !== subject) return;
      for (const until = Date.now() + 5000; terminated === 0 && Date.now() < until; ) {
        const r = await observer.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH d AS (UPDATE deliveries%'`);
        terminated = r.rowCount ?? 0;
        if (terminated === 0) await new Promise((ok) => setTimeout(ok, 10));
      }
      await locker.query('ROLLBACK');
    };
    try {
      assert.equal(await send(notifier(), 'apr_cp_7', subject), 'sent');
    } finally {
      beforeAccept = () => Promise.resolve();
      onRcpt = () => Promise.resolve();
      await locker.end();
    }
    assert.equal(terminated, 1, 'the mark was waiting on its backend when the server had the dot');
    const r = await row('apr_cp_7');
    assert.equal(r?.status, 'sent');
    assert.ok(r?.mailSentAt);
    assert.equal(await send(notifier(), 'apr_cp_7', subject), 'skipped');
    await settle();
    assert.equal(arrived(subject), 1, 'delivered exactly once');
  });

  it('a connection for the mark lost before the commit point ends the send without the dot; the retry sends it once', async () => {
    const subject = 'Commit point: mark connection lost before';
    // The notifier on a pool of its own, so its connections can be told apart in pg_stat_activity.
    const ds = createDataSource(s.config.DATABASE_URL, { poolSize: 3, appName: 'commit-point-test' });
    await ds.initialize();
    const before = smtp.aborted.length;
    let terminated = 0;
    onRcpt = async (address) => {
      if (address !== 'apr_cp_8@example.com' || terminated > 0) return;
      const r = await observer.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'commit-point-test'`);
      terminated = r.rowCount ?? 0;
      // Let the notifier's client read its FATAL.
      await new Promise((ok) => setTimeout(ok, 300));
    };
    try {
      const n = notifier(ds);
      await assert.rejects(send(n, 'apr_cp_8', subject), /lost the connection for the sent mark/);
      assert.ok(terminated >= 1);
      for (const until = Date.now() + 5000; smtp.aborted.length === before && Date.now() < until; ) await new Promise((ok) => setTimeout(ok, 20));
      assert.equal(smtp.aborted.length, before + 1, 'the server got no dot');
      const r = await row('apr_cp_8');
      assert.equal(r?.status, 'pending');
      assert.equal(r?.claimed, false);
      assert.match(r?.error ?? '', /lost the connection/);
      assert.equal(await send(n, 'apr_cp_8', subject), 'sent');
    } finally {
      onRcpt = () => Promise.resolve();
      await ds.destroy();
    }
    await settle();
    assert.equal(arrived(subject), 1, 'delivered exactly once');
  });
});

// Proof that Arbiter's approval flow passes on Temporal's production server backed by
// PostgreSQL (scripts/temporal-server.mjs), not only on the dev server the tests use.
//
//   node scripts/temporal-server.mjs start            # in another terminal
//   node --import tsx scripts/temporal-pg-check.ts    # TEMPORAL_PG_ADDRESS=127.0.0.1:7243 by default
//
// Runs the real processes, api/main.ts and worker/main.ts, on a fresh database with the
// server as TEMPORAL_ADDRESS, and an SMTP server in this process; then drives one approval
// to ALLOW through the emailed link and one to DENY through the vote API, each while the
// agent long-polls for the outcome. Checks the server is the PostgreSQL-backed one (its
// version, and the workflows' rows in its `temporal` database). Exits 0 when all holds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { dropDatabase } from '../entities/data-source';
import { linkIn, postForm } from '../test/helpers/fixtures';
import { startSmtp } from '../test/helpers/smtp';

const ADDRESS = process.env.TEMPORAL_PG_ADDRESS ?? '127.0.0.1:7243';
const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
const PG_BASE = process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
/** The server's persistence database, where its workflows' rows must be. */
const TEMPORAL_DB = process.env.TEMPORAL_PG_DB ?? 'temporal';
const ADMIN_KEY = `arb_pgcheck_${randomBytes(16).toString('hex')}`;

const say = (m: string) => console.error(`[pg-check] ${m}`);
const children: ChildProcess[] = [];

function spawnArbiter(entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}

async function waitForLine(child: ChildProcess, text: string, what: string, timeoutMs = 90_000): Promise<void> {
  await new Promise<void>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${what} did not start: ${out.slice(-2000)}`)), timeoutMs);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once('exit', (code) => fail(new Error(`${what} exited ${code}: ${out.slice(-2000)}`)));
  });
  child.stdout?.resume();
}

async function waitForUrl(url: string, child: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* starting */
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((ok) => {
          if (c.exitCode !== null || c.signalCode !== null) return ok();
          c.once('exit', () => ok());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
}

interface Reply {
  status: number;
  body: Record<string, unknown> & { [k: string]: unknown };
}

async function main(): Promise<void> {
  // The server: production Temporal, and its namespace is there.
  const connection = await Connection.connect({ address: ADDRESS }).catch((e: Error) => {
    throw new Error(`no Temporal server at ${ADDRESS} (start it: node scripts/temporal-server.mjs start): ${e.message}`);
  });
  const serverVersion = (await connection.workflowService.getSystemInfo({})).serverVersion ?? '';
  await connection.workflowService.describeNamespace({ namespace: NAMESPACE }).catch((e: Error) => {
    throw new Error(`namespace ${NAMESPACE} is missing on ${ADDRESS}: ${e.message}`);
  });
  say(`Temporal server ${serverVersion || '(version not reported)'} at ${ADDRESS}, namespace ${NAMESPACE}`);
  const temporal = new TemporalClient({ connection, namespace: NAMESPACE });

  const smtp = await startSmtp();
  const dbUrl = `${PG_BASE}/arbiter_pgcheck_${randomBytes(4).toString('hex')}`;
  const port = 20_000 + Math.floor(Math.random() * 10_000);
  const url = `http://127.0.0.1:${port}`;
  const taskQueue = `pgcheck-${process.pid}`;
  const common = { DATABASE_URL: dbUrl, TEMPORAL_ADDRESS: ADDRESS, TEMPORAL_NAMESPACE: NAMESPACE, TEMPORAL_TASK_QUEUE: taskQueue, PUBLIC_URL: url, SMTP_URL: smtp.url, ARBITER_ADMIN_KEY: ADMIN_KEY, APPROVAL_TIER1_TIMEOUT_SECONDS: '600', DATABASE_POOL_SIZE: '5' };
  try {
    // The API creates the database, migrates and bootstraps; the worker comes after it.
    const api = spawnArbiter('api/main.ts', { ...common, ARBITER_ROLE: 'api', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    await waitForUrl(`${url}/readyz`, api);
    const worker = spawnArbiter('worker/main.ts', { ...common, ARBITER_ROLE: 'worker', LOG_LEVEL: 'info' });
    await waitForLine(worker, 'worker running', 'the worker');
    say(`API ${url} (pid ${api.pid}) and worker (pid ${worker.pid}) on task queue ${taskQueue}`);

    const call = async (method: string, path: string, body?: unknown, key = ADMIN_KEY): Promise<Reply> => {
      const res = await fetch(url + path, { method, headers: { 'X-API-Key': key, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Reply['body']) : {} };
    };
    const created = async (r: Promise<Reply>, what: string): Promise<Reply['body']> => {
      const x = await r;
      assert.ok(x.status === 200 || x.status === 201, `${what}: ${x.status} ${JSON.stringify(x.body)}`);
      return x.body;
    };

    const alice = (await created(call('POST', '/api/v1/users', { email: 'alice@example.com', name: 'Alice', roles: ['approver'] }), 'add approver')).id as string;
    await created(call('POST', '/api/v1/users', { email: 'root@example.com', name: 'Root', roles: ['admin'] }), 'add admin');
    const aliceKey = (await created(call('POST', '/api/v1/keys', { name: 'alice', scopes: ['governance:read', 'governance:write'], user_id: alice }), 'alice key')).key as string;
    await created(call('POST', '/api/smart-rules', { name: 'Transfers need a person', priority: 10, conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' }), 'rule');

    const propose = (amount: number) =>
      call('POST', '/api/v1/governance/propose', { actor: { id: 'pay-bot', type: 'ai-agent' }, action: { capability: 'payments.transfer', parameters: { amount, to: 'ACME' } }, context: { session_id: 'pg-check', metadata: { environment: 'production' } } });
    const longPoll = (id: string) => call('GET', `/api/v1/governance/decisions/${id}?wait=30`);

    // 1. Approve through the emailed link while the agent long-polls.
    const t1 = Date.now();
    const p1 = await propose(1200);
    assert.equal(p1.status, 200, JSON.stringify(p1.body));
    assert.equal(p1.body.status, 'pending', JSON.stringify(p1.body));
    const id1 = p1.body.decision_id as string;
    say(`proposal 1 ${id1}: ${String(p1.body.outcome)} (pending) in ${Date.now() - t1} ms`);
    const poll1 = longPoll(id1);
    const mail = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(id1), 30_000);
    say(`mail to ${mail.to} after ${Date.now() - t1} ms: ${mail.subject}`);
    const posted = await postForm(linkIn(mail.text), { decision: 'approve', comment: 'checked on the PostgreSQL-backed server' });
    assert.equal(posted.status, 200, posted.text.slice(0, 500));
    const final1 = await poll1;
    assert.equal(final1.body.status, 'final', JSON.stringify(final1.body));
    assert.equal(final1.body.outcome, 'ALLOW', JSON.stringify(final1.body));
    assert.deepEqual(final1.body.decided_by, [alice]);
    say(`proposal 1: the agent's long-poll answered ALLOW ${Date.now() - t1} ms after the proposal`);

    // 2. Deny through the vote API (Alice's own key) while the agent long-polls.
    const t2 = Date.now();
    const p2 = await propose(99_000);
    assert.equal(p2.body.status, 'pending', JSON.stringify(p2.body));
    const id2 = p2.body.decision_id as string;
    const poll2 = longPoll(id2);
    await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(id2), 30_000);
    const queue = await call('GET', '/api/v1/approvals', undefined, aliceKey);
    const item = (queue.body.items as { approval_id: string; subject_id: string }[]).find((x) => x.subject_id === id2);
    assert.ok(item, `proposal 2 is in Alice's queue: ${JSON.stringify(queue.body)}`);
    const vote = await call('POST', `/api/v1/approvals/${item.approval_id}/vote`, { decision: 'deny', comment: 'too much' }, aliceKey);
    assert.equal(vote.status, 200, JSON.stringify(vote.body));
    assert.equal(vote.body.status, 'DENIED', JSON.stringify(vote.body));
    const final2 = await poll2;
    assert.equal(final2.body.status, 'final', JSON.stringify(final2.body));
    assert.equal(final2.body.outcome, 'DENY', JSON.stringify(final2.body));
    say(`proposal 2 ${id2}: denied through the vote API; the long-poll answered DENY ${Date.now() - t2} ms after the proposal`);

    // 3. Both ran on this server, and its state is in PostgreSQL.
    for (const [id, outcome] of [[id1, 'ALLOW'], [id2, 'DENY']] as const) {
      const wf = `proposal-${id}`;
      // The decision is final once its finalize activity ran; the workflow ends just after (it brings messages up to date).
      const handle = temporal.workflow.getHandle(wf);
      await Promise.race([handle.result(), new Promise((_, fail) => setTimeout(() => fail(new Error(`${wf} did not complete within 60 s`)), 60_000).unref())]);
      const desc = await handle.describe();
      assert.equal(desc.status.name, 'COMPLETED', `${wf}: ${desc.status.name}`);
      assert.equal(desc.taskQueue, taskQueue);
      say(`${wf}: ${desc.status.name} on ${ADDRESS} (${outcome}), ${desc.historyLength} history events`);
    }
    const tdb = new PgClient({ connectionString: `${PG_BASE}/${TEMPORAL_DB}` });
    await tdb.connect();
    try {
      const rows = await tdb.query('SELECT workflow_id FROM current_executions WHERE workflow_id = ANY($1)', [[`proposal-${id1}`, `proposal-${id2}`]]);
      assert.equal(rows.rowCount, 2, `both workflows are rows of ${TEMPORAL_DB}.current_executions`);
      say(`both workflows are rows of PostgreSQL's ${TEMPORAL_DB}.current_executions`);
    } finally {
      await tdb.end();
    }
    const audit = await call('GET', '/api/v1/audit/verify');
    assert.equal(audit.body.ok, true, JSON.stringify(audit.body));
    say('audit chain verifies');
    console.log(`OK: approve → ALLOW and deny → DENY on Temporal ${serverVersion} (PostgreSQL) at ${ADDRESS}`);
  } finally {
    await stopAll();
    await smtp.close();
    await connection.close();
    await dropDatabase(dbUrl).catch(() => undefined);
  }
}

main().catch(async (e: unknown) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});

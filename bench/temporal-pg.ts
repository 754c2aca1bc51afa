// `node --import tsx bench/temporal-pg.ts`: Arbiter on Temporal's production server backed by
// PostgreSQL (start it first: node scripts/temporal-server.mjs start). Two parts:
//
// 1. Start rate. Bare workflow starts per second (@temporalio/client, a trivial workflow on a
//    task queue nobody polls) against Arbiter approvals started per second (HTTP proposes
//    that need approval, through a real API process, each starting its proposal workflow;
//    only those whose workflow started count), at the same concurrency, alternated in rounds.
//    No worker runs in this part, so Temporal does the same work per start in both. CPU
//    time per started workflow of each process (this driver, the API, temporal-server,
//    PostgreSQL) says where the difference goes.
// 2. Held open. BENCH_OPEN (10,000) approvals proposed with a worker running; the worker's
//    RSS sampled from /proc throughout; then every one decided through the vote API (half
//    approve, half deny, concurrency 50) and each decision's final outcome checked.
//
// Settings: TEMPORAL_PG_ADDRESS (127.0.0.1:7243), BENCH_CONCURRENCY (32), BENCH_SECONDS (15 per
// phase), BENCH_ROUNDS (2), BENCH_OPEN (10000), BENCH_OPEN_CONCURRENCY (64), BENCH_VOTE_CONCURRENCY (50), BENCH_PHASE_MINUTES (30,
// the cap on each wait of part 2), BENCH_ONLY=rate|open.
// Prints markdown tables.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Client as TemporalClient, Connection, WorkflowIdReusePolicy } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { loadConfig } from '../config';
import { dropDatabase } from '../entities/data-source';
import { spawnServer, stop } from './http';
import { API_NODE_ARGS } from '../scripts/node-args.mjs';

const ADDRESS = process.env.TEMPORAL_PG_ADDRESS ?? '127.0.0.1:7243';
const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
const PG_BASE = process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const OPEN = Number(process.env.BENCH_OPEN ?? 10_000);
const VOTE_CONCURRENCY = Number(process.env.BENCH_VOTE_CONCURRENCY ?? 50);
/** Concurrency of the held-open part's proposes. */
const OPEN_CONCURRENCY = Number(process.env.BENCH_OPEN_CONCURRENCY ?? 64);
const ONLY = process.env.BENCH_ONLY;
/** Each wait of the held-open part (workers catching up, the votes, the finals) gives up after this; the report says how far it got. */
const PHASE_MINUTES = Number(process.env.BENCH_PHASE_MINUTES ?? 30);
const ADMIN_KEY = `arb_bench_${randomBytes(16).toString('hex')}`;
const CLK_TCK = 100;

const say = (m: string) => console.error(`[bench:temporal-pg] ${m}`);
const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- processes and /proc ----

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Pids whose command name (or argv[0]) matches. Read-only look at /proc to attribute CPU. */
function pidsOf(match: (comm: string, argv0: string) => boolean): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      const argv0 = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (match(comm, argv0)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** CPU seconds of groups of processes between two points. The PostgreSQL group is every backend on the box. */
class CpuMeter {
  private start = new Map<string, number>();
  constructor(private readonly groups: Record<string, () => number[]>) {}
  private read(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [name, pids] of Object.entries(this.groups)) m.set(name, pids().reduce((s, p) => s + cpuSeconds(p), 0));
    return m;
  }
  begin(): void {
    this.start = this.read();
  }
  end(): Record<string, number> {
    const now = this.read();
    const out: Record<string, number> = {};
    for (const [k, v] of now) out[k] = Math.max(0, v - (this.start.get(k) ?? 0));
    return out;
  }
}

function spawnWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { env: { ...process.env, ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  return new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`worker did not start: ${out.slice(-2000)}`)), 120_000);
    child.stdout?.on('data', (b: Buffer) => {
      if (out.length < 100_000) out += b.toString();
      if (out.includes('worker running')) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        ok(child);
      }
    });
    child.once('exit', (code) => fail(new Error(`worker exited ${code}: ${out.slice(-2000)}`)));
  });
}

/** Children this bench started, ended on the way out whatever happens. */
const children = new Set<ChildProcess>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const c of children) c.kill('SIGTERM');
    setTimeout(() => process.exit(130), 3000).unref();
  });
}

// ---- load ----

interface Phase {
  ok: number;
  failed: number;
  seconds: number;
  latencies: number[];
}

/** `concurrency` loops calling `op` until `seconds` pass (or `total` calls are made); each op returns whether it counted. */
async function drive(op: (i: number) => Promise<boolean>, opts: { concurrency: number; seconds?: number; total?: number }): Promise<Phase> {
  const until = opts.seconds ? Date.now() + opts.seconds * 1000 : Infinity;
  let next = 0;
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  let firstError: unknown = null;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (Date.now() < until && (opts.total === undefined || next < opts.total)) {
        const i = next++;
        const s = process.hrtime.bigint();
        try {
          if (await op(i)) ok++;
          else failed++;
        } catch (e) {
          failed++;
          firstError ??= e;
        }
        latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
    }),
  );
  if (firstError) say(`first error: ${(firstError as Error).message}`);
  return { ok, failed, seconds: Number(process.hrtime.bigint() - t0) / 1e9, latencies };
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

// ---- Arbiter ----

interface Api {
  url: string;
  proc: ChildProcess;
  dbUrl: string;
  taskQueue: string;
  env: Record<string, string>;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

async function startApi(tag: string): Promise<Api> {
  const dbUrl = `${PG_BASE}/arbiter_bench_pg_${tag}_${randomBytes(3).toString('hex')}`;
  const port = 21_000 + Math.floor(Math.random() * 9000);
  const url = `http://127.0.0.1:${port}`;
  const taskQueue = `bench-pg-${tag}-${process.pid}`;
  // Outbox mail (no SMTP_URL): the bench measures Temporal and Arbiter, not an SMTP server.
  const env = { DATABASE_URL: dbUrl, TEMPORAL_ADDRESS: ADDRESS, TEMPORAL_NAMESPACE: NAMESPACE, TEMPORAL_TASK_QUEUE: taskQueue, PUBLIC_URL: url, ARBITER_ADMIN_KEY: ADMIN_KEY, PROPOSE_RATE_LIMIT_PER_MINUTE: '0', APPROVAL_TIER1_TIMEOUT_SECONDS: '3600', PENDING_SWEEP_SECONDS: '3600' };
  const proc = await spawnServer([...API_NODE_ARGS, '--import', 'tsx', 'api/main.ts'], { ...env, ARBITER_ROLE: 'api', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }, `${url}/readyz`);
  children.add(proc);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, { method, headers: { 'X-API-Key': ADMIN_KEY, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const must = async (p: Promise<{ status: number; body: Record<string, unknown> }>) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
  };
  await must(call('POST', '/api/v1/users', { email: 'approver@example.com', name: 'Approver', roles: ['approver'] }));
  await must(call('POST', '/api/v1/users', { email: 'root@example.com', name: 'Root', roles: ['admin'] }));
  await must(call('POST', '/api/smart-rules', { name: 'Transfers need a person', priority: 10, conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' }));
  return { url, proc, dbUrl, taskQueue, env, call };
}

const proposalBody = (i: number) =>
  JSON.stringify({ actor: { id: `agent-${i % 50}`, type: 'ai-agent' }, action: { capability: 'payments.transfer', parameters: { amount: 100 + (i % 900), to: `vendor-${i % 97}` } }, context: { session_id: `s-${i % 200}`, metadata: { environment: 'production' } } });

const allowBody = (i: number) =>
  JSON.stringify({ actor: { id: `agent-${i % 50}`, type: 'ai-agent' }, action: { capability: 'database.query', parameters: { query: 'SELECT 1', database: 'analytics' } }, context: { session_id: `s-${i % 200}`, metadata: { environment: 'development' } } });

/** One propose that needs approval; counts when the answer says pending (its workflow started, or the API would have failed it closed). */
async function proposeNeedingApproval(api: Api, i: number, ids?: string[]): Promise<boolean> {
  const res = await fetch(`${api.url}/api/v1/governance/propose`, { method: 'POST', headers: { 'X-API-Key': ADMIN_KEY, 'Content-Type': 'application/json' }, body: proposalBody(i) });
  const body = (await res.json()) as { status?: string; decision_id?: string };
  if (res.status === 200 && body.status === 'pending') {
    ids?.push(body.decision_id as string);
    return true;
  }
  return false;
}

async function pgQuery<T extends Record<string, unknown>>(dbUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new PgClient({ connectionString: dbUrl });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Ends workflows nobody will run (the rate part's), so they do not sit open on the server. */
async function terminateAll(client: TemporalClient, ids: string[]): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (i < ids.length) {
        const id = ids[i++];
        await client.workflow.getHandle(id).terminate('bench cleanup').catch(() => undefined);
      }
    }),
  );
}

// ---- part 1: start rate ----

const WHAT: Record<'bare' | 'arbiter' | 'allow', string> = {
  bare: 'bare `workflow.start` (@temporalio/client)',
  arbiter: 'Arbiter propose → REQUIRE_APPROVAL → proposal workflow started',
  allow: 'Arbiter propose → ALLOW (no workflow; the API path alone)',
};

interface RateRow {
  round: number;
  kind: 'bare' | 'arbiter' | 'allow';
  phase: Phase;
  cpu: Record<string, number>;
  started: number;
}

async function ratePart(client: TemporalClient): Promise<string[]> {
  const api = await startApi('rate');
  const serverPids = () => pidsOf((_c, argv0) => argv0.endsWith('temporal-server'));
  if (serverPids().length === 0) say('no temporal-server process found on this box: its CPU is not attributed');
  const meter = new CpuMeter({
    driver: () => [process.pid],
    api: () => (api.proc.pid ? [api.proc.pid] : []),
    'temporal-server': serverPids,
    postgres: () => pidsOf((comm) => comm === 'postgres'),
  });
  const bareQueue = `bench-bare-${process.pid}`;
  const bareIds: string[] = [];
  const arbIds: string[] = [];
  const rows: RateRow[] = [];
  try {
    // Warm both paths (connections, JIT, the API's snapshot), then alternate rounds so drift on a shared box hits both.
    await drive(async () => {
      const id = `bench-bare-${randomUUID()}`;
      await client.workflow.start('benchNoop', { taskQueue: bareQueue, workflowId: id, workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE });
      bareIds.push(id);
      return true;
    }, { concurrency: CONCURRENCY, seconds: 3 });
    await drive((i) => proposeNeedingApproval(api, i), { concurrency: CONCURRENCY, seconds: 3 });
    let seq = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      say(`round ${round}: bare starts, ${CONCURRENCY} at a time, ${SECONDS} s`);
      meter.begin();
      const bare = await drive(async () => {
        const id = `bench-bare-${randomUUID()}`;
        await client.workflow.start('benchNoop', { taskQueue: bareQueue, workflowId: id, workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE });
        bareIds.push(id);
        return true;
      }, { concurrency: CONCURRENCY, seconds: SECONDS });
      rows.push({ round, kind: 'bare', phase: bare, cpu: meter.end(), started: bare.ok });

      say(`round ${round}: Arbiter proposes needing approval, ${CONCURRENCY} at a time, ${SECONDS} s`);
      const before = Number((await pgQuery<{ n: number }>(api.dbUrl, `SELECT count(*)::int AS n FROM decisions WHERE "workflowStartedAt" IS NOT NULL`))[0].n);
      const ids: string[] = [];
      meter.begin();
      const arb = await drive(() => proposeNeedingApproval(api, seq++, ids), { concurrency: CONCURRENCY, seconds: SECONDS });
      const cpu = meter.end();
      await sleep(500); // the API writes its "started" marks in batches, off the answer's path
      const after = Number((await pgQuery<{ n: number }>(api.dbUrl, `SELECT count(*)::int AS n FROM decisions WHERE "workflowStartedAt" IS NOT NULL`))[0].n);
      // Only proposals whose workflow started count: the API marks each one after Temporal accepted its start.
      rows.push({ round, kind: 'arbiter', phase: arb, cpu, started: Math.min(arb.ok, after - before) });
      arbIds.push(...ids.map((d) => `proposal-${d}`));

      // The same API path for a proposal that is allowed at once: no approval, no workflow. Arbiter's own share.
      say(`round ${round}: Arbiter proposes allowed at once (no workflow), ${CONCURRENCY} at a time, ${SECONDS} s`);
      meter.begin();
      const allow = await drive(async (i) => {
        const res = await fetch(`${api.url}/api/v1/governance/propose`, { method: 'POST', headers: { 'X-API-Key': ADMIN_KEY, 'Content-Type': 'application/json' }, body: allowBody(i) });
        const body = (await res.json()) as { outcome?: string };
        return res.status === 200 && body.outcome === 'ALLOW';
      }, { concurrency: CONCURRENCY, seconds: SECONDS });
      rows.push({ round, kind: 'allow', phase: allow, cpu: meter.end(), started: allow.ok });
    }
  } finally {
    await stop(api.proc);
  }
  say(`ending the ${bareIds.length + arbIds.length} workflows of this part (nobody runs them)`);
  await terminateAll(client, [...bareIds, ...arbIds]);
  await dropDatabase(api.dbUrl).catch(() => undefined);

  const out: string[] = [];
  out.push(`### Start rate: ${CONCURRENCY} concurrent, ${SECONDS} s per phase, no worker running`, '');
  out.push('| round | what | counted | per second | p50 | p99 | failed |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    out.push(`| ${r.round} | ${WHAT[r.kind]} | ${fmt(r.started)} | ${fmt(r.started / r.phase.seconds, 1)} | ${fmt(quantile(r.phase.latencies, 0.5), 1)} ms | ${fmt(quantile(r.phase.latencies, 0.99), 1)} ms | ${r.phase.failed} |`);
  }
  const rate = (k: RateRow['kind']) => {
    const rs = rows.filter((r) => r.kind === k);
    return rs.reduce((s, r) => s + r.started, 0) / rs.reduce((s, r) => s + r.phase.seconds, 0);
  };
  const ratio = rate('arbiter') / rate('bare');
  out.push('', `Over all rounds: bare ${fmt(rate('bare'), 1)} starts/s, Arbiter ${fmt(rate('arbiter'), 1)} approvals started/s: **${fmt(ratio * 100, 0)}%** of the bare rate (goal ≥ 80%). The same API answers ${fmt(rate('allow'), 1)} proposals/s that need no workflow.`, '');
  out.push('CPU time per counted operation (a started workflow; for `allow`, an answered proposal), by process (ms; the box has 2 cores, so 2,000 ms of CPU per second is all there is):', '');
  const groups = ['driver', 'api', 'temporal-server', 'postgres'];
  out.push(`| round | what | ${groups.join(' | ')} | total | cores busy |`, `| --- | --- | ${groups.map(() => '---').join(' | ')} | --- | --- |`);
  for (const r of rows) {
    const per = groups.map((g) => ((r.cpu[g] ?? 0) * 1000) / Math.max(1, r.started));
    const total = groups.reduce((s, g) => s + (r.cpu[g] ?? 0), 0);
    out.push(`| ${r.round} | ${r.kind} | ${per.map((x) => fmt(x, 2)).join(' | ')} | ${fmt(per.reduce((a, b) => a + b, 0), 2)} | ${fmt(total / r.phase.seconds, 2)} |`);
  }
  out.push('');
  return out;
}

// ---- part 2: held open ----

async function openPart(): Promise<string[]> {
  const api = await startApi('open');
  const worker = await spawnWorker({ ...api.env, ARBITER_ROLE: 'worker', DATABASE_POOL_SIZE: '10' });
  const pid = worker.pid as number;
  // The worker's workflow cache, as worker/build.ts sets it from the same environment.
  const cacheSize = loadConfig({ ...process.env, ...api.env }).WORKER_MAX_CACHED_WORKFLOWS;
  const samples: { t: number; rss: number; phase: string }[] = [];
  let phase = 'idle';
  const t0 = Date.now();
  const sampler = setInterval(() => samples.push({ t: Date.now() - t0, rss: rssMiB(pid), phase }), 500);
  const countAudit = async (action: string) => Number((await pgQuery<{ n: number }>(api.dbUrl, `SELECT count(*)::int AS n FROM audit_records WHERE action = $1`, [action]))[0].n);
  const out: string[] = [];
  try {
    await sleep(2000);
    const idleRss = rssMiB(pid);

    phase = 'propose';
    say(`proposing ${OPEN} that need approval, ${OPEN_CONCURRENCY} at a time, with a worker (pid ${pid}) running`);
    const ids: string[] = [];
    const tp = Date.now();
    let lastSay = Date.now();
    const proposed = await drive(async (i) => {
      if (Date.now() - lastSay > 30_000) {
        lastSay = Date.now();
        say(`${ids.length} proposed; worker RSS ${fmt(rssMiB(pid))} MiB`);
      }
      return proposeNeedingApproval(api, i, ids);
    }, { concurrency: OPEN_CONCURRENCY, total: OPEN });
    const proposeSeconds = (Date.now() - tp) / 1000;
    say(`${proposed.ok} pending (${proposed.failed} failed) in ${fmt(proposeSeconds, 1)} s; waiting until every approver was notified`);
    phase = 'settle';
    let notified = 0;
    const until = Date.now() + PHASE_MINUTES * 60_000;
    while ((notified = await countAudit('approval.notified')) < proposed.ok && Date.now() < until) {
      if (Date.now() - lastSay > 30_000) {
        lastSay = Date.now();
        say(`${notified} of ${proposed.ok} notified; worker RSS ${fmt(rssMiB(pid))} MiB`);
      }
      await sleep(1000);
    }
    const settledSeconds = (Date.now() - tp) / 1000;
    phase = 'held';
    await sleep(5000);
    const held = samples.filter((s) => s.phase === 'held');
    const heldRss = held.length ? held[held.length - 1].rss : rssMiB(pid);
    const openRows = Number((await pgQuery<{ n: number }>(api.dbUrl, `SELECT count(*)::int AS n FROM approvals WHERE status = 'PENDING'`))[0].n);
    const peakUntilHeld = Math.max(...samples.map((s) => s.rss));
    say(`${openRows} approvals open; worker RSS ${fmt(heldRss)} MiB (peak so far ${fmt(peakUntilHeld)} MiB)`);

    phase = 'decide';
    const approvals = await pgQuery<{ id: string; subjectId: string }>(api.dbUrl, `SELECT id, "subjectId" FROM approvals WHERE status = 'PENDING' ORDER BY "createdAt", id`);
    const expected = new Map<string, 'ALLOW' | 'DENY'>();
    say(`deciding ${approvals.length} through POST /api/v1/approvals/:id/vote, ${VOTE_CONCURRENCY} at a time (even approve, odd deny)`);
    const td = Date.now();
    const votes = await drive(async (i) => {
      const a = approvals[i];
      const choice = i % 2 === 0 ? 'approve' : 'deny';
      expected.set(a.subjectId, choice === 'approve' ? 'ALLOW' : 'DENY');
      const r = await api.call('POST', `/api/v1/approvals/${a.id}/vote`, { decision: choice, comment: 'bench' });
      return r.status === 200;
    }, { concurrency: VOTE_CONCURRENCY, total: approvals.length, seconds: PHASE_MINUTES * 60 });
    const voteSeconds = (Date.now() - td) / 1000;
    say(`${votes.ok} votes counted (${votes.failed} refused or failed) in ${fmt(voteSeconds, 1)} s; waiting for every decision to be final`);
    let finals = 0;
    const until2 = Date.now() + PHASE_MINUTES * 60_000;
    while ((finals = Number((await pgQuery<{ n: number }>(api.dbUrl, `SELECT count(*)::int AS n FROM decisions WHERE status = 'final' AND "workflowId" IS NOT NULL`))[0].n)) < votes.ok && Date.now() < until2) await sleep(1000);
    const finalSeconds = (Date.now() - td) / 1000;
    const rows = await pgQuery<{ id: string; finalOutcome: string }>(api.dbUrl, `SELECT id, "finalOutcome" FROM decisions WHERE "workflowId" IS NOT NULL`);
    let right = 0;
    let wrong = 0;
    let notFinal = 0;
    for (const r of rows) {
      const want = expected.get(r.id);
      if (!want) continue;
      if (r.finalOutcome === want) right++;
      else if (r.finalOutcome) wrong++;
      else notFinal++;
    }
    const auditOk = (await api.call('GET', '/api/v1/audit/verify')).body.ok === true;
    phase = 'after';
    await sleep(5000);
    const afterRss = rssMiB(pid);
    const peak = Math.max(...samples.map((s) => s.rss));
    const peakDecide = Math.max(0, ...samples.filter((s) => s.phase === 'decide').map((s) => s.rss));

    out.push(`### ${fmt(OPEN)} approvals held open at once, then decided`, '');
    out.push('| step | figure |', '| --- | --- |');
    out.push(`| proposed (HTTP, ${OPEN_CONCURRENCY} concurrent), pending with their workflow started | ${fmt(proposed.ok)} in ${fmt(proposeSeconds, 1)} s (${fmt(proposed.ok / proposeSeconds, 1)}/s), ${proposed.failed} failed |`);
    out.push(`| every approver notified (worker ran each workflow's first tier) | ${fmt(notified)} after ${fmt(settledSeconds, 1)} s |`);
    out.push(`| approvals open at once (approvals.status = PENDING) | ${fmt(openRows)} |`);
    out.push(`| decided through the vote API (${VOTE_CONCURRENCY} concurrent) | ${fmt(votes.ok)} votes in ${fmt(voteSeconds, 1)} s (${fmt(votes.ok / voteSeconds, 1)}/s), ${votes.failed} failed |`);
    out.push(`| decisions final (finalize activity ran), counted from the first vote | ${fmt(finals)} of ${fmt(approvals.length)} after ${fmt(finalSeconds, 1)} s |`);
    out.push(`| final outcome as voted (approve → ALLOW, deny → DENY) | ${fmt(right)} right, ${fmt(wrong)} wrong${notFinal ? `, ${fmt(notFinal)} not final when the wait ended` : ''} |`);
    out.push(`| audit chain verifies | ${auditOk ? 'yes' : 'NO'} |`);
    out.push('');
    out.push('Worker process RSS (VmRSS from /proc, sampled every 0.5 s):', '');
    out.push('| when | RSS |', '| --- | --- |');
    out.push(`| idle, before any proposal | ${fmt(idleRss)} MiB |`);
    out.push(`| peak while proposing and starting ${fmt(OPEN)} | ${fmt(peakUntilHeld)} MiB |`);
    out.push(`| with ${fmt(openRows)} open, settled | ${fmt(heldRss)} MiB |`);
    out.push(`| peak while deciding | ${fmt(peakDecide)} MiB |`);
    out.push(`| after all ended | ${fmt(afterRss)} MiB |`);
    out.push(`| peak overall | ${fmt(peak)} MiB |`);
    out.push('');
    out.push(`The worker caches at most ${fmt(cacheSize)} workflows (\`WORKER_MAX_CACHED_WORKFLOWS\`, worker/build.ts); workflows beyond it are evicted and replayed from history on their next task (a vote, a timer), so its memory follows the cache, not the number of approvals open.`);
    out.push('');
    const series = samples.filter((_, i) => i % 20 === 0).map((s) => `${fmt(s.t / 1000)} s ${s.phase} ${fmt(s.rss)}`);
    say(`RSS series (every 10 s): ${series.join('; ')}`);
  } finally {
    clearInterval(sampler);
    await stop(worker);
    await stop(api.proc);
    // Workflows still open when a wait gave up would sit on the server with nobody to run them.
    const left = await pgQuery<{ workflowId: string }>(api.dbUrl, `SELECT "workflowId" FROM decisions WHERE status = 'pending' AND "workflowId" IS NOT NULL`).catch(() => []);
    if (left.length) {
      say(`ending the ${left.length} workflows still open`);
      const client = new TemporalClient({ connection: await Connection.connect({ address: ADDRESS }), namespace: NAMESPACE });
      await terminateAll(client, left.map((r) => r.workflowId));
      await client.connection.close();
    }
    await dropDatabase(api.dbUrl).catch(() => undefined);
  }
  return out;
}

async function main(): Promise<void> {
  const connection = await Connection.connect({ address: ADDRESS }).catch((e: Error) => {
    throw new Error(`no Temporal server at ${ADDRESS} (node scripts/temporal-server.mjs start): ${e.message}`);
  });
  const version = (await connection.workflowService.getSystemInfo({})).serverVersion;
  const client = new TemporalClient({ connection, namespace: NAMESPACE });
  const lines = [`## Arbiter on Temporal ${version} (PostgreSQL persistence and visibility) at ${ADDRESS}`, '', `${new Date().toISOString()}, Node ${process.version}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} cores.`, ''];
  // Each part's tables go out as soon as it ends.
  console.log(lines.join('\n'));
  try {
    if (ONLY !== 'open') console.log((await ratePart(client)).join('\n'));
    if (ONLY !== 'rate') console.log((await openPart()).join('\n'));
  } finally {
    await connection.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

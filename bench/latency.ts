// Latency people feel, on a real stack: a Temporal dev server, the API and the worker as
// their own processes, a fresh database, and an SMTP server in this process. Two paths:
// a proposal that needs a person → the approval mail accepted by the SMTP server, and the
// approver's click on the emailed link's Approve → the agent's waiting long poll answering.
// Low, fixed concurrency, so it measures latency rather than queueing. Loopback only, bounded.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';
import { dropDatabase, ensureDatabase } from '../entities/data-source';
import { spawnServer, stop } from './http';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- a plain .mjs script shared with npm start
import { ensureTemporalCli } from '../scripts/temporal.mjs';
import { API_NODE_ARGS } from '../scripts/node-args.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
/** Proposals measured (after the warm-up). */
const N = QUICK ? 50 : 200;
/** Lanes, each one proposal at a time: a handful of agents and one approver, not a load test. */
const CONCURRENCY = 4;
const WARMUP = 2 * CONCURRENCY;
/** The agent's long poll: `?wait=` seconds (the API's maximum is 30). */
const LONG_POLL_SECONDS = 30;
/** The approver reads the page for 0–250 ms before clicking: clicks land at every phase of the long poll's re-read. */
const THINK_MS = 250;
const APPROVER = 'approver@bench.invalid';
const STEP_TIMEOUT_MS = 30_000;

/** What a run has started, for a signal to stop when run directly (a `finally` does not run then). */
const live: { children: ChildProcess[]; db: string | null } = { children: [], db: null };

const fmt = (x: number, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** p50 and p99 the way bench/run.ts takes them (nearest rank on the sorted samples). */
function quantiles(xs: number[]): { p50: number; p99: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (x: number) => s[Math.min(s.length - 1, Math.floor(x * s.length))];
  return { p50: q(0.5), p99: q(0.99), n: s.length };
}

async function waitPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.end();
        done(true);
      });
      s.on('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Starts `worker/main.ts` (pushed onto `children` at once, so a failed start is still stopped) and resolves once it polls. */
async function spawnWorker(env: Record<string, string>, children: ChildProcess[], failures: { n: number }, timeoutMs = 120_000): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  // A failed activity is retried after Temporal's backoff (1 s first): count them, as they show in the tail.
  child.stderr?.on('data', (b: Buffer) => {
    failures.n += b.toString().split('Activity failed').length - 1;
  });
  await new Promise<void>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`worker did not start within ${timeoutMs} ms`)), timeoutMs);
    const onData = (b: Buffer) => {
      out = (out + b.toString()).slice(-4096);
      if (out.includes('worker running')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        ok();
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      fail(new Error(`worker exited with ${code}: ${out}`));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  child.stdout?.resume();
}

interface Arrival {
  /** performance.now() at the end of the message's DATA (before this process parses it). */
  at: number;
  link: string;
}

/**
 * The decision id and approval link of a raw approval mail. Arbiter's mail is quoted-printable
 * (nodemailer's choice for mostly-ASCII text): soft line breaks joined and escapes decoded, the
 * text part's first /approve/ link is the real one (activities/approval-email.ts puts it first).
 */
function approvalIn(raw: string): { id: string; link: string } | null {
  const text = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const id = /Decision (dec_[A-Za-z0-9]+)\. The link is yours/.exec(text)?.[1];
  const link = /(https?:\/\/[^\s"<>]+\/approve\/[A-Za-z0-9._~%-]+)/.exec(text)?.[1];
  return id && link ? { id, link } : null;
}

/** An SMTP server that notes when each approval mail's DATA ends, by the decision it names. */
async function startInbox(): Promise<{ url: string; mailFor: (decisionId: string) => Promise<Arrival>; close: () => Promise<void> }> {
  const arrived = new Map<string, Arrival>();
  const waiting = new Map<string, (a: Arrival) => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const at = performance.now();
        // Read before answering: the callback resets the session's envelope for the next message.
        const forApprover = session.envelope.rcptTo.some((r) => r.address === APPROVER);
        callback(); // 250 OK at once: reading the mail here is no part of the sender's latency
        if (!forApprover) return;
        const found = approvalIn(Buffer.concat(chunks).toString('latin1'));
        if (!found) {
          console.error('bench/latency: an approval mail without a decision id or link');
          return;
        }
        const a = { at, link: found.link };
        const w = waiting.get(found.id);
        if (w) {
          waiting.delete(found.id);
          w(a);
        } else arrived.set(found.id, a);
      });
    },
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mailFor: (id) => {
      const got = arrived.get(id);
      if (got) {
        arrived.delete(id);
        return Promise.resolve(got);
      }
      return new Promise<Arrival>((ok, fail) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          fail(new Error(`no approval mail for ${id} within ${STEP_TIMEOUT_MS} ms`));
        }, STEP_TIMEOUT_MS);
        waiting.set(id, (a) => {
          clearTimeout(timer);
          ok(a);
        });
      });
    },
    close: () => Promise.race([new Promise<void>((ok) => server.close(() => ok())), sleep(5000).then(() => undefined)]),
  };
}

interface Sample {
  id: string;
  /** POST /propose sent → the approval mail's DATA ended at the SMTP server. */
  mailMs: number;
  /** POST /propose sent → its answer read. */
  proposeMs: number;
  /** Approve form POST sent → the agent's long poll answered ALLOW. */
  clickMs: number;
  /** Approve form POST sent → the "You approved it" page read. */
  pageMs: number;
  /** Wall clock of the click and of the long poll's answer, to place the worker's finalize between them. */
  clickEpoch: number;
  answeredEpoch: number;
}

/**
 * Starts the stack, sets up an approver and a rule that holds `payments.transfer` for a person,
 * and measures both latencies over N proposals at concurrency 4. Returns the markdown table
 * (header included) and a line saying how it was measured. Every process and the database go
 * away afterwards, whatever happens.
 */
export async function latencyRows(): Promise<string[]> {
  const port = 21_000 + Math.floor(Math.random() * 1000);
  const temporalPort = port + 1;
  const base = `http://127.0.0.1:${port}`;
  const db = `postgres://postgres@127.0.0.1:5432/arbiter_bench_lat_${randomBytes(3).toString('hex')}`;
  const adminKey = `arb_bench_${randomBytes(16).toString('hex')}`;
  const taskQueue = `bench-latency-${process.pid}`;
  const children: ChildProcess[] = [];
  live.children = children;
  live.db = db;
  let inbox: Awaited<ReturnType<typeof startInbox>> | null = null;
  try {
    await ensureDatabase(db);
    inbox = await startInbox();
    const cli = (ensureTemporalCli as (o: { quiet: boolean }) => string)({ quiet: true });
    children.push(spawn(cli, ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(temporalPort), '--log-level', 'error'], { stdio: 'ignore' }));
    await waitPort(temporalPort, 60_000);
    // Small pools: enough for 4 lanes, and kind to a PostgreSQL other work shares.
    const shared = { DATABASE_POOL_SIZE: '8', DATABASE_URL: db, TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, TEMPORAL_TASK_QUEUE: taskQueue, PUBLIC_URL: base, SMTP_URL: inbox.url };
    // The API migrates and bootstraps; the worker starts after it, as `npm start` does.
    children.push(await spawnServer([...API_NODE_ARGS, '--import', 'tsx', 'api/main.ts'], { ...shared, PORT: String(port), HOST: '127.0.0.1', ARBITER_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn', PROPOSE_RATE_LIMIT_PER_MINUTE: '0', ARBITER_ROLE: 'api' }, `${base}/healthz`));
    const failures = { n: 0 };
    await spawnWorker({ ...shared, ARBITER_ROLE: 'worker', LOG_LEVEL: 'info' }, children, failures);

    const call = async (method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const res = await fetch(base + path, { method, headers: { 'X-API-Key': key, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(STEP_TIMEOUT_MS + LONG_POLL_SECONDS * 1000) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const must = (r: { status: number; body: any }, status: number, what: string) => {
      if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    must(await call('POST', '/api/v1/users', adminKey, { email: APPROVER, name: 'Bench Approver', roles: ['approver'] }), 201, 'add the approver');
    must(await call('POST', '/api/smart-rules', adminKey, { name: 'Transfers need a person', priority: 10, conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' }), 201, 'add the rule');
    // The agent proposes and reads with its own key, as an agent does (it sees only its own decisions).
    const agentKey = must(await call('POST', '/api/v1/keys', adminKey, { name: 'bench agent', scopes: ['governance:propose'] }), 201, 'mint the agent key').key as string;

    let seq = 0;
    let pollErrors = 0;
    const one = async (): Promise<Sample> => {
      const i = seq++;
      const proposal = { actor: { id: `pay-bot-${i % CONCURRENCY}`, type: 'ai-agent' }, action: { capability: 'payments.transfer', parameters: { amount: 100 + i, to: 'ACME' } }, context: { session_id: `lat-${i}`, metadata: { environment: 'production' } } };
      const t0 = performance.now();
      const p = await call('POST', '/api/v1/governance/propose', agentKey, proposal);
      const proposeMs = performance.now() - t0;
      if (p.status !== 200 || p.body.outcome !== 'REQUIRE_CONFIRMATION') throw new Error(`propose: ${p.status} ${JSON.stringify(p.body)}`);
      const id = p.body.decision_id as string;

      // The agent waits on its decision at once; it re-polls if a window passes (it will not here).
      const poll = (async () => {
        const until = Date.now() + STEP_TIMEOUT_MS * 2;
        for (;;) {
          const d = await call('GET', `/api/v1/governance/decisions/${encodeURIComponent(id)}?wait=${LONG_POLL_SECONDS}`, agentKey);
          const at = performance.now();
          if (d.status >= 500 && Date.now() < until) {
            // An agent re-polls on a server error; counted below, as its time is in the sample.
            pollErrors += 1;
            await sleep(100);
            continue;
          }
          if (d.status !== 200) throw new Error(`long poll: ${d.status} ${JSON.stringify(d.body)}`);
          if (d.body.status === 'final') return { at, epoch: Date.now(), outcome: d.body.outcome as string };
          if (Date.now() > until) throw new Error(`decision ${id} still pending`);
        }
      })();
      poll.catch(() => undefined); // awaited below; a failure before then must not go unhandled

      const mail = await inbox!.mailFor(id);
      const mailMs = mail.at - t0;
      // The person opens the link (a GET decides nothing), reads, clicks Approve: the form's POST.
      const page = await fetch(mail.link, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
      const html = await page.text();
      if (page.status !== 200 || !html.includes('value="approve"')) throw new Error(`approval page: ${page.status}`);
      await sleep(Math.random() * THINK_MS);
      const clickEpoch = Date.now();
      const t1 = performance.now();
      const posted = await fetch(mail.link, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ decision: 'approve' }).toString(), signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
      const done = await posted.text();
      const pageMs = performance.now() - t1;
      if (posted.status !== 200 || !/approved/.test(done)) throw new Error(`approve POST: ${posted.status} ${done.slice(0, 200)}`);
      const final = await poll;
      if (final.outcome !== 'ALLOW') throw new Error(`decision ${id} ended ${final.outcome}`);
      return { id, mailMs, proposeMs, clickMs: final.at - t1, pageMs, clickEpoch, answeredEpoch: final.epoch };
    };
    const lanes = async (count: number): Promise<Sample[]> => {
      const out: Sample[] = [];
      let left = count;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (left > 0) {
            left -= 1;
            out.push(await one());
          }
        }),
      );
      return out;
    };

    await lanes(WARMUP); // first workflows, first connections, JIT
    const failedBefore = failures.n;
    pollErrors = 0;
    const load0 = os.loadavg()[0];
    const started = performance.now();
    const samples = await lanes(N);
    const seconds = (performance.now() - started) / 1000;
    const load1 = os.loadavg()[0];
    const retried = failures.n - failedBefore;

    // Where the worker wrote the final outcome (its audit record's time), to split the click's latency.
    const { Client } = await import('pg');
    const c = new Client({ connectionString: db });
    await c.connect();
    const fin = new Map<string, number>();
    try {
      const r = await c.query(`SELECT "entityId" AS id, at FROM audit_records WHERE action = 'decision.finalized' AND "entityId" = ANY($1)`, [samples.map((s) => s.id)]);
      for (const row of r.rows as { id: string; at: Date }[]) fin.set(row.id, row.at.getTime());
    } finally {
      await c.end();
    }
    const split = samples.filter((s) => fin.has(s.id));

    const mail = quantiles(samples.map((s) => s.mailMs));
    const propose = quantiles(samples.map((s) => s.proposeMs));
    const click = quantiles(samples.map((s) => s.clickMs));
    const page = quantiles(samples.map((s) => s.pageMs));
    const toFinal = quantiles(split.map((s) => fin.get(s.id)! - s.clickEpoch));
    const toAnswer = quantiles(split.map((s) => s.answeredEpoch - fin.get(s.id)!));
    const row = (label: string, q: { p50: number; p99: number; n: number }) => `| ${label} | ${fmt(q.p50)} ms | ${fmt(q.p99)} ms | ${q.n} |`;
    return [
      '| latency | p50 | p99 | samples |',
      '| --- | --- | --- | --- |',
      row('Proposal needing approval → approval email accepted by the SMTP server (POST /api/v1/governance/propose sent → end of the mail\'s DATA)', mail),
      row('… of which: the propose answer itself (decision + audit committed, approval workflow started)', propose),
      row('Approve click → the agent\'s long poll answers ALLOW (the emailed link\'s form POST sent → GET …/decisions/{id}?wait=30 answered)', click),
      row('… of which: click → the "You approved it" page (vote delivered to the workflow as an update, audited)', page),
      row('… of which: click → the worker wrote the final outcome (decision.finalized audit time, wall clock)', toFinal),
      row('… of which: final outcome written → the long poll sees it (woken by the decision NOTIFY)', toAnswer),
      '',
      `Measured end to end on one machine over loopback: Temporal dev server, API (api/main.ts) and worker (worker/main.ts) as separate processes, a fresh PostgreSQL database, an SMTP server in the bench process (nodemailer → smtp-server). ${N} proposals needing one approver (a REQUIRE_APPROVAL smart rule), after ${WARMUP} warm-ups, at concurrency ${CONCURRENCY}: each lane proposes, long-polls its decision at once, waits for the mail, opens the link (GET), reads for 0–${THINK_MS} ms, clicks Approve (form POST) and waits for the long poll (${fmt(seconds, 1)} s in all; ${os.cpus().length} cores, load average ${fmt(load0, 1)} → ${fmt(load1, 1)}; ${retried} activity attempt${retried === 1 ? '' : 's'} failed and retried meanwhile; ${pollErrors} long-poll answer${pollErrors === 1 ? ' was' : 's were'} a 5xx and re-polled).`,
    ];
  } finally {
    for (const c of children.reverse()) await stop(c);
    await inbox?.close();
    await dropDatabase(db).catch(() => undefined);
    live.db = null;
  }
}

if (require.main === module) {
  const interrupted = (signal: NodeJS.Signals) => {
    for (const c of live.children) if (c.exitCode === null) c.kill('SIGTERM');
    const db = live.db;
    void (db ? sleep(2000).then(() => dropDatabase(db)) : Promise.resolve())
      .catch(() => undefined)
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  latencyRows()
    .then((rows) => {
      console.log('## Latency people feel (approval mail; approve click → agent)\n');
      for (const r of rows) console.log(r);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}

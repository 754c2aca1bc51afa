// `npm run soak`: a chaos soak. Runs Arbiter as in production (a Temporal dev server on a SQLite
// file, the API and the worker as their own processes, a real SMTP server in this process) and
// drives SOAK_APPROVALS (default 1,000) approvals through it the way agents and people do: the
// agent proposes over HTTP with an Idempotency-Key and long-polls its decision; approvers open
// the emailed link and post its form, or vote through the approvals API. Meanwhile it SIGKILLs
// the worker, restarts the API (SIGTERM, SIGKILL) and restarts the Temporal server from its
// file. Then it checks that nothing was lost or doubled and that the audit chain holds, prints
// a summary table and exits non-zero when a check fails. Bounded by SOAK_MINUTES (default 20).
// Not part of `npm test`. See docs/soak.md.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { verifyAuditExport } from '../cli/audit-verify';
import { dropDatabase } from '../entities/data-source';
import { prng } from '../test/helpers/prng';
import { request, retrying, sleep } from './soak/http';
import type { Reply } from './soak/http';
import { Inbox } from './soak/mail';
import type { Mail } from './soak/mail';
import { canConnect, freePort, GaveUp, nodeRole, temporalRole, waitUntil } from './soak/procs';
import { ADMIN, APPROVERS, CAPABILITY, email, makeChaos, makeItems } from './soak/workload';
import type { ChaosEvent, Item, PlannedVote } from './soak/workload';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- a plain .mjs script shared with npm start
import { ensureTemporalCli } from './temporal.mjs';

const int = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const N = Math.floor(int('SOAK_APPROVALS', 1000));
const MINUTES = int('SOAK_MINUTES', 20);
const CONCURRENCY = Math.floor(int('SOAK_CONCURRENCY', 40));
const SEED = Math.floor(int('SOAK_SEED', 20261203));
/** Tier timeouts of the approvals left to expire (tier 1 by policy, tier 2 by APPROVAL_TIER2_TIMEOUT_SECONDS). */
const EXPIRE_SECONDS = 16;
const BREAKS = new Set(
  (process.env.SOAK_SELFTEST_BREAK ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((s) => (s === '1' || s === 'all' ? ['mail', 'vote', 'audit'] : [s])),
);
for (const b of BREAKS) if (!['mail', 'vote', 'audit'].includes(b)) throw new Error(`SOAK_SELFTEST_BREAK: unknown "${b}" (mail, vote, audit, 1)`);

const ADMIN_KEY = `arb_soak_${randomBytes(16).toString('hex')}`;
const RUN = randomBytes(3).toString('hex');
const PG_BASE = process.env.SOAK_DATABASE_BASE_URL ?? process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DB_URL = `${PG_BASE}/arbiter_soak_${RUN}`;
const DIR = process.env.SOAK_DIR ?? join(tmpdir(), `arbiter-soak-${new Date().toISOString().replace(/[:.]/g, '-')}-${RUN}`);

const t0 = Date.now();
const deadline = t0 + MINUTES * 60_000;
/** No new proposal after this: what is in flight gets the rest of the time to end. */
const lastStart = deadline - Math.min(180_000, MINUTES * 60_000 * 0.25);
const since = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
const say = (m: string) => console.log(`[soak ${since()}] ${m}`);

/** Everything the soak learns while it runs. */
interface Ledger {
  item: Item;
  attempts: number;
  decisionId: string | null;
  /** Decisions refused fail-closed at propose (their workflow could not start): the agent proposed again with a new key. */
  failClosed: { id: string; reason: string }[];
  proposedAt: number;
  votes: (PlannedVote & { counted: boolean; via: 'link' | 'api' | null; note?: string })[];
  final: { outcome: string; status: string; decidedBy: string[]; decidedAt: string | null; approvalStatus: string | null; at: number; afterEvents: number } | null;
  done: boolean;
}

const stats = {
  proposeRetries: 0,
  replayed: 0,
  voteRetries: 0,
  linkVotes: 0,
  apiVotes: 0,
  /** Link votes whose retry after a lost answer was refused as "already used" and went through the API instead. */
  linkBurned: 0,
  /** Earlier attempt's vote had counted (a retry was refused ALREADY_DECIDED / NOT_PENDING). */
  retryFoundCounted: 0,
  /** API votes refused NOT_PENDING while the decision was still pending (its workflow not started yet). */
  notPendingWhilePending: 0,
  mailLate: 0,
  readRetries: 0,
  readsChecked: 0,
};
const anomalies: string[] = [];
/** Worth telling, but not a failed check: a process that died on its own, a SIGTERM that did not end the API. */
const findings: string[] = [];
const finding = (m: string) => {
  findings.push(m);
  say(`FINDING ${m}`);
};
const anomaly = (m: string) => {
  anomalies.push(m);
  say(`ANOMALY ${m}`);
};

const chaosLog: { kind: string; at: number; ms: number; forced?: boolean; accepted: number; inFlight: number }[] = [];
const restarts: string[] = [];

async function main(): Promise<number> {
  mkdirSync(DIR, { recursive: true });
  const cli = (ensureTemporalCli as (o: { quiet: boolean }) => string)({ quiet: false });
  const [apiPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const api = `http://127.0.0.1:${apiPort}`;
  const inbox = new Inbox();
  await inbox.start();
  say(`run ${RUN}: ${N} approvals, ${CONCURRENCY} in flight, seed ${SEED}, cap ${MINUTES} min; logs and Temporal's SQLite file in ${DIR}`);
  if (BREAKS.size) say(`SELF-TEST: deliberately breaking ${[...BREAKS].join(', ')}; this run must fail`);

  const common: Record<string, string> = {
    DATABASE_URL: DB_URL,
    DATABASE_POOL_SIZE: '10',
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: `soak-${RUN}`,
    ARBITER_ADMIN_KEY: ADMIN_KEY,
    SMTP_URL: inbox.url,
    PUBLIC_URL: api,
    APPROVAL_TIER1_TIMEOUT_SECONDS: '3600',
    APPROVAL_TIER2_TIMEOUT_SECONDS: String(EXPIRE_SECONDS),
    APPROVAL_QUORUM: '1',
    PENDING_SWEEP_SECONDS: '5',
  };
  // The children see this process's environment with ours on top; Slack and the LLM stay off.
  for (const k of Object.keys(process.env)) if (k.startsWith('SLACK_') || k.startsWith('LLM_')) delete process.env[k];
  const temporal = temporalRole(DIR, cli, temporalPort, uiPort, join(DIR, 'temporal.db'));
  const apiRole = nodeRole(DIR, 'api', 'api/main.ts', { ...common, ARBITER_ROLE: 'api', PORT: String(apiPort), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  const worker = nodeRole(DIR, 'worker', 'worker/main.ts', { ...common, ARBITER_ROLE: 'worker', LOG_LEVEL: 'info' });
  const roles = [worker, apiRole, temporal];
  // Interrupted: take the processes down with us (the database and logs stay for a look).
  const interrupt = (sig: NodeJS.Signals) => {
    for (const r of roles) r.child?.kill('SIGKILL');
    console.error(`[soak] ${sig}: stopped; logs: ${DIR}; database: ${DB_URL}`);
    process.exit(130);
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  process.once('uncaughtException', (e) => {
    console.error(`[soak] uncaught: ${e.stack ?? e}`);
    interrupt('SIGTERM');
  });

  const startTemporal = async () => {
    temporal.spawn();
    return waitUntil('Temporal', () => canConnect(temporalPort), 60_000);
  };
  const startApi = async () => {
    apiRole.spawn();
    return waitUntil('the API', async () => (await request(`${api}/healthz`, { timeoutMs: 2000 })).status === 200, 120_000);
  };
  const startWorker = async () => {
    worker.spawn();
    return waitUntil('the worker', async () => {
      if (worker.output().includes('worker running')) return true;
      if (!worker.alive) throw new GaveUp(`the worker exited while starting: ${worker.output().slice(-2000)}`);
      return false;
    }, 180_000);
  };
  const apiReady = () => waitUntil('the API to reach Temporal', async () => (await request(`${api}/readyz`, { timeoutMs: 3000 })).status === 200, 120_000);

  let failed = true;
  let supervising = true;
  let inEvent = false;
  try {
    await startTemporal();
    await startApi();
    await startWorker();
    await apiReady();
    say(`Temporal :${temporalPort}, API ${api}, worker up`);

    // Something that dies without being killed is a finding; a process manager would restart it, and so does the soak.
    void (async () => {
      while (supervising) {
        await sleep(1000);
        if (inEvent || !supervising) continue;
        for (const r of roles) {
          if (!r.alive && supervising && !inEvent) {
            const why = r.unexpectedExits.at(-1) ?? `${r.name} gone`;
            finding(`${r.name} died on its own (${why}); restarted it (see ${r.name}-${r.starts}.log)`);
            restarts.push(why);
            inEvent = true;
            try {
              if (r === temporal) await startTemporal();
              else if (r === apiRole) await startApi();
              else await startWorker();
            } catch (e) {
              anomaly(`restarting ${r.name} failed: ${(e as Error).message}`);
            } finally {
              inEvent = false;
            }
          }
        }
      }
    })();

    // Setup as an admin does it: people, their keys, the agent's key, the rules that hold actions for people.
    const admin = async (method: string, path: string, body?: unknown) => {
      const r = await request(api + path, { method, key: ADMIN_KEY, body });
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };
    const userId: Record<string, string> = {};
    const keyOf: Record<string, string> = {};
    for (const name of APPROVERS) {
      userId[name] = (await admin('POST', '/api/v1/users', { email: email(name), name, roles: ['approver'] })).id;
      keyOf[name] = (await admin('POST', '/api/v1/keys', { name: `soak ${name}`, scopes: ['governance:read', 'governance:write'], user_id: userId[name] })).key;
    }
    userId[ADMIN] = (await admin('POST', '/api/v1/users', { email: email(ADMIN), name: ADMIN, roles: ['admin'] })).id;
    const agentKey: string = (await admin('POST', '/api/v1/keys', { name: 'soak agent', scopes: ['governance:propose'] })).key;
    await admin('POST', '/api/smart-rules', { name: 'Soak payments need a person', priority: 10, conditions: { action_type: CAPABILITY.approve }, action: 'REQUIRE_APPROVAL' });
    await admin('POST', '/api/v1/policies', { name: 'Soak: two approvers', approval_actions: [CAPABILITY.quorum], approval_quorum: 2 });
    await admin('POST', '/api/v1/policies', { name: 'Soak: expiring', approval_actions: [CAPABILITY.expire], approval_timeout_seconds: EXPIRE_SECONDS });

    const items = makeItems(N, SEED);
    const events = makeChaos(N, SEED);
    if (BREAKS.has('vote')) {
      // Self-test: one approver's vote goes out as the opposite of what the ledger expects.
      const victim = items.find((x) => x.kind === 'approve');
      if (victim) victim.votes[0] = { ...victim.votes[0], choice: 'deny' };
    }
    const ledgers: Ledger[] = items.map((item) => ({ item, attempts: 0, decisionId: null, failClosed: [], proposedAt: 0, votes: [], final: null, done: false }));
    let accepted = 0;
    let eventsDone = 0;
    let chaosOver = events.length === 0;

    // ---- one approval, as the agent and the people see it ----
    const approvalIds = new Map<string, string>();
    const queueFetch = new Map<string, Promise<void>>();
    const approvalIdOf = async (decisionId: string, voter: string, tries = 60): Promise<string | null> => {
      for (let i = 0; i < tries && Date.now() < deadline; i++) {
        const known = approvalIds.get(decisionId);
        if (known) return known;
        let p = queueFetch.get(voter);
        if (!p) {
          p = (async () => {
            const r = await retrying(() => request(`${api}/api/v1/approvals?limit=200`, { key: keyOf[voter] }), { deadline, onRetry: () => (stats.voteRetries += 1) });
            for (const it of (r?.status === 200 ? r.body.items : []) as { approval_id: string; subject_id: string }[]) approvalIds.set(it.subject_id, it.approval_id);
          })().finally(() => queueFetch.delete(voter));
          queueFetch.set(voter, p);
        }
        await p;
        if (!approvalIds.has(decisionId)) await sleep(500);
      }
      return approvalIds.get(decisionId) ?? null;
    };

    const decisionPending = async (id: string): Promise<boolean> => {
      const r = await retrying(() => request(`${api}/api/v1/governance/decisions/${id}`, { key: ADMIN_KEY }), { deadline });
      return r?.status === 200 && r.body.status === 'pending';
    };

    /** One vote attempt: counted; lost (no answer or a 5xx: paused, to be sent again); or another answer to read. */
    const tryVote = async (v: Ledger['votes'][number], via: 'api' | 'link', send: () => Promise<Reply>, counted: (r: Reply) => boolean): Promise<'counted' | 'lost' | Reply> => {
      let r: Reply | null = null;
      try {
        r = await send();
      } catch {
        r = null;
      }
      if (r && counted(r)) {
        v.counted = true;
        v.via = via;
        if (via === 'api') stats.apiVotes += 1;
        else stats.linkVotes += 1;
        return 'counted';
      }
      if (r === null || r.status >= 500) {
        stats.voteRetries += 1;
        await sleep(500 + Math.random() * 1000);
        return 'lost';
      }
      return r;
    };

    const apiVote = async (L: Ledger, v: Ledger['votes'][number], afterUncertain: boolean): Promise<void> => {
      const id = L.decisionId as string;
      const approvalId = await approvalIdOf(id, v.voter, afterUncertain ? 4 : 60);
      if (!approvalId && afterUncertain) {
        // Gone from the voter's queue: their earlier attempt counted (the final outcome check confirms it).
        v.counted = true;
        v.via = v.via ?? 'link';
        v.note = 'earlier attempt counted (no longer in their queue)';
        stats.retryFoundCounted += 1;
        return;
      }
      if (!approvalId) return anomaly(`${id}: ${v.voter} never found it in their queue (GET /api/v1/approvals)`);
      let uncertain = afterUncertain;
      for (;;) {
        if (Date.now() > deadline) return anomaly(`${id}: ${v.voter}'s API vote ran out of time`);
        const r = await tryVote(v, 'api', () => request(`${api}/api/v1/approvals/${approvalId}/vote`, { key: keyOf[v.voter], body: { decision: v.choice, comment: 'soak (api)' } }), (x) => x.status === 200);
        if (r === 'counted') return;
        if (r === 'lost') {
          uncertain = true;
          continue;
        }
        const code = r.body?.error?.code as string | undefined;
        if (r.status === 409 && code === 'NOT_PENDING' && (await decisionPending(id))) {
          // The approval row exists but its workflow has not started yet (the sweep starts it): try again.
          stats.notPendingWhilePending += 1;
          await sleep(2000);
          continue;
        }
        if (uncertain && r.status === 409 && (code === 'ALREADY_DECIDED' || code === 'NOT_PENDING')) {
          v.counted = true;
          v.via = v.via ?? 'api';
          v.note = `earlier attempt counted (${code})`;
          stats.retryFoundCounted += 1;
          return;
        }
        return anomaly(`${id}: ${v.voter}'s API vote answered ${r.status} ${r.text.slice(0, 200)}`);
      }
    };

    const linkVote = async (L: Ledger, v: Ledger['votes'][number]): Promise<void> => {
      const id = L.decisionId as string;
      const mail = await inbox.waitFor(id, email(v.voter), Math.max(1000, Math.min(240_000, deadline - Date.now())));
      if (!mail?.link) {
        stats.mailLate += 1;
        say(`${id}: no request mail for ${v.voter} after 240 s; voting through the API instead`);
        return apiVote(L, v, false);
      }
      // Open the page (a GET decides nothing), then post its form, as a browser does.
      const page = await retrying(() => request(mail.link as string), { deadline, onRetry: () => (stats.voteRetries += 1) });
      if (page?.status !== 200 || !page.text.includes('name="decision" value="approve"')) {
        return anomaly(`${id}: ${v.voter}'s approval page answered ${page?.status}: ${page?.text.slice(0, 200)}`);
      }
      let uncertain = false;
      for (;;) {
        if (Date.now() > deadline) return anomaly(`${id}: ${v.voter}'s link vote ran out of time`);
        const r = await tryVote(v, 'link', () => request(mail.link as string, { form: { decision: v.choice, comment: 'soak (link)' } }), (x) => x.status === 200 && /Your decision is recorded/.test(x.text));
        if (r === 'counted') return;
        if (r === 'lost') {
          uncertain = true;
          continue;
        }
        if (uncertain && r.status === 410) {
          // The link was claimed by an attempt whose answer was lost: did that vote count? The API says.
          stats.linkBurned += 1;
          v.note = 'link used by an attempt whose answer was lost';
          return apiVote(L, v, true);
        }
        if (uncertain && r.status === 409) {
          v.counted = true;
          v.via = 'link';
          v.note = 'earlier attempt counted';
          stats.retryFoundCounted += 1;
          return;
        }
        return anomaly(`${id}: ${v.voter}'s link vote answered ${r.status}: ${r.text.replace(/\s+/g, ' ').slice(0, 300)}`);
      }
    };

    const waitFinal = async (L: Ledger): Promise<void> => {
      const id = L.decisionId as string;
      while (Date.now() < deadline) {
        let r: Reply | null = null;
        try {
          r = await request(`${api}/api/v1/governance/decisions/${id}?wait=25`, { key: agentKey, timeoutMs: 40_000 });
        } catch {
          r = null;
        }
        if (r?.status === 200 && r.body.status === 'final') {
          L.final = { outcome: r.body.outcome, status: r.body.status, decidedBy: r.body.decided_by, decidedAt: r.body.decided_at, approvalStatus: r.body.approval?.state?.status ?? null, at: Date.now(), afterEvents: eventsDone };
          return;
        }
        if (r?.status === 200) continue;
        if (r && r.status < 500) return anomaly(`${id}: the agent's read answered ${r.status} ${r.text.slice(0, 200)}`);
        stats.readRetries += 1;
        await sleep(500 + Math.random() * 1000);
      }
    };

    const runOne = async (L: Ledger): Promise<void> => {
      const { item } = L;
      for (;;) {
        L.attempts += 1;
        const key = `soak-${RUN}-${item.i}-${L.attempts}`;
        const body = {
          actor: { id: item.actor, type: 'ai-agent' },
          action: { capability: CAPABILITY[item.kind], parameters: { n: item.i, kind: item.kind, run: RUN, amount: 10 + (item.i % 90) } },
          context: { session_id: `soak-${RUN}`, metadata: { environment: 'development' } },
          reasoning: `soak approval ${item.i}`,
        };
        L.proposedAt = Date.now();
        const r = await retrying(() => request(`${api}/api/v1/governance/propose`, { key: agentKey, body, headers: { 'Idempotency-Key': key } }), { deadline, onRetry: () => (stats.proposeRetries += 1) });
        if (!r) return anomaly(`approval ${item.i}: propose never answered before the deadline`);
        if (r.headers.get('idempotent-replayed') === 'true') stats.replayed += 1;
        if (r.status !== 200) return anomaly(`approval ${item.i}: propose answered ${r.status} ${r.text.slice(0, 200)}`);
        if (r.body.status === 'pending' && r.body.outcome === 'REQUIRE_CONFIRMATION') {
          L.decisionId = r.body.decision_id;
          break;
        }
        if (r.body.status === 'final' && r.body.outcome === 'DENY' && L.attempts < 5) {
          // Fail-closed: the decision was committed but its workflow could not start (Temporal away). A new request.
          L.failClosed.push({ id: r.body.decision_id, reason: r.body.reason });
          say(`approval ${item.i}: refused fail-closed at propose (${r.body.reason}); proposing again`);
          await sleep(2000);
          continue;
        }
        return anomaly(`approval ${item.i}: unexpected ${JSON.stringify(r.body).slice(0, 300)}`);
      }
      accepted += 1;
      const final = waitFinal(L);
      for (const pv of item.votes) {
        const v = { ...pv, counted: false, via: null };
        L.votes.push(v);
        await sleep(pv.delayMs);
        if (pv.channel === 'link') await linkVote(L, v);
        else await apiVote(L, v, false);
      }
      await final;
    };

    // ---- chaos, at random points while approvals are in flight ----
    const inFlight = () => ledgers.filter((l) => l.proposedAt && !l.done).length;
    const readsAgree = async (sample: Ledger[]): Promise<number> => {
      let changed = 0;
      for (const L of sample) {
        if (!L.final) continue;
        const r = await retrying(() => request(`${api}/api/v1/governance/decisions/${L.decisionId}`, { key: agentKey }), { deadline: Date.now() + 60_000 });
        stats.readsChecked += 1;
        const now = r?.status === 200 ? { outcome: r.body.outcome, status: r.body.status, decidedBy: r.body.decided_by, decidedAt: r.body.decided_at } : null;
        const was = { outcome: L.final.outcome, status: L.final.status, decidedBy: L.final.decidedBy, decidedAt: L.final.decidedAt };
        if (JSON.stringify(now) !== JSON.stringify(was)) {
          changed += 1;
          anomaly(`${L.decisionId}: the agent read ${JSON.stringify(was)} before and ${JSON.stringify(now)} after`);
        }
      }
      return changed;
    };
    let changedMidRun = 0;
    const chaosRnd = prng(SEED ^ 0xc4a05);
    const runChaos = async (e: ChaosEvent): Promise<void> => {
      while (accepted < e.at * N && Date.now() < lastStart) await sleep(100);
      await sleep(e.jitterMs);
      while (inEvent) await sleep(100);
      inEvent = true;
      const started = Date.now();
      const snapshot = { accepted, inFlight: inFlight() };
      let forced = false;
      try {
        if (e.kind === 'worker-kill') {
          await worker.stop('SIGKILL');
          await sleep(e.downMs);
          await startWorker();
        } else if (e.kind === 'api-term' || e.kind === 'api-kill') {
          forced = (await apiRole.stop(e.kind === 'api-term' ? 'SIGTERM' : 'SIGKILL')).forced;
          if (forced) finding('the API did not exit within 15 s of SIGTERM; it was SIGKILLed');
          await sleep(e.downMs);
          await startApi();
        } else {
          forced = (await temporal.stop(e.kind === 'temporal-term' ? 'SIGTERM' : 'SIGKILL')).forced;
          if (forced) finding('the Temporal dev server did not exit within 15 s of SIGTERM; it was SIGKILLed');
          await sleep(e.downMs);
          await startTemporal();
          await apiReady();
        }
      } finally {
        inEvent = false;
      }
      eventsDone += 1;
      const ms = Date.now() - started;
      chaosLog.push({ kind: e.kind, at: started - t0, ms, forced, ...snapshot });
      say(`chaos ${eventsDone}/${events.length}: ${e.kind} with ${snapshot.inFlight} in flight (${snapshot.accepted} accepted); back in ${(ms / 1000).toFixed(1)} s`);
      // The agent's earlier reads must still hold after the restart.
      const finals = ledgers.filter((l) => l.final);
      const sample = Array.from({ length: Math.min(20, finals.length) }, () => finals[Math.floor(chaosRnd() * finals.length)]);
      changedMidRun += await readsAgree(sample);
    };
    const chaos = (async () => {
      for (const e of events) {
        if (Date.now() > lastStart) break;
        await runChaos(e);
      }
      chaosOver = true;
    })();

    // ---- the load ----
    const loadStarted = Date.now();
    let next = 0;
    const progress = setInterval(() => {
      const finals = ledgers.filter((l) => l.final).length;
      say(`${accepted} accepted, ${finals} final, ${inFlight()} in flight, ${inbox.all.length} mails, chaos ${eventsDone}/${events.length}`);
    }, 15_000);
    const lane = async (): Promise<void> => {
      for (;;) {
        const k = next++;
        if (k >= N) return;
        // The last 5% wait for the chaos to be over, so every event happens with approvals in flight.
        if (k >= Math.floor(N * 0.95)) while (!chaosOver && Date.now() < lastStart) await sleep(200);
        if (Date.now() > lastStart) return;
        const L = ledgers[k];
        try {
          await runOne(L);
        } catch (e) {
          anomaly(`approval ${k}: ${(e as Error).stack ?? e}`);
        } finally {
          L.done = true;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    const loadEnded = Date.now();
    clearInterval(progress);
    await chaos;
    supervising = false;
    while (inEvent) await sleep(100);
    say(`load over: ${accepted} accepted in ${((loadEnded - loadStarted) / 1000).toFixed(0)} s; checking`);

    // ---- checks ----
    // Late mails (a resend would come from a retried activity) get a moment to arrive.
    await sleep(5000);
    if (BREAKS.has('mail')) {
      const m = inbox.all.find((x) => x.decisionId && x.step === 'request');
      if (m) {
        await inbox.resend(m);
        await waitUntil('the self-test resend', async () => inbox.get(m.decisionId as string, m.to).length > 1, 10_000);
      }
    }
    const pg = new Client({ connectionString: DB_URL });
    await pg.connect();
    try {
      const acceptedL = ledgers.filter((l) => l.decisionId);
      const nameOf = Object.fromEntries(Object.entries(userId).map(([n, id]) => [id, n]));

      // Lost: accepted but never final, or final otherwise than the votes cast (or the expiry) say.
      const lost: string[] = [];
      for (const L of acceptedL) {
        const e = L.item.expect;
        const f = L.final;
        const castBy = L.votes.filter((v) => v.counted).map((v) => v.voter);
        if (!f) lost.push(`${L.decisionId} (${L.item.kind}): never final`);
        else if (f.outcome !== e.outcome || f.approvalStatus !== e.status || [...f.decidedBy].map((x) => nameOf[x] ?? x).sort().join() !== [...e.decidedBy].sort().join()) {
          lost.push(`${L.decisionId} (${L.item.kind}): expected ${e.outcome}/${e.status} by [${e.decidedBy}], read ${f.outcome}/${f.approvalStatus} by [${f.decidedBy.map((x) => nameOf[x] ?? x)}]; votes counted: [${castBy}]`);
        } else if (L.item.votes.length !== castBy.length) lost.push(`${L.decisionId} (${L.item.kind}): ${L.item.votes.length - castBy.length} vote(s) not counted`);
      }

      // Duplicated or changed: decision.finalized once per decision, with the outcome the agent read; reads agree after all restarts; no second decision per request.
      const dup: string[] = [];
      const fin = (await pg.query(`SELECT "entityId" AS id, count(*)::int AS n, array_agg(data->>'outcome' ORDER BY seq) AS outcomes FROM audit_records WHERE action = 'decision.finalized' AND "entityType" = 'decision' GROUP BY 1`)).rows as { id: string; n: number; outcomes: string[] }[];
      const finById = new Map(fin.map((r) => [r.id, r]));
      for (const L of acceptedL) {
        const r = finById.get(L.decisionId as string);
        if (!r) {
          if (L.final) lost.push(`${L.decisionId}: read final but no decision.finalized audit record`);
          continue;
        }
        if (r.n !== 1) dup.push(`${L.decisionId}: decision.finalized ${r.n} times (${r.outcomes})`);
        else if (L.final && r.outcomes[0] !== L.final.outcome) dup.push(`${L.decisionId}: audit says ${r.outcomes[0]}, the agent read ${L.final.outcome}`);
      }
      const failClosed = ledgers.flatMap((l) => l.failClosed);
      for (const fc of failClosed) if (finById.get(fc.id)?.n !== 1) dup.push(`${fc.id} (fail-closed at propose): decision.finalized ${finById.get(fc.id)?.n ?? 0} times`);
      const rows = (await pg.query(`SELECT id, status, "finalOutcome", "idempotencyKey" FROM decisions WHERE capability LIKE 'soak.%'`)).rows as { id: string; status: string; finalOutcome: string | null; idempotencyKey: string | null }[];
      const known = new Set([...acceptedL.map((l) => l.decisionId as string), ...failClosed.map((f) => f.id)]);
      for (const r of rows) if (!known.has(r.id)) dup.push(`${r.id}: a decision no agent request was answered with (key ${r.idempotencyKey}, ${r.status} ${r.finalOutcome})`);
      for (const r of rows) {
        const L = acceptedL.find((l) => l.decisionId === r.id);
        if (L?.final && (r.status !== 'final' || r.finalOutcome !== L.final.outcome)) dup.push(`${r.id}: row ${r.status} ${r.finalOutcome}, the agent read ${L.final.outcome}`);
      }
      say(`re-reading all ${acceptedL.filter((l) => l.final).length} final decisions as the agent`);
      const changedAtEnd = await readsAgree(acceptedL.filter((l) => l.final));
      for (let i = 0; i < changedMidRun + changedAtEnd; i++) dup.push('an agent read changed (see ANOMALY lines)');

      // Votes: each counted vote has its own audit record, once.
      const voteRows = (await pg.query(`SELECT "entityId" AS id, "actorId" AS who, action, count(*)::int AS n FROM audit_records WHERE action IN ('approval.approve', 'approval.deny') GROUP BY 1, 2, 3`)).rows as { id: string; who: string; action: string; n: number }[];
      const voteAudit = new Map(voteRows.map((r) => [`${r.id}|${r.who}|${r.action}`, r.n]));
      let votesUnaudited = 0;
      let votesAuditedTwice = 0;
      for (const L of acceptedL)
        for (const v of L.votes.filter((x) => x.counted)) {
          const n = voteAudit.get(`${L.decisionId}|${userId[v.voter]}|approval.${v.choice}`) ?? 0;
          if (n === 0) {
            votesUnaudited += 1;
            say(`finding: ${L.decisionId}: ${v.voter}'s ${v.choice} counted but has no approval.${v.choice} audit record (${v.note ?? v.via})`);
          }
          if (n > 1) votesAuditedTwice += 1;
        }

      // Mail: every (approval, tier, step, recipient) once; every mail the audit says went out arrived.
      const counts = inbox.counts();
      const twice = [...counts].filter(([, n]) => n > 1);
      for (const [k, n] of twice) say(`mail ${k} arrived ${n} times`);
      const emailOf = Object.fromEntries(Object.entries(userId).map(([n, id]) => [id, email(n)]));
      const told = (await pg.query(`SELECT "entityId" AS id, action, data FROM audit_records WHERE action IN ('approval.notified', 'approval.reminded') AND data->>'channel' IS NULL`)).rows as { id: string; action: string; data: { tier: number; approvers: string[] } }[];
      const expected = new Set<string>();
      const mailedTier1 = new Set<string>();
      for (const t of told) {
        if (t.action === 'approval.notified' && t.data.tier === 1) mailedTier1.add(t.id);
        for (const a of t.data.approvers) expected.add(Inbox.key(t.id, emailOf[a] ?? a, t.data.tier, t.action === 'approval.notified' ? 'request' : 'reminder'));
      }
      let mailsMissing = 0;
      for (const k of expected) {
        if (counts.has(k)) continue;
        mailsMissing += 1;
        say(`mail ${k} is audited as sent but never arrived`);
      }
      const unauditedMails = [...counts.keys()].filter((k) => !expected.has(k)).length;
      // An approval decided (through the API) before its workflow's first step mails nobody: nothing left to ask.
      const decidedBeforeMail = acceptedL.filter((l) => !mailedTier1.has(l.decisionId as string));
      for (const L of decidedBeforeMail) if (L.votes.some((v) => v.via === 'link')) anomaly(`${L.decisionId}: voted by a link that was never audited as mailed`);
      const expiredMissing = acceptedL.filter((l) => l.item.kind === 'expire' && !told.some((t) => t.id === l.decisionId && t.data.tier === 2)).length;
      const unparsed = inbox.all.filter((m: Mail) => !m.decisionId).length;

      // The audit chain, verified with the code behind `arbiter audit verify` (an export) and the server's own check.
      if (BREAKS.has('audit')) {
        await pg.query(`UPDATE audit_records SET data = data || '{"soak_selftest": true}'::jsonb WHERE seq = (SELECT max(seq) / 2 FROM audit_records WHERE "orgId" = 'org_default') AND "orgId" = 'org_default'`);
      }
      const exported = await retrying(() => request(`${api}/api/v1/audit/export`, { key: ADMIN_KEY, timeoutMs: 120_000 }), { deadline: Date.now() + 120_000 });
      const offline = await verifyAuditExport((exported?.text ?? '').split('\n'));
      const server = await retrying(() => request(`${api}/api/v1/audit/verify`, { key: ADMIN_KEY, timeoutMs: 120_000 }), { deadline: Date.now() + 120_000 });
      const chainOk = exported?.status === 200 && offline.ok && offline.checked > 0 && server?.status === 200 && server.body.ok === true && server.body.checked === offline.checked;
      if (!chainOk) say(`audit chain: export ${exported?.status} ${JSON.stringify(offline)}; server ${server?.status} ${server?.text}`);

      // ---- the summary ----
      for (const l of lost) say(`LOST ${l}`);
      for (const d of dup) say(`DUPLICATED/CHANGED ${d}`);
      const finals = acceptedL.filter((l) => l.final);
      const durS = (loadEnded - loadStarted) / 1000;
      const lat = finals.map((l) => ((l.final?.at ?? 0) - l.proposedAt) / 1000).sort((a, b) => a - b);
      const q = (x: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(x * lat.length))].toFixed(1) : '-');
      const kinds = ['approve', 'deny', 'quorum', 'quorum-deny', 'expire'].map((k) => `${k} ${acceptedL.filter((l) => l.item.kind === k).length}`).join(', ');
      const count = (k: string) => chaosLog.filter((c) => c.kind === k).length;
      const incomplete = acceptedL.length < N;
      const rowsOut: [string, string, boolean | null][] = [
        ['approvals (accepted; decided by people or expiry)', `${acceptedL.length} of ${N} (${kinds})`, !incomplete],
        ['worker SIGKILLs', String(count('worker-kill')), count('worker-kill') >= Math.min(5, events.filter((e) => e.kind === 'worker-kill').length)],
        ['API restarts', `${count('api-term') + count('api-kill')} (${count('api-term')} SIGTERM, ${count('api-kill')} SIGKILL)`, count('api-kill') >= 1 && count('api-term') >= 1],
        ['Temporal restarts (same SQLite file and port)', `${count('temporal-term') + count('temporal-kill')} (${count('temporal-term')} SIGTERM, ${count('temporal-kill')} SIGKILL)`, count('temporal-term') + count('temporal-kill') >= Math.min(2, events.filter((e) => e.kind.startsWith('temporal')).length)],
        ['processes that died on their own (restarted by the soak)', restarts.length ? restarts.join('; ') : '0', null],
        ['duration (load phase / whole run)', `${durS.toFixed(0)} s / ${((Date.now() - t0) / 1000).toFixed(0)} s`, null],
        ['decisions/s (final decisions / load phase)', (finals.length / durS).toFixed(2), null],
        ['propose → final, p50 / p99 / max', `${q(0.5)} s / ${q(0.99)} s / ${lat.length ? lat[lat.length - 1].toFixed(1) : '-'} s`, null],
        ['lost (never final, or not what the votes say)', String(lost.length), lost.length === 0],
        ['duplicated or changed (finalized ≠ once, reads differ, extra decisions)', `${dup.length} (finalized once: ${acceptedL.filter((l) => finById.get(l.decisionId as string)?.n === 1).length}; reads re-checked: ${stats.readsChecked})`, dup.length === 0],
        ['mails sent twice (per approval, tier, step, recipient)', `${twice.length} (of ${inbox.all.length} mails)`, twice.length === 0],
        ['mails audited as sent that never arrived', `${mailsMissing} (of ${expected.size} audited)`, mailsMissing === 0],
        ['audit chain verified', `${chainOk ? 'yes' : 'NO'}, ${offline.checked} records (export + server)`, chainOk],
        ['client anomalies (unexpected answers)', String(anomalies.length), anomalies.length === 0],
      ];
      const obs: [string, string][] = [
        ['propose retries (5xx / no answer) / answered as a replay', `${stats.proposeRetries} / ${stats.replayed}`],
        ['proposals refused fail-closed (workflow start failed; re-proposed)', String(failClosed.length)],
        ['votes: by link / by API / retried attempts', `${stats.linkVotes} / ${stats.apiVotes} / ${stats.voteRetries}`],
        ['retries that found the earlier vote counted', String(stats.retryFoundCounted)],
        ['links used up by an attempt whose answer was lost (voted by API instead)', String(stats.linkBurned)],
        ['API votes refused NOT_PENDING while pending (workflow not started yet)', String(stats.notPendingWhilePending)],
        ['request mails later than 240 s (voted by API instead)', String(stats.mailLate)],
        ['counted votes without their audit record / audited twice', `${votesUnaudited} / ${votesAuditedTwice}`],
        ['approvals decided through the API before anyone was mailed', String(decidedBeforeMail.length)],
        ['expiring approvals never escalated to tier 2 / mails without an audit record / unparsed', `${expiredMissing} / ${unauditedMails} / ${unparsed}`],
        ['agent read retries (no answer)', String(stats.readRetries)],
        ['SMTP sessions cut by a killed sender', String(inbox.connectionErrors)],
      ];
      console.log('\n## Soak summary\n');
      console.log(`run ${RUN}, seed ${SEED}, ${CONCURRENCY} in flight, ${new Date(t0).toISOString()}${BREAKS.size ? `, SELF-TEST breaking ${[...BREAKS].join(', ')}` : ''}\n`);
      console.log('| check | value | ok |\n| --- | --- | --- |');
      for (const [k, v, ok] of rowsOut) console.log(`| ${k} | ${v} | ${ok === null ? '' : ok ? 'yes' : '**FAIL**'} |`);
      console.log('\n| observed | count |\n| --- | --- |');
      for (const [k, v] of obs) console.log(`| ${k} | ${v} |`);
      if (findings.length) console.log(`\nFindings:\n${findings.map((f) => `- ${f}`).join('\n')}`);
      console.log('\n| chaos event | at | in flight | back after |\n| --- | --- | --- | --- |');
      for (const c of chaosLog) console.log(`| ${c.kind}${c.forced ? ' (SIGTERM timed out)' : ''} | ${(c.at / 1000).toFixed(0)} s (${c.accepted} accepted) | ${c.inFlight} | ${(c.ms / 1000).toFixed(1)} s |`);
      failed = rowsOut.some(([, , ok]) => ok === false);
      console.log(`\n${failed ? 'FAILED' : 'PASSED'}; logs: ${DIR}${failed ? `; database kept: ${DB_URL}` : ''}`);
    } finally {
      await pg.end();
    }
  } finally {
    supervising = false;
    for (const r of roles) await r.stop('SIGTERM', 10_000).catch(() => undefined);
    await inbox.close();
    if (!failed && !process.env.SOAK_KEEP) {
      await dropDatabase(DB_URL).catch(() => undefined);
      rmSync(join(DIR, 'temporal.db'), { force: true });
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`[soak] ${(e as Error).stack ?? e}`);
    console.error(`[soak] logs: ${DIR}; database: ${DB_URL}`);
    process.exit(2);
  },
);

// `npm run bench`: the evaluator (100 rules; 1,000 rules + 100 policies) against Cedar
// with a prepared policy set, and the HTTP propose path with its durable audit against
// a bare Express route, all in one run on this machine. Loopback only, bounded in time.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { evaluate } from '../engine/evaluate';
import { compilePolicies, policyLayer } from '../engine/policies';
import { DEFAULT_RISK_CONFIG } from '../engine/risk';
import { compileRuleSet } from '../engine/rules';
import type { Proposal } from '../engine/types';
import { dropDatabase, ensureDatabase } from '../entities/data-source';
import { cpuSeconds, load, postgresCpuSeconds, spawnServer, stop, WARMUP_SECONDS } from './http';
import { latencyRows } from './latency';
import { opaAgreementLine, opaEvaluatorRows, opaHttpRows } from './opa';
import { makePolicies, makeProposals, makeRules, makeWardn } from './workload';
import { agentLayer, floorsLayer, l6Layer, principlesLayer } from '../engine/wardn';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- a plain .mjs script shared with npm start
import { ensureTemporalCli } from '../scripts/temporal.mjs';
import { API_NODE_ARGS } from '../scripts/node-args.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
/** `evaluator`, `http` or `latency` runs one part only; the ratios in a report come from a full run. */
const ONLY = process.env.BENCH_ONLY;
/** Alternated HTTP rounds (Arbiter, Express, node:http in turn); each row is its target's median round. */
const HTTP_ROUNDS = Math.max(1, Number(process.env.BENCH_HTTP_ROUNDS ?? (QUICK ? 1 : 5)));

interface Timing {
  p50us: number;
  p99us: number;
  perSec: number;
  n: number;
}

/** Times `fn` once per input after a warm-up; medians and tails from per-call samples. */
function time(inputs: Proposal[], fn: (p: Proposal) => unknown, rounds: number): Timing {
  for (let i = 0; i < Math.min(2000, inputs.length); i++) fn(inputs[i]);
  const samples: number[] = [];
  const started = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (const p of inputs) {
      const t0 = process.hrtime.bigint();
      fn(p);
      samples.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  }
  const total = Number(process.hrtime.bigint() - started) / 1e9;
  samples.sort((a, b) => a - b);
  const q = (x: number) => samples[Math.min(samples.length - 1, Math.floor(x * samples.length))];
  return { p50us: q(0.5), p99us: q(0.99), perSec: samples.length / total, n: samples.length };
}

const fmt = (x: number, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function evaluatorBench(): Promise<string[]> {
  const proposals = makeProposals(QUICK ? 2000 : 10_000);
  const now = Date.parse('2026-11-23T12:00:00Z');
  const rows: string[] = [];

  const rules100 = compileRuleSet(makeRules(100).map((r) => r.def));
  const t100 = time(proposals, (p) => evaluate({ proposal: p, rules: rules100, risk: DEFAULT_RISK_CONFIG, now }), QUICK ? 1 : 3);
  rows.push(`| Arbiter evaluator, 100 smart rules | ${fmt(t100.p50us)} µs | ${fmt(t100.p99us)} µs | ${fmt(t100.perSec, 0)} | ${t100.n} |`);

  // The same 100 rules with WARDN's layers on: agents, confidence floors, the four Sentinel principles and L6.
  const wardn = makeWardn(proposals);
  const wardnLayers = [agentLayer(wardn, 'aegis'), floorsLayer(wardn.floors), principlesLayer(wardn), l6Layer(wardn, { org: 0, agent: 0 })];
  const tWardn = time(proposals, (p) => evaluate({ proposal: p, rules: rules100, risk: DEFAULT_RISK_CONFIG, now, layers: wardnLayers }), QUICK ? 1 : 3);
  rows.push(`| Arbiter evaluator, 100 smart rules + WARDN layers | ${fmt(tWardn.p50us)} µs | ${fmt(tWardn.p99us)} µs | ${fmt(tWardn.perSec, 0)} | ${tWardn.n} |`);

  const big = makeRules(1000);
  const pols = makePolicies(100);
  const rules1000 = compileRuleSet(big.map((r) => r.def));
  const set = compilePolicies(pols.map((p) => p.def));
  const layer = policyLayer(set, { counters: {}, evidence: [], exceptions: [] });
  const tBig = time(proposals, (p) => evaluate({ proposal: p, rules: rules1000, risk: DEFAULT_RISK_CONFIG, now, layers: [layer] }), QUICK ? 1 : 2);
  rows.push(`| Arbiter evaluator, 1,000 rules + 100 policies | ${fmt(tBig.p50us)} µs | ${fmt(tBig.p99us)} µs | ${fmt(tBig.perSec, 0)} | ${tBig.n} |`);

  const cedar = await import('@cedar-policy/cedar-wasm/nodejs');
  const text = [...big.map((r) => r.cedar), ...pols.map((p) => p.cedar), '@id("base")\npermit(principal, action, resource);'].join('\n');
  const parsed = cedar.preparsePolicySet('bench', { staticPolicies: text });
  if (parsed.type !== 'success') throw new Error(`cedar policy set did not parse: ${JSON.stringify(parsed)}`);
  const authorize = (p: Proposal) =>
    cedar.statefulIsAuthorized({
      principal: { type: 'Agent', id: p.actor.id },
      action: { type: 'Action', id: p.action.capability },
      resource: { type: 'Resource', id: p.target ?? 'none' },
      context: { amount: p.amount ?? 0, parameter_amount: typeof p.action.parameters.amount === 'number' ? p.action.parameters.amount : 0, environment: p.environment ?? '', target: p.target ?? '', data_classes: p.dataClasses, capability: p.action.capability },
      preparsedPolicySetId: 'bench',
      entities: [],
    });
  const tCedar = time(proposals, authorize, QUICK ? 1 : 2);
  // Both engines saw the same requests; show they did comparable work (how many each refused).
  let cedarDenies = 0;
  let arbiterDenies = 0;
  for (const p of proposals) {
    const a = authorize(p);
    if (a.type === 'success' && a.response.decision === 'deny') cedarDenies += 1;
    if (evaluate({ proposal: p, rules: rules1000, risk: DEFAULT_RISK_CONFIG, now, layers: [layer] }).outcome !== 'ALLOW') arbiterDenies += 1;
  }
  rows.push(`| Cedar (cedar-wasm ${cedar.getCedarVersion()}), same 1,000 rules + 100 policies, prepared set | ${fmt(tCedar.p50us)} µs | ${fmt(tCedar.p99us)} µs | ${fmt(tCedar.perSec, 0)} | ${tCedar.n} |`);
  rows.push('');
  rows.push(`Evaluator vs Cedar on the same 1,000 + 100 set: median ${fmt(tCedar.p50us / tBig.p50us, 2)}× faster, p99 ${fmt(tCedar.p99us / tBig.p99us, 2)}× (of ${proposals.length} requests Cedar refused ${cedarDenies}, Arbiter did not allow ${arbiterDenies}).`);
  return rows;
}

/** One load run against a server process, with the CPU it (and PostgreSQL) spent per request. */
async function measured(url: string, body: string, headers: Record<string, string>, pid: number | undefined, connections: number, seconds: number) {
  await load(url, { body, headers, connections, seconds: WARMUP_SECONDS }); // warm-up
  const cpu0 = cpuSeconds(pid);
  const pg0 = postgresCpuSeconds();
  const r = await load(url, { body, headers, connections, seconds });
  const cpu1 = cpuSeconds(pid);
  const pg1 = postgresCpuSeconds();
  const per = (a: number | null, b: number | null) => (a === null || b === null || r.total === 0 ? null : ((b - a) / r.total) * 1e6);
  return { ...r, cpuUs: per(cpu0, cpu1), pgUs: per(pg0, pg1) };
}

async function httpBench(): Promise<string[]> {
  const seconds = QUICK ? 3 : 10;
  const connections = 32;
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const barePort = port + 1;
  const nodePort = port + 2;
  const temporalPort = port + 3;
  const db = `postgres://postgres@127.0.0.1:5432/arbiter_bench_${randomBytes(3).toString('hex')}`;
  const key = `arb_bench_${randomBytes(16).toString('hex')}`;
  const children: ChildProcess[] = [];
  const us = (x: number | null) => (x === null ? 'n/a' : `${fmt(x, 0)} µs`);
  try {
    await ensureDatabase(db);
    const cli = (ensureTemporalCli as (o: { quiet: boolean }) => string)({ quiet: true });
    const temporal = spawn(cli, ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(temporalPort), '--log-level', 'error'], { stdio: 'ignore' });
    children.push(temporal);
    const api = await spawnServer([...API_NODE_ARGS, ...(process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', 'api/main.ts'], { PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: db, TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, ARBITER_ADMIN_KEY: key, LOG_LEVEL: 'warn', PROPOSE_RATE_LIMIT_PER_MINUTE: '0', ARBITER_ROLE: 'api' }, `http://127.0.0.1:${port}/healthz`);
    children.push(api);
    const body = JSON.stringify({ actor: { id: 'bench-agent', type: 'ai-agent' }, action: { capability: 'database.query', parameters: { query: 'SELECT 1' } }, context: { session_id: 's1', metadata: { environment: 'development' } } });
    const bare = await spawnServer(['--import', 'tsx', 'bench/bare-express.ts'], { PORT: String(barePort) }, `http://127.0.0.1:${barePort}/healthz`);
    children.push(bare);
    const bareNode = await spawnServer(['--import', 'tsx', 'bench/bare-node.ts'], { PORT: String(nodePort) }, `http://127.0.0.1:${nodePort}/healthz`);
    children.push(bareNode);
    // Alternated rounds: a shared box drifts by tens of percent within a minute, and the drift
    // then hits every target alike; each target's row is its median round.
    const targets = {
      arbiter: () => measured(`http://127.0.0.1:${port}/api/v1/governance/propose`, body, { 'x-api-key': key }, api.pid, connections, seconds),
      express: () => measured(`http://127.0.0.1:${barePort}/api/v1/governance/propose`, body, {}, bare.pid, connections, seconds),
      node: () => measured(`http://127.0.0.1:${nodePort}/api/v1/governance/propose`, body, {}, bareNode.pid, connections, seconds),
    };
    const runs: Record<keyof typeof targets, Awaited<ReturnType<typeof measured>>[]> = { arbiter: [], express: [], node: [] };
    for (let round = 0; round < HTTP_ROUNDS; round++) {
      for (const [name, run] of Object.entries(targets) as [keyof typeof targets, () => ReturnType<typeof measured>][]) runs[name].push(await run());
    }
    const medianRun = (rs: Awaited<ReturnType<typeof measured>>[]) => [...rs].sort((a, b) => a.requestsPerSec - b.requestsPerSec)[Math.floor(rs.length / 2)];
    const arbiter = medianRun(runs.arbiter);
    const ceiling = medianRun(runs.express);
    const nodeCeiling = medianRun(runs.node);
    const [{ n }] = await (async () => {
      const { Client } = await import('pg');
      const c = new Client({ connectionString: db });
      await c.connect();
      const r = await c.query(`SELECT count(*)::int AS n FROM audit_records WHERE action = 'decision.proposed'`);
      await c.end();
      return r.rows as { n: number }[];
    })();
    for (const c of [api, bare, bareNode]) await stop(c);
    const opa = await opaHttpRows({ connections, seconds });

    const pct = (a: number, b: number) => `${fmt((a / b) * 100, 0)}%`;
    const row = (label: string, r: Awaited<ReturnType<typeof measured>>, extra = '') =>
      `| ${label} | ${fmt(r.requestsPerSec, 0)} | ${fmt(r.p50ms, 1)} ms | ${fmt(r.p99ms, 1)} ms | ${us(r.cpuUs)}${extra} | ${r.non2xx} non-2xx, ${r.errors} errors |`;
    return [
      row('Arbiter POST /api/v1/governance/propose (decision + audit record committed in PostgreSQL before the answer)', arbiter, ` + PostgreSQL ${us(arbiter.pgUs)}`),
      row('Bare Express 5 JSON POST (the Express ceiling)', ceiling),
      row('Bare node:http JSON POST (the node:http ceiling)', nodeCeiling),
      ...opa.rows,
      '',
      `Arbiter's durable propose path answers ${pct(arbiter.requestsPerSec, ceiling.requestsPerSec)} of the bare Express ceiling and ${pct(arbiter.requestsPerSec, nodeCeiling.requestsPerSec)} of the node:http ceiling${opa.requestsPerSec ? `, and ${fmt(arbiter.requestsPerSec / opa.requestsPerSec, 2)}× OPA's server, which writes nothing durable` : ''} (medians of ${HTTP_ROUNDS} alternated round${HTTP_ROUNDS === 1 ? '' : 's'}; ${connections} connections, ${seconds} s each; ${n} audited decisions written).`,
      ...(HTTP_ROUNDS > 1
        ? [`Each round, Arbiter / Express ceiling: ${runs.arbiter.map((a, i) => `${fmt(a.requestsPerSec, 0)} / ${fmt(runs.express[i].requestsPerSec, 0)} = ${pct(a.requestsPerSec, runs.express[i].requestsPerSec)}`).join('; ')}. Arbiter's CPU per request by round: ${runs.arbiter.map((a) => `${us(a.cpuUs)} + PostgreSQL ${us(a.pgUs)}`).join('; ')}.`]
        : []),
    ];
  } finally {
    for (const c of children.reverse()) await stop(c);
    await dropDatabase(db).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  console.log(`# Arbiter benchmarks (${new Date().toISOString()}, node ${process.version}, ${(await import('node:os')).cpus().length} cores)\n`);
  if (!ONLY || ONLY === 'evaluator') {
    console.log('## Evaluator (in process, per evaluation)\n');
    console.log('| workload | p50 | p99 | evaluations/s | samples |');
    console.log('| --- | --- | --- | --- | --- |');
    const rows = await evaluatorBench();
    // The table's rows, OPA's beside them, then the notes under the table.
    const notes = rows.indexOf('');
    for (const row of rows.slice(0, notes)) console.log(row);
    for (const row of await opaEvaluatorRows()) console.log(row);
    for (const row of rows.slice(notes)) console.log(row);
    console.log('');
    console.log(await opaAgreementLine());
  }
  if (!ONLY || ONLY === 'http') {
    console.log('\n## HTTP decision path (autocannon, loopback)\n');
    console.log('| target | requests/s | p50 | p99 | server CPU per request | errors |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const row of await httpBench()) console.log(row);
  }
  if (!ONLY || ONLY === 'latency') {
    console.log('\n## Latency people feel (a real API, worker, Temporal and SMTP server)\n');
    for (const row of await latencyRows()) console.log(row);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

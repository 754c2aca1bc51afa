// OPA (Open Policy Agent) on the bench's workloads, for the same tables as bench/run.ts:
// - opaEvaluatorRows(): `opa bench` (OPA's Go evaluator in process, a prepared query) on
//   the 100-rule set and on the 1,000 rules + 100 policies, as Rego from bench/rego.ts;
// - opaAgreementLine(): the same proposals through OPA (`opa eval`) and Arbiter's evaluator;
// - opaHttpRows(): `opa run --server` driven by autocannon like Arbiter's HTTP bench.
// When OPA is missing and cannot be built, each says so in its row and the bench goes on.
// Run alone: `node --import tsx bench/opa.ts` (BENCH_QUICK=1 for the short HTTP run).
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate } from '../engine/evaluate';
import { compilePolicies, policyLayer } from '../engine/policies';
import { DEFAULT_RISK_CONFIG } from '../engine/risk';
import { compileRuleSet } from '../engine/rules';
import type { Outcome, Proposal, Verdict } from '../engine/types';
import { cpuSeconds, load, stop, WARMUP_SECONDS } from './http';
import { regoInput, regoModule } from './rego';
import { makePolicies, makeProposals, makeRules } from './workload';
import type { BenchPolicy, BenchRule } from './workload';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- a plain .mjs script, like scripts/temporal.mjs
import { ensureOpa, opaVersion } from '../scripts/opa.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const NOW = Date.parse('2026-11-23T12:00:00Z');
const QUERY = 'data.arbiter.decision';

const fmt = (x: number, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').replace(/\|/g, '/').slice(0, 300);

interface Opa {
  bin: string;
  /** "OPA 1.22.3" */
  label: string;
}

let found: { opa: Opa } | { error: string } | undefined;

/** The OPA binary, found or built once per process; never throws. */
function findOpa(): { opa: Opa } | { error: string } {
  if (!found) {
    try {
      const bin = (ensureOpa as (o: { quiet: boolean }) => string)({ quiet: true });
      const v = (opaVersion as (b: string) => string | null)(bin);
      found = { opa: { bin, label: `OPA ${v ?? '(version unknown)'}` } };
    } catch (e) {
      found = { error: errText(e) };
    }
  }
  return found;
}

function run(bin: string, args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(bin, args, { maxBuffer: 256 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${bin.split('/').pop()} ${args[0]} failed: ${errText(stderr || stdout || err.message)}`));
      else ok(stdout);
    });
  });
}

interface Workload {
  name: string;
  rules: BenchRule[];
  policies: BenchPolicy[];
  /** Arbiter's evaluator on the same set: the verdict OPA's decision is compared with. */
  arbiter: (p: Proposal) => Verdict;
}

function workloads(): Workload[] {
  const small = makeRules(100);
  const rules100 = compileRuleSet(small.map((r) => r.def));
  const big = makeRules(1000);
  const pols = makePolicies(100);
  const rules1000 = compileRuleSet(big.map((r) => r.def));
  const layer = policyLayer(compilePolicies(pols.map((p) => p.def)), { counters: {}, evidence: [], exceptions: [] });
  return [
    { name: '100 smart rules', rules: small, policies: [], arbiter: (p) => evaluate({ proposal: p, rules: rules100, risk: DEFAULT_RISK_CONFIG, now: NOW }) },
    { name: '1,000 rules + 100 policies', rules: big, policies: pols, arbiter: (p) => evaluate({ proposal: p, rules: rules1000, risk: DEFAULT_RISK_CONFIG, now: NOW, layers: [layer] }) },
  ];
}

/** A temp directory for the Rego and inputs, removed afterwards. */
async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-opa-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rule-and-policy outcome of a verdict, without the risk score (which the Rego has no counterpart for). */
function rulesOutcome(v: Verdict): Outcome {
  const effects = new Set(v.reasons.filter((r) => r.source !== 'risk').map((r) => r.effect));
  return effects.has('DENY') ? 'DENY' : effects.has('ESCALATE') ? 'ESCALATE' : effects.has('REQUIRE_APPROVAL') ? 'REQUIRE_APPROVAL' : 'ALLOW';
}

const reasonKeys = (rs: { id?: string; effect: string }[]) => [...new Set(rs.map((r) => `${r.id}:${r.effect}`))].sort().join(',');

/**
 * The representative input of a workload: the first bench proposal that some rule is pinned
 * to (so the indexer finds candidates and a rule matches) and, with policies, whose agent has
 * an agent policy. Arbiter's rows time all proposals; `opa bench` takes one input.
 */
function representative(w: Workload, proposals: Proposal[]): { p: Proposal; matched: number } {
  const agents = new Set(w.policies.map((p) => p.def.target_id).filter(Boolean));
  for (const p of proposals) {
    if (agents.size && !agents.has(p.actor.id)) continue;
    const matched = w.arbiter(p).reasons.filter((r) => r.source !== 'risk').length;
    if (matched > 0 && w.rules.some((r) => r.def.conditions.action_type === p.action.capability)) return { p, matched };
  }
  return { p: proposals[0], matched: 0 };
}

/** `go test`'s BenchmarkResult as `opa bench --format json` prints it. */
interface GoBench {
  N: number;
  T: number;
  Extra?: Record<string, number>;
}

/**
 * `opa bench` on the 100-rule set and on the 1,000 rules + 100 policies: rows in the
 * evaluator table's format (`| workload | p50 | p99 | evaluations/s | samples |`).
 * p50/p99 come from OPA's own histogram of `timer_rego_query_eval_ns` (query evaluation
 * only); evaluations/s from the mean ns/op of the whole prepared-query call (input
 * conversion included), on one goroutine.
 */
export async function opaEvaluatorRows(): Promise<string[]> {
  const f = findOpa();
  if ('error' in f) return [`| OPA: not available (${f.error}) | – | – | – | – |`];
  const { opa } = f;
  const proposals = makeProposals(QUICK ? 2000 : 10_000);
  return withDir(async (dir) => {
    const rows: string[] = [];
    for (const [i, w] of workloads().entries()) {
      try {
        const { p, matched } = representative(w, proposals);
        writeFileSync(join(dir, `set${i}.rego`), regoModule(w.rules, w.policies));
        writeFileSync(join(dir, `input${i}.json`), JSON.stringify(regoInput(p)));
        const out = await run(opa.bin, ['bench', '--format', 'json', '--count', '1', '-d', join(dir, `set${i}.rego`), '-i', join(dir, `input${i}.json`), QUERY]);
        const br = JSON.parse(out) as GoBench;
        if (!br.N) throw new Error(`opa bench returned no samples: ${out.slice(0, 200)}`);
        const meanNs = br.T / br.N;
        const x = br.Extra ?? {};
        const p50 = x['histogram_timer_rego_query_eval_ns_median'];
        const p99 = x['histogram_timer_rego_query_eval_ns_99%'];
        const us = (ns: number | undefined) => (ns === undefined ? 'n/a' : `${fmt(ns / 1000)} µs`);
        rows.push(
          `| ${opa.label}, same ${w.name} as Rego (opa bench: Go, in process, prepared query; one input, ${p.action.capability} by ${p.actor.id} with ${matched} rule/policy matches; p50/p99 of OPA's query-eval timer, evaluations/s from the mean call, ${fmt(meanNs / 1000)} µs) | ${us(p50)} | ${us(p99)} | ${fmt(1e9 / meanNs, 0)} | ${br.N} |`,
        );
      } catch (e) {
        rows.push(`| ${opa.label}, ${w.name}: opa bench failed (${errText(e)}) | – | – | – | – |`);
      }
    }
    return rows;
  });
}

/**
 * One line for under the evaluator table: how often OPA's decision agrees with Arbiter's on
 * the same proposals (the first `n` bench proposals, both rule sets). Compared: the outcome of
 * rules and policies (DENY > ESCALATE > REQUIRE_APPROVAL > ALLOW; Arbiter's risk-score reason
 * left out, since the Rego has no risk score) and the exact set of matching rule/policy ids
 * with their effects.
 */
export async function opaAgreementLine(n = 500): Promise<string> {
  const f = findOpa();
  if ('error' in f) return `OPA agreement not checked: OPA not available (${f.error}).`;
  const { opa } = f;
  const proposals = makeProposals(n);
  return withDir(async (dir) => {
    const parts: string[] = [];
    for (const [i, w] of workloads().entries()) {
      try {
        writeFileSync(join(dir, `set${i}.rego`), regoModule(w.rules, w.policies));
        writeFileSync(join(dir, `batch${i}.json`), JSON.stringify(proposals.map(regoInput)));
        const q = `[{"decision": d, "reasons": r} | some x in input; d := ${QUERY} with input as x; r := data.arbiter.reasons with input as x]`;
        const out = JSON.parse(await run(opa.bin, ['eval', '--format', 'json', '-d', join(dir, `set${i}.rego`), '-i', join(dir, `batch${i}.json`), q])) as {
          result?: { expressions: { value: { decision: string; reasons: { id: string; effect: string }[] }[] }[] }[];
        };
        const got = out.result?.[0]?.expressions[0]?.value;
        if (!got || got.length !== proposals.length) throw new Error(`opa eval returned ${got?.length ?? 'no'} results for ${proposals.length} inputs`);
        let same = 0;
        let sameReasons = 0;
        let refusedOpa = 0;
        let refusedArbiter = 0;
        let riskChanged = 0;
        proposals.forEach((p, k) => {
          const v = w.arbiter(p);
          const a = rulesOutcome(v);
          if (got[k].decision === a) same += 1;
          if (reasonKeys(got[k].reasons) === reasonKeys(v.reasons.filter((r) => r.source !== 'risk'))) sameReasons += 1;
          if (got[k].decision !== 'ALLOW') refusedOpa += 1;
          if (a !== 'ALLOW') refusedArbiter += 1;
          if (v.outcome !== a) riskChanged += 1;
        });
        parts.push(
          `${w.name}: same outcome ${same}/${n}, same matching rules and policies ${sameReasons}/${n} (not allowed: OPA ${refusedOpa}, Arbiter ${refusedArbiter}; with its risk score, Arbiter's full verdict differs from that outcome on ${riskChanged})`,
        );
      } catch (e) {
        parts.push(`${w.name}: not checked (${errText(e)})`);
      }
    }
    return `OPA vs Arbiter on the first ${n} bench proposals, rules and policies only (the outcome DENY > ESCALATE > REQUIRE_APPROVAL > ALLOW and the set of matching rule/policy ids with effects; Arbiter's risk score has no Rego counterpart and is left out): ${parts.join('; ')}.`;
  });
}

export interface OpaHttpResult {
  /** Rows in the HTTP table's format (`| target | requests/s | p50 | p99 | errors |`). */
  rows: string[];
  /** OPA's requests/s, or null when it did not run. */
  requestsPerSec: number | null;
}

async function waitHealthy(child: ChildProcess, url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`opa run exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/**
 * `opa run --server` with the 100-rule set, `POST /v1/data/arbiter/decision` driven by
 * autocannon at the HTTP bench's concurrency and duration (defaults: 32 connections, 10 s,
 * 3 s with BENCH_QUICK=1), after a 2 s warm-up. The input is the proposal Arbiter's HTTP
 * bench sends (database.query by bench-agent in development), which no rule of the set
 * matches: the answer is ALLOW. The server is stopped afterwards in all cases.
 */
export async function opaHttpRows(opts: { connections?: number; seconds?: number; port?: number } = {}): Promise<OpaHttpResult> {
  const connections = opts.connections ?? 32;
  const seconds = opts.seconds ?? (QUICK ? 3 : 10);
  const f = findOpa();
  if ('error' in f) return { rows: [`| OPA: not available (${f.error}) | – | – | – | – | – |`], requestsPerSec: null };
  const { opa } = f;
  const port = opts.port ?? 19_000 + Math.floor(Math.random() * 1000);
  return withDir(async (dir) => {
    let server: ChildProcess | null = null;
    try {
      writeFileSync(join(dir, 'rules100.rego'), regoModule(makeRules(100)));
      server = spawn(opa.bin, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '--skip-version-check', join(dir, 'rules100.rego')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      server.stderr?.on('data', (b: Buffer) => {
        stderr = (stderr + b.toString()).slice(-2000);
      });
      await waitHealthy(server, `http://127.0.0.1:${port}/health`).catch((e: unknown) => {
        throw new Error(`${errText(e)}${stderr ? `: ${errText(stderr)}` : ''}`);
      });
      const proposal: Proposal = {
        actor: { id: 'bench-agent', type: 'ai-agent' },
        action: { capability: 'database.query', parameters: { query: 'SELECT 1' } },
        environment: 'development',
        context: { sessionId: 's1', metadata: { environment: 'development' } },
        dataClasses: [],
      };
      const body = JSON.stringify({ input: regoInput(proposal) });
      const url = `http://127.0.0.1:${port}/v1/data/arbiter/decision`;
      const check = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json()) as { result?: unknown };
      if (check.result !== 'ALLOW') throw new Error(`unexpected answer ${JSON.stringify(check)}`);
      await load(url, { body, headers: {}, connections, seconds: WARMUP_SECONDS }); // warm-up
      const cpu0 = cpuSeconds(server.pid);
      const r = await load(url, { body, headers: {}, connections, seconds });
      const cpu1 = cpuSeconds(server.pid);
      const cpu = cpu0 === null || cpu1 === null || r.total === 0 ? 'n/a' : `${fmt(((cpu1 - cpu0) / r.total) * 1e6, 0)} µs`;
      return {
        rows: [
          `| ${opa.label} POST /v1/data/arbiter/decision (opa run --server, the 100-rule set, decision only: nothing stored) | ${fmt(r.requestsPerSec, 0)} | ${fmt(r.p50ms, 1)} ms | ${fmt(r.p99ms, 1)} ms | ${cpu} | ${r.non2xx} non-2xx, ${r.errors} errors |`,
        ],
        requestsPerSec: r.requestsPerSec,
      };
    } catch (e) {
      return { rows: [`| ${opa.label} server: failed (${errText(e)}) | – | – | – | – | – |`], requestsPerSec: null };
    } finally {
      if (server) await stop(server);
    }
  });
}

async function main(): Promise<void> {
  console.log('## Evaluator (in process, per evaluation)\n');
  console.log('| workload | p50 | p99 | evaluations/s | samples |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of await opaEvaluatorRows()) console.log(row);
  console.log('');
  console.log(await opaAgreementLine());
  const http = await opaHttpRows();
  console.log('\n## HTTP (autocannon, loopback)\n');
  console.log('| target | requests/s | p50 | p99 | server CPU per request | errors |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of http.rows) console.log(row);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}

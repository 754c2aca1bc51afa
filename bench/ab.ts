// `node --import tsx bench/ab.ts`: an A/B of the durable propose path. The same API code is run
// in two or more arms that differ only in their node options, in alternated rounds (so drift on
// a shared box hits every arm), each on a fresh database, with the HTTP bench's load (autocannon,
// 32 connections, the same body). Prints each round and the medians of requests/s and API CPU
// per request, and PostgreSQL's CPU per request. Single HTTP runs move by ±20% on a 2-core box; alternated medians do not.
//
// AB_ARMS: a JSON object of arm name → node options, e.g. the promise-hooks A/B of issue 12:
//   AB_ARMS='{"hooks-on":["--import","data:text/javascript,import{AsyncLocalStorage as A}from\"node:async_hooks\";new A().enterWith(1)"],"now":[]}'
// AB_ROUNDS (3), AB_SECONDS (6 per measurement, after a 5 s warm-up).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabase } from '../entities/data-source';
import { cpuSeconds, load, postgresCpuSeconds, spawnServer, stop, WARMUP_SECONDS } from './http';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- a plain .mjs script shared with npm start
import { ensureTemporalCli } from '../scripts/temporal.mjs';

const arms = JSON.parse(process.env.AB_ARMS ?? '{"A":[],"B":[]}') as Record<string, string[]>;
const ROUNDS = Number(process.env.AB_ROUNDS ?? 3);
const SECONDS = Number(process.env.AB_SECONDS ?? 6);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main(): Promise<void> {
  const key = `arb_bench_${randomBytes(16).toString('hex')}`;
  const port = 19_000 + Math.floor(Math.random() * 500);
  const temporalPort = port + 600;
  const cli = (ensureTemporalCli as (o: { quiet: boolean }) => string)({ quiet: true });
  const temporal = spawn(cli, ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(temporalPort), '--log-level', 'error'], { stdio: 'ignore' });
  const body = JSON.stringify({ actor: { id: 'bench-agent', type: 'ai-agent' }, action: { capability: 'database.query', parameters: { query: 'SELECT 1' } }, context: { session_id: 's1', metadata: { environment: 'development' } } });
  const results: Record<string, { rps: number[]; cpu: number[]; pg: number[] }> = {};
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, args] of Object.entries(arms)) {
        const db = `postgres://postgres@127.0.0.1:5432/arbiter_ab_${randomBytes(3).toString('hex')}`;
        await ensureDatabase(db);
        const api = await spawnServer([...args, '--import', 'tsx', 'api/main.ts'], { PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: db, TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, ARBITER_ADMIN_KEY: key, LOG_LEVEL: 'warn', PROPOSE_RATE_LIMIT_PER_MINUTE: '0', ARBITER_ROLE: 'api' }, `http://127.0.0.1:${port}/healthz`);
        const url = `http://127.0.0.1:${port}/api/v1/governance/propose`;
        try {
          await load(url, { body, headers: { 'x-api-key': key }, connections: 32, seconds: WARMUP_SECONDS });
          const c0 = cpuSeconds(api.pid) ?? 0;
          const p0 = postgresCpuSeconds() ?? 0;
          const r = await load(url, { body, headers: { 'x-api-key': key }, connections: 32, seconds: SECONDS });
          const cpuUs = (((cpuSeconds(api.pid) ?? 0) - c0) / Math.max(1, r.total)) * 1e6;
          const pgUs = (((postgresCpuSeconds() ?? 0) - p0) / Math.max(1, r.total)) * 1e6;
          (results[name] ??= { rps: [], cpu: [], pg: [] }).rps.push(r.requestsPerSec);
          results[name].cpu.push(cpuUs);
          results[name].pg.push(pgUs);
          console.error(`round ${round} ${name}: ${r.requestsPerSec.toFixed(0)} req/s, ${cpuUs.toFixed(0)} µs API CPU + ${pgUs.toFixed(0)} µs PostgreSQL CPU per request`);
        } finally {
          await stop(api);
          await dropDatabase(db).catch(() => undefined);
        }
      }
    }
  } finally {
    temporal.kill('SIGTERM');
  }
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name}: median ${median(r.rps).toFixed(0)} req/s, ${median(r.cpu).toFixed(0)} µs API CPU + ${median(r.pg).toFixed(0)} µs PostgreSQL CPU per request (rounds: ${r.rps.map((x) => x.toFixed(0)).join(', ')})`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

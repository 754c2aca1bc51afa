// Runs the test suite with Node's test runner on a real PostgreSQL and real Temporal dev servers.
// Makes sure what the tests need is here first: the Temporal CLI (built once with Go if
// missing) and a reachable PostgreSQL.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Client } from 'pg';
import { ensureTemporalCli } from './temporal.mjs';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

async function checkPostgres() {
  const url = `${process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432'}/postgres`;
  const c = new Client({ connectionString: url });
  try {
    await c.connect();
    await c.end();
  } catch (e) {
    console.error(`[test] PostgreSQL is not reachable at ${url}: ${e.message}`);
    console.error('[test] start it (or set TEST_DATABASE_BASE_URL) and run again');
    process.exit(1);
  }
}

const temporal = ensureTemporalCli();
console.log(`[test] Temporal CLI: ${temporal}`);
await checkPostgres();

const filter = process.argv.slice(2);
const files = findTests(join(root, 'test')).filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('[test] no test files matched');
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, TEMPORAL_CLI: temporal } });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

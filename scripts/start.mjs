// `npm start`: runs Arbiter locally. Starts a Temporal dev server (SQLite file under
// .data/, so pending approvals survive a restart) unless TEMPORAL_ADDRESS points at
// one, then the API (which creates the database, migrates and bootstraps), then the worker.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTemporalCli } from './temporal.mjs';
import { API_NODE_ARGS } from './node-args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const children = [];
const say = (m) => console.log(`[arbiter] ${m}`);

function run(name, cmd, args, env = {}) {
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${name} exited (${signal ?? code}); stopping`);
    stop(code ?? 1);
  });
  return child;
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const c of children.reverse()) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

function canConnect(host, port) {
  return new Promise((ok) => {
    const s = net.connect({ host, port }, () => { s.end(); ok(true); });
    s.on('error', () => ok(false));
    s.setTimeout(1000, () => { s.destroy(); ok(false); });
  });
}

async function waitFor(what, check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

async function main() {
  const env = {};
  if (!process.env.TEMPORAL_ADDRESS) {
    const port = Number(process.env.TEMPORAL_DEV_PORT || 7233);
    if (await canConnect('127.0.0.1', port)) {
      say(`using the Temporal server already listening on 127.0.0.1:${port}`);
    } else {
      const cli = ensureTemporalCli();
      mkdirSync(join(root, '.data'), { recursive: true });
      const uiPort = Number(process.env.TEMPORAL_UI_PORT || 8233);
      say(`starting Temporal dev server on 127.0.0.1:${port} (UI http://localhost:${uiPort}, history in .data/temporal.db)`);
      run('temporal', cli, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--db-filename', join(root, '.data', 'temporal.db'), '--log-level', 'warn']);
      await waitFor('Temporal', () => canConnect('127.0.0.1', port), 60_000);
    }
    env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
  }
  const tsx = ['--import', 'tsx'];
  run('api', process.execPath, [...API_NODE_ARGS, ...tsx, 'api/main.ts'], { ...env, ARBITER_ROLE: 'api' });
  const port = Number(process.env.PORT || 8080);
  await waitFor('the API', async () => {
    try { return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok; } catch { return false; }
  }, 120_000);
  run('worker', process.execPath, [...tsx, 'worker/main.ts'], { ...env, ARBITER_ROLE: 'worker' });
}

main().catch((e) => { console.error(`[arbiter] ${e.message}`); stop(1); });

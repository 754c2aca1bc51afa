// Finds the Temporal CLI, or builds it with Go when it is nowhere to be found.
// Order: $TEMPORAL_CLI, `temporal` on PATH, the cache outside the repo
// ($ARBITER_CACHE_DIR or ~/.cache/arbiter/bin), else `go install` into that cache.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export function cacheDir() {
  return process.env.ARBITER_CACHE_DIR || join(homedir(), '.cache', 'arbiter', 'bin');
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/** Returns the path of a usable `temporal` binary, building it if needed. */
export function ensureTemporalCli({ quiet = false } = {}) {
  const say = (m) => { if (!quiet) console.error(`[temporal] ${m}`); };
  if (process.env.TEMPORAL_CLI) {
    if (!existsSync(process.env.TEMPORAL_CLI)) throw new Error(`TEMPORAL_CLI=${process.env.TEMPORAL_CLI} does not exist`);
    return process.env.TEMPORAL_CLI;
  }
  const found = onPath('temporal');
  if (found) return found;
  const dir = cacheDir();
  const cached = join(dir, 'temporal');
  if (existsSync(cached)) return cached;
  const go = onPath('go') || (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  if (!go) {
    throw new Error('No `temporal` CLI found and no Go toolchain to build it. Install the Temporal CLI (https://docs.temporal.io/cli) and put it on PATH, or set TEMPORAL_CLI, or set TEMPORAL_ADDRESS to a running server.');
  }
  mkdirSync(dir, { recursive: true });
  say(`no temporal CLI found; building github.com/temporalio/cli ${TEMPORAL_CLI_VERSION} with Go into ${dir}`);
  say('this happens once and takes about 4-5 minutes on 2 cores (a ~250 MB binary); later runs reuse it');
  const started = Date.now();
  const r = spawnSync(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: dir, GOFLAGS: process.env.GOFLAGS || '-mod=mod' },
  });
  if (r.status !== 0 || !existsSync(cached)) throw new Error(`building the Temporal CLI failed (exit ${r.status})`);
  say(`built in ${Math.round((Date.now() - started) / 1000)} s: ${cached}`);
  return cached;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const p = ensureTemporalCli();
  console.log(p);
  try { console.error(execFileSync(p, ['--version']).toString().trim()); } catch { /* version is informational */ }
}

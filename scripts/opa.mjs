// Finds the OPA binary (Open Policy Agent, for the comparison in `npm run bench`), or builds
// it with Go when it is nowhere to be found. Same pattern as scripts/temporal.mjs. Order:
// $OPA_BIN, `opa` on PATH, the cache outside the repo ($ARBITER_CACHE_DIR or
// ~/.cache/arbiter/bin), else `go install` of a pinned version into that cache.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const OPA_VERSION = 'v1.22.3';

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

/**
 * Returns the path of a usable `opa` binary, building it if needed.
 * @throws Error saying why, when there is none and it cannot be built.
 */
export function ensureOpa({ quiet = false } = {}) {
  const say = (m) => { if (!quiet) console.error(`[opa] ${m}`); };
  if (process.env.OPA_BIN) {
    if (!existsSync(process.env.OPA_BIN)) throw new Error(`OPA_BIN=${process.env.OPA_BIN} does not exist`);
    return process.env.OPA_BIN;
  }
  const found = onPath('opa');
  if (found) return found;
  const dir = cacheDir();
  const cached = join(dir, 'opa');
  if (existsSync(cached)) return cached;
  const go = onPath('go') || (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  if (!go) {
    throw new Error('No `opa` binary found and no Go toolchain to build it. Install OPA (https://www.openpolicyagent.org/docs#running-opa) and put it on PATH, or set OPA_BIN.');
  }
  mkdirSync(dir, { recursive: true });
  say(`no opa binary found; building github.com/open-policy-agent/opa ${OPA_VERSION} with Go into ${dir}`);
  say('this happens once and takes a few minutes (a ~100 MB binary); later runs reuse it');
  const started = Date.now();
  const r = spawnSync(go, ['install', `github.com/open-policy-agent/opa@${OPA_VERSION}`], {
    stdio: ['ignore', quiet ? 'ignore' : 'inherit', quiet ? 'pipe' : 'inherit'],
    env: { ...process.env, GOBIN: dir, GOFLAGS: process.env.GOFLAGS || '-mod=mod' },
  });
  if (r.status !== 0 || !existsSync(cached)) {
    const tail = r.stderr ? r.stderr.toString().trim().split('\n').slice(-3).join(' / ') : '';
    throw new Error(`building OPA ${OPA_VERSION} failed (${r.error ? r.error.message : `exit ${r.status}`})${tail ? `: ${tail}` : ''}`);
  }
  say(`built in ${Math.round((Date.now() - started) / 1000)} s: ${cached}`);
  return cached;
}

/** `opa version`'s first line (e.g. "Version: 1.22.3"), or null. */
export function opaVersion(bin) {
  try {
    const line = execFileSync(bin, ['version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().split('\n').find((l) => l.startsWith('Version:'));
    return line ? line.slice('Version:'.length).trim() : null;
  } catch {
    return null;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const p = ensureOpa();
  console.log(p);
  const v = opaVersion(p);
  if (v) console.error(`OPA ${v}`);
}

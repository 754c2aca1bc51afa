// Finds a command-line tool the project runs beside itself (the Temporal CLI, OPA), or builds
// it with Go once into a cache outside the repo. Order: the tool's own environment variable,
// the name on PATH, the cache ($ARBITER_CACHE_DIR or ~/.cache/arbiter/bin), else `go install`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export function cacheDir() {
  return process.env.ARBITER_CACHE_DIR || join(homedir(), '.cache', 'arbiter', 'bin');
}

export function onPath(name) {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

export function goBinary() {
  return onPath('go') || (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
}

/**
 * The path of `name`, building `pkg@version` with Go when it is nowhere to be found.
 * `envVar` names an explicit path; `noGo` is the message when there is no Go to build with;
 * `size` says how long the one-time build takes, for the person waiting.
 */
export function findOrBuild({ name, envVar, pkg, version, noGo, size, quiet = false, tag = name }) {
  const say = (m) => { if (!quiet) console.error(`[${tag}] ${m}`); };
  if (process.env[envVar]) {
    if (!existsSync(process.env[envVar])) throw new Error(`${envVar}=${process.env[envVar]} does not exist`);
    return process.env[envVar];
  }
  const found = onPath(name);
  if (found) return found;
  const dir = cacheDir();
  const cached = join(dir, name);
  if (existsSync(cached)) return cached;
  const go = goBinary();
  if (!go) throw new Error(noGo);
  mkdirSync(dir, { recursive: true });
  say(`no ${name} found; building ${pkg.replace(/\/cmd\/.*$/, '')} ${version} with Go into ${dir}`);
  say(`this happens once and ${size}; later runs reuse it`);
  const started = Date.now();
  const r = spawnSync(go, ['install', `${pkg}@${version}`], {
    stdio: ['ignore', quiet ? 'ignore' : 'inherit', quiet ? 'pipe' : 'inherit'],
    env: { ...process.env, GOBIN: dir, GOFLAGS: process.env.GOFLAGS || '-mod=mod' },
  });
  if (r.status !== 0 || !existsSync(cached)) {
    const tail = r.stderr ? r.stderr.toString().trim().split('\n').slice(-3).join(' / ') : '';
    throw new Error(`building ${name} ${version} failed (${r.error ? r.error.message : `exit ${r.status}`})${tail ? `: ${tail}` : ''}`);
  }
  say(`built in ${Math.round((Date.now() - started) / 1000)} s: ${cached}`);
  return cached;
}

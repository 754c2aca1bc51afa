// Finds the OPA binary (Open Policy Agent, for the comparison in `npm run bench`), or builds
// it with Go when it is nowhere to be found. Same pattern as scripts/temporal.mjs. Order:
// $OPA_BIN, `opa` on PATH, the cache outside the repo ($ARBITER_CACHE_DIR or
// ~/.cache/arbiter/bin), else `go install` of a pinned version into that cache.
import { execFileSync } from 'node:child_process';
import { findOrBuild } from './go-tool.mjs';

export { cacheDir } from './go-tool.mjs';

export const OPA_VERSION = 'v1.22.3';

/**
 * Returns the path of a usable `opa` binary, building it if needed.
 * @throws Error saying why, when there is none and it cannot be built.
 */
export function ensureOpa({ quiet = false } = {}) {
  return findOrBuild({
    name: 'opa',
    envVar: 'OPA_BIN',
    pkg: 'github.com/open-policy-agent/opa',
    version: OPA_VERSION,
    noGo: 'No `opa` binary found and no Go toolchain to build it. Install OPA (https://www.openpolicyagent.org/docs#running-opa) and put it on PATH, or set OPA_BIN.',
    size: 'takes a few minutes (a ~100 MB binary)',
    quiet,
  });
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

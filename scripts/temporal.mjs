// Finds the Temporal CLI, or builds it with Go when it is nowhere to be found.
// Order: $TEMPORAL_CLI, `temporal` on PATH, the cache outside the repo
// ($ARBITER_CACHE_DIR or ~/.cache/arbiter/bin), else `go install` into that cache.
import { execFileSync } from 'node:child_process';
import { findOrBuild } from './go-tool.mjs';

export { cacheDir } from './go-tool.mjs';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';

/** Returns the path of a usable `temporal` binary, building it if needed. */
export function ensureTemporalCli({ quiet = false } = {}) {
  return findOrBuild({
    name: 'temporal',
    envVar: 'TEMPORAL_CLI',
    pkg: 'github.com/temporalio/cli/cmd/temporal',
    version: TEMPORAL_CLI_VERSION,
    noGo: 'No `temporal` CLI found and no Go toolchain to build it. Install the Temporal CLI (https://docs.temporal.io/cli) and put it on PATH, or set TEMPORAL_CLI, or set TEMPORAL_ADDRESS to a running server.',
    size: 'takes about 4-5 minutes on 2 cores (a ~250 MB binary)',
    quiet,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const p = ensureTemporalCli();
  console.log(p);
  try { console.error(execFileSync(p, ['--version']).toString().trim()); } catch { /* version is informational */ }
}

import { readdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSec: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  errors: number;
  total: number;
}

/**
 * Seconds of load before every measured run, the same for every target: the API's JIT and
 * PostgreSQL's fresh tables need more than two (its first rounds after a 2 s warm-up ran
 * 15–30% below the later ones, where the bare servers did not move).
 */
export const WARMUP_SECONDS = 5;

/** Drives one endpoint with autocannon at a fixed concurrency for a fixed time (bounded, loopback only). */
export async function load(url: string, opts: { body: string; headers: Record<string, string>; connections: number; seconds: number }): Promise<LoadResult> {
  const r = await autocannon({ url, method: 'POST', body: opts.body, headers: { 'content-type': 'application/json', ...opts.headers }, connections: opts.connections, duration: opts.seconds, pipelining: 1 });
  return { requestsPerSec: r.requests.average, p50ms: r.latency.p50, p99ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors, total: r.requests.total };
}

/** Spawns a child process and resolves once `ready(url)` answers. */
export async function spawnServer(args: string[], env: Record<string, string>, readyUrl: string, timeoutMs = 120_000): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout?.resume();
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    try {
      if ((await fetch(readyUrl)).ok) return child;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error(`${readyUrl} did not answer within ${timeoutMs} ms`);
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((ok) => {
    child.once('exit', () => ok());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** CPU seconds used so far by every PostgreSQL server process on this machine (Linux); null elsewhere. */
export function postgresCpuSeconds(): number | null {
  try {
    let total = 0;
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        total += (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
      } catch {
        /* the process ended while we looked */
      }
    }
    return total;
  } catch {
    return null;
  }
}

/** Linux's USER_HZ: 100 on every mainstream kernel. */
const CLOCK_TICKS = 100;

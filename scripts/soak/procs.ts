/** The processes the soak runs and kills: the Temporal dev server (SQLite file), the API, the worker. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { sleep } from './http';

const ROOT = join(__dirname, '..', '..');

/** A free TCP port on loopback (asked of the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => ok(port));
    });
  });
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.end();
      ok(true);
    });
    s.on('error', () => ok(false));
    s.setTimeout(1000, () => {
      s.destroy();
      ok(false);
    });
  });
}

/** Thrown by a readiness check to stop waiting at once (the process died). */
export class GaveUp extends Error {}

/** Polls `check` (a throw counts as "not yet", but for {@link GaveUp}) until it holds; returns the ms it took. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  const safe = () =>
    check().catch((e: unknown) => {
      if (e instanceof GaveUp) throw e;
      return false;
    });
  while (!(await safe())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} not ready within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(200);
  }
  return Date.now() - t0;
}

/**
 * One long-lived role (temporal, api, worker) whose process is replaced on each restart.
 * Output goes to `<dir>/<name>-<n>.log`.
 */
export class Role {
  child: ChildProcess | null = null;
  starts = 0;
  private log: WriteStream | null = null;
  /** Exits nobody asked for (a crash), with their code or signal. */
  readonly unexpectedExits: string[] = [];
  private expecting = false;
  private out = '';

  constructor(
    readonly name: string,
    private readonly dir: string,
    private readonly command: () => { cmd: string; args: string[]; env: Record<string, string> },
  ) {}

  /** Starts a new process (the old one must be gone). */
  spawn(): ChildProcess {
    const { cmd, args, env } = this.command();
    this.starts += 1;
    this.log = createWriteStream(join(this.dir, `${this.name}-${this.starts}.log`));
    this.out = '';
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = this.log;
    const keep = (b: Buffer) => {
      log.write(b);
      if (this.out.length < 200_000) this.out += b.toString();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.expecting = false;
    child.once('exit', (code, signal) => {
      log.end(`\n[soak] ${this.name} exited (${signal ?? code})\n`);
      if (!this.expecting) this.unexpectedExits.push(`${this.name}#${this.starts} ${signal ?? code}`);
      if (this.child === child) this.child = null;
    });
    this.child = child;
    return child;
  }

  /** What the current process printed so far. */
  output(): string {
    return this.out;
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Sends `signal` and waits for the exit. A SIGTERM that has not ended it after
   * `graceMs` is followed by a SIGKILL; returns whether that was needed.
   */
  async stop(signal: NodeJS.Signals, graceMs = 15_000): Promise<{ forced: boolean; ms: number }> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return { forced: false, ms: 0 };
    this.expecting = true;
    const t0 = Date.now();
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    child.kill(signal);
    let forced = false;
    if (signal !== 'SIGKILL') {
      const timer = new Promise<'late'>((ok) => setTimeout(() => ok('late'), graceMs).unref());
      if ((await Promise.race([exited.then(() => 'ok' as const), timer])) === 'late') {
        forced = true;
        child.kill('SIGKILL');
      }
    }
    await exited;
    return { forced, ms: Date.now() - t0 };
  }
}

export function temporalRole(dir: string, cli: string, port: number, uiPort: number, dbFile: string): Role {
  return new Role('temporal', dir, () => ({
    cmd: cli,
    args: ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--headless', '--db-filename', dbFile, '--log-level', 'warn'],
    env: {},
  }));
}

export function nodeRole(dir: string, name: 'api' | 'worker', entry: string, env: Record<string, string>): Role {
  return new Role(name, dir, () => ({ cmd: process.execPath, args: ['--import', 'tsx', entry], env }));
}

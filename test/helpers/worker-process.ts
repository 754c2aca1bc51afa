import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Stack } from './stack';

/** Runs `worker/main.ts` as its own process against a stack's database and task queue; resolves once it polls. */
export async function spawnWorker(stack: Stack, temporal: TestWorkflowEnvironment, smtpUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    env: { ...process.env, ARBITER_ROLE: 'worker', DATABASE_URL: stack.config.DATABASE_URL, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: stack.taskQueue, PUBLIC_URL: stack.url, SMTP_URL: smtpUrl, LOG_LEVEL: 'info', APPROVAL_TIER1_TIMEOUT_SECONDS: '600' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`worker did not start: ${out}`)), 60_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('worker running')) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once('exit', (code) => fail(new Error(`worker exited ${code}: ${out}`)));
  });
  child.stdout?.resume();
  return child;
}

import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config';
import { createCore } from '../services/core';
import { buildWorker } from './build';

/** Worker process: runs workflows and activities. Stateless; run as many as needed. */
async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger(config.LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN') });
  const core = await createCore(config, { appName: 'arbiter-worker', migrate: config.ARBITER_ROLE !== 'worker' });
  const worker = await buildWorker(core);
  core.log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS }, 'worker running');
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  await core.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createApp } from '../../api/app';
import { clientErrorHandler } from '../../api/http';
import { ApiDocs } from '../../api/openapi';
import { loadConfig } from '../../config';
import type { Config } from '../../config';
import { createCore } from '../../services/core';
import type { Core } from '../../services/core';
import { buildAppServices } from '../../services/app-services';
import type { AppServices } from '../../services/app-services';
import { WorkflowGateway } from '../../services/workflow-gateway';
import { buildWorker } from '../../worker/build';
import { dropDatabase, testDatabaseUrl } from './db';
import { startTemporal, workflowBundle } from './temporal';

export const ADMIN_KEY = 'arb_testadmin_0123456789abcdefghijklmnop';

export interface Stack {
  url: string;
  config: Config;
  core: Core;
  temporal: TestWorkflowEnvironment;
  workflows: WorkflowGateway;
  services: AppServices;
  taskQueue: string;
  worker: Worker | null;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** JSON request with a key (default: the admin key). */
  call(method: string, path: string, opts?: { body?: unknown; key?: string | null; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

let queueSeq = 0;

/**
 * The whole of Arbiter in the test process: a fresh database on the real
 * PostgreSQL, a real Temporal dev server (shared if given), a worker on its own
 * task queue, and the API on a random port.
 */
export async function startStack(opts: { temporal?: TestWorkflowEnvironment; env?: Record<string, string>; withWorker?: boolean } = {}): Promise<Stack> {
  const dbUrl = testDatabaseUrl();
  const ownTemporal = !opts.temporal;
  const temporal = opts.temporal ?? (await startTemporal());
  const taskQueue = `test-${process.pid}-${++queueSeq}`;
  let config = loadConfig({ DATABASE_URL: dbUrl, ARBITER_ADMIN_KEY: ADMIN_KEY, TEMPORAL_TASK_QUEUE: taskQueue, LOG_LEVEL: 'silent', PORT: '0', DATABASE_POOL_SIZE: '10', ...opts.env });
  const core = await createCore(config, { log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  await core.store.listen();
  const workflows = new WorkflowGateway(temporal.client, taskQueue);

  // PUBLIC_URL must carry the real port for approval links: listen first, then finish the config.
  const docs = new ApiDocs();
  const holder: { app?: ReturnType<typeof createApp> } = {};
  const server = await new Promise<Server>((ok) => {
    const s = createServer((req: IncomingMessage, res: ServerResponse) => holder.app?.(req, res));
    s.on('clientError', clientErrorHandler);
    s.listen(0, '127.0.0.1', () => ok(s));
  });
  const port = (server.address() as AddressInfo).port;
  config = { ...config, PUBLIC_URL: `http://127.0.0.1:${port}` };
  core.config = config;
  // Built once the port is known: services hand out links on PUBLIC_URL.
  const services = buildAppServices(core, workflows);
  holder.app = createApp({ ...core, ...services, config, workflows, docs, temporalReady: async () => true });
  const url = `http://127.0.0.1:${port}`;

  const stack: Stack = {
    url,
    config,
    core,
    temporal,
    workflows,
    services,
    taskQueue,
    worker: null,
    async startWorker() {
      const w = await buildWorker({ ...core, config }, { connection: temporal.nativeConnection, taskQueue, workflowBundle: await workflowBundle() });
      stack.worker = w;
      void w.run();
    },
    async stopWorker() {
      const w = stack.worker;
      stack.worker = null;
      if (w && w.getState() === 'RUNNING') {
        w.shutdown();
        while (w.getState() !== 'STOPPED' && w.getState() !== 'FAILED') await new Promise((r) => setTimeout(r, 20));
      }
    },
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.key !== null) headers['X-API-Key'] = o.key ?? ADMIN_KEY;
      if (o.body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(url + path, { method, headers, body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body, headers: res.headers };
    },
    async close() {
      await stack.stopWorker();
      await new Promise<void>((ok) => server.close(() => ok()));
      await services.stop();
      await core.close();
      if (ownTemporal) await temporal.teardown();
      await dropDatabase(dbUrl);
    },
  };
  if (opts.withWorker !== false) await stack.startWorker();
  return stack;
}

import { createServer } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { createCore } from '../services/core';
import { buildAppServices } from '../services/app-services';
import { synchronousCallContext } from '../services/temporal-call-context';
import { WorkflowGateway } from '../services/workflow-gateway';
import { createApp } from './app';
import { clientErrorHandler } from './http';
import { ApiDocs } from './openapi';

/** API process: migrates, bootstraps, serves. Stateless; run as many as needed. */
async function main(): Promise<void> {
  const config = loadConfig();
  const core = await createCore(config, { appName: 'arbiter-api' });
  await core.store.listen();
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  // Keeps promise hooks off for good: the client enters its AsyncLocalStorage on every call (see there).
  synchronousCallContext(connection);
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const workflows = new WorkflowGateway(client, config.TEMPORAL_TASK_QUEUE);
  const services = buildAppServices(core, workflows);
  const app = createApp({ ...core, ...services, workflows, docs: new ApiDocs(), temporalReady: () => connection.healthService.check({}).then(() => true, () => false) });
  const server = createServer(app).listen(config.PORT, config.HOST, () => {
    const url = config.PUBLIC_URL;
    core.log.info({ url }, 'api listening');
    console.log(`\nArbiter is running:\n  API        ${url}\n  API docs   ${url}/docs\n  OpenAPI    ${url}/openapi.json\n  Health     ${url}/healthz  ${url}/readyz\n  Dev outbox ${url}/api/v1/outbox (admin key)\n`);
    if (core.createdAdminKey) {
      console.log(`First run: an admin API key was created. It is shown once; keep it:\n\n  ${core.createdAdminKey}\n\n  curl -H "X-API-Key: ${core.createdAdminKey}" ${url}/api/v1/users\n`);
    }
  });
  server.on('clientError', clientErrorHandler);
  // SIGTERM: stop taking requests, let those in flight finish (a vote mid-way is not cut), then close.
  let stopping = false;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    void services.stop().then(() => connection.close()).then(() => core.close()).then(() => process.exit(0));
  };
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(finish);
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      finish();
    }, 10_000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { synchronousCallContext } from '../../services/temporal-call-context';
import { startTemporal } from '../helpers/temporal';

describe('the Temporal connection carries its call context without promise hooks', () => {
  let temporal: TestWorkflowEnvironment;
  let connection: Connection;
  before(async () => {
    temporal = await startTemporal();
    connection = await Connection.connect({ address: temporal.address });
    synchronousCallContext(connection);
  });
  after(async () => {
    await connection?.close();
    await temporal?.teardown();
  });

  // Node's own flag on the storage: true once it has been entered, and promise hooks with it.
  const entered = () => (connection.callContextStorage as unknown as { enabled?: boolean }).enabled === true;

  it('starts, describes and ends a workflow, and the storage is never entered', async () => {
    const client = new Client({ connection, namespace: 'default' });
    const id = `ctx-${Date.now()}`;
    // A type nobody runs, on a queue nobody polls: the start alone is what is under test.
    const handle = await client.workflow.start('nobodyRunsThis', { taskQueue: `ctx-${process.pid}`, workflowId: id });
    const d = await handle.describe();
    assert.equal(d.workflowId, id);
    assert.equal(d.status.name, 'RUNNING');
    await handle.terminate('test over');
    assert.equal((await handle.describe()).status.name, 'TERMINATED');
    assert.equal(entered(), false, 'namespaced calls did not enter the AsyncLocalStorage');
  });

  it('keeps what withMetadata and withDeadline set for the call they wrap, nested, and drops it after', async () => {
    const seen = await connection.withMetadata({ a: '1' }, () =>
      connection.withMetadata({ b: '2' }, () => connection.withDeadline(Date.now() + 5000, () => Promise.resolve(connection.callContextStorage.getStore()))),
    );
    assert.deepEqual(seen?.metadata, { a: '1', b: '2' });
    assert.ok(typeof seen?.deadline === 'number');
    assert.equal(connection.callContextStorage.getStore(), undefined);
    // A call's deadline reaches the server: an impossible one fails the call.
    await assert.rejects(connection.withDeadline(Date.now() - 1, () => connection.workflowService.getSystemInfo({})));
    assert.equal(entered(), false);
  });
});

import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { createApprovalActivities } from '../activities/approval-activities';
import { createGateActivities } from '../activities/gate-activities';
import { createProposalActivities } from '../activities/proposal-activities';
import type { Core } from '../services/core';

/** Builds a worker for the approval workflows with their activities wired to `core`. */
export async function buildWorker(core: Core, opts: { connection?: NativeConnection; taskQueue?: string; workflowBundle?: WorkerOptions['workflowBundle'] } = {}): Promise<Worker> {
  const connection = opts.connection ?? (await NativeConnection.connect({ address: core.config.TEMPORAL_ADDRESS }));
  return Worker.create({
    connection,
    namespace: core.config.TEMPORAL_NAMESPACE,
    taskQueue: opts.taskQueue ?? core.config.TEMPORAL_TASK_QUEUE,
    // Explicit, not the SDK's default derived from the machine's memory: the worker's footprint is this cache.
    maxCachedWorkflows: core.config.WORKER_MAX_CACHED_WORKFLOWS,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: {
      ...createApprovalActivities({ ds: core.ds, audit: core.audit, links: core.links, publicUrl: core.config.PUBLIC_URL, notifier: core.notifier, people: core.people, records: core.records }),
      ...createGateActivities({ ds: core.ds, audit: core.audit, records: core.records }),
      ...createProposalActivities({ ds: core.ds, audit: core.audit, webhooks: core.webhooks, notifier: core.notifier, records: core.records }),
    },
  });
}

import { proxyActivities } from '@temporalio/workflow';
import type { GateActivities } from '../activities/gate-activities';
import { runApprovalLoop } from './approval-loop';
import type { GateWorkflowInput, GateWorkflowResult } from './gate-contract';

const acts = proxyActivities<GateActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

/**
 * Reviews one gate submission on the shared approval loop (reviewers notified by email
 * and Slack, reminders, escalation, expiry, approve / deny / conditional, an admin's
 * waiver), then records the end and recomputes the solution's status.
 */
export async function gateWorkflow(input: GateWorkflowInput): Promise<GateWorkflowResult> {
  const run = await runApprovalLoop({ orgId: input.orgId, subjectId: input.submissionId, plan: input.plan, summary: input.summary });
  await acts.finalizeGateSubmission({ orgId: input.orgId, submissionId: input.submissionId, state: run.state });
  await run.settle();
  return { submissionId: input.submissionId, state: run.state };
}

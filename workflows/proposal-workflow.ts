import { proxyActivities } from '@temporalio/workflow';
import { finalOutcome } from '../engine/approval';
import type { ProposalActivities } from '../activities/proposal-activities';
import type { ApprovalActivities } from '../activities/approval-activities';
import { runApprovalLoop } from './approval-loop';
import type { ProposalWorkflowInput, ProposalWorkflowResult, WebhookInput } from './messages';

const acts = proxyActivities<ProposalActivities & ApprovalActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

// An agent's endpoint may be down for a while: 15 attempts, 1 s doubling to 10 min apart, about an hour in all; a 4xx gives up at once.
const callbacks = proxyActivities<ProposalActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 minutes', backoffCoefficient: 2, maximumAttempts: 15, nonRetryableErrorTypes: ['WEBHOOK_REJECTED'] },
});

/**
 * Holds one proposal until people decide, on the shared approval loop; then
 * persists the outcome with its audit record (fail closed: only an approval or
 * a waiver allows), tells the agent's callback, and brings every message up to date.
 */
export async function proposalWorkflow(input: ProposalWorkflowInput): Promise<ProposalWorkflowResult> {
  const run = await runApprovalLoop({ orgId: input.orgId, subjectId: input.decisionId, plan: input.plan, summary: input.summary });
  const { state } = run;
  const outcome = finalOutcome(state) === 'ALLOW' ? 'ALLOW' : 'DENY';
  await acts.finalizeDecision({ orgId: input.orgId, decisionId: input.decisionId, outcome, state });
  const tell = async (): Promise<void> => {
    if (!input.callbackUrl) return;
    const hook: WebhookInput = { orgId: input.orgId, decisionId: input.decisionId, url: input.callbackUrl, outcome, state };
    try {
      await callbacks.deliverWebhook(hook);
    } catch {
      // The decision stands whether or not the agent's endpoint answers; the agent can still read it.
      await acts.recordDeliveryFailure({ orgId: input.orgId, decisionId: input.decisionId, kind: 'webhook', data: {}, url: input.callbackUrl });
    }
  };
  await Promise.all([tell(), run.settle()]);
  return { decisionId: input.decisionId, outcome, state };
}

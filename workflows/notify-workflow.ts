import { proxyActivities } from '@temporalio/workflow';
import type { ApprovalActivities } from '../activities/approval-activities';
import type { ProposalActivities } from '../activities/proposal-activities';
import type { NotifyWorkflowInput, NotifyWorkflowResult } from './messages';

const acts = proxyActivities<ProposalActivities & ApprovalActivities>({
  startToCloseTimeout: '30 seconds',
  // A mail server that is down for a while delays the notice; it does not lose it.
  retry: { initialInterval: '1 second', maximumInterval: '5 minutes', backoffCoefficient: 2, maximumAttempts: 50 },
});

/** Tells people about a decision a rule asked to be notified of. The decision itself is already final or pending elsewhere. */
export async function notifyWorkflow(input: NotifyWorkflowInput): Promise<NotifyWorkflowResult> {
  try {
    return await acts.deliverNotifications(input);
  } catch {
    // Out of retries (the mail server stayed down for hours): say so in the audit trail rather than fail silently.
    await acts.recordDeliveryFailure({ orgId: input.orgId, decisionId: input.decisionId, kind: 'notification', data: { rules: input.notifications.map((n) => n.ruleId ?? n.name ?? null) } });
    return { sent: 0, recipients: [], undelivered: input.notifications.flatMap((n) => n.channels) };
  }
}

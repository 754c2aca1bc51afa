import { ApplicationFailure, condition, log, proxyActivities, setHandler } from '@temporalio/workflow';
import { applyDecision, applyTimeout, applyWaive, applyWithdraw, checkDecision, finalOutcome, initialState } from '../engine/approval';
import type { ApprovalState } from '../engine/approval';
import type { ProposalActivities } from '../activities/proposal-activities';
import { decideUpdate, stateQuery, waiveUpdate, withdrawSignal } from './messages';
import type { ProposalWorkflowInput, ProposalWorkflowResult, WebhookInput } from './messages';

const acts = proxyActivities<ProposalActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

// An agent's endpoint may be down for a while: 15 attempts, 1 s doubling to 10 min apart, about an hour in all; a 4xx gives up at once.
const callbacks = proxyActivities<ProposalActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 minutes', backoffCoefficient: 2, maximumAttempts: 15, nonRetryableErrorTypes: ['WEBHOOK_REJECTED'] },
});

const nowIso = (): string => new Date(Date.now()).toISOString();

/**
 * Holds one proposal until people decide: notifies each tier, waits with the
 * tier's timeout, escalates on silence, and after the last tier expires as DENY.
 * The rules of who may decide live in engine/approval; this stays thin.
 */
export async function proposalWorkflow(input: ProposalWorkflowInput): Promise<ProposalWorkflowResult> {
  const { plan } = input;
  let state: ApprovalState = initialState(plan, nowIso());

  setHandler(stateQuery, () => state);

  setHandler(
    decideUpdate,
    (d) => {
      state = applyDecision(plan, state, { approverId: d.approverId, decision: d.decision, atIso: nowIso(), comment: d.comment, isAdmin: d.isAdmin });
      return { status: state.status, tier: state.tier, counted: true };
    },
    {
      validator: (d) => {
        const err = checkDecision(plan, state, { approverId: d.approverId, decision: d.decision, isAdmin: d.isAdmin });
        if (err) throw ApplicationFailure.nonRetryable(err.message, err.code);
      },
    },
  );

  setHandler(
    waiveUpdate,
    (w) => {
      state = applyWaive(plan, state, { by: w.adminId, atIso: nowIso(), reason: w.reason });
      return { status: state.status, tier: state.tier, counted: true };
    },
    {
      validator: (w) => {
        if (state.status !== 'PENDING') throw ApplicationFailure.nonRetryable('the approval is no longer pending', 'NOT_PENDING');
        if (!w.reason || !w.reason.trim()) throw ApplicationFailure.nonRetryable('a waiver needs a reason', 'REASON_REQUIRED');
      },
    },
  );

  setHandler(withdrawSignal, (w) => {
    if (state.status !== 'PENDING' || w.by !== plan.proposerId) return;
    state = applyWithdraw(plan, state, { by: w.by, atIso: nowIso(), reason: w.reason });
  });

  while (state.status === 'PENDING') {
    const tier = state.tier;
    const spec = plan.tiers[tier - 1];
    // A link stays usable while the approval can still be decided: this tier and every later one.
    const linkTtlSeconds = plan.tiers.slice(tier - 1).reduce((s, t) => s + t.timeoutSeconds, 0);
    await acts.notifyTier({ orgId: input.orgId, decisionId: input.decisionId, tier, approvers: spec.approvers, summary: input.summary, linkTtlSeconds });
    const moved = await condition(() => state.status !== 'PENDING' || state.tier !== tier, spec.timeoutSeconds * 1000);
    if (!moved) {
      state = applyTimeout(plan, state, nowIso());
      log.info('approval tier timed out', { decisionId: input.decisionId, tier, status: state.status });
      await acts.recordApprovalEvent({ orgId: input.orgId, decisionId: input.decisionId, event: state.status === 'PENDING' ? 'escalated' : 'expired', tier, state });
    }
  }

  const outcome = finalOutcome(state) === 'ALLOW' ? 'ALLOW' : 'DENY';
  await acts.finalizeDecision({ orgId: input.orgId, decisionId: input.decisionId, outcome, state });
  if (input.callbackUrl) {
    const hook: WebhookInput = { orgId: input.orgId, decisionId: input.decisionId, url: input.callbackUrl, outcome, state };
    try {
      await callbacks.deliverWebhook(hook);
    } catch {
      // The decision stands whether or not the agent's endpoint answers; the agent can still read it.
      await acts.recordDeliveryFailure({ orgId: input.orgId, decisionId: input.decisionId, kind: 'webhook', data: {}, url: input.callbackUrl });
    }
  }
  return { decisionId: input.decisionId, outcome, state };
}

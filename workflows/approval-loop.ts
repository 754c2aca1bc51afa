import { ApplicationFailure, condition, log, patched, proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { applyDecision, applyTimeout, applyWaive, applyWithdraw, checkDecision, checkWaive, checkWithdraw, initialState, reminderOffsets } from '../engine/approval';
import type { ApprovalPlan, ApprovalState } from '../engine/approval';
import type { ApprovalActivities, NotifyTierInput } from '../activities/approval-activities';
import { decideUpdate, stateQuery, waiveUpdate, withdrawSignal, withdrawUpdate } from './messages';
import type { DecideResult, MoveAudit, ProposalSummary } from './messages';

const acts = proxyActivities<ApprovalActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

// Slack, reminders and message updates are best effort beside email and never awaited on the way
// to the decision: a few attempts (the Slack client retries inside each), then the give-up is audited.
const besideActs = proxyActivities<ApprovalActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', backoffCoefficient: 2, maximumAttempts: 4 },
});

// A counted move's audit record is written in the same workflow task that counts it (a local
// activity: no round trip through the task queue, so the person's answer waits for one database
// append, not for a scheduled activity). Retried in place; after a minute of failures it goes on
// retrying from later tasks, and the move's answer waits for it.
const recordActs = proxyLocalActivities<ApprovalActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', backoffCoefficient: 2 },
});

/** Executions started before the approval core (stored histories) replay their old steps exactly. */
export const APPROVAL_CORE_PATCH = 'approval-core-v1';
/** Moves counted before the workflow wrote their audit records (stored histories) replay without that step. */
export const MOVE_AUDIT_PATCH = 'move-audit-v1';

const nowIso = (): string => new Date(Date.now()).toISOString();

export interface ApprovalLoopInput {
  orgId: string;
  /** The approval's subject (the decision id of a proposal). */
  subjectId: string;
  plan: ApprovalPlan;
  summary: ProposalSummary;
}

export interface ApprovalRun {
  state: ApprovalState;
  /** After the subject's own finalize: lets the best-effort deliveries finish and updates every message to the end. */
  settle(): Promise<void>;
}

/** The vote as the engine keeps it: the audit payload is the workflow's to write, not state. */
const withoutAudit = <T extends { audit?: MoveAudit }>(x: T): Omit<T, 'audit'> => {
  const { audit: _audit, ...rest } = x;
  return rest;
};

const refuse = (p: { code: string; message: string } | null): void => {
  if (p) throw ApplicationFailure.nonRetryable(p.message, p.code);
};

/**
 * The approval loop every approval workflow shares: for each tier, notify its
 * approvers (email, and Slack beside it), remind them before the deadline, wait
 * with `condition`, escalate on silence, and after the last tier expire (which
 * ends as DENY). Votes, waivers and withdrawals arrive as updates whose validators
 * run the engine's checks, so a refusal reaches the caller and never fails a task.
 * Returns once the approval has ended; the caller finalizes its subject.
 */
export async function runApprovalLoop(input: ApprovalLoopInput): Promise<ApprovalRun> {
  const { plan, orgId } = input;
  const workflowId = workflowInfo().workflowId;
  const core = patched(APPROVAL_CORE_PATCH);
  let state: ApprovalState = initialState(plan, nowIso());
  let moves = 0;
  const move = (next: ApprovalState): DecideResult => {
    state = next;
    moves += 1;
    return { status: state.status, tier: state.tier, counted: true };
  };

  /**
   * A move counted here is audited here, by a local activity retried until it lands:
   * the update answers once the record is committed, and the loop does not end (its subject is
   * not finalized) before every such record is. A caller that dies after sending the update
   * leaves no counted vote without its record. The move itself is applied at once, before any
   * await, so updates never interleave on a stale state.
   */
  const records: Promise<unknown>[] = [];
  const audited = (result: DecideResult, audit: MoveAudit | undefined): DecideResult | Promise<DecideResult> => {
    if (!audit || !patched(MOVE_AUDIT_PATCH)) return result;
    const written = recordActs.recordMove({ orgId, workflowId, move: moves, audit, tier: result.tier, status: result.status });
    records.push(written);
    return written.then(() => ({ ...result, audited: true }));
  };

  setHandler(stateQuery, () => state);
  setHandler(decideUpdate, (d) => audited(move(applyDecision(plan, state, { ...withoutAudit(d), atIso: nowIso() })), d.audit), {
    validator: (d) => refuse(checkDecision(plan, state, d)),
  });
  setHandler(waiveUpdate, (w) => audited(move(applyWaive(plan, state, { by: w.adminId, atIso: nowIso(), reason: w.reason })), w.audit), {
    validator: (w) => refuse(checkWaive(plan, state, { by: w.adminId, reason: w.reason })),
  });
  setHandler(withdrawUpdate, (w) => audited(move(applyWithdraw(plan, state, { by: w.by, atIso: nowIso(), reason: w.reason })), w.audit), {
    validator: (w) => refuse(checkWithdraw(plan, state, { by: w.by })),
  });
  setHandler(withdrawSignal, (w) => {
    if (state.status !== 'PENDING' || w.by !== plan.proposerId) return;
    move(applyWithdraw(plan, state, { by: w.by, atIso: nowIso(), reason: w.reason }));
  });

  const beside: Promise<unknown>[] = [];
  let refreshing: Promise<unknown> = Promise.resolve();
  // Updates run one after another, so a message never goes back to an older state.
  const refresh = (): void => {
    const snapshot = state;
    refreshing = refreshing.then(() => besideActs.refreshApproval({ orgId, workflowId, state: snapshot })).catch(() => undefined);
  };
  const deliverBeside = (n: NotifyTierInput): void => {
    const failed = { orgId, decisionId: input.subjectId, workflowId, kind: n.channel === 'slack' ? ('slack' as const) : ('notification' as const), data: { tier: n.tier, step: n.step ?? 'request', channel: n.channel ?? 'email' } };
    beside.push(besideActs.notifyTier(n).catch(() => acts.recordDeliveryFailure(failed).catch(() => undefined)));
  };

  while (state.status === 'PENDING') {
    const tier = state.tier;
    const spec = plan.tiers[tier - 1];
    // A link stays usable while the approval can still be decided: this tier and every later one.
    const linkTtlSeconds = plan.tiers.slice(tier - 1).reduce((s, t) => s + t.timeoutSeconds, 0);
    const notice: NotifyTierInput = { orgId, decisionId: input.subjectId, tier, approvers: spec.approvers, summary: input.summary, linkTtlSeconds };

    if (!core) {
      await acts.notifyTier(notice);
      const moved = await condition(() => state.status !== 'PENDING' || state.tier !== tier, spec.timeoutSeconds * 1000);
      if (!moved) {
        state = applyTimeout(plan, state, nowIso());
        log.info('approval tier timed out', { workflowId, tier, status: state.status });
        await acts.recordApprovalEvent({ orgId, decisionId: input.subjectId, workflowId, event: state.status === 'PENDING' ? 'escalated' : 'expired', tier, state });
      }
      continue;
    }

    await acts.notifyTier({ ...notice, workflowId, channel: 'email', step: 'request' });
    deliverBeside({ ...notice, workflowId, channel: 'slack', step: 'request' });
    const started = Date.now();
    const deadline = started + spec.timeoutSeconds * 1000;
    const reminders = reminderOffsets(plan, tier).map((s) => started + s * 1000);
    let next = 0;
    while (state.status === 'PENDING' && state.tier === tier) {
      const seen = moves;
      const wakeAt = next < reminders.length ? reminders[next] : deadline;
      const woken = await condition(() => moves !== seen || state.status !== 'PENDING' || state.tier !== tier, Math.max(1, wakeAt - Date.now()));
      if (woken) {
        if (state.status === 'PENDING' && state.tier === tier) refresh(); // a vote that did not end it: show who voted
        continue;
      }
      if (next < reminders.length) {
        next += 1;
        const skip = [...state.approvals, ...state.denials].flatMap((v) => [v.approverId, v.onBehalfOf ?? v.approverId]);
        for (const channel of ['email', 'slack'] as const) deliverBeside({ ...notice, workflowId, channel, step: `reminder-${next}`, skip });
        continue;
      }
      state = applyTimeout(plan, state, nowIso());
      log.info('approval tier timed out', { workflowId, tier, status: state.status });
      await acts.recordApprovalEvent({ orgId, decisionId: input.subjectId, workflowId, event: state.status === 'PENDING' ? 'escalated' : 'expired', tier, state });
      refresh();
    }
  }

  // Every counted move's record is written before the subject is finalized (its record comes after them).
  await Promise.all(records);
  return {
    state,
    async settle() {
      if (!core) return;
      // Messages still being posted are updated only once they exist.
      await Promise.all(beside);
      refresh();
      await refreshing;
    },
  };
}

/**
 * The approval plan and its state machine: pure functions over plain data.
 * Workflows import this file, so it imports nothing (not even re2).
 */

export interface ApprovalTier {
  approvers: string[];
  quorum: number;
  timeoutSeconds: number;
  label?: string;
}

export interface ApprovalPlan {
  tiers: ApprovalTier[];
  /** 1-based tier to start at (ESCALATE starts higher). */
  startTier: number;
  /** Who proposed: never an approver of their own action. */
  proposerId: string;
  /** A single deny ends the approval (the default). */
  denyEndsIt: boolean;
}

export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'DENIED' | 'EXPIRED' | 'WITHDRAWN' | 'WAIVED';

export interface ApprovalVote {
  approverId: string;
  tier: number;
  at: string;
  comment?: string;
}

export interface ApprovalState {
  status: ApprovalStatus;
  /** Current tier, 1-based. */
  tier: number;
  approvals: ApprovalVote[];
  denials: ApprovalVote[];
  decidedBy: string[];
  endedAt?: string;
  reason?: string;
  history: { at: string; event: string; by?: string; tier: number; detail?: string }[];
}

export type DecisionProblem = { code: 'NOT_PENDING' | 'SELF_APPROVAL' | 'NOT_AN_APPROVER' | 'ALREADY_DECIDED'; message: string };

/** Something an approval event may not do now. */
export type ApprovalProblem = { code: 'NOT_PENDING' | 'NOT_PROPOSER' | 'REASON_REQUIRED' | 'SELF_APPROVAL'; message: string };

/** A pending approval at the plan's start tier (clamped to the tiers there are). */
export function initialState(plan: ApprovalPlan, atIso: string): ApprovalState {
  const tier = Math.max(1, Math.min(Number.isInteger(plan.startTier) ? plan.startTier : 1, plan.tiers.length));
  return { status: 'PENDING', tier, approvals: [], denials: [], decidedBy: [], history: [{ at: atIso, event: 'STARTED', tier }] };
}

/** Escalation widens who may decide, never narrows it: approvers of tiers 1..current. */
export function eligibleApprovers(plan: ApprovalPlan, state: ApprovalState): Set<string> {
  const out = new Set<string>();
  plan.tiers.slice(0, state.tier).forEach((t) => t.approvers.forEach((a) => out.add(a)));
  return out;
}

/**
 * Null when this person may decide now; else why not: NOT_PENDING, SELF_APPROVAL
 * (the proposer, admin or not), NOT_AN_APPROVER (not eligible at this tier and
 * not an admin), ALREADY_DECIDED (this person was already counted).
 */
export function checkDecision(plan: ApprovalPlan, state: ApprovalState, d: { approverId: string; decision: 'approve' | 'deny'; isAdmin?: boolean }): DecisionProblem | null {
  if (state.status !== 'PENDING') return { code: 'NOT_PENDING', message: `the approval is no longer pending (${state.status})` };
  if (d.approverId === plan.proposerId) return { code: 'SELF_APPROVAL', message: 'the proposer of an action cannot decide on it' };
  if (!d.isAdmin && !eligibleApprovers(plan, state).has(d.approverId)) return { code: 'NOT_AN_APPROVER', message: 'you are not an approver of this action at its current tier' };
  if (state.approvals.some((v) => v.approverId === d.approverId) || state.denials.some((v) => v.approverId === d.approverId)) {
    return { code: 'ALREADY_DECIDED', message: 'you have already decided on this action' };
  }
  return null;
}

/**
 * Records an approve or deny. Approvals count per distinct approver across
 * tiers; reaching the current tier's quorum approves. A deny ends it as DENIED
 * when `plan.denyEndsIt`, else it is only recorded.
 *
 * @throws Error `CODE: message` when {@link checkDecision} refuses the decision.
 */
export function applyDecision(plan: ApprovalPlan, state: ApprovalState, d: { approverId: string; decision: 'approve' | 'deny'; atIso: string; comment?: string; isAdmin?: boolean }): ApprovalState {
  const problem = checkDecision(plan, state, d);
  if (problem) throw new Error(`${problem.code}: ${problem.message}`);
  const vote: ApprovalVote = { approverId: d.approverId, tier: state.tier, at: d.atIso, ...(d.comment ? { comment: d.comment } : {}) };
  const history = [...state.history, { at: d.atIso, event: d.decision === 'approve' ? 'APPROVED_BY' : 'DENIED_BY', by: d.approverId, tier: state.tier, ...(d.comment ? { detail: d.comment } : {}) }];
  if (d.decision === 'deny') {
    const denials = [...state.denials, vote];
    if (!plan.denyEndsIt) return { ...state, denials, history };
    return { ...state, denials, history, status: 'DENIED', decidedBy: [...state.decidedBy, d.approverId], endedAt: d.atIso, reason: 'DENIED_BY_APPROVER' };
  }
  const approvals = [...state.approvals, vote];
  const quorum = Math.max(1, plan.tiers[state.tier - 1]?.quorum ?? 1);
  const distinct = new Set(approvals.map((v) => v.approverId)).size;
  const approved = distinct >= quorum;
  return {
    ...state,
    approvals,
    history,
    decidedBy: approvals.map((v) => v.approverId),
    ...(approved ? { status: 'APPROVED' as const, endedAt: d.atIso, reason: 'QUORUM_REACHED' } : {}),
  };
}

/** The current tier was silent: escalate, or after the last tier expire (which ends as DENY). */
export function applyTimeout(plan: ApprovalPlan, state: ApprovalState, atIso: string): ApprovalState {
  if (state.status !== 'PENDING') return state;
  if (state.tier < plan.tiers.length) {
    return { ...state, tier: state.tier + 1, history: [...state.history, { at: atIso, event: 'ESCALATED', tier: state.tier + 1 }] };
  }
  return { ...state, status: 'EXPIRED', endedAt: atIso, reason: 'APPROVAL_EXPIRED', history: [...state.history, { at: atIso, event: 'EXPIRED', tier: state.tier }] };
}

/** Null when `by` may withdraw now; only the proposer may. */
export function checkWithdraw(plan: ApprovalPlan, state: ApprovalState, w: { by: string }): ApprovalProblem | null {
  if (state.status !== 'PENDING') return { code: 'NOT_PENDING', message: `the approval is no longer pending (${state.status})` };
  if (w.by !== plan.proposerId) return { code: 'NOT_PROPOSER', message: 'only the proposer may withdraw an action' };
  return null;
}

/**
 * The proposer takes the action back: WITHDRAWN, which ends as DENY. A late
 * withdrawal of an ended approval changes nothing.
 *
 * @throws Error `NOT_PROPOSER: ...` when someone else tries.
 */
export function applyWithdraw(plan: ApprovalPlan, state: ApprovalState, w: { by: string; atIso: string; reason?: string }): ApprovalState {
  const problem = checkWithdraw(plan, state, w);
  if (problem?.code === 'NOT_PENDING') return state;
  if (problem) throw new Error(`${problem.code}: ${problem.message}`);
  return { ...state, status: 'WITHDRAWN', endedAt: w.atIso, reason: 'WITHDRAWN', history: [...state.history, { at: w.atIso, event: 'WITHDRAWN', by: w.by, tier: state.tier, ...(w.reason ? { detail: w.reason } : {}) }] };
}

/** Null when `by` may waive now. Whether `by` is an admin is the caller's check. */
export function checkWaive(plan: ApprovalPlan, state: ApprovalState, w: { by: string; reason: string }): ApprovalProblem | null {
  if (state.status !== 'PENDING') return { code: 'NOT_PENDING', message: `the approval is no longer pending (${state.status})` };
  if (typeof w.reason !== 'string' || !w.reason.trim()) return { code: 'REASON_REQUIRED', message: 'a waiver needs a reason' };
  if (w.by === plan.proposerId) return { code: 'SELF_APPROVAL', message: 'the proposer of an action cannot waive it' };
  return null;
}

/**
 * An admin waives the approval, with a reason: WAIVED, which ends as ALLOW.
 * A late waiver of an ended approval changes nothing.
 *
 * @throws Error `REASON_REQUIRED: ...` or `SELF_APPROVAL: ...`.
 */
export function applyWaive(plan: ApprovalPlan, state: ApprovalState, w: { by: string; atIso: string; reason: string }): ApprovalState {
  const problem = checkWaive(plan, state, w);
  if (problem?.code === 'NOT_PENDING') return state;
  if (problem) throw new Error(`${problem.code}: ${problem.message}`);
  return { ...state, status: 'WAIVED', endedAt: w.atIso, reason: 'WAIVED', decidedBy: [...state.decidedBy, w.by], history: [...state.history, { at: w.atIso, event: 'WAIVED', by: w.by, tier: state.tier, detail: w.reason }] };
}

/** ALLOW only for approved or waived; every other end is DENY (fail closed); null while pending. */
export function finalOutcome(state: ApprovalState): 'ALLOW' | 'DENY' | null {
  if (state.status === 'PENDING') return null;
  return state.status === 'APPROVED' || state.status === 'WAIVED' ? 'ALLOW' : 'DENY';
}

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
  /** Approvers may approve with conditions (gate reviews); a proposal's approval may not. */
  allowConditional?: boolean;
  /**
   * Reminders before each tier's deadline, in seconds before it. Unset: halfway through
   * the tier and 10 minutes before its end (each only when it falls inside the tier).
   * An empty list sends none.
   */
  remindBeforeSeconds?: number[];
}

/** CONDITIONAL: approved, with conditions an approver attached (gates); it allows like APPROVED. */
export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'CONDITIONAL' | 'DENIED' | 'EXPIRED' | 'WITHDRAWN' | 'WAIVED';

/** What a person may answer. `conditional` only where the plan allows it. */
export type VoteChoice = 'approve' | 'deny' | 'conditional';

export interface ApprovalVote {
  /** Who voted. */
  approverId: string;
  tier: number;
  at: string;
  comment?: string;
  /** The absent approver a delegate voted for; the vote counts as theirs. */
  onBehalfOf?: string;
  /** Conditions of a conditional approval. */
  conditions?: string[];
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
  /** Conditions attached by conditional approvals, in the order given. */
  conditions?: string[];
  history: { at: string; event: string; by?: string; tier: number; detail?: string }[];
}

export type DecisionProblem = {
  code: 'NOT_PENDING' | 'SELF_APPROVAL' | 'NOT_AN_APPROVER' | 'ALREADY_DECIDED' | 'CONDITIONAL_NOT_ALLOWED' | 'CONDITIONS_REQUIRED';
  message: string;
};

/** One person's answer. `onBehalfOf` names the absent approver a delegate answers for. */
export interface VoteRequest {
  approverId: string;
  decision: VoteChoice;
  onBehalfOf?: string;
  /** Admins may decide at any tier. */
  isAdmin?: boolean;
  conditions?: string[];
}

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
 * (the proposer, admin or not, and never as anyone's delegate), NOT_AN_APPROVER (neither
 * they nor the person they stand in for is eligible at this tier, and not an admin),
 * ALREADY_DECIDED (this person, or the one they stand in for, was already counted),
 * CONDITIONAL_NOT_ALLOWED / CONDITIONS_REQUIRED for a conditional approval.
 */
export function checkDecision(plan: ApprovalPlan, state: ApprovalState, d: VoteRequest): DecisionProblem | null {
  if (state.status !== 'PENDING') return { code: 'NOT_PENDING', message: `the approval is no longer pending (${state.status})` };
  if (d.approverId === plan.proposerId || d.onBehalfOf === plan.proposerId) {
    return { code: 'SELF_APPROVAL', message: 'the proposer of an action cannot decide on it, not even as a delegate' };
  }
  if (d.decision === 'conditional') {
    if (!plan.allowConditional) return { code: 'CONDITIONAL_NOT_ALLOWED', message: 'this approval takes approve or deny only' };
    if (!d.conditions?.some((c) => typeof c === 'string' && c.trim())) {
      return { code: 'CONDITIONS_REQUIRED', message: 'a conditional approval names its conditions' };
    }
  }
  const counted = d.onBehalfOf ?? d.approverId;
  if (!d.isAdmin && !eligibleApprovers(plan, state).has(counted)) {
    return { code: 'NOT_AN_APPROVER', message: 'you are not an approver of this action at its current tier' };
  }
  const voted = new Set([...state.approvals, ...state.denials].flatMap((v) => [v.approverId, v.onBehalfOf ?? v.approverId]));
  if (voted.has(d.approverId) || voted.has(counted)) {
    return { code: 'ALREADY_DECIDED', message: 'you have already decided on this action' };
  }
  return null;
}

const HISTORY_EVENT: Record<VoteChoice, string> = { approve: 'APPROVED_BY', deny: 'DENIED_BY', conditional: 'CONDITIONAL_BY' };

/**
 * Records an approve, conditional approve or deny. Approvals (conditional ones too) count
 * once per approver they stand for, across tiers; reaching the current tier's quorum
 * approves, as CONDITIONAL when any counted approval carried conditions. A deny ends it
 * as DENIED when `plan.denyEndsIt`, else it is only recorded.
 *
 * @throws Error `CODE: message` when {@link checkDecision} refuses the decision.
 */
export function applyDecision(plan: ApprovalPlan, state: ApprovalState, d: VoteRequest & { atIso: string; comment?: string }): ApprovalState {
  const problem = checkDecision(plan, state, d);
  if (problem) throw new Error(`${problem.code}: ${problem.message}`);
  const given = Array.isArray(d.conditions) ? d.conditions.filter((c): c is string => typeof c === 'string') : [];
  const conditions = d.decision === 'conditional' ? given.map((c) => c.trim()).filter(Boolean) : [];
  const vote: ApprovalVote = {
    approverId: d.approverId,
    tier: state.tier,
    at: d.atIso,
    ...(d.comment ? { comment: d.comment } : {}),
    ...(d.onBehalfOf ? { onBehalfOf: d.onBehalfOf } : {}),
    ...(conditions.length ? { conditions } : {}),
  };
  const detail = [d.comment, d.onBehalfOf ? `for ${d.onBehalfOf}` : '', conditions.length ? `conditions: ${conditions.join('; ')}` : '']
    .filter(Boolean)
    .join(' | ');
  const history = [...state.history, { at: d.atIso, event: HISTORY_EVENT[d.decision], by: d.approverId, tier: state.tier, ...(detail ? { detail } : {}) }];
  if (d.decision === 'deny') {
    const denials = [...state.denials, vote];
    if (!plan.denyEndsIt) return { ...state, denials, history };
    return { ...state, denials, history, status: 'DENIED', decidedBy: [...state.decidedBy, d.approverId], endedAt: d.atIso, reason: 'DENIED_BY_APPROVER' };
  }
  const approvals = [...state.approvals, vote];
  const quorum = Math.max(1, plan.tiers[state.tier - 1]?.quorum ?? 1);
  const distinct = new Set(approvals.map((v) => v.onBehalfOf ?? v.approverId)).size;
  const approved = distinct >= quorum;
  const allConditions = [...(state.conditions ?? []), ...conditions];
  return {
    ...state,
    approvals,
    history,
    decidedBy: approvals.map((v) => v.approverId),
    ...(allConditions.length ? { conditions: allConditions } : {}),
    ...(approved
      ? { status: allConditions.length ? ('CONDITIONAL' as const) : ('APPROVED' as const), endedAt: d.atIso, reason: 'QUORUM_REACHED' }
      : {}),
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

/** ALLOW only for approved (with or without conditions) or waived; every other end is DENY (fail closed); null while pending. */
export function finalOutcome(state: ApprovalState): 'ALLOW' | 'DENY' | null {
  if (state.status === 'PENDING') return null;
  return state.status === 'APPROVED' || state.status === 'CONDITIONAL' || state.status === 'WAIVED' ? 'ALLOW' : 'DENY';
}

/** When the current tier began (its STARTED or ESCALATED event), as epoch ms. */
export function tierStartedAt(state: ApprovalState): number {
  const ev = [...state.history].reverse().find((h) => (h.event === 'STARTED' || h.event === 'ESCALATED') && h.tier === state.tier);
  return Date.parse(ev?.at ?? state.history[0]?.at ?? '');
}

/** The current tier's deadline as an ISO string (when silence escalates or expires it). */
export function tierDeadline(plan: ApprovalPlan, state: ApprovalState): string | null {
  const started = tierStartedAt(state);
  const spec = plan.tiers[state.tier - 1];
  if (!spec || Number.isNaN(started)) return null;
  return new Date(started + spec.timeoutSeconds * 1000).toISOString();
}

const TEN_MINUTES = 600;

/**
 * Seconds after a tier starts at which its approvers are reminded, ascending and
 * distinct, each strictly inside the tier: the plan's `remindBeforeSeconds`, or by
 * default halfway and 10 minutes before the deadline.
 */
export function reminderOffsets(plan: ApprovalPlan, tier: number): number[] {
  const timeout = plan.tiers[tier - 1]?.timeoutSeconds ?? 0;
  const before = plan.remindBeforeSeconds ?? [Math.floor(timeout / 2), TEN_MINUTES];
  const at = before.filter((b) => Number.isFinite(b) && b > 0 && b < timeout).map((b) => timeout - b);
  return [...new Set(at)].sort((a, b) => a - b);
}

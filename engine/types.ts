/**
 * The engine's vocabulary. Everything here is plain data: it crosses the
 * Temporal boundary, is stored as JSON in Postgres and is returned by the API.
 * No Date objects (ISO strings or epoch millis), no class instances.
 */

/** One canonical proposal, whichever API dialect it arrived in. */
export interface Proposal {
  actor: { id: string; type: string };
  action: { capability: string; parameters: Record<string, unknown> };
  /** Target system or service (WARDN `target_service`). */
  target?: string;
  /** production | staging | development | ... */
  environment?: string;
  context: {
    sessionId?: string;
    runId?: string;
    missionId?: string;
    groupIds?: string[];
    tags?: string[];
    metadata: Record<string, unknown>;
  };
  /** Confidence per dimension, each 0..1 (WARDN). */
  confidence?: Record<string, number>;
  reasoning?: string;
  /** What the agent says the action is for (Ascend's `description`). */
  description?: string;
  modelId?: string;
  /** e.g. PII, PHI, PCI, financial, confidential, public. */
  dataClasses: string[];
  /** Monetary amount of the action in USD, if any. */
  amount?: number;
  /** Where to POST the final outcome of an action that waits for people (not read by evaluation). */
  callbackUrl?: string;
}

/** Internal outcomes. Each API dialect maps these to its own words. */
export type Outcome = 'ALLOW' | 'DENY' | 'REQUIRE_APPROVAL' | 'ESCALATE';

/** The five smart-rule actions of seed 002. */
export type RuleAction = 'AUTO_APPROVE' | 'REQUIRE_APPROVAL' | 'DENY' | 'ESCALATE' | 'NOTIFY';

/** What a single contributor asked for. */
export type Effect = Outcome | 'AUTO_APPROVE' | 'NOTIFY';

export type ReasonSource = 'mode' | 'rule' | 'risk' | 'policy' | 'exception' | 'confidence' | 'model' | 'system';

/** Why a verdict is what it is: one entry per contributing rule, policy or layer. */
export interface Reason {
  source: ReasonSource;
  /** Rule / policy / config id when the reason comes from a stored object. */
  id?: string;
  name?: string;
  effect: Effect;
  /** Stable UPPER_SNAKE code, e.g. RULE_MATCHED, RISK_ABOVE_DENY_THRESHOLD, ACTION_DENIED_BY_POLICY. */
  code: string;
  message: string;
  /** The facts (dotted path → value) this contributor matched on. */
  matched?: Record<string, unknown>;
  /** Smart-rule priority, when source is 'rule'. */
  priority?: number;
}

/** A JSON-ish facts document with dotted-path access and the seeds' aliases. */
export type Facts = Record<string, unknown>;

/** Smart rule as stored (seed 002 shape, snake_case kept as the API speaks it). */
export interface SmartRuleDef {
  id: string;
  name: string;
  priority: number;
  isActive: boolean;
  conditions: Record<string, unknown>;
  action: RuleAction;
  /** Escalation level requested by the rule (1-based tier index), seed 002 `approval_level`. */
  approvalLevel?: number;
  notifications?: { channels?: string[]; priority?: string };
}

export interface RiskWeights {
  data_sensitivity: number;
  operation_type: number;
  financial_impact: number;
  compliance: number;
  historical: number;
}

export interface RiskThresholds {
  auto_approve_max: number;
  require_approval_min: number;
  auto_deny_min: number;
}

export interface RiskModifiers {
  pii_data: number;
  financial_data: number;
  health_data: number;
  delete_operation: number;
  external_api: number;
}

export interface RiskConfig {
  id?: string;
  weights: RiskWeights;
  thresholds: RiskThresholds;
  modifiers: RiskModifiers;
}

/** Recent history of the actor, supplied by the caller (the engine reads no database). */
export interface ActorHistory {
  /** Decisions for this actor in the recent window. */
  total: number;
  /** Of those, how many ended DENY. */
  denied: number;
}

export interface RiskAssessment {
  /** 0..100, integer. */
  score: number;
  /** Each factor's raw value (0..100) and its weighted contribution. */
  factors: Record<keyof RiskWeights, { value: number; weight: number; contribution: number; basis: string }>;
  /** Modifiers that applied and the points each added. */
  modifiers: { name: keyof RiskModifiers; points: number }[];
  /** What the thresholds say about this score. */
  band: 'AUTO_APPROVE' | 'REQUIRE_APPROVAL' | 'AUTO_DENY';
}

export interface NotifyRequest {
  source: ReasonSource;
  id?: string;
  name?: string;
  channels: string[];
  priority?: string;
}

/** What the verdict asks of a human approval, when one is needed. */
export interface ApprovalRequest {
  /** First tier to notify (1-based). ESCALATE starts higher. */
  startTier: number;
  /** Approver ids named by a policy (overrides configured tier 1 when set). */
  approvers?: string[];
  quorum?: number;
  timeoutSeconds?: number;
}

export interface Verdict {
  outcome: Outcome;
  /** The single reason that decided the outcome (highest precedence, then priority). */
  decisive: Reason | null;
  /** Every contributing reason, in evaluation order. */
  reasons: Reason[];
  risk: RiskAssessment;
  notify: NotifyRequest[];
  approval?: ApprovalRequest;
  /** Constraints attached to an ALLOW (e.g. remaining budget). */
  constraints: Record<string, unknown>;
  /** Errors met while evaluating (a rule that threw): each one fails closed. */
  errors: { source: ReasonSource; id?: string; message: string }[];
  /** The organization's governance mode when it was not ENFORCED. */
  mode?: GovernanceMode;
  /** AUDIT_ONLY: what the verdict would have been; the action was cleared. */
  originalOutcome?: Outcome;
}

export type GovernanceMode = 'ENFORCED' | 'AUDIT_ONLY' | 'DISABLED';

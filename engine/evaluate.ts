import { buildFacts } from './facts';
import { assessRisk } from './risk';
import { evaluateRules, RuleEvaluationError } from './rules';
import type { CompiledRuleSet } from './rules';
import type { ActorHistory, ApprovalRequest, Effect, Facts, NotifyRequest, Outcome, Proposal, Reason, RiskAssessment, RiskConfig, Verdict } from './types';

/** What a layer (agent policies, ...) contributes to a verdict. */
export interface LayerResult {
  reasons: Reason[];
  approval?: Partial<ApprovalRequest>;
  constraints?: Record<string, unknown>;
  notify?: NotifyRequest[];
}

export interface LayerContext {
  proposal: Proposal;
  facts: Facts;
  risk: RiskAssessment;
  now: number;
}

/** An extra decision layer: pure and synchronous. A layer that throws makes the verdict DENY. */
export type Layer = (ctx: LayerContext) => LayerResult;

export interface EvaluateInput {
  proposal: Proposal;
  rules: CompiledRuleSet;
  risk: RiskConfig;
  /** Epoch millis: the engine reads no clock. */
  now: number;
  history?: ActorHistory;
  layers?: Layer[];
}

/** Stands in for the risk assessment when it could not be made: the worst score. */
const FAILED_RISK: RiskAssessment = Object.freeze({
  score: 100,
  factors: {} as RiskAssessment['factors'],
  modifiers: [],
  band: 'AUTO_DENY',
}) as RiskAssessment;

const EFFECTS: ReadonlySet<unknown> = new Set<Effect>(['ALLOW', 'DENY', 'REQUIRE_APPROVAL', 'ESCALATE', 'AUTO_APPROVE', 'NOTIFY']);

/** The first reason that is not one with a known effect (`undefined` if all are). */
function findOdd(rs: Reason[]): Reason | undefined {
  for (let i = 0; i < rs.length; i++) {
    const x = rs[i];
    if (!x || !EFFECTS.has(x.effect)) return x;
  }
  return undefined;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * One verdict from every layer, in this order: facts → risk score → facts with
 * `risk_score` → smart rules → extra layers → combine. Every layer runs and
 * every contribution is a reason.
 *
 * Combining (DESIGN.md §4), first that applies:
 * 1. any DENY (a rule, the risk band AUTO_DENY, a layer) → DENY;
 * 2. any ESCALATE → ESCALATE;
 * 3. any REQUIRE_APPROVAL from a rule or a layer (a hard requirement) → REQUIRE_APPROVAL;
 * 4. the risk band REQUIRE_APPROVAL → REQUIRE_APPROVAL, unless an AUTO_APPROVE
 *    matched (AUTO_APPROVE overrides only the risk layer, never a hard requirement);
 * 5. ALLOW.
 * NOTIFY adds a notify request and never changes the outcome. `decisive` is the
 * reason of the winning effect, the highest rule priority first. Any error (a
 * rule or layer that throws, facts or risk that cannot be computed, a `now`
 * that is not a number) is listed in `errors` and the outcome is DENY with
 * code EVALUATION_ERROR: the engine fails closed.
 */
export function evaluate(input: EvaluateInput): Verdict {
  const { proposal, now } = input;
  const reasons: Reason[] = [];
  const notify: NotifyRequest[] = [];
  const errors: Verdict['errors'] = [];
  let constraints: Record<string, unknown> = {};
  const approval: Partial<ApprovalRequest> = {};
  let ruleLevel = 0;

  if (!Number.isFinite(now)) errors.push({ source: 'system', message: `now must be epoch milliseconds, got ${String(now)}` });

  let facts: Facts | null = null;
  try {
    facts = buildFacts(proposal, { now });
  } catch (e) {
    errors.push({ source: 'system', message: `the proposal's facts could not be built: ${message(e)}` });
  }

  let risk: RiskAssessment;
  try {
    risk = assessRisk(proposal, input.risk, input.history);
  } catch (e) {
    risk = FAILED_RISK;
    errors.push({ source: 'risk', ...(input.risk?.id ? { id: input.risk.id } : {}), message: `the risk score could not be computed: ${message(e)}` });
  }
  reasons.push(riskReason(risk, input.risk));

  if (facts) {
    facts.risk_score = risk.score;
    try {
      for (const m of evaluateRules(input.rules, facts)) {
        reasons.push(m.reason);
        const channels = m.notifications?.channels ?? [];
        if (m.rule.action === 'NOTIFY' || channels.length) {
          notify.push({ source: 'rule', id: m.rule.id, name: m.rule.name, channels: [...channels], ...(m.notifications?.priority ? { priority: m.notifications.priority } : {}) });
        }
        const level = m.approvalLevel;
        if ((m.rule.action === 'REQUIRE_APPROVAL' || m.rule.action === 'ESCALATE') && typeof level === 'number' && Number.isInteger(level) && level >= 1) {
          ruleLevel = Math.max(ruleLevel, level);
        }
      }
    } catch (e) {
      errors.push(e instanceof RuleEvaluationError ? { source: 'rule', id: e.ruleId, message: e.message } : { source: 'rule', message: message(e) });
    }

    const layers = input.layers ?? [];
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i];
      try {
        const r = layer({ proposal, facts, risk, now });
        if (!r || !Array.isArray(r.reasons)) throw new Error('returned no reasons array');
        // An effect the combiner does not know would be silently ignored, which could allow: refuse it.
        const odd = findOdd(r.reasons);
        if (odd !== undefined) throw new Error(`returned a reason with an unknown effect: ${odd ? String(odd.effect) : String(odd)}`);
        reasons.push(...r.reasons);
        if (r.notify) notify.push(...r.notify);
        if (r.constraints) constraints = { ...constraints, ...r.constraints };
        if (r.approval) mergeApproval(approval, r.approval);
      } catch (e) {
        errors.push({ source: 'policy', message: `layer ${i + 1}${layer.name ? ` (${layer.name})` : ''} failed: ${message(e)}` });
      }
    }
  }

  let outcome: Outcome;
  let decisive: Reason | null;
  if (errors.length) {
    outcome = 'DENY';
    decisive = {
      source: 'system',
      effect: 'DENY',
      code: 'EVALUATION_ERROR',
      message: `Evaluation failed, so the action is denied: ${errors.map((e) => e.message).join('; ')}`,
    };
    reasons.push(decisive);
  } else {
    // One pass: the best reason of each kind (highest priority, else the first), then the rules above in order.
    let deny: Reason | null = null;
    let escalate: Reason | null = null;
    let required: Reason | null = null;
    let riskRequired: Reason | null = null;
    let autoApprove: Reason | null = null;
    let allow: Reason | null = null;
    let firstRisk: Reason | null = null;
    for (let i = 0; i < reasons.length; i++) {
      const r = reasons[i];
      const fromRisk = r.source === 'risk';
      if (fromRisk && firstRisk === null) firstRisk = r;
      switch (r.effect) {
        case 'DENY':
          deny = better(deny, r);
          break;
        case 'ESCALATE':
          escalate = better(escalate, r);
          break;
        case 'REQUIRE_APPROVAL':
          if (fromRisk) riskRequired = better(riskRequired, r);
          else required = better(required, r);
          break;
        case 'AUTO_APPROVE':
          autoApprove = better(autoApprove, r);
          break;
        case 'ALLOW':
          if (!fromRisk) allow = better(allow, r);
          break;
      }
    }
    decisive = deny ?? escalate ?? required ?? (autoApprove ? null : riskRequired);
    outcome = decisive ? (decisive.effect as Outcome) : 'ALLOW';
    decisive ??= autoApprove ?? allow ?? firstRisk;
  }

  const verdict: Verdict = { outcome, decisive, reasons, risk, notify, constraints, errors };
  if (outcome === 'REQUIRE_APPROVAL' || outcome === 'ESCALATE') {
    verdict.approval = { ...approval, startTier: Math.max(outcome === 'ESCALATE' ? 2 : 1, ruleLevel, approval.startTier ?? 0) };
  }
  return verdict;
}

function riskReason(risk: RiskAssessment, config: RiskConfig | undefined): Reason {
  // The configuration may be the very thing that failed: never throw from here.
  const t: Partial<RiskConfig['thresholds']> = config?.thresholds ?? {};
  // Literal objects, no spreads: this runs once per decision on the hot path.
  const r: Reason =
    risk.band === 'AUTO_DENY'
      ? { source: 'risk', effect: 'DENY', code: 'RISK_ABOVE_DENY_THRESHOLD', message: `Risk score ${risk.score} is at or above the deny threshold ${t.auto_deny_min}`, matched: { risk_score: risk.score } }
      : risk.band === 'REQUIRE_APPROVAL'
        ? { source: 'risk', effect: 'REQUIRE_APPROVAL', code: 'RISK_REQUIRES_APPROVAL', message: `Risk score ${risk.score} is above the auto-approve limit ${t.auto_approve_max}, so approval is required`, matched: { risk_score: risk.score } }
        : { source: 'risk', effect: 'ALLOW', code: 'RISK_WITHIN_AUTO_APPROVE', message: `Risk score ${risk.score} is within the auto-approve limit ${t.auto_approve_max}`, matched: { risk_score: risk.score } };
  if (config?.id) r.id = config.id;
  return r;
}

/** Among reasons of one effect: the highest rule priority, else the first contributed. */
function better(current: Reason | null, r: Reason): Reason {
  return current === null || (r.priority ?? -Infinity) > (current.priority ?? -Infinity) ? r : current;
}

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

/** Merges a layer's approval request: approvers are a union, quorum the largest, timeout the shortest, start tier the highest. */
export function mergeApproval(into: Partial<ApprovalRequest>, add: Partial<ApprovalRequest>): void {
  if (add.approvers?.length) into.approvers = [...new Set([...(into.approvers ?? []), ...add.approvers])];
  if (finite(add.quorum)) into.quorum = Math.max(into.quorum ?? 0, add.quorum);
  if (finite(add.timeoutSeconds)) into.timeoutSeconds = Math.min(into.timeoutSeconds ?? Infinity, add.timeoutSeconds);
  if (finite(add.startTier)) into.startTier = Math.max(into.startTier ?? 0, add.startTier);
}

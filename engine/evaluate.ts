import { buildFacts } from './facts';
import { assessRisk } from './risk';
import { evaluateRules } from './rules';
import type { CompiledRuleSet } from './rules';
import type { ActorHistory, ApprovalRequest, Facts, NotifyRequest, Outcome, Proposal, Reason, RiskAssessment, RiskConfig, Verdict } from './types';

/** What a layer (agent policies, …) contributes to a verdict. */
export interface LayerResult {
  reasons: Reason[];
  approval?: Partial<ApprovalRequest>;
  constraints?: Record<string, unknown>;
  notify?: NotifyRequest[];
}

export type Layer = (ctx: { proposal: Proposal; facts: Facts; risk: RiskAssessment; now: number }) => LayerResult;

export interface EvaluateInput {
  proposal: Proposal;
  rules: CompiledRuleSet;
  risk: RiskConfig;
  /** Epoch millis: the engine reads no clock. */
  now: number;
  history?: ActorHistory;
  layers?: Layer[];
}

/**
 * One verdict from every layer: facts → risk → rules → extra layers → combine.
 * Combining: any DENY wins; then ESCALATE; then a hard REQUIRE_APPROVAL (a rule's
 * or a policy's); then the risk layer's REQUIRE_APPROVAL unless an AUTO_APPROVE
 * rule matched (AUTO_APPROVE only overrides the risk layer); else ALLOW. NOTIFY
 * never changes the outcome. An error anywhere fails closed as DENY.
 */
export function evaluate(input: EvaluateInput): Verdict {
  const { proposal, now } = input;
  const reasons: Reason[] = [];
  const notify: NotifyRequest[] = [];
  const errors: Verdict['errors'] = [];
  let constraints: Record<string, unknown> = {};
  const approval: Partial<ApprovalRequest> = {};
  let risk: RiskAssessment;
  let ruleLevel = 0;

  try {
    risk = assessRisk(proposal, input.risk, input.history);
  } catch (e) {
    risk = { score: 100, factors: {} as RiskAssessment['factors'], modifiers: [], band: 'AUTO_DENY' };
    errors.push({ source: 'risk', message: (e as Error).message });
  }
  const t = input.risk.thresholds;
  reasons.push({
    source: 'risk',
    id: input.risk.id,
    effect: risk.band === 'AUTO_DENY' ? 'DENY' : risk.band === 'REQUIRE_APPROVAL' ? 'REQUIRE_APPROVAL' : 'ALLOW',
    code: risk.band === 'AUTO_DENY' ? 'RISK_ABOVE_DENY_THRESHOLD' : risk.band === 'REQUIRE_APPROVAL' ? 'RISK_REQUIRES_APPROVAL' : 'RISK_WITHIN_AUTO_APPROVE',
    message:
      risk.band === 'AUTO_DENY'
        ? `Risk score ${risk.score} is at or above the deny threshold ${t.auto_deny_min}`
        : risk.band === 'REQUIRE_APPROVAL'
          ? `Risk score ${risk.score} is above the auto-approve limit ${t.auto_approve_max}`
          : `Risk score ${risk.score} is within the auto-approve limit ${t.auto_approve_max}`,
    matched: { risk_score: risk.score },
  });

  const facts = buildFacts(proposal, { now, riskScore: risk.score });
  try {
    for (const m of evaluateRules(input.rules, facts)) {
      reasons.push(m.reason);
      if (m.rule.action === 'NOTIFY' || m.rule.notifications?.channels?.length) {
        notify.push({ source: 'rule', id: m.rule.id, name: m.rule.name, channels: m.rule.notifications?.channels ?? [], priority: m.rule.notifications?.priority });
      }
      if (m.rule.approvalLevel && (m.rule.action === 'REQUIRE_APPROVAL' || m.rule.action === 'ESCALATE')) ruleLevel = Math.max(ruleLevel, m.rule.approvalLevel);
    }
  } catch (e) {
    errors.push({ source: 'rule', message: (e as Error).message });
  }

  for (const layer of input.layers ?? []) {
    try {
      const r = layer({ proposal, facts, risk, now });
      reasons.push(...r.reasons);
      notify.push(...(r.notify ?? []));
      constraints = { ...constraints, ...(r.constraints ?? {}) };
      if (r.approval) mergeApproval(approval, r.approval);
    } catch (e) {
      errors.push({ source: 'policy', message: (e as Error).message });
    }
  }

  let outcome: Outcome;
  let decisive: Reason | null;
  if (errors.length) {
    outcome = 'DENY';
    decisive = { source: 'system', effect: 'DENY', code: 'EVALUATION_ERROR', message: `Evaluation failed, so the action is denied: ${errors[0].message}` };
    reasons.push(decisive);
  } else {
    const autoApproved = reasons.some((r) => r.effect === 'AUTO_APPROVE');
    const pick = (pred: (r: Reason) => boolean) => best(reasons.filter(pred));
    decisive =
      pick((r) => r.effect === 'DENY') ??
      pick((r) => r.effect === 'ESCALATE') ??
      pick((r) => r.effect === 'REQUIRE_APPROVAL' && r.source !== 'risk') ??
      (autoApproved ? null : pick((r) => r.effect === 'REQUIRE_APPROVAL' && r.source === 'risk'));
    outcome = decisive ? (decisive.effect as Outcome) : 'ALLOW';
    if (!decisive) decisive = pick((r) => r.effect === 'AUTO_APPROVE') ?? pick((r) => r.source !== 'risk' && r.effect === 'ALLOW') ?? reasons.find((r) => r.source === 'risk') ?? null;
  }

  const verdict: Verdict = { outcome, decisive, reasons, risk, notify, constraints, errors };
  if (outcome === 'REQUIRE_APPROVAL' || outcome === 'ESCALATE') {
    verdict.approval = { ...approval, startTier: Math.max(outcome === 'ESCALATE' ? 2 : 1, ruleLevel, approval.startTier ?? 0) };
  }
  return verdict;
}

/** Among reasons of one effect: the highest-priority rule first, else the first contributed. */
function best(rs: Reason[]): Reason | null {
  if (rs.length === 0) return null;
  return rs.reduce((a, b) => ((b.priority ?? -Infinity) > (a.priority ?? -Infinity) ? b : a));
}

/** Approvers are a union, quorum the largest asked for, timeout the shortest. */
export function mergeApproval(into: Partial<ApprovalRequest>, add: Partial<ApprovalRequest>): void {
  if (add.approvers?.length) into.approvers = [...new Set([...(into.approvers ?? []), ...add.approvers])];
  if (add.quorum !== undefined) into.quorum = Math.max(into.quorum ?? 0, add.quorum);
  if (add.timeoutSeconds !== undefined) into.timeoutSeconds = Math.min(into.timeoutSeconds ?? Infinity, add.timeoutSeconds);
  if (add.startTier !== undefined) into.startTier = Math.max(into.startTier ?? 0, add.startTier);
}


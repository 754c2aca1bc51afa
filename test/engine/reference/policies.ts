// Frozen copy of engine/policies.ts as it was before the evaluator was optimised (commit c2ed273):
// the reference that test/engine/evaluator-index.test.ts compares the engine's verdicts with.
// Do not optimise or fix this file; it is only the "before" of a differential test.
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import picomatch from 'picomatch';
import { compileCondition } from '../../../engine/conditions';
import type { CompiledCondition } from '../../../engine/conditions';
import { mergeApproval } from './evaluate';
import type { Layer, LayerResult } from './evaluate';
import { getPath } from '../../../engine/paths';
import type { PolicyDef } from '../../../engine/policy-schema';
import type { ApprovalRequest, Facts, Proposal } from '../../../engine/types';

/** A policy that cannot be compiled: names the policy and the field. */
export class PolicyCompileError extends Error {
  readonly code = 'POLICY_INVALID';
  constructor(readonly policyId: string, readonly path: string, message: string) {
    super(message);
    this.name = 'PolicyCompileError';
  }
}

type Matcher = (capability: string) => boolean;

/**
 * Action globs use dots as separators: `payments.*` matches `payments.refund`
 * but not `payments.refund.create`; `payments.**` matches both; `**` matches all.
 */
export function globMatcher(glob: string): Matcher {
  // One compiled RegExp per glob: picomatch's own matcher function does path work per call that action names never need.
  const re = picomatch.makeRe(glob.replace(/\./g, '/'), { dot: true });
  return (capability) => re.test(capability.replace(/\./g, '/'));
}

export function matchAction(glob: string, capability: string): boolean {
  return globMatcher(glob)(capability);
}

/** Several globs as one RegExp alternation: one test per call instead of one per glob. */
const anyOf = (globs: string[] | undefined): Matcher | null => {
  if (!globs || globs.length === 0) return null;
  const re = new RegExp(globs.map((g) => `(?:${picomatch.makeRe(g.replace(/\./g, '/'), { dot: true }).source})`).join('|'));
  return (capability) => re.test(capability.replace(/\./g, '/'));
};

interface CompiledPolicy {
  id: string;
  def: PolicyDef;
  denied: Matcher | null;
  allowed: Matcher | null;
  approvalActions: Matcher | null;
  commit: Matcher | null;
  evidenceActions: Matcher | null;
  actionBudgets: { glob: string; match: Matcher; limit: number }[];
  rateLimits: { index: number; match: Matcher; max: number; windowSeconds: number; per: 'agent' | 'run' | 'session' | 'policy'; action: string }[];
  constraints: { glob: string; match: Matcher; validate: ValidateFunction }[];
  requirements: { match: Matcher; requires: Matcher; requiresText: string; within: 'run' | 'session'; maxAgeSeconds?: number }[];
  grounding: { match: Matcher; parameter: string; evidence: Matcher; evidencePath: string; evidenceAction: string }[];
  approvalRules: { name: string; cond: CompiledCondition; approvers?: string[]; quorum?: number; timeoutSeconds?: number }[];
}

export interface CompiledPolicySet {
  readonly policies: readonly CompiledPolicy[];
}

const ajv = new Ajv({ allErrors: false, strict: false });
addFormats(ajv);

/** Compiles globs, JSON Schemas and conditions once; throws PolicyCompileError naming policy and field. */
export function compilePolicies(defs: (PolicyDef & { id: string })[]): CompiledPolicySet {
  const policies = defs.map((d) => compileOne(d)).sort((a, b) => (b.def.priority ?? 0) - (a.def.priority ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { policies };
}

function compileOne(d: PolicyDef & { id: string }): CompiledPolicy {
  const { id } = d;
  const fail = (path: string, msg: string) => new PolicyCompileError(id, path, `policy "${d.name}": ${path}: ${msg}`);
  const constraints = Object.entries(d.argument_constraints ?? {}).map(([glob, schema]) => {
    try {
      return { glob, match: globMatcher(glob), validate: ajv.compile(schema) };
    } catch (e) {
      throw fail(`argument_constraints.${glob}`, `is not a valid JSON Schema: ${(e as Error).message}`);
    }
  });
  const approvalRules = (d.approval_rules ?? []).map((r, i) => {
    try {
      return { name: r.name, cond: compileCondition(r.conditions, { ruleName: r.name }), approvers: r.approvers, quorum: r.quorum, timeoutSeconds: r.timeout_seconds };
    } catch (e) {
      throw fail(`approval_rules.${i}.conditions`, (e as Error).message);
    }
  });
  return {
    id,
    def: d,
    denied: anyOf(d.denied_actions),
    allowed: anyOf(d.allowed_actions),
    approvalActions: anyOf(d.approval_actions),
    commit: anyOf([...(d.commit_actions ?? []), ...(d.evidence_requirements ?? []).map((r) => r.action)]),
    evidenceActions: anyOf(d.evidence_actions),
    actionBudgets: Object.entries(d.action_budgets ?? {}).map(([glob, limit]) => ({ glob, match: globMatcher(glob), limit })),
    rateLimits: (d.rate_limits ?? []).map((r, index) => ({ index, match: globMatcher(r.action), max: r.max, windowSeconds: r.window_seconds, per: r.per ?? 'agent', action: r.action })),
    constraints,
    requirements: (d.evidence_requirements ?? []).map((r) => ({ match: globMatcher(r.action), requires: anyOf(r.requires) as Matcher, requiresText: r.requires.join(', '), within: r.within ?? 'run', maxAgeSeconds: r.max_age_seconds })),
    grounding: (d.grounding_rules ?? []).map((g) => ({ match: globMatcher(g.action), parameter: g.parameter, evidence: globMatcher(g.evidence_action), evidencePath: g.evidence_path, evidenceAction: g.evidence_action })),
    approvalRules,
  };
}

/** Policies that apply to this proposal: global ones, and those whose target is its agent, run, group or mission. */
export function policiesInScope(set: CompiledPolicySet, p: Proposal): CompiledPolicy[] {
  return set.policies.filter((c) => {
    const d = c.def;
    if (d.is_active === false) return false;
    switch (d.scope ?? 'global') {
      case 'global':
        return true;
      case 'agent':
        return d.target_id === p.actor.id;
      case 'run':
        return !!p.context.runId && d.target_id === p.context.runId;
      case 'group':
        return (p.context.groupIds ?? []).includes(d.target_id ?? '');
      case 'mission':
        return !!p.context.missionId && d.target_id === p.context.missionId;
      default:
        return false;
    }
  });
}

/** A budget or rate counter a proposal would spend; the caller reads and spends it atomically. */
export interface CounterSpec {
  key: string;
  kind: 'budget' | 'rate';
  policyId: string;
  limit: number;
  increment: number;
  windowStart?: number;
  windowSeconds?: number;
  label: string;
}

export interface PolicyUsage {
  counters: Record<string, number>;
  evidence: { capability: string; at: number; runId?: string; sessionId?: string; output?: Record<string, unknown> }[];
  exceptions: { policyId: string; exceptionId: string }[];
}

function amountOf(facts: Facts): number {
  return typeof facts.amount === 'number' && facts.amount > 0 ? facts.amount : 0;
}

function specsFor(c: CompiledPolicy, p: Proposal, facts: Facts, now: number): CounterSpec[] {
  const out: CounterSpec[] = [];
  const amount = amountOf(facts);
  const cap = p.action.capability;
  const run = p.context.runId;
  const session = p.context.sessionId;
  if (amount > 0) {
    if (c.def.run_budget !== undefined && run) out.push({ key: `budget:run:${c.id}:${run}`, kind: 'budget', policyId: c.id, limit: c.def.run_budget, increment: amount, label: `run_budget of run ${run}` });
    if (c.def.session_budget !== undefined && session) out.push({ key: `budget:session:${c.id}:${session}`, kind: 'budget', policyId: c.id, limit: c.def.session_budget, increment: amount, label: `session_budget of session ${session}` });
    for (const b of c.actionBudgets) {
      if (run && b.match(cap)) out.push({ key: `budget:action:${c.id}:${b.glob}:${run}`, kind: 'budget', policyId: c.id, limit: b.limit, increment: amount, label: `action_budgets[${b.glob}] of run ${run}` });
    }
  }
  for (const r of c.rateLimits) {
    if (!r.match(cap)) continue;
    const subject = r.per === 'agent' ? p.actor.id : r.per === 'run' ? run : r.per === 'session' ? session : 'all';
    if (!subject) continue;
    const windowStart = Math.floor(now / (r.windowSeconds * 1000)) * r.windowSeconds * 1000;
    out.push({ key: `rate:${c.id}:${r.index}:${r.per}:${subject}:${windowStart}`, kind: 'rate', policyId: c.id, limit: r.max, increment: 1, windowStart, windowSeconds: r.windowSeconds, label: `rate_limits[${r.index}] ${r.action} (${r.max} per ${r.windowSeconds}s per ${r.per})` });
  }
  return out;
}

/** The counters this proposal would spend, across the policies in scope. Keys are deterministic. */
export function counterSpecs(set: CompiledPolicySet, p: Proposal, facts: Facts, now: number): CounterSpec[] {
  return policiesInScope(set, p).flatMap((c) => specsFor(c, p, facts, now));
}

/** Risk score 0..100 → level: low < 25 ≤ medium < 50 ≤ high < 75 ≤ critical. */
export function riskLevel(score: number): 'low' | 'medium' | 'high' | 'critical' {
  return score < 25 ? 'low' : score < 50 ? 'medium' : score < 75 ? 'high' : 'critical';
}

/**
 * The agent-policy layer for the evaluator. Counters, evidence and exceptions
 * come in as data (`usage`), read by the caller; the layer itself stays pure.
 */
export function policyLayer(set: CompiledPolicySet, usage: PolicyUsage): Layer {
  return ({ proposal: p, facts, now }) => {
    const result: LayerResult = { reasons: [], constraints: {} };
    const budgets: Record<string, number> = {};
    const approval: Partial<ApprovalRequest> = {};
    const cap = p.action.capability;
    for (const c of policiesInScope(set, p)) {
      const name = c.def.name;
      const deny = (code: string, message: string, matched: Record<string, unknown> = { action_type: cap }) => result.reasons.push({ source: 'policy', id: c.id, name, effect: 'DENY', code, message: `Policy "${name}": ${message}`, matched });
      const exception = usage.exceptions.find((e) => e.policyId === c.id);
      if (exception) {
        result.reasons.push({ source: 'exception', id: c.id, name, effect: 'ALLOW', code: 'POLICY_EXCEPTION_APPLIED', message: `Policy "${name}" is waived for this agent or run by exception ${exception.exceptionId}`, matched: { agent_id: p.actor.id, run_id: p.context.runId } });
        continue;
      }
      if (c.denied?.(cap)) deny('ACTION_DENIED_BY_POLICY', `action ${cap} is denied (denied_actions ${c.def.denied_actions?.join(', ')})`);
      if (c.allowed && !c.allowed(cap)) deny('ACTION_NOT_ALLOWED', `action ${cap} is not among allowed_actions (${c.def.allowed_actions?.join(', ')})`);

      for (const s of specsFor(c, p, facts, now)) {
        const current = usage.counters[s.key] ?? 0;
        if (current + s.increment > s.limit) {
          deny(s.kind === 'budget' ? 'BUDGET_EXCEEDED' : 'RATE_LIMIT_EXCEEDED', `${s.kind === 'budget' ? 'budget' : 'rate limit'} ${s.label} is ${s.limit}; ${current} used, this needs ${s.increment}`, { [s.kind === 'budget' ? 'amount' : 'count']: s.increment, used: current, limit: s.limit });
        } else if (s.kind === 'budget') {
          budgets[s.label] = s.limit - current - s.increment;
        }
      }

      const constraint = c.constraints.find((k) => k.match(cap));
      if (constraint && !constraint.validate(p.action.parameters)) {
        const e = constraint.validate.errors?.[0];
        const where = e?.instancePath || '/';
        const detail = e?.keyword === 'required' ? `${(e.params as { missingProperty: string }).missingProperty} is required` : `${where} ${e?.message ?? 'is invalid'}`;
        deny('ARGUMENT_CONSTRAINT_VIOLATED', `parameters of ${cap} break argument_constraints[${constraint.glob}]: ${detail}`, { parameters: p.action.parameters });
      }

      if (c.commit?.(cap)) {
        const reqs = c.requirements.filter((r) => r.match(cap));
        const list = reqs.length ? reqs : [{ requires: c.evidenceActions, requiresText: c.def.evidence_actions?.join(', ') ?? '', within: 'run' as const, maxAgeSeconds: undefined }];
        for (const r of list) {
          const maxAge = r.maxAgeSeconds ?? c.def.evidence_max_age_seconds;
          const same = usage.evidence.filter((e) => (r.within === 'session' ? !!p.context.sessionId && e.sessionId === p.context.sessionId : !!p.context.runId && e.runId === p.context.runId) && !!r.requires && r.requires(e.capability));
          const fresh = same.filter((e) => maxAge === undefined || e.at >= now - maxAge * 1000);
          if (fresh.length === 0) {
            deny(same.length ? 'EVIDENCE_STALE' : 'EVIDENCE_MISSING', same.length ? `commit action ${cap} needs evidence (${r.requiresText}) younger than ${maxAge}s in the same ${r.within}` : `commit action ${cap} needs evidence (${r.requiresText}) in the same ${r.within} first`, { action_type: cap, [`${r.within}_id`]: r.within === 'run' ? p.context.runId : p.context.sessionId });
          }
        }
      }

      for (const g of c.grounding) {
        if (!g.match(cap)) continue;
        const value = getPath(p.action.parameters, g.parameter);
        const produced = usage.evidence.filter((e) => !!p.context.runId && e.runId === p.context.runId && g.evidence(e.capability)).map((e) => getPath(e.output ?? {}, g.evidencePath));
        const ok = value !== undefined && produced.some((v) => (Array.isArray(v) ? v.some((x) => x === value) : v === value));
        if (!ok) deny('UNGROUNDED_PARAMETER', `parameter ${g.parameter}=${JSON.stringify(value ?? null)} does not match what ${g.evidenceAction} produced in this run (${g.evidencePath})`, { [`parameters.${g.parameter}`]: value });
      }

      const asks: { why: string; approvers?: string[]; quorum?: number; timeoutSeconds?: number }[] = [];
      if (c.def.require_approval) asks.push({ why: 'require_approval is set' });
      if (c.approvalActions?.(cap)) asks.push({ why: `action ${cap} is in approval_actions` });
      const tag = (p.context.tags ?? []).find((t) => c.def.approval_tags?.includes(t));
      if (tag) asks.push({ why: `tag ${tag} is in approval_tags` });
      const level = riskLevel(typeof facts.risk_score === 'number' ? facts.risk_score : 0);
      if (c.def.approval_risk_levels?.includes(level)) asks.push({ why: `risk level ${level} is in approval_risk_levels` });
      const amount = amountOf(facts);
      if (c.def.approval_threshold_usd !== undefined && amount >= c.def.approval_threshold_usd) asks.push({ why: `amount ${amount} reaches approval_threshold_usd ${c.def.approval_threshold_usd}` });
      for (const r of c.approvalRules) if (r.cond.test(facts)) asks.push({ why: `approval rule "${r.name}" matched`, approvers: r.approvers, quorum: r.quorum, timeoutSeconds: r.timeoutSeconds });
      for (const a of asks) {
        result.reasons.push({ source: 'policy', id: c.id, name, effect: 'REQUIRE_APPROVAL', code: 'APPROVAL_REQUIRED_BY_POLICY', message: `Policy "${name}" requires approval: ${a.why}` });
        const approvers = a.approvers ?? c.def.default_approvers;
        mergeApproval(approval, { approvers: approvers?.length ? approvers : undefined, quorum: a.quorum ?? c.def.approval_quorum, timeoutSeconds: a.timeoutSeconds ?? c.def.approval_timeout_seconds });
      }
    }
    if (approval.approvers || approval.quorum !== undefined || approval.timeoutSeconds !== undefined) result.approval = approval;
    if (Object.keys(budgets).length) result.constraints = { budgets_remaining: budgets };
    return result;
  };
}



import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import picomatch from 'picomatch';
import { compileCondition } from './conditions';
import type { CompiledCondition } from './conditions';
import { mergeApproval } from './evaluate';
import type { Layer, LayerResult } from './evaluate';
import { getPath } from './paths';
import type { PolicyDef } from './policy-schema';
import type { ApprovalRequest, Facts, Proposal } from './types';

/** A policy that cannot be compiled: names the policy and the field. */
export class PolicyCompileError extends Error {
  readonly code = 'POLICY_INVALID';
  constructor(readonly policyId: string, readonly path: string, message: string) {
    super(message);
    this.name = 'PolicyCompileError';
  }
}

type Matcher = (capability: string) => boolean;
/** Matches a capability already in path form (dots as slashes, see {@link toPath}). */
type PathMatcher = (capabilityPath: string) => boolean;

/** The form picomatch's globs are matched against: `payments.refund` → `payments/refund`. */
const toPath = (capability: string) => capability.replace(/\./g, '/');

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
const anyOfRe = (globs: string[] | undefined): RegExp | null => {
  if (!globs || globs.length === 0) return null;
  return new RegExp(globs.map((g) => `(?:${picomatch.makeRe(g.replace(/\./g, '/'), { dot: true }).source})`).join('|'));
};

const anyOf = (globs: string[] | undefined): Matcher | null => {
  const re = anyOfRe(globs);
  return re && ((capability) => re.test(toPath(capability)));
};

/**
 * The matchers a proposal's own capability goes through take it in path form,
 * converted once per proposal instead of once per glob test.
 */
const anyOfPath = (globs: string[] | undefined): PathMatcher | null => {
  const re = anyOfRe(globs);
  return re && ((path) => re.test(path));
};

function globPathMatcher(glob: string): PathMatcher {
  const re = picomatch.makeRe(glob.replace(/\./g, '/'), { dot: true });
  return (path) => re.test(path);
}

interface CompiledPolicy {
  id: string;
  def: PolicyDef;
  /** Position in the set's order (priority, then id). */
  rank: number;
  // Matchers of the proposal's own capability take it in path form; those of evidence take dotted capabilities.
  denied: PathMatcher | null;
  allowed: PathMatcher | null;
  approvalActions: PathMatcher | null;
  commit: PathMatcher | null;
  evidenceActions: Matcher | null;
  /** Whether the policy has any budget or rate limit, i.e. may spend counters. */
  counts: boolean;
  actionBudgets: { glob: string; match: PathMatcher; limit: number }[];
  rateLimits: { index: number; match: PathMatcher; max: number; windowSeconds: number; per: 'agent' | 'run' | 'session' | 'policy'; action: string }[];
  constraints: { glob: string; match: PathMatcher; validate: ValidateFunction }[];
  requirements: { match: PathMatcher; requires: Matcher; requiresText: string; within: 'run' | 'session'; maxAgeSeconds?: number }[];
  grounding: { match: PathMatcher; parameter: string; evidence: Matcher; evidencePath: string; evidenceAction: string }[];
  approvalRules: { name: string; cond: CompiledCondition; approvers?: string[]; quorum?: number; timeoutSeconds?: number }[];
}

type ByTarget = Map<unknown, CompiledPolicy[]>;

/** The active policies by scope and target, each list in the set's order: a proposal looks up only its own. */
interface ScopeIndex {
  global: CompiledPolicy[];
  agent: ByTarget;
  run: ByTarget;
  /** Keyed by `target_id ?? ''`, as scope matching reads it. */
  group: ByTarget;
  mission: ByTarget;
  /** Every active group-scoped policy, for group ids that are not an array. */
  groupAll: CompiledPolicy[];
}

export interface CompiledPolicySet {
  readonly policies: readonly CompiledPolicy[];
  readonly scopes: ScopeIndex;
}

const ajv = new Ajv({ allErrors: false, strict: false });
addFormats(ajv);

/** Compiles globs, JSON Schemas and conditions once; throws PolicyCompileError naming policy and field. */
export function compilePolicies(defs: (PolicyDef & { id: string })[]): CompiledPolicySet {
  const policies = defs.map((d) => compileOne(d)).sort((a, b) => (b.def.priority ?? 0) - (a.def.priority ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const scopes: ScopeIndex = { global: [], agent: new Map(), run: new Map(), group: new Map(), mission: new Map(), groupAll: [] };
  const add = (m: ByTarget, key: unknown, c: CompiledPolicy) => {
    const list = m.get(key);
    if (list) list.push(c);
    else m.set(key, [c]);
  };
  policies.forEach((c, i) => {
    c.rank = i;
    const d = c.def;
    if (d.is_active === false) return;
    switch (d.scope ?? 'global') {
      case 'global':
        scopes.global.push(c);
        break;
      case 'agent':
        add(scopes.agent, d.target_id, c);
        break;
      case 'run':
        add(scopes.run, d.target_id, c);
        break;
      case 'group':
        add(scopes.group, d.target_id ?? '', c);
        scopes.groupAll.push(c);
        break;
      case 'mission':
        add(scopes.mission, d.target_id, c);
        break;
    }
  });
  return { policies, scopes };
}

function compileOne(d: PolicyDef & { id: string }): CompiledPolicy {
  const { id } = d;
  const fail = (path: string, msg: string) => new PolicyCompileError(id, path, `policy "${d.name}": ${path}: ${msg}`);
  const constraints = Object.entries(d.argument_constraints ?? {}).map(([glob, schema]) => {
    try {
      return { glob, match: globPathMatcher(glob), validate: ajv.compile(schema) };
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
  const actionBudgets = Object.entries(d.action_budgets ?? {}).map(([glob, limit]) => ({ glob, match: globPathMatcher(glob), limit }));
  const rateLimits = (d.rate_limits ?? []).map((r, index) => ({ index, match: globPathMatcher(r.action), max: r.max, windowSeconds: r.window_seconds, per: r.per ?? 'agent', action: r.action }));
  return {
    id,
    def: d,
    rank: 0,
    denied: anyOfPath(d.denied_actions),
    allowed: anyOfPath(d.allowed_actions),
    approvalActions: anyOfPath(d.approval_actions),
    commit: anyOfPath([...(d.commit_actions ?? []), ...(d.evidence_requirements ?? []).map((r) => r.action)]),
    evidenceActions: anyOf(d.evidence_actions),
    counts: d.run_budget !== undefined || d.session_budget !== undefined || actionBudgets.length > 0 || rateLimits.length > 0,
    actionBudgets,
    rateLimits,
    constraints,
    requirements: (d.evidence_requirements ?? []).map((r) => ({ match: globPathMatcher(r.action), requires: anyOf(r.requires) as Matcher, requiresText: r.requires.join(', '), within: r.within ?? 'run', maxAgeSeconds: r.max_age_seconds })),
    grounding: (d.grounding_rules ?? []).map((g) => ({ match: globPathMatcher(g.action), parameter: g.parameter, evidence: globMatcher(g.evidence_action), evidencePath: g.evidence_path, evidenceAction: g.evidence_action })),
    approvalRules,
  };
}

/** Policies that apply to this proposal: global ones, and those whose target is its agent, run, group or mission. */
export function policiesInScope(set: CompiledPolicySet, p: Proposal): CompiledPolicy[] {
  return inScope(set, p).slice();
}

/**
 * {@link policiesInScope} by index lookups instead of a scan of every policy;
 * the answer may be one of the index's own lists, so it is read-only.
 */
function inScope(set: CompiledPolicySet, p: Proposal): readonly CompiledPolicy[] {
  const ix = set.scopes;
  let out: readonly CompiledPolicy[] = ix.global;
  if (ix.agent.size) out = mergeByRank(out, ix.agent.get(p.actor.id));
  if (ix.run.size && p.context.runId) out = mergeByRank(out, ix.run.get(p.context.runId));
  if (ix.group.size) {
    const groups = p.context.groupIds ?? [];
    if (Array.isArray(groups)) {
      for (const g of groups) out = mergeByRank(out, ix.group.get(g));
    } else {
      // Not an array (a malformed proposal): match as the scan always did, whatever `includes` means on it.
      const odd = groups as { includes(x: string): boolean };
      out = mergeByRank(out, ix.groupAll.filter((c) => odd.includes(c.def.target_id ?? '')));
    }
  }
  if (ix.mission.size && p.context.missionId) out = mergeByRank(out, ix.mission.get(p.context.missionId));
  return out;
}

/** Two policy lists in the set's order, merged in that order; a policy in both is kept once. */
function mergeByRank(a: readonly CompiledPolicy[], b: readonly CompiledPolicy[] | undefined): readonly CompiledPolicy[] {
  if (!b || b.length === 0) return a;
  if (a.length === 0) return b;
  const out: CompiledPolicy[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].rank < b[j].rank)) out.push(a[i++]);
    else if (i >= a.length || b[j].rank < a[i].rank) out.push(b[j++]);
    else {
      out.push(a[i++]);
      j++;
    }
  }
  return out;
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

/** The counters one policy would have this proposal spend; `capPath` is the capability in path form. */
function specsFor(c: CompiledPolicy, p: Proposal, facts: Facts, now: number, capPath: () => string): CounterSpec[] {
  const out: CounterSpec[] = [];
  const amount = amountOf(facts);
  const run = p.context.runId;
  const session = p.context.sessionId;
  if (amount > 0) {
    if (c.def.run_budget !== undefined && run) out.push({ key: `budget:run:${c.id}:${run}`, kind: 'budget', policyId: c.id, limit: c.def.run_budget, increment: amount, label: `run_budget of run ${run}` });
    if (c.def.session_budget !== undefined && session) out.push({ key: `budget:session:${c.id}:${session}`, kind: 'budget', policyId: c.id, limit: c.def.session_budget, increment: amount, label: `session_budget of session ${session}` });
    for (const b of c.actionBudgets) {
      if (run && b.match(capPath())) out.push({ key: `budget:action:${c.id}:${b.glob}:${run}`, kind: 'budget', policyId: c.id, limit: b.limit, increment: amount, label: `action_budgets[${b.glob}] of run ${run}` });
    }
  }
  for (const r of c.rateLimits) {
    if (!r.match(capPath())) continue;
    const subject = r.per === 'agent' ? p.actor.id : r.per === 'run' ? run : r.per === 'session' ? session : 'all';
    if (!subject) continue;
    const windowStart = Math.floor(now / (r.windowSeconds * 1000)) * r.windowSeconds * 1000;
    out.push({ key: `rate:${c.id}:${r.index}:${r.per}:${subject}:${windowStart}`, kind: 'rate', policyId: c.id, limit: r.max, increment: 1, windowStart, windowSeconds: r.windowSeconds, label: `rate_limits[${r.index}] ${r.action} (${r.max} per ${r.windowSeconds}s per ${r.per})` });
  }
  return out;
}

/** The capability of a proposal in path form, converted on first use and then remembered. */
function lazyPath(capability: string): () => string {
  let path: string | undefined;
  return () => (path ??= toPath(capability));
}

/** The counters this proposal would spend, across the policies in scope. Keys are deterministic. */
export function counterSpecs(set: CompiledPolicySet, p: Proposal, facts: Facts, now: number): CounterSpec[] {
  const out: CounterSpec[] = [];
  const policies = inScope(set, p);
  if (policies.length === 0) return out;
  const capPath = lazyPath(p.action.capability);
  for (const c of policies) if (c.counts) for (const s of specsFor(c, p, facts, now, capPath)) out.push(s);
  return out;
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
    let budgets: Record<string, number> | null = null;
    const approval: Partial<ApprovalRequest> = {};
    const cap = p.action.capability;
    const capPath = lazyPath(cap);
    // Per proposal, not per policy: the amount and the risk level.
    const amount = amountOf(facts);
    const level = riskLevel(typeof facts.risk_score === 'number' ? facts.risk_score : 0);
    const policies = inScope(set, p);
    for (let pi = 0; pi < policies.length; pi++) {
      const c = policies[pi];
      const name = c.def.name;
      const exception = findException(usage.exceptions, c.id);
      if (exception) {
        result.reasons.push({ source: 'exception', id: c.id, name, effect: 'ALLOW', code: 'POLICY_EXCEPTION_APPLIED', message: `Policy "${name}" is waived for this agent or run by exception ${exception.exceptionId}`, matched: { agent_id: p.actor.id, run_id: p.context.runId } });
        continue;
      }
      if (c.denied?.(capPath())) deny(result, c, 'ACTION_DENIED_BY_POLICY', `action ${cap} is denied (denied_actions ${c.def.denied_actions?.join(', ')})`, { action_type: cap });
      if (c.allowed && !c.allowed(capPath())) deny(result, c, 'ACTION_NOT_ALLOWED', `action ${cap} is not among allowed_actions (${c.def.allowed_actions?.join(', ')})`, { action_type: cap });

      if (c.counts) {
        for (const s of specsFor(c, p, facts, now, capPath)) {
          const current = usage.counters[s.key] ?? 0;
          if (current + s.increment > s.limit) {
            deny(result, c, s.kind === 'budget' ? 'BUDGET_EXCEEDED' : 'RATE_LIMIT_EXCEEDED', `${s.kind === 'budget' ? 'budget' : 'rate limit'} ${s.label} is ${s.limit}; ${current} used, this needs ${s.increment}`, { [s.kind === 'budget' ? 'amount' : 'count']: s.increment, used: current, limit: s.limit });
          } else if (s.kind === 'budget') {
            (budgets ??= {})[s.label] = s.limit - current - s.increment;
          }
        }
      }

      if (c.constraints.length) {
        const constraint = c.constraints.find((k) => k.match(capPath()));
        if (constraint && !constraint.validate(p.action.parameters)) {
          const e = constraint.validate.errors?.[0];
          const where = e?.instancePath || '/';
          const detail = e?.keyword === 'required' ? `${(e.params as { missingProperty: string }).missingProperty} is required` : `${where} ${e?.message ?? 'is invalid'}`;
          deny(result, c, 'ARGUMENT_CONSTRAINT_VIOLATED', `parameters of ${cap} break argument_constraints[${constraint.glob}]: ${detail}`, { parameters: p.action.parameters });
        }
      }

      if (c.commit?.(capPath())) {
        const reqs = c.requirements.filter((r) => r.match(capPath()));
        const list = reqs.length ? reqs : [{ requires: c.evidenceActions, requiresText: c.def.evidence_actions?.join(', ') ?? '', within: 'run' as const, maxAgeSeconds: undefined }];
        for (const r of list) {
          const maxAge = r.maxAgeSeconds ?? c.def.evidence_max_age_seconds;
          const same = usage.evidence.filter((e) => (r.within === 'session' ? !!p.context.sessionId && e.sessionId === p.context.sessionId : !!p.context.runId && e.runId === p.context.runId) && !!r.requires && r.requires(e.capability));
          const fresh = same.filter((e) => maxAge === undefined || e.at >= now - maxAge * 1000);
          if (fresh.length === 0) {
            deny(result, c, same.length ? 'EVIDENCE_STALE' : 'EVIDENCE_MISSING', same.length ? `commit action ${cap} needs evidence (${r.requiresText}) younger than ${maxAge}s in the same ${r.within}` : `commit action ${cap} needs evidence (${r.requiresText}) in the same ${r.within} first`, { action_type: cap, [`${r.within}_id`]: r.within === 'run' ? p.context.runId : p.context.sessionId });
          }
        }
      }

      for (const g of c.grounding) {
        if (!g.match(capPath())) continue;
        const value = getPath(p.action.parameters, g.parameter);
        const produced = usage.evidence.filter((e) => !!p.context.runId && e.runId === p.context.runId && g.evidence(e.capability)).map((e) => getPath(e.output ?? {}, g.evidencePath));
        const ok = value !== undefined && produced.some((v) => (Array.isArray(v) ? v.some((x) => x === value) : v === value));
        if (!ok) deny(result, c, 'UNGROUNDED_PARAMETER', `parameter ${g.parameter}=${JSON.stringify(value ?? null)} does not match what ${g.evidenceAction} produced in this run (${g.evidencePath})`, { [`parameters.${g.parameter}`]: value });
      }

      // Approval triggers, in this order; each is a reason and merges its approval request.
      if (c.def.require_approval) ask(result, approval, c, 'require_approval is set');
      if (c.approvalActions?.(capPath())) ask(result, approval, c, `action ${cap} is in approval_actions`);
      const tags = p.context.tags ?? [];
      // Without approval_tags no tag can match; a tags value that is not an array still goes through `find` as it always did.
      const tag = c.def.approval_tags !== undefined || !Array.isArray(tags) ? (p.context.tags ?? []).find((t) => c.def.approval_tags?.includes(t)) : undefined;
      if (tag) ask(result, approval, c, `tag ${tag} is in approval_tags`);
      if (c.def.approval_risk_levels?.includes(level)) ask(result, approval, c, `risk level ${level} is in approval_risk_levels`);
      if (c.def.approval_threshold_usd !== undefined && amount >= c.def.approval_threshold_usd) ask(result, approval, c, `amount ${amount} reaches approval_threshold_usd ${c.def.approval_threshold_usd}`);
      for (const r of c.approvalRules) if (r.cond.test(facts)) ask(result, approval, c, `approval rule "${r.name}" matched`, r.approvers, r.quorum, r.timeoutSeconds);
    }
    if (approval.approvers || approval.quorum !== undefined || approval.timeoutSeconds !== undefined) result.approval = approval;
    if (budgets) result.constraints = { budgets_remaining: budgets };
    return result;
  };
}

function findException(exceptions: PolicyUsage['exceptions'], policyId: string): PolicyUsage['exceptions'][number] | undefined {
  for (let i = 0; i < exceptions.length; i++) if (exceptions[i].policyId === policyId) return exceptions[i];
  return undefined;
}

function deny(result: LayerResult, c: CompiledPolicy, code: string, message: string, matched: Record<string, unknown>): void {
  result.reasons.push({ source: 'policy', id: c.id, name: c.def.name, effect: 'DENY', code, message: `Policy "${c.def.name}": ${message}`, matched });
}

/** One approval trigger of a policy: its reason, and its approvers, quorum and timeout merged into the request. */
function ask(result: LayerResult, into: Partial<ApprovalRequest>, c: CompiledPolicy, why: string, approvers?: string[], quorum?: number, timeoutSeconds?: number): void {
  const name = c.def.name;
  result.reasons.push({ source: 'policy', id: c.id, name, effect: 'REQUIRE_APPROVAL', code: 'APPROVAL_REQUIRED_BY_POLICY', message: `Policy "${name}" requires approval: ${why}` });
  const who = approvers ?? c.def.default_approvers;
  const q = quorum ?? c.def.approval_quorum;
  const t = timeoutSeconds ?? c.def.approval_timeout_seconds;
  // mergeApproval does nothing without any of the three: skip building its argument.
  if (who?.length || q !== undefined || t !== undefined) mergeApproval(into, { approvers: who?.length ? who : undefined, quorum: q, timeoutSeconds: t });
}



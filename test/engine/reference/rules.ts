// Frozen copy of engine/rules.ts as it was before the evaluator was optimised (commit c2ed273):
// the reference that test/engine/evaluator-index.test.ts compares the engine's verdicts with.
// Do not optimise or fix this file; it is only the "before" of a differential test.
import { compileCondition } from '../../../engine/conditions';
import { compilePath } from '../../../engine/paths';
import type { CompiledCondition } from '../../../engine/conditions';
import type { Facts, Reason, SmartRuleDef } from '../../../engine/types';

export interface CompiledRule {
  readonly def: SmartRuleDef;
  readonly condition: CompiledCondition;
  /** Position in the rule set's evaluation order. */
  readonly order: number;
}

/**
 * Active rules, compiled, by priority (highest first, then id). Rules pinned to
 * an action type (`action_type` / `capability` by value, `$eq` or `$in`) are
 * indexed by it, so a proposal only tries the rules that can match its capability.
 */
export interface CompiledRuleSet {
  readonly rules: readonly CompiledRule[];
  /** The rules that may match facts with this capability, in evaluation order. */
  candidates(capability: string): readonly CompiledRule[];
}

export interface RuleMatch {
  rule: SmartRuleDef;
  reason: Reason;
  notifications?: SmartRuleDef['notifications'];
  approvalLevel?: number;
}

/** A rule whose evaluation threw: carries the rule so the verdict can name it. */
export class RuleEvaluationError extends Error {
  readonly code = 'EVALUATION_ERROR';
  constructor(
    readonly ruleId: string,
    readonly ruleName: string,
    cause: unknown,
  ) {
    super(`rule "${ruleName}" failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'RuleEvaluationError';
  }
}

/**
 * Compiles one rule; use it to validate a rule at save time.
 *
 * @throws ConditionError naming the rule, the path and the operator.
 */
export function compileRule(def: SmartRuleDef, order = 0): CompiledRule {
  return { def, condition: compileCondition(def.conditions, { ruleId: def.id, ruleName: def.name }), order };
}

/** The capabilities a rule is pinned to, or null when it may match any. */
function pinnedCapabilities(conditions: Record<string, unknown>): string[] | null {
  for (const key of ['action_type', 'capability']) {
    const v = conditions[key];
    if (typeof v === 'string') return [v];
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const ops = v as Record<string, unknown>;
      if (typeof ops.$eq === 'string') return [ops.$eq];
      if (Array.isArray(ops.$in) && ops.$in.every((x) => typeof x === 'string')) return ops.$in as string[];
    }
  }
  return null;
}

const CANDIDATE_CACHE_LIMIT = 10_000;
const byPriorityThenId = (a: SmartRuleDef, b: SmartRuleDef) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Compiles the active rules of a set, in a deterministic order: priority
 * descending, then id. Inactive rules are skipped (and not validated).
 *
 * @throws ConditionError for the first invalid active rule, in the order given.
 */
export function compileRuleSet(defs: readonly SmartRuleDef[]): CompiledRuleSet {
  const active = defs.filter((d) => d.isActive);
  const compiled = new Map(active.map((d) => [d, compileRule(d)] as const));
  const rules = [...active].sort(byPriorityThenId).map((d, i): CompiledRule => ({ ...(compiled.get(d) as CompiledRule), order: i }));
  const byCap = new Map<string, CompiledRule[]>();
  const floating: CompiledRule[] = [];
  for (const r of rules) {
    const caps = pinnedCapabilities(r.def.conditions);
    if (!caps) floating.push(r);
    else for (const c of new Set(caps)) byCap.set(c, [...(byCap.get(c) ?? []), r]);
  }
  const cache = new Map<string, CompiledRule[]>();
  return {
    rules,
    candidates(capability) {
      let hit = cache.get(capability);
      if (!hit) {
        hit = [...(byCap.get(capability) ?? []), ...floating].sort((a, b) => a.order - b.order);
        if (cache.size >= CANDIDATE_CACHE_LIMIT) cache.clear();
        cache.set(capability, hit);
      }
      return hit;
    },
  };
}

const SHOW_MAX = 120;

/** A fact value for a message: short, and never throwing (facts may hold anything). */
function show(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? v : v === undefined ? '(missing)' : (JSON.stringify(v) ?? String(v));
  } catch {
    s = '(unprintable)';
  }
  return s.length > SHOW_MAX ? `${s.slice(0, SHOW_MAX - 1)}…` : s;
}

/**
 * Every rule whose conditions hold, in evaluation order, each with its reason:
 * `Rule "X" (priority 100) matched: parameters.amount=75000 → REQUIRE_APPROVAL`.
 *
 * @throws RuleEvaluationError naming the rule, if one throws (the evaluator then denies).
 */
export function evaluateRules(set: CompiledRuleSet, facts: Facts): RuleMatch[] {
  const out: RuleMatch[] = [];
  // The index is keyed by action_type; it is only sound when the facts agree on what the capability is.
  const capability = facts.action_type;
  const indexed = typeof capability === 'string' && (facts.capability === undefined || facts.capability === capability);
  for (const r of indexed ? set.candidates(capability) : set.rules) {
    let matched: Record<string, unknown>;
    try {
      if (!r.condition.test(facts)) continue;
      matched = describeMatch(r.condition, facts);
    } catch (e) {
      throw new RuleEvaluationError(r.def.id, r.def.name, e);
    }
    const what = Object.entries(matched).map(([k, v]) => `${k}=${show(v)}`).join(', ');
    out.push({
      rule: r.def,
      notifications: r.def.notifications,
      approvalLevel: r.def.approvalLevel,
      reason: {
        source: 'rule',
        id: r.def.id,
        name: r.def.name,
        effect: r.def.action,
        code: 'RULE_MATCHED',
        priority: r.def.priority,
        matched,
        message: `Rule "${r.def.name}" (priority ${r.def.priority}) matched${what ? `: ${what}` : ''} → ${r.def.action}`,
      },
    });
  }
  return out;
}

/** describeMatch as engine/conditions.ts had it before the change. */
function describeMatch(c: CompiledCondition, facts: Facts): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of c.paths) out[p] = compilePath(p)(facts);
  return out;
}

import { compileCondition, describeMatch, testWithout } from './conditions';
import type { CompiledCondition, ConditionNode } from './conditions';
import type { Facts, Reason, SmartRuleDef } from './types';

export interface CompiledRule {
  readonly def: SmartRuleDef;
  readonly condition: CompiledCondition;
  /** Position in the rule set's evaluation order. */
  readonly order: number;
  /** The fact the rule is indexed by (`action_type` or `capability`), or null for a rule that may match any capability. */
  readonly pinKey: PinKey | null;
  /** The capabilities the rule is indexed under (empty when not pinned). */
  readonly pins: readonly string[];
  /**
   * The condition without its pinning test, when that test is a plain
   * `$eq` / `$in` of the pins: a rule found through the index for its
   * capability passes that test by construction, so it need not run again.
   */
  readonly rest: ((facts: Facts) => boolean) | null;
}

type PinKey = 'action_type' | 'capability';

/**
 * Active rules, compiled, by priority (highest first, then id). Rules pinned to
 * an action type (`action_type` / `capability` by value, `$eq` or `$in`) are
 * indexed by it, so a proposal only tries the rules that can match its capability.
 */
export interface CompiledRuleSet {
  readonly rules: readonly CompiledRule[];
  /** Pinned rules by capability, each list in evaluation order. */
  readonly byCapability: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Rules pinned to no capability (they may match any), in evaluation order. */
  readonly floating: readonly CompiledRule[];
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
  const condition = compileCondition(def.conditions, { ruleId: def.id, ruleName: def.name });
  const pin = pinnedCapabilities(def.conditions);
  if (!pin) return { def, condition, order, pinKey: null, pins: [], rest: null };
  const node = pinNode(condition.tree, pin.key);
  return { def, condition, order, pinKey: pin.key, pins: pin.caps, rest: node ? testWithout(condition, node) : null };
}

/** The capabilities a rule is pinned to, and by which fact, or null when it may match any. */
function pinnedCapabilities(conditions: Record<string, unknown>): { key: PinKey; caps: string[] } | null {
  for (const key of ['action_type', 'capability'] as const) {
    const v = conditions[key];
    if (typeof v === 'string') return { key, caps: [v] };
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const ops = v as Record<string, unknown>;
      if (typeof ops.$eq === 'string') return { key, caps: [ops.$eq] };
      if (Array.isArray(ops.$in) && ops.$in.every((x) => typeof x === 'string')) return { key, caps: ops.$in as string[] };
    }
  }
  return null;
}

/**
 * The top-level field node that tests `key` and nothing but membership in the
 * pins (a single `$eq` of a string or `$in` of strings), or null.
 */
function pinNode(tree: ConditionNode, key: PinKey): ConditionNode | null {
  const top = tree.kind === 'and' ? tree.children : [tree];
  for (const n of top) {
    if (n.kind !== 'field' || n.path !== key || n.wrap || n.tests.length !== 1) continue;
    const [t] = n.tests;
    if (t.op === '$eq' && typeof t.operand === 'string') return n;
    if (t.op === '$in' && Array.isArray(t.operand) && t.operand.every((x) => typeof x === 'string')) return n;
  }
  return null;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const byPriorityThenId = (a: SmartRuleDef, b: SmartRuleDef) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const NO_RULES: readonly CompiledRule[] = Object.freeze([]);

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
  const byCapability = new Map<string, CompiledRule[]>();
  const floating: CompiledRule[] = [];
  for (const r of rules) {
    if (!r.pinKey) floating.push(r);
    else {
      for (const c of new Set(r.pins)) {
        const list = byCapability.get(c);
        if (list) list.push(r);
        else byCapability.set(c, [r]);
      }
    }
  }
  return {
    rules,
    byCapability,
    floating,
    candidates: (capability) => mergeByOrder(byCapability.get(capability) ?? NO_RULES, floating),
  };
}

/** Two rule lists, each in evaluation order, merged into one in that order. */
function mergeByOrder(a: readonly CompiledRule[], b: readonly CompiledRule[]): CompiledRule[] {
  const out: CompiledRule[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i].order < b[j].order) ? a[i++] : b[j++]);
  return out;
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
  if (typeof capability === 'string' && (facts.capability === undefined || facts.capability === capability)) {
    const pinned = set.byCapability.get(capability) ?? NO_RULES;
    const floating = set.floating;
    // A rule found under this capability passes its pinning test when the fact it pins is this
    // capability, as an own property (what condition paths read).
    const actionTypeHolds = hasOwn(facts, 'action_type');
    const capabilityHolds = facts.capability === capability && hasOwn(facts, 'capability');
    // mergeByOrder, walked in place: no list is built per decision.
    let i = 0;
    let j = 0;
    while (i < pinned.length || j < floating.length) {
      if (j >= floating.length || (i < pinned.length && pinned[i].order < floating[j].order)) {
        const r = pinned[i++];
        const skipPin = r.rest !== null && (r.pinKey === 'action_type' ? actionTypeHolds : capabilityHolds);
        tryRule(r, facts, out, skipPin ? r.rest : null);
      } else tryRule(floating[j++], facts, out, null);
    }
  } else {
    const rules = set.rules;
    for (let i = 0; i < rules.length; i++) tryRule(rules[i], facts, out, null);
  }
  return out;
}

/**
 * Tests one rule (with `test` in place of its whole condition, when given); on
 * a match, appends it with its reason. The message is built only for a match.
 */
function tryRule(r: CompiledRule, facts: Facts, out: RuleMatch[], test: ((facts: Facts) => boolean) | null): void {
  let matched: Record<string, unknown>;
  try {
    if (!(test ?? r.condition.test)(facts)) return;
    matched = describeMatch(r.condition, facts);
  } catch (e) {
    throw new RuleEvaluationError(r.def.id, r.def.name, e);
  }
  const def = r.def;
  let what = '';
  for (const k in matched) what += `${what ? ', ' : ''}${k}=${show(matched[k])}`;
  out.push({
    rule: def,
    notifications: def.notifications,
    approvalLevel: def.approvalLevel,
    reason: {
      source: 'rule',
      id: def.id,
      name: def.name,
      effect: def.action,
      code: 'RULE_MATCHED',
      priority: def.priority,
      matched,
      message: `Rule "${def.name}" (priority ${def.priority}) matched${what ? `: ${what}` : ''} → ${def.action}`,
    },
  });
}

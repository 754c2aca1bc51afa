import { compileCondition, describeMatch } from './conditions';
import type { CompiledCondition } from './conditions';
import type { Facts, Reason, SmartRuleDef } from './types';

export interface CompiledRule {
  readonly def: SmartRuleDef;
  readonly condition: CompiledCondition;
  readonly order: number;
}

/**
 * Active rules, compiled, by priority (highest first, then id). Rules pinned to
 * an action type (`action_type` / `capability` by `$eq` or `$in`) are indexed
 * by it, so a proposal only tries the rules that can match its capability.
 */
export interface CompiledRuleSet {
  readonly rules: readonly CompiledRule[];
  candidates(capability: string): readonly CompiledRule[];
}

export interface RuleMatch {
  rule: SmartRuleDef;
  reason: Reason;
}

/** Compiles one rule (save-time validation); throws ConditionError naming the rule, path and operator. */
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

export function compileRuleSet(defs: readonly SmartRuleDef[]): CompiledRuleSet {
  const sorted = defs.filter((d) => d.isActive).sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rules = sorted.map((d, i) => compileRule(d, i));
  const byCap = new Map<string, CompiledRule[]>();
  const floating: CompiledRule[] = [];
  for (const r of rules) {
    const caps = pinnedCapabilities(r.def.conditions);
    if (!caps) floating.push(r);
    else for (const c of caps) byCap.set(c, [...(byCap.get(c) ?? []), r]);
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

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** Every rule whose conditions hold, in priority order, each with its reason. */
export function evaluateRules(set: CompiledRuleSet, facts: Facts): RuleMatch[] {
  const out: RuleMatch[] = [];
  const capability = typeof facts.action_type === 'string' ? facts.action_type : '';
  for (const r of set.candidates(capability)) {
    if (!r.condition.test(facts)) continue;
    const matched = describeMatch(r.condition, facts);
    const what = Object.entries(matched).map(([k, v]) => `${k}=${show(v)}`).join(', ');
    out.push({
      rule: r.def,
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

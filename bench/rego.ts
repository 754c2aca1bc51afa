// The bench's rule sets and agent policies as one OPA v1 Rego module, for `bench/opa.ts`.
// Translated from each rule's and policy's definition (`def`), not from its Cedar text, so
// the Rego follows what Arbiter evaluates. Only the shapes bench/workload.ts generates are
// supported; anything else throws, so a change there cannot silently skew the comparison.
//
// Decision, as Arbiter combines rules and policies (engine/evaluate.ts, without the risk
// score, which has no counterpart here): any DENY → DENY, else any ESCALATE → ESCALATE,
// else any REQUIRE_APPROVAL → REQUIRE_APPROVAL, else ALLOW (NOTIFY and AUTO_APPROVE never
// change an outcome that the risk layer does not take part in). Every rule is evaluated:
// `reasons` is the set of every matching rule and policy, like Arbiter's reasons.
//
// Each rule body starts with an equality on `input.capability` (and agent policies with one
// on `input.actor.id`; glob denials use `glob.match` with a constant pattern), so OPA's rule
// indexer only evaluates the rules that can apply, as Arbiter's capability index does.
import type { PolicyDef } from '../engine/policy-schema';
import type { Proposal } from '../engine/types';
import type { BenchPolicy, BenchRule } from './workload';

/** The OPA input for a proposal: the Cedar context's fields, plus `parameters.amount`, which Arbiter's amount rules read. */
export interface RegoInput {
  capability: string;
  amount?: number;
  parameters: { amount?: unknown };
  environment?: string;
  target?: string;
  data_classes: string[];
  actor: { id: string };
}

/** Mirrors engine/facts.ts for the fields the rules and policies read. */
export function regoInput(p: Proposal): RegoInput {
  const paramAmount = p.action.parameters.amount;
  const amount = p.amount ?? (typeof paramAmount === 'number' && Number.isFinite(paramAmount) ? paramAmount : undefined);
  return {
    capability: p.action.capability,
    ...(amount === undefined ? {} : { amount }),
    parameters: paramAmount === undefined ? {} : { amount: paramAmount },
    ...(p.environment === undefined ? {} : { environment: p.environment }),
    ...(p.target === undefined ? {} : { target: p.target }),
    data_classes: p.dataClasses,
    actor: { id: p.actor.id },
  };
}

const str = (s: string) => JSON.stringify(s);
const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A RE2 pattern that is `^` and a literal: then `startswith` says the same, cheaper. */
const LITERAL_PREFIX = /^\^([A-Za-z0-9_\- ]*)$/;
/** Fact path → input reference, for the paths the bench's rules use. */
const INPUT_REF: Record<string, string> = {
  action_type: 'input.capability',
  capability: 'input.capability',
  'parameters.amount': 'input.parameters.amount',
  amount: 'input.amount',
  environment: 'input.environment',
  target: 'input.target',
  data_classes: 'input.data_classes',
  agent_id: 'input.actor.id',
};

function fieldExprs(path: string, cond: unknown, ruleId: string): string[] {
  const ref = INPUT_REF[path];
  if (!ref) throw new Error(`${ruleId}: no Rego translation for the fact path ${path}`);
  if (typeof cond === 'string' || typeof cond === 'number') return [`${ref} == ${JSON.stringify(cond)}`];
  if (!isPlain(cond)) throw new Error(`${ruleId}: ${path}: unsupported condition ${JSON.stringify(cond)}`);
  const out: string[] = [];
  for (const [op, operand] of Object.entries(cond)) {
    if (op === '$eq' && (typeof operand === 'string' || typeof operand === 'number')) out.push(`${ref} == ${JSON.stringify(operand)}`);
    else if (['$gt', '$gte', '$lt', '$lte'].includes(op) && typeof operand === 'number') {
      // Arbiter orders numbers only with numbers; Rego would order a string after any number.
      out.push(`is_number(${ref})`, `${ref} ${{ $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }[op]} ${operand}`);
    } else if (op === '$in' && Array.isArray(operand) && operand.every((x) => typeof x === 'string')) {
      out.push(`${ref} in {${[...new Set(operand as string[])].map(str).join(', ')}}`);
    } else if (op === '$contains' && typeof operand === 'string') {
      // The bench's array facts (data_classes): an element equal to the operand.
      out.push(`${str(operand)} in ${ref}`);
    } else if (op === '$regex' && typeof operand === 'string' && cond.$options === undefined) {
      const lit = LITERAL_PREFIX.exec(operand);
      out.push(lit ? `startswith(${ref}, ${str(lit[1])})` : `regex.match(${str(operand)}, ${ref})`);
    } else {
      throw new Error(`${ruleId}: ${path}: no Rego translation for ${op} ${JSON.stringify(operand)}`);
    }
  }
  return out;
}

/** The body of one rule, the capability equality first. */
function ruleBody(r: BenchRule): string[] {
  const entries = Object.entries(r.def.conditions);
  entries.sort(([a], [b]) => Number(b === 'action_type' || b === 'capability') - Number(a === 'action_type' || a === 'capability'));
  return entries.flatMap(([path, cond]) => {
    if (path.startsWith('$')) throw new Error(`${r.def.id}: no Rego translation for ${path}`);
    return fieldExprs(path, cond, r.def.id);
  });
}

/** An action glob (dots separate segments, `*` one segment, `**` any) as a Rego test on input.capability. */
function globExpr(glob: string): string {
  return /[*?[\]{}]/.test(glob) ? `glob.match(${str(glob)}, ["."], input.capability)` : `input.capability == ${str(glob)}`;
}

function scopeExprs(def: PolicyDef & { id: string }): string[] {
  const scope = def.scope ?? 'global';
  if (scope === 'global') return [];
  if (scope === 'agent' && def.target_id) return [`input.actor.id == ${str(def.target_id)}`];
  throw new Error(`${def.id}: no Rego translation for scope ${scope}`);
}

const SUPPORTED_POLICY_KEYS = new Set(['id', 'name', 'is_active', 'scope', 'target_id', 'priority', 'denied_actions', 'approval_threshold_usd']);

function rule(head: Record<string, string | number>, body: string[], comment: string): string {
  const h = `{${Object.entries(head).map(([k, v]) => `${str(k)}: ${JSON.stringify(v)}`).join(', ')}}`;
  return `# ${comment}\nreasons contains ${h} if {\n${body.map((e) => `\t${e}`).join('\n')}\n}\n`;
}

/** One Rego module (`package arbiter`) for a rule set and, optionally, agent policies. */
export function regoModule(rules: readonly BenchRule[], policies: readonly BenchPolicy[] = []): string {
  const parts: string[] = [
    `# Generated by bench/rego.ts from bench/workload.ts: ${rules.length} rules, ${policies.length} agent policies.`,
    'package arbiter',
    '',
    '# The outcome, as Arbiter combines rule and policy effects (risk score aside).',
    'default decision := "ALLOW"',
    '',
    'decision := "DENY" if {',
    '\t"DENY" in effects',
    '} else := "ESCALATE" if {',
    '\t"ESCALATE" in effects',
    '} else := "REQUIRE_APPROVAL" if {',
    '\t"REQUIRE_APPROVAL" in effects',
    '}',
    '',
    'effects contains r.effect if some r in reasons',
    '',
  ];
  for (const r of rules) {
    if (!r.def.isActive) continue;
    parts.push(rule({ id: r.def.id, effect: r.def.action, priority: r.def.priority }, ruleBody(r), `${r.def.name} (priority ${r.def.priority})`));
  }
  for (const p of policies) {
    const d = p.def;
    if (d.is_active === false) continue;
    const odd = Object.keys(d).filter((k) => !SUPPORTED_POLICY_KEYS.has(k));
    if (odd.length) throw new Error(`${d.id}: no Rego translation for ${odd.join(', ')}`);
    const scope = scopeExprs(d);
    for (const g of d.denied_actions ?? []) {
      parts.push(rule({ id: d.id, effect: 'DENY', code: 'ACTION_DENIED_BY_POLICY' }, [...scope, globExpr(g)], `${d.name}: denied_actions ${g}`));
    }
    if (d.approval_threshold_usd !== undefined) {
      // Arbiter's amountOf: a positive number, else 0; so a threshold of 0 or less always asks.
      const t = d.approval_threshold_usd;
      const body = t > 0 ? [...scope, 'is_number(input.amount)', `input.amount >= ${t}`] : scope.length ? scope : ['true'];
      parts.push(rule({ id: d.id, effect: 'REQUIRE_APPROVAL', code: 'APPROVAL_REQUIRED_BY_POLICY' }, body, `${d.name}: approval_threshold_usd ${d.approval_threshold_usd}`));
    }
  }
  return parts.join('\n');
}

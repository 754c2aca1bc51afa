import RE2 from 're2';
import { compilePath, pathProblem } from './paths';
import type { Facts } from './types';

/**
 * Conditions (seed 002): `{ "action_type": "trade_execution", "parameters.amount": {"$gte": 50000} }`.
 *
 * Parsed and validated once into a tree of closures, then evaluated
 * synchronously and totally (never throws on any facts). Semantics:
 * - Keys are dotted fact paths; a plain value means `$eq`; an object of `$op`
 *   keys means all of them (AND). `$and` / `$or` take non-empty arrays of
 *   conditions, `$not` one condition; they nest anywhere a condition may stand.
 * - A missing path (undefined) satisfies only `$exists: false`, `$ne` and `$nin`.
 * - Ordering ($gt $gte $lt $lte) compares number with number, and string with
 *   string: as instants when both are ISO-8601 dates, else lexicographically.
 *   Any other pair is not comparable and the operator is false ("10" is not 10).
 * - `$eq` is deep equality; an array fact also equals a scalar it contains.
 *   `$ne` is its negation. `$in` holds when the fact equals a listed value, or
 *   an array fact shares one; `$nin` is its negation.
 * - `$contains`: substring of a string fact, or an element of an array fact.
 * - `$regex` runs on RE2 (linear time, no backtracking); `$options: "i"`
 *   makes it case-insensitive; an array fact matches when any string element does.
 * - Time of day: a lower bound ($gt/$gte) above an upper bound ($lt/$lte), both
 *   "HH:MM", means the range across midnight, so
 *   `{"time_of_day": {"$gte": "18:00", "$lte": "06:00"}}` is after hours.
 */

export class ConditionError extends Error {
  readonly code = 'CONDITION_INVALID';
  constructor(readonly rule: string, readonly path: string, readonly operator: string, detail: string) {
    super(`${rule ? `rule "${rule}"` : 'condition'}: ${path ? `${path}: ` : ''}${operator ? `${operator} ` : ''}${detail}`);
    this.name = 'ConditionError';
  }
}

export interface CompiledCondition {
  readonly test: (facts: Facts) => boolean;
  /** Every fact path the condition reads. */
  readonly paths: readonly string[];
}

type Pred = (facts: Facts) => boolean;
type ValuePred = (v: unknown) => boolean;

const FIELD_OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$contains', '$regex', '$options', '$exists']);
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Deep equality over JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

function isoTime(s: string): number | null {
  if (!ISO.test(s)) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** The one comparison: a number, or null when the pair is not comparable. */
export function compare(a: unknown, b: unknown): number | null {
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) || Number.isNaN(b) ? null : a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const ta = isoTime(a);
    const tb = ta === null ? null : isoTime(b);
    if (ta !== null && tb !== null) return ta - tb;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return null;
}

const eqValue = (fact: unknown, operand: unknown): boolean =>
  deepEqual(fact, operand) || (Array.isArray(fact) && !Array.isArray(operand) && fact.some((x) => deepEqual(x, operand)));

const inValue = (fact: unknown, list: unknown[]): boolean =>
  list.some((x) => deepEqual(fact, x)) || (Array.isArray(fact) && fact.some((f) => list.some((x) => deepEqual(f, x))));

interface Ctx {
  rule: string;
  paths: Set<string>;
}

/** Compiles a condition document once; throws ConditionError naming the rule, path and operator. */
export function compileCondition(doc: unknown, opts: { ruleId?: string; ruleName?: string } = {}): CompiledCondition {
  const ctx: Ctx = { rule: opts.ruleName ?? opts.ruleId ?? '', paths: new Set() };
  const test = compileDoc(doc, ctx, '');
  return { test, paths: [...ctx.paths] };
}

function compileDoc(doc: unknown, ctx: Ctx, where: string): Pred {
  if (!isPlainObject(doc)) throw new ConditionError(ctx.rule, where, '', `a condition must be an object, got ${kind(doc)}`);
  const preds: Pred[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) throw new ConditionError(ctx.rule, where, key, 'expects a non-empty array of conditions');
      const subs = value.map((v, i) => compileDoc(v, ctx, `${where}${where ? '.' : ''}${key}.${i}`));
      preds.push(key === '$and' ? (f) => subs.every((p) => p(f)) : (f) => subs.some((p) => p(f)));
    } else if (key === '$not') {
      const sub = compileDoc(value, ctx, `${where}${where ? '.' : ''}$not`);
      preds.push((f) => !sub(f));
    } else if (key.startsWith('$')) {
      throw new ConditionError(ctx.rule, where, key, 'is not a known operator here (use $and, $or, $not, or a fact path)');
    } else {
      const problem = pathProblem(key);
      if (problem) throw new ConditionError(ctx.rule, key, '', problem);
      ctx.paths.add(key);
      preds.push(compileField(key, value, ctx));
    }
  }
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0];
  return (f) => {
    for (const p of preds) if (!p(f)) return false;
    return true;
  };
}

function compileField(path: string, spec: unknown, ctx: Ctx): Pred {
  const get = compilePath(path);
  const isOps = isPlainObject(spec) && Object.keys(spec).length > 0 && Object.keys(spec).every((k) => k.startsWith('$'));
  if (isPlainObject(spec) && Object.keys(spec).some((k) => k.startsWith('$')) && !isOps) {
    throw new ConditionError(ctx.rule, path, '', 'mixes operators with plain keys');
  }
  if (isPlainObject(spec) && Object.keys(spec).length === 0) throw new ConditionError(ctx.rule, path, '', 'has an empty operator object');
  if (!isOps) return (f) => { const v = get(f); return v !== undefined && eqValue(v, spec); };

  const ops = spec as Record<string, unknown>;
  for (const op of Object.keys(ops)) if (!FIELD_OPS.has(op)) throw new ConditionError(ctx.rule, path, op, 'is not a known operator');
  if ('$options' in ops && !('$regex' in ops)) throw new ConditionError(ctx.rule, path, '$options', 'needs a $regex beside it');

  const checks: { op: string; fn: ValuePred; missing: boolean }[] = [];
  for (const [op, operand] of Object.entries(ops)) {
    if (op === '$options') continue;
    checks.push({ op, ...compileOp(path, op, operand, ops, ctx) });
  }

  const lower = checks.find((c) => c.op === '$gt' || c.op === '$gte');
  const upper = checks.find((c) => c.op === '$lt' || c.op === '$lte');
  const wraps = !!lower && !!upper && typeof ops[lower.op] === 'string' && typeof ops[upper.op] === 'string' && HHMM.test(ops[lower.op] as string) && HHMM.test(ops[upper.op] as string) && (ops[lower.op] as string) > (ops[upper.op] as string);
  if (wraps && lower && upper) {
    const rest = checks.filter((c) => c !== lower && c !== upper);
    return (f) => {
      const v = get(f);
      if (v === undefined) return false;
      if (!(lower.fn(v) || upper.fn(v))) return false;
      for (const c of rest) if (!c.fn(v)) return false;
      return true;
    };
  }
  if (checks.length === 1) {
    const [c] = checks;
    return (f) => { const v = get(f); return v === undefined ? c.missing : c.fn(v); };
  }
  return (f) => {
    const v = get(f);
    for (const c of checks) if (!(v === undefined ? c.missing : c.fn(v))) return false;
    return true;
  };
}

/** The operator registry: each returns its value predicate and its answer for a missing fact. */
function compileOp(path: string, op: string, operand: unknown, ops: Record<string, unknown>, ctx: Ctx): { fn: ValuePred; missing: boolean } {
  const fail = (detail: string) => new ConditionError(ctx.rule, path, op, detail);
  switch (op) {
    case '$eq':
      return { fn: (v) => eqValue(v, operand), missing: false };
    case '$ne':
      return { fn: (v) => !eqValue(v, operand), missing: true };
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (!(typeof operand === 'number' && !Number.isNaN(operand)) && typeof operand !== 'string') throw fail(`expects a number or string, got ${kind(operand)}`);
      const test = op === '$gt' ? (c: number) => c > 0 : op === '$gte' ? (c: number) => c >= 0 : op === '$lt' ? (c: number) => c < 0 : (c: number) => c <= 0;
      return { fn: (v) => { const c = compare(v, operand); return c !== null && test(c); }, missing: false };
    }
    case '$in':
    case '$nin': {
      if (!Array.isArray(operand)) throw fail(`expects an array, got ${kind(operand)}`);
      const list = operand as unknown[];
      const scalars = list.every((x) => x === null || typeof x !== 'object') ? new Set(list) : null;
      const has = scalars ? (v: unknown) => (v === null || typeof v !== 'object' ? scalars.has(v) : Array.isArray(v) && v.some((x) => scalars.has(x))) : (v: unknown) => inValue(v, list);
      return op === '$in' ? { fn: has, missing: false } : { fn: (v) => !has(v), missing: true };
    }
    case '$contains': {
      if (operand === null || typeof operand === 'object') throw fail(`expects a string, number or boolean, got ${kind(operand)}`);
      return { fn: (v) => (typeof v === 'string' ? typeof operand === 'string' && v.includes(operand) : Array.isArray(v) && v.some((x) => x === operand)), missing: false };
    }
    case '$regex': {
      if (typeof operand !== 'string') throw fail(`expects a pattern string, got ${kind(operand)}`);
      const options = ops.$options;
      if (options !== undefined && (typeof options !== 'string' || !/^i?$/.test(options))) throw new ConditionError(ctx.rule, path, '$options', 'only "i" (case-insensitive) is supported');
      let re: RE2;
      try {
        re = new RE2(operand, options === 'i' ? 'iu' : 'u');
      } catch (e) {
        throw fail(`pattern /${operand}/ is not valid RE2 (no backreferences or lookaround): ${(e as Error).message}`);
      }
      return { fn: (v) => (typeof v === 'string' ? re.test(v) : Array.isArray(v) && v.some((x) => typeof x === 'string' && re.test(x))), missing: false };
    }
    case '$exists': {
      if (typeof operand !== 'boolean') throw fail(`expects true or false, got ${kind(operand)}`);
      return { fn: () => operand, missing: !operand };
    }
    default:
      throw fail('is not a known operator');
  }
}

/** The fact values (path → value) a condition looked at: the "why" of a match. */
export function describeMatch(c: CompiledCondition, facts: Facts): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of c.paths) out[p] = compilePath(p)(facts);
  return out;
}

/** Convenience for one-off checks. */
export function matches(c: CompiledCondition, facts: Facts): boolean {
  return c.test(facts);
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition } from '../../engine/conditions';
import { prng } from '../helpers/prng';

/*
 * Differential test: the compiled matcher against a deliberately naive reference
 * interpreter written from the documented semantics (engine/conditions.ts), which
 * walks the document on every call and uses JS RegExp on a safe set of patterns.
 */

type J = unknown;

function refGet(obj: J, path: string): J {
  let cur: J = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(seg in (cur as object))) return undefined;
    cur = (cur as Record<string, J>)[seg];
  }
  return cur;
}

function refEqual(a: J, b: J): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b)) && (a === undefined) === (b === undefined);
}
function sortKeys(v: J): J {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, J>)[k])]));
  return v;
}

const isoLike = (s: string) => /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s));

function refCompare(a: J, b: J): number | null {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    if (isoLike(a) && isoLike(b)) return Date.parse(a) - Date.parse(b);
    return a === b ? 0 : a < b ? -1 : 1;
  }
  return null;
}

function refEq(fact: J, operand: J): boolean {
  if (refEqual(fact, operand)) return true;
  return Array.isArray(fact) && !Array.isArray(operand) && fact.some((x) => refEqual(x, operand));
}

function refIn(fact: J, list: J[]): boolean {
  if (list.some((x) => refEqual(fact, x))) return true;
  return Array.isArray(fact) && fact.some((f) => list.some((x) => refEqual(f, x)));
}

function refOp(op: string, fact: J, operand: J, options: J): boolean {
  const missing = fact === undefined;
  switch (op) {
    case '$eq': return !missing && refEq(fact, operand);
    case '$ne': return missing || !refEq(fact, operand);
    case '$gt': { const c = missing ? null : refCompare(fact, operand); return c !== null && c > 0; }
    case '$gte': { const c = missing ? null : refCompare(fact, operand); return c !== null && c >= 0; }
    case '$lt': { const c = missing ? null : refCompare(fact, operand); return c !== null && c < 0; }
    case '$lte': { const c = missing ? null : refCompare(fact, operand); return c !== null && c <= 0; }
    case '$in': return !missing && refIn(fact, operand as J[]);
    case '$nin': return missing || !refIn(fact, operand as J[]);
    case '$contains':
      if (typeof fact === 'string') return typeof operand === 'string' && fact.includes(operand);
      return Array.isArray(fact) && fact.some((x) => x === operand);
    case '$regex': {
      const re = new RegExp(operand as string, options === 'i' ? 'i' : '');
      if (typeof fact === 'string') return re.test(fact);
      return Array.isArray(fact) && fact.some((x) => typeof x === 'string' && re.test(x));
    }
    case '$exists': return (fact !== undefined) === operand;
    default: throw new Error(op);
  }
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function refMatch(cond: Record<string, J>, facts: J): boolean {
  for (const [key, value] of Object.entries(cond)) {
    if (key === '$and') { if (!(value as Record<string, J>[]).every((c) => refMatch(c, facts))) return false; continue; }
    if (key === '$or') { if (!(value as Record<string, J>[]).some((c) => refMatch(c, facts))) return false; continue; }
    if (key === '$not') { if (refMatch(value as Record<string, J>, facts)) return false; continue; }
    const fact = refGet(facts, key);
    const isOps = value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => k.startsWith('$'));
    if (!isOps) { if (!refOp('$eq', fact, value, undefined)) return false; continue; }
    const ops = value as Record<string, J>;
    const lowerOp = '$gt' in ops ? '$gt' : '$gte' in ops ? '$gte' : null;
    const upperOp = '$lt' in ops ? '$lt' : '$lte' in ops ? '$lte' : null;
    const wrap = lowerOp && upperOp && typeof ops[lowerOp] === 'string' && typeof ops[upperOp] === 'string' && HHMM.test(ops[lowerOp] as string) && HHMM.test(ops[upperOp] as string) && (ops[lowerOp] as string) > (ops[upperOp] as string);
    for (const [op, operand] of Object.entries(ops)) {
      if (op === '$options') continue;
      if (wrap && (op === lowerOp || op === upperOp)) continue;
      if (!refOp(op, fact, operand, ops.$options)) return false;
    }
    if (wrap && !(fact !== undefined && (refOp(lowerOp, fact, ops[lowerOp], undefined) || refOp(upperOp, fact, ops[upperOp], undefined)))) return false;
  }
  return true;
}

const PATHS = ['a', 'b', 'c.d', 'c.e', 'arr', 'arr.0', 't', 'missing'];
const SCALARS: J[] = [0, 1, 2, -1, 3.5, 10, 'x', 'y', 'xy', 'X', '10', '2', '', '2026-01-01T00:00:00Z', '2026-06-01', '06:00', '18:00', '12:00', '23:15', true, false, null];
const PATTERNS = ['^x', 'y$', 'x.*y', '[0-9]', '^1', 'X', '^$', '^\\d{4}-'];

describe('compiled matcher agrees with a slow reference interpreter', () => {
  it('on 100,000 random conditions and facts', () => {
    const rnd = prng(20261122);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const value = (): J => (rnd() < 0.2 ? [pick(SCALARS), pick(SCALARS)] : pick(SCALARS));
    const fieldSpec = (): J => {
      const r = rnd();
      if (r < 0.15) return value();
      const ops: Record<string, J> = {};
      const n = 1 + Math.floor(rnd() * 2);
      for (let i = 0; i < n; i++) {
        const op = pick(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$contains', '$regex', '$exists']);
        if (op === '$in' || op === '$nin') ops[op] = [pick(SCALARS), pick(SCALARS), pick(SCALARS)];
        else if (op === '$regex') { ops[op] = pick(PATTERNS); if (rnd() < 0.3) ops.$options = 'i'; }
        else if (op === '$exists') ops[op] = rnd() < 0.5;
        else if (op === '$contains') ops[op] = pick(['x', 'y', 1, 2, true, '']);
        else if (op.startsWith('$g') || op.startsWith('$l')) ops[op] = pick([0, 1, 2, 10, 'x', 'y', '10', '06:00', '18:00', '12:00', '2026-03-01T00:00:00Z']);
        else ops[op] = value();
      }
      return ops;
    };
    const cond = (depth: number): Record<string, J> => {
      const c: Record<string, J> = {};
      const n = 1 + Math.floor(rnd() * 2);
      for (let i = 0; i < n; i++) {
        const r = rnd();
        if (depth < 2 && r < 0.12) c.$or = [cond(depth + 1), cond(depth + 1)];
        else if (depth < 2 && r < 0.2) c.$and = [cond(depth + 1), cond(depth + 1)];
        else if (depth < 2 && r < 0.26) c.$not = cond(depth + 1);
        else c[pick(PATHS)] = fieldSpec();
      }
      return c;
    };
    const facts = (): J => {
      const f: Record<string, J> = {};
      if (rnd() < 0.9) f.a = value();
      if (rnd() < 0.9) f.b = value();
      if (rnd() < 0.8) f.c = rnd() < 0.1 ? 'flat' : { d: value(), ...(rnd() < 0.5 ? { e: value() } : {}) };
      if (rnd() < 0.7) f.arr = [pick(SCALARS), pick(SCALARS)];
      if (rnd() < 0.7) f.t = pick(['00:30', '05:59', '06:00', '12:00', '17:59', '18:00', '23:15']);
      return f;
    };

    const N = 100_000;
    let matched = 0;
    for (let i = 0; i < N; i++) {
      const c = cond(0);
      const f = facts();
      const compiled = compileCondition(c);
      const want = refMatch(c, f);
      const got = compiled.test(f as Record<string, unknown>);
      if (got !== want) assert.fail(`case ${i} disagrees: condition ${JSON.stringify(c)} facts ${JSON.stringify(f)}: compiled ${got}, reference ${want}`);
      if (got) matched += 1;
    }
    console.log(`differential: ${N} cases agree (${matched} matched, ${N - matched} did not)`);
    assert.ok(matched > N * 0.05 && matched < N * 0.95, `a useful mix of outcomes: ${matched} of ${N} matched`);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition } from '../../engine/conditions';
import { prng } from '../helpers/prng';

/*
 * Differential test: the compiled matcher against a deliberately naive
 * reference interpreter written here from the semantics documented in
 * engine/conditions.ts. The reference compiles nothing: it walks the document
 * on every call, compares by canonical JSON, parses dates with Date.UTC and a
 * round-trip check, and runs patterns on JS RegExp (safe here: the generated
 * patterns are a fixed, backtracking-free set).
 */

type J = unknown;
type Doc = Record<string, J>;

const own = (o: object, k: string) => Object.keys(o).includes(k);

function refGet(facts: J, path: string): J {
  let cur: J = facts;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !own(cur, seg)) return undefined;
    cur = (cur as Record<string, J>)[seg];
  }
  return cur;
}

function canon(v: J): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon((v as Doc)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}
const same = (a: J, b: J) => canon(a) === canon(b);

function refInstant(s: string): number | null {
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(Z|z|[+-]\d\d:?\d\d)?)?$/.exec(s);
  if (!m || (m[7] !== undefined && m[7].length > 9)) return null;
  const n = (x: string | undefined) => (x === undefined ? 0 : parseInt(x, 10));
  const [y, mo, d, h, mi, se] = [n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), n(m[6])];
  const ms = m[7] === undefined ? 0 : Math.floor(parseFloat(`0.${m[7]}`) * 1000 + 1e-9);
  if (h > 23 || mi > 59 || se > 59) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, se, ms);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  let off = 0;
  if (m[8] && m[8].toUpperCase() !== 'Z') {
    const z = m[8].replace(':', '');
    const [oh, om] = [n(z.slice(1, 3)), n(z.slice(3, 5))];
    if (oh > 23 || om > 59) return null;
    off = (z[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return t - off;
}

function refOrder(a: J, b: J): number | null {
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a !== 'string' || typeof b !== 'string') return null;
  const [ta, tb] = [refInstant(a), refInstant(b)];
  if (ta !== null && tb !== null) return Math.sign(ta - tb);
  return a === b ? 0 : a < b ? -1 : 1;
}

const refEq = (fact: J, v: J) => same(fact, v) || (Array.isArray(fact) && !Array.isArray(v) && fact.some((x) => same(x, v)));
const refIn = (fact: J, list: J[]) => list.some((v) => same(fact, v)) || (Array.isArray(fact) && fact.some((x) => list.some((v) => same(x, v))));

function refOp(op: string, fact: J, operand: J, options: J): boolean {
  if (fact === undefined) return (op === '$exists' && operand === false) || op === '$ne' || op === '$nin';
  switch (op) {
    case '$eq': return refEq(fact, operand);
    case '$ne': return !refEq(fact, operand);
    case '$gt': return (refOrder(fact, operand) ?? -2) === 1;
    case '$gte': return [0, 1].includes(refOrder(fact, operand) ?? -2);
    case '$lt': return (refOrder(fact, operand) ?? 2) === -1;
    case '$lte': return [0, -1].includes(refOrder(fact, operand) ?? 2);
    case '$in': return refIn(fact, operand as J[]);
    case '$nin': return !refIn(fact, operand as J[]);
    case '$contains':
      if (typeof fact === 'string') return typeof operand === 'string' && fact.indexOf(operand) >= 0;
      return Array.isArray(fact) && fact.includes(operand);
    case '$regex': {
      const re = new RegExp(operand as string, options === 'i' ? 'i' : '');
      const strings = typeof fact === 'string' ? [fact] : Array.isArray(fact) ? fact.filter((x): x is string => typeof x === 'string') : [];
      return strings.some((s) => re.test(s));
    }
    case '$exists': return operand === true;
    default: throw new Error(`reference does not know ${op}`);
  }
}

const isHHMM = (v: J): v is string => typeof v === 'string' && /^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(v);

function refField(fact: J, spec: J): boolean {
  const isOps = spec !== null && typeof spec === 'object' && !Array.isArray(spec) && Object.keys(spec).some((k) => k.startsWith('$'));
  if (!isOps) return refOp('$eq', fact, spec, undefined);
  const ops = spec as Doc;
  const lowers = ['$gt', '$gte'].filter((k) => own(ops, k));
  const uppers = ['$lt', '$lte'].filter((k) => own(ops, k));
  const wrap = lowers.length === 1 && uppers.length === 1 && isHHMM(ops[lowers[0]]) && isHHMM(ops[uppers[0]]) && (ops[lowers[0]] as string) > (ops[uppers[0]] as string);
  let ok = true;
  for (const op of Object.keys(ops)) {
    if (op === '$options' || (wrap && (op === lowers[0] || op === uppers[0]))) continue;
    ok = ok && refOp(op, fact, ops[op], ops.$options);
  }
  if (wrap) ok = ok && (refOp(lowers[0], fact, ops[lowers[0]], undefined) || refOp(uppers[0], fact, ops[uppers[0]], undefined));
  return ok;
}

function refMatch(doc: Doc, facts: J): boolean {
  return Object.keys(doc).every((key) => {
    const v = doc[key];
    if (key === '$and') return (v as Doc[]).every((d) => refMatch(d, facts));
    if (key === '$or') return (v as Doc[]).some((d) => refMatch(d, facts));
    if (key === '$not') return !refMatch(v as Doc, facts);
    return refField(refGet(facts, key), v);
  });
}

// A small vocabulary, so that generated facts and operands often meet.
const PATHS = ['a', 'b', 'c', 'c.d', 'c.e', 'arr', 'arr.0', 'arr.1', 't', 'when', 'a.x', 'missing'];
const DATES = ['2026-01-01T00:00:00Z', '2026-06-01', '2026-03-23T12:00:00+02:00', '2026-03-23T10:00:00Z', '2026-03-23T10:00', '2026-02-30', '2026-03-23 09:59:59.999Z', '2026-03-23T10:00:00.0004-00:00'];
const TIMES = ['00:30', '05:59', '06:00', '12:00', '17:59', '18:00', '23:15', '24:00'];
const SCALARS: J[] = [0, 1, 2, -1, 3.5, 10, 'x', 'y', 'xy', 'X', 'Xy', '10', '2', '', true, false, null, ...DATES, ...TIMES];
const PATTERNS = ['^x', 'y$', 'x.*y', '[0-9]', '^1', 'X', '^$', '^\\d{4}-', ':', 'T1\\d'];
const ORDER_OPERANDS: J[] = [0, 1, 2, 10, 'x', 'y', '10', ...TIMES, ...DATES];
const OPS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$contains', '$regex', '$exists'];

describe('compiled matcher agrees with a slow reference interpreter', () => {
  it('on 120,000 random conditions and facts', () => {
    const rnd = prng(20261123);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const opsSeen = new Set<string>();
    const value = (depth = 0): J => {
      const r = rnd();
      if (depth < 2 && r < 0.12) return [value(depth + 1), value(depth + 1)];
      if (depth < 2 && r < 0.18) return rnd() < 0.5 ? { d: value(depth + 1) } : { d: value(depth + 1), e: value(depth + 1) };
      return pick(SCALARS);
    };
    const fieldSpec = (): J => {
      if (rnd() < 0.15) return value();
      const ops: Doc = {};
      const r = rnd();
      const n = r < 0.6 ? 1 : r < 0.85 ? 2 : 3;
      for (let i = 0; i < n; i++) {
        const op = pick(OPS);
        opsSeen.add(op);
        if (op === '$in' || op === '$nin') ops[op] = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => value(1));
        else if (op === '$regex') {
          ops[op] = pick(PATTERNS);
          if (rnd() < 0.3) {
            ops.$options = pick(['i', '']);
            opsSeen.add('$options');
          }
        } else if (op === '$exists') ops[op] = rnd() < 0.5;
        else if (op === '$contains') ops[op] = pick(['x', 'y', 'X', 1, 2, true, '', ':', '2026']);
        else if (op.startsWith('$g') || op.startsWith('$l')) ops[op] = pick(ORDER_OPERANDS);
        else ops[op] = value();
      }
      return ops;
    };
    const cond = (depth: number): Doc => {
      const c: Doc = {};
      const n = 1 + Math.floor(rnd() * 2);
      for (let i = 0; i < n; i++) {
        const r = rnd();
        const logic = depth < 2 ? (r < 0.1 ? '$or' : r < 0.18 ? '$and' : r < 0.24 ? '$not' : null) : null;
        if (logic) opsSeen.add(logic);
        if (logic === '$not') c.$not = cond(depth + 1);
        else if (logic) c[logic] = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => cond(depth + 1));
        else c[pick(PATHS)] = fieldSpec();
      }
      return c;
    };
    const facts = (): J => {
      const f: Doc = {};
      if (rnd() < 0.9) f.a = value();
      if (rnd() < 0.8) f.b = value();
      if (rnd() < 0.8) f.c = rnd() < 0.1 ? 'flat' : { d: value(), ...(rnd() < 0.5 ? { e: value() } : {}) };
      if (rnd() < 0.7) f.arr = [value(1), value(1)];
      if (rnd() < 0.7) f.t = pick(TIMES);
      if (rnd() < 0.7) f.when = pick(DATES);
      if (rnd() < 0.05) f.missing = undefined;
      return f;
    };

    const N = 120_000;
    let matched = 0;
    for (let i = 0; i < N; i++) {
      const c = cond(0);
      const f = facts();
      const want = refMatch(c, f);
      const got = compileCondition(c).test(f as Doc);
      if (got !== want) assert.fail(`case ${i} disagrees: condition ${JSON.stringify(c)} facts ${JSON.stringify(f)}: compiled ${got}, reference ${want}`);
      if (got) matched += 1;
    }
    console.log(`differential: ${N} cases agree (${matched} matched, ${N - matched} did not); operators used: ${[...opsSeen].sort().join(' ')}`);
    assert.ok(matched > N * 0.05 && matched < N * 0.95, `a useful mix of outcomes: ${matched} of ${N} matched`);
    for (const op of [...OPS, '$and', '$or', '$not', '$options']) assert.ok(opsSeen.has(op), `${op} was generated`);
  });

  it('agrees with the reference on the hand-written corner cases too', () => {
    const cases: [Doc, Doc][] = [
      [{ t: { $gte: '18:00', $lte: '06:00' } }, { t: '23:15' }],
      [{ t: { $gt: '17:00', $gte: '18:00', $lte: '06:00' } }, { t: '23:15' }],
      [{ t: { $gte: '18:00', $lte: '06:00', $ne: '23:15' } }, { t: '23:15' }],
      [{ when: { $lt: '2026-03-23T10:00:00Z' } }, { when: '2026-03-23 09:59:59.999Z' }],
      [{ when: { $gte: '2026-03-23T12:00:00+02:00' } }, { when: '2026-03-23T10:00' }],
      [{ arr: { $in: [[1, 2]] } }, { arr: [1, 2] }],
      [{ arr: [1, 2] }, { arr: [[1, 2], 3] }],
      [{ arr: { $nin: [3] } }, { arr: [1, [3]] }],
    ];
    for (const [c, f] of cases) assert.equal(compileCondition(c).test(f), refMatch(c, f), JSON.stringify([c, f]));
  });
});

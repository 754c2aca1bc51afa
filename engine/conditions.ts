import RE2 from 're2';
import { compilePath, pathProblem } from './paths';
import type { Facts } from './types';

/**
 * Conditions (seed 002): `{ "action_type": "trade_execution", "parameters.amount": {"$gte": 50000} }`.
 *
 * A document is parsed and validated once into a typed tree ({@link ConditionNode}),
 * then compiled to a predicate that runs synchronously and totally. The
 * semantics, which the differential test's reference interpreter follows too:
 *
 * - Keys are dotted fact paths. A plain value means `$eq`; an object whose keys
 *   all start with `$` is a set of operators, all of which must hold (AND).
 *   `$and` / `$or` take a non-empty array of conditions, `$not` one condition;
 *   they may stand wherever a condition may. An empty document `{}` matches
 *   everything (a rule that applies to every action).
 * - A path is missing when it leads nowhere or to `undefined`. On a missing
 *   path `$exists: false`, `$ne` and `$nin` hold; every other operator fails.
 * - Ordering (`$gt $gte $lt $lte`) is decided in one place, {@link compare}:
 *   number with number numerically; string with string as instants when both
 *   are ISO-8601 dates (`YYYY-MM-DD`, optionally `THH:MM[:SS[.fff]]` and a zone
 *   `Z` / `±HH:MM`; no zone means UTC, so the answer never depends on the
 *   machine's time zone; impossible dates such as Feb 30 are not dates),
 *   otherwise by UTF-16 code units. Any other pair fails: no coercion, "10" is not 10.
 * - `$eq` is deep equality of JSON values (object key order does not matter);
 *   an array fact also equals a non-array operand it contains. `$ne` is the
 *   negation of `$eq`.
 * - `$in` holds when the fact equals a listed value, or is an array sharing an
 *   element with the list; `$nin` is its negation.
 * - `$contains`: a string fact contains the operand as a substring (case
 *   sensitive; the operand must then be a string), or an array fact has an
 *   element strictly equal to the operand.
 * - `$regex` runs on RE2 (linear time: no backreferences, no lookaround, no
 *   catastrophic backtracking). A string fact matches when the pattern is found
 *   in it; an array fact when any string element matches. `$options: "i"`
 *   beside it makes it case-insensitive.
 * - Time of day: when a field carries exactly one lower bound (`$gt`/`$gte`) and
 *   exactly one upper bound (`$lt`/`$lte`), both "HH:MM", and the lower is above
 *   the upper, the pair means the range across midnight (lower OR upper), so
 *   `{"time_of_day": {"$gte": "18:00", "$lte": "06:00"}}` is after hours. Other
 *   operators on that field still apply (AND).
 *
 * Operands must be JSON data nested at most 32 deep. That bound is what keeps
 * matching total: equality walks the fact only as deep as the operand, so
 * cyclic or absurdly deep facts cannot overflow the stack.
 */

/** Stable error for a condition that cannot be compiled; the message names the rule, path and operator. */
export class ConditionError extends Error {
  readonly code = 'CONDITION_INVALID';
  constructor(
    readonly rule: string,
    readonly path: string,
    readonly operator: string,
    readonly detail: string,
  ) {
    super(`${rule ? `rule "${rule}"` : 'condition'}: ${path ? `${path}: ` : ''}${operator ? `${operator} ` : ''}${detail}`);
    this.name = 'ConditionError';
  }
}

export type FieldOperator = '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte' | '$in' | '$nin' | '$contains' | '$regex' | '$exists';

export interface FieldTest {
  op: FieldOperator;
  operand: unknown;
  /** Only for `$regex`: "i" or "". */
  options?: string;
}

/** The parsed, validated condition: plain data, safe to log or show. */
export type ConditionNode =
  | { kind: 'and'; children: ConditionNode[] }
  | { kind: 'or'; children: ConditionNode[] }
  | { kind: 'not'; child: ConditionNode }
  | { kind: 'field'; path: string; tests: FieldTest[]; wrap?: { lower: FieldTest; upper: FieldTest } };

export interface CompiledCondition {
  readonly tree: ConditionNode;
  /** Synchronous and total on plain data. */
  readonly test: (facts: Facts) => boolean;
  /** Every fact path the condition reads, in document order. */
  readonly paths: readonly string[];
  /** A compiled reader per entry of `paths`, same order (for {@link describeMatch}). */
  readonly readers: readonly ((facts: Facts) => unknown)[];
}

type Pred = (facts: Facts) => boolean;
type ValuePred = (v: unknown) => boolean;

const MAX_OPERAND_DEPTH = 32;
const MAX_LOGIC_DEPTH = 32;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v;
}

/** Why a value is not JSON data usable as an operand, or null. Depth-bounded, so cycles end too. */
function jsonProblem(v: unknown, depth = 0): string | null {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${v} is not a JSON number`;
  if (typeof v !== 'object') return v === undefined ? 'undefined is not JSON data' : `a ${typeof v} is not JSON data`;
  if (depth >= MAX_OPERAND_DEPTH) return `nests deeper than ${MAX_OPERAND_DEPTH} levels (or is cyclic)`;
  if (Array.isArray(v)) {
    for (const x of v) {
      const p = jsonProblem(x, depth + 1);
      if (p) return p;
    }
    return null;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return 'only plain objects are JSON data';
  for (const x of Object.values(v)) {
    const p = jsonProblem(x, depth + 1);
    if (p) return p;
  }
  return null;
}

/** Deep equality over JSON values; recurses only while both sides are objects. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * An ISO-8601 string as epoch millis, or null when it is not one. Computed by
 * hand, not by Date.parse, which reads zone-less times in the machine's zone.
 */
export function isoInstant(s: string): number | null {
  if (s.length < 10 || s.length > 40) return null;
  const m = ISO.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1])) return null;
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const sec = m[6] === undefined ? 0 : Number(m[6]);
  if (h > 23 || mi > 59 || sec > 59) return null;
  const ms = m[7] === undefined ? 0 : Number(`${m[7]}00`.slice(0, 3));
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2));
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return daysFromCivil(y, mo, d) * 86_400_000 + ((h * 60 + mi - offsetMinutes) * 60 + sec) * 1000 + ms;
}

/** The one comparison: negative, zero or positive, or null when the pair is not comparable. */
export function compare(a: unknown, b: unknown): number | null {
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) || Number.isNaN(b) ? null : a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') {
    const ta = isoInstant(a);
    const tb = ta === null ? null : isoInstant(b);
    if (ta !== null && tb !== null) return ta < tb ? -1 : ta > tb ? 1 : 0;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return null;
}

const eqValue = (fact: unknown, operand: unknown): boolean =>
  deepEqual(fact, operand) || (Array.isArray(fact) && !Array.isArray(operand) && fact.some((x) => deepEqual(x, operand)));

const inValue = (fact: unknown, list: readonly unknown[]): boolean =>
  list.some((x) => deepEqual(fact, x)) || (Array.isArray(fact) && fact.some((f) => list.some((x) => deepEqual(f, x))));

const isScalar = (v: unknown) => v === null || typeof v !== 'object';

/** What compiling one operator needs to know and to report. */
interface OpCtx {
  fail: (detail: string) => ConditionError;
  /** The sibling operators of the same field (for `$regex`'s `$options`). */
  siblings: Record<string, unknown>;
}

interface OperatorDef {
  /** Validates the operand once and returns the value predicate. */
  compile(operand: unknown, ctx: OpCtx): ValuePred;
  /** The answer for a missing fact. */
  missing(operand: unknown): boolean;
}

const ordering = (holds: (c: number) => boolean): OperatorDef => ({
  compile(operand, { fail }) {
    if (!(typeof operand === 'number' && Number.isFinite(operand)) && typeof operand !== 'string') throw fail(`expects a number or string, got ${kind(operand)}`);
    return (v) => {
      const c = compare(v, operand);
      return c !== null && holds(c);
    };
  },
  missing: () => false,
});

const jsonOperand = (operand: unknown, fail: OpCtx['fail']) => {
  const problem = jsonProblem(operand);
  if (problem) throw fail(`expects JSON data: ${problem}`);
};

const membership = (negate: boolean): OperatorDef => ({
  compile(operand, { fail }) {
    if (!Array.isArray(operand)) throw fail(`expects an array, got ${kind(operand)}`);
    jsonOperand(operand, fail);
    const list: readonly unknown[] = operand;
    // All-scalar lists (the usual case) take a Set lookup; SameValueZero agrees with === on JSON values.
    const scalars = list.every(isScalar) ? new Set(list) : null;
    const has = scalars
      ? (v: unknown) => (isScalar(v) ? scalars.has(v) : Array.isArray(v) && v.some((x) => isScalar(x) && scalars.has(x)))
      : (v: unknown) => inValue(v, list);
    return negate ? (v) => !has(v) : has;
  },
  missing: () => negate,
});

/** The operator registry: every field operator, its operand check and its answer for a missing fact. */
const OPERATORS: Record<FieldOperator, OperatorDef> = {
  $eq: {
    compile(operand, { fail }) {
      jsonOperand(operand, fail);
      return (v) => eqValue(v, operand);
    },
    missing: () => false,
  },
  $ne: {
    compile(operand, { fail }) {
      jsonOperand(operand, fail);
      return (v) => !eqValue(v, operand);
    },
    missing: () => true,
  },
  $gt: ordering((c) => c > 0),
  $gte: ordering((c) => c >= 0),
  $lt: ordering((c) => c < 0),
  $lte: ordering((c) => c <= 0),
  $in: membership(false),
  $nin: membership(true),
  $contains: {
    compile(operand, { fail }) {
      if (!(typeof operand === 'string' || typeof operand === 'boolean' || (typeof operand === 'number' && Number.isFinite(operand)))) {
        throw fail(`expects a string, number or boolean, got ${kind(operand)}`);
      }
      // `includes` is `===` here: the operand is never NaN or undefined.
      return (v) => (typeof v === 'string' ? typeof operand === 'string' && v.includes(operand) : Array.isArray(v) && v.includes(operand));
    },
    missing: () => false,
  },
  $regex: {
    compile(operand, { fail, siblings }) {
      if (typeof operand !== 'string') throw fail(`expects a pattern string, got ${kind(operand)}`);
      const options = siblings.$options;
      if (options !== undefined && options !== 'i' && options !== '') throw fail(`$options may only be "i" (case-insensitive), got ${typeof options === 'string' ? JSON.stringify(options) : kind(options)}`);
      let re: RE2;
      try {
        re = new RE2(operand, options === 'i' ? 'iu' : 'u');
      } catch (e) {
        throw fail(`pattern /${operand}/ is not valid RE2 (no backreferences or lookaround): ${e instanceof Error ? e.message : String(e)}`);
      }
      // A plain literal needs no regex engine (a call into RE2 costs about a microsecond); RE2 still validated it above.
      const literal = options === 'i' ? null : literalPattern(operand);
      const find = literal ? literalMatcher(literal) : (x: string) => re.test(x);
      return (v) => (typeof v === 'string' ? find(v) : Array.isArray(v) && v.some((x) => typeof x === 'string' && find(x)));
    },
    missing: () => false,
  },
  $exists: {
    compile(operand, { fail }) {
      if (typeof operand !== 'boolean') throw fail(`expects true or false, got ${kind(operand)}`);
      return () => operand;
    },
    missing: (operand) => operand === false,
  },
};

/** A `$regex` that is only printable ASCII text, optionally anchored at either end: what it matches without a regex engine. */
interface LiteralPattern {
  text: string;
  start: boolean;
  end: boolean;
}

/** Characters that mean something in a pattern; everything else printable in ASCII stands for itself. */
const REGEX_META = new Set([...'\\.+*?()|[]{}^$']);

/**
 * The literal a pattern stands for, or null when it uses any regex syntax
 * (a class, a group, a quantifier, a flag, an escape other than of a
 * metacharacter) or any character outside printable ASCII. `^` and `$`
 * (start and end of the text: no multiline flag here) are allowed at the ends.
 */
export function literalPattern(pattern: string): LiteralPattern | null {
  let i = 0;
  let n = pattern.length;
  const start = n > 0 && pattern[0] === '^';
  if (start) i = 1;
  // A trailing `$` is an anchor unless it is escaped; an escaped one is handled below as text.
  let end = false;
  if (n > i && pattern[n - 1] === '$') {
    let backslashes = 0;
    for (let k = n - 2; k >= i && pattern[k] === '\\'; k--) backslashes++;
    if (backslashes % 2 === 0) {
      end = true;
      n -= 1;
    }
  }
  let text = '';
  for (; i < n; i++) {
    const c = pattern.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return null;
    const ch = pattern[i];
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined || !REGEX_META.has(next)) return null;
      text += next;
      i++;
    } else if (REGEX_META.has(ch)) return null;
    else text += ch;
  }
  return { text, start, end };
}

function literalMatcher({ text, start, end }: LiteralPattern): (s: string) => boolean {
  if (start && end) return (s) => s === text;
  if (start) return (s) => s.startsWith(text);
  if (end) return (s) => s.endsWith(text);
  return (s) => s.includes(text);
}

const isFieldOperator = (k: string): k is FieldOperator => Object.prototype.hasOwnProperty.call(OPERATORS, k);

interface Ctx {
  rule: string;
  paths: string[];
  /** Predicates built while validating, so each RE2 is compiled once. */
  preds: Map<FieldTest, ValuePred>;
}

/**
 * Parses, validates and compiles a condition document once.
 *
 * @throws ConditionError naming the rule, the path and the operator, e.g.
 *   `rule "High-Value Trade": parameters.amount: $gte expects a number or string, got object`.
 */
export function compileCondition(doc: unknown, opts: { ruleId?: string; ruleName?: string } = {}): CompiledCondition {
  const ctx: Ctx = { rule: opts.ruleName ?? opts.ruleId ?? '', paths: [], preds: new Map() };
  const tree = parseDoc(doc, ctx, '', 0);
  const compiled: CompiledCondition = { tree, test: compileNode(tree, ctx.preds), paths: ctx.paths, readers: ctx.paths.map(compilePath) };
  predsOf.set(compiled, ctx.preds);
  return compiled;
}

/** The value predicates of each compiled condition, so a variant of it reuses them (and its RE2s). */
const predsOf = new WeakMap<CompiledCondition, Preds>();

/**
 * The condition's test without one of its top-level field nodes: for a caller
 * that already knows that node holds (the rule index, for the action type it
 * looked the rule up by). Falls back to the whole test when `node` is not
 * top-level. The other nodes run in the same order as in the whole test.
 */
export function testWithout(c: CompiledCondition, node: ConditionNode): (facts: Facts) => boolean {
  const preds = predsOf.get(c);
  if (!preds) return c.test;
  if (c.tree === node) return () => true;
  if (c.tree.kind !== 'and' || !c.tree.children.includes(node)) return c.test;
  const rest = c.tree.children.filter((x) => x !== node);
  return compileNode(rest.length === 1 ? rest[0] : { kind: 'and', children: rest }, preds);
}

const join = (where: string, key: string) => (where ? `${where}.${key}` : key);

function parseDoc(doc: unknown, ctx: Ctx, where: string, depth: number): ConditionNode {
  if (!isPlainObject(doc)) throw new ConditionError(ctx.rule, where, '', `a condition must be an object, got ${kind(doc)}`);
  // Bounded so a hostile or cyclic document is a ConditionError, not a stack overflow.
  if (depth > MAX_LOGIC_DEPTH) throw new ConditionError(ctx.rule, where, '', `conditions nest deeper than ${MAX_LOGIC_DEPTH} levels (or are cyclic)`);
  const children: ConditionNode[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) throw new ConditionError(ctx.rule, where, key, `expects a non-empty array of conditions, got ${Array.isArray(value) ? 'an empty array' : kind(value)}`);
      children.push({ kind: key === '$and' ? 'and' : 'or', children: value.map((v, i) => parseDoc(v, ctx, join(where, `${key}.${i}`), depth + 1)) });
    } else if (key === '$not') {
      children.push({ kind: 'not', child: parseDoc(value, ctx, join(where, '$not'), depth + 1) });
    } else if (key.startsWith('$')) {
      throw new ConditionError(ctx.rule, where, key, 'is not a known operator here (use $and, $or, $not, or a fact path)');
    } else {
      const problem = pathProblem(key);
      if (problem) throw new ConditionError(ctx.rule, key, '', problem);
      if (!ctx.paths.includes(key)) ctx.paths.push(key);
      children.push(parseField(key, value, ctx));
    }
  }
  return children.length === 1 ? children[0] : { kind: 'and', children };
}

function parseField(path: string, spec: unknown, ctx: Ctx): ConditionNode {
  const fail = (op: string) => (detail: string) => new ConditionError(ctx.rule, path, op, detail);
  if (!isPlainObject(spec) || !Object.keys(spec).some((k) => k.startsWith('$'))) {
    const pred = OPERATORS.$eq.compile(spec, { fail: fail('$eq'), siblings: {} });
    if (isPlainObject(spec) && Object.keys(spec).length === 0) throw fail('')('has an empty operator object');
    const test: FieldTest = { op: '$eq', operand: spec };
    ctx.preds.set(test, pred);
    return { kind: 'field', path, tests: [test] };
  }
  const keys = Object.keys(spec);
  const plain = keys.find((k) => !k.startsWith('$'));
  if (plain !== undefined) throw fail('')(`mixes operators with the plain key "${plain}"`);
  for (const op of keys) if (op !== '$options' && !isFieldOperator(op)) throw fail(op)('is not a known operator');
  if ('$options' in spec && !('$regex' in spec)) throw fail('$options')('needs a $regex beside it');

  const tests: FieldTest[] = [];
  for (const op of keys) {
    if (op === '$options' || !isFieldOperator(op)) continue;
    const test: FieldTest = op === '$regex' ? { op, operand: spec[op], options: typeof spec.$options === 'string' ? spec.$options : '' } : { op, operand: spec[op] };
    ctx.preds.set(test, OPERATORS[op].compile(spec[op], { fail: fail(op), siblings: spec }));
    tests.push(test);
  }
  const lowers = tests.filter((t) => t.op === '$gt' || t.op === '$gte');
  const uppers = tests.filter((t) => t.op === '$lt' || t.op === '$lte');
  if (lowers.length === 1 && uppers.length === 1) {
    const [lower, upper] = [lowers[0], uppers[0]];
    if (typeof lower.operand === 'string' && typeof upper.operand === 'string' && HHMM.test(lower.operand) && HHMM.test(upper.operand) && lower.operand > upper.operand) {
      return { kind: 'field', path, tests: tests.filter((t) => t !== lower && t !== upper), wrap: { lower, upper } };
    }
  }
  return { kind: 'field', path, tests };
}

type Preds = ReadonlyMap<FieldTest, ValuePred>;

/** A test's predicate, built and validated by parseField, and its answer for a missing fact. */
function testPred(t: FieldTest, preds: Preds): { fn: ValuePred; missing: boolean } {
  const fn = preds.get(t);
  if (!fn) throw new Error(`internal: ${t.op} was not compiled`);
  return { fn, missing: OPERATORS[t.op].missing(t.operand) };
}

function compileNode(node: ConditionNode, preds: Preds): Pred {
  switch (node.kind) {
    case 'and': {
      const subs = node.children.map((c) => compileNode(c, preds));
      if (subs.length === 0) return () => true;
      if (subs.length === 1) return subs[0];
      return (f) => {
        for (let i = 0; i < subs.length; i++) if (!subs[i](f)) return false;
        return true;
      };
    }
    case 'or': {
      const subs = node.children.map((c) => compileNode(c, preds));
      return (f) => {
        for (let i = 0; i < subs.length; i++) if (subs[i](f)) return true;
        return false;
      };
    }
    case 'not': {
      const sub = compileNode(node.child, preds);
      return (f) => !sub(f);
    }
    case 'field':
      return compileFieldNode(node, preds);
  }
}

function compileFieldNode(node: Extract<ConditionNode, { kind: 'field' }>, preds: Preds): Pred {
  const get = compilePath(node.path);
  const checks = node.tests.map((t) => testPred(t, preds));
  if (node.wrap) {
    const lower = testPred(node.wrap.lower, preds).fn;
    const upper = testPred(node.wrap.upper, preds).fn;
    return (f) => {
      const v = get(f);
      if (v === undefined || !(lower(v) || upper(v))) return false;
      for (let i = 0; i < checks.length; i++) if (!checks[i].fn(v)) return false;
      return true;
    };
  }
  if (checks.length === 1) {
    const [c] = checks;
    return (f) => {
      const v = get(f);
      return v === undefined ? c.missing : c.fn(v);
    };
  }
  return (f) => {
    const v = get(f);
    for (let i = 0; i < checks.length; i++) if (!(v === undefined ? checks[i].missing : checks[i].fn(v))) return false;
    return true;
  };
}

/** Whether the facts satisfy the condition. Synchronous; never throws on plain data. */
export function matches(c: CompiledCondition, facts: Facts): boolean {
  return c.test(facts);
}

/** The fact values (path → value) the condition looked at: the "why" of a verdict. */
export function describeMatch(c: CompiledCondition, facts: Facts): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { paths, readers } = c;
  for (let i = 0; i < paths.length; i++) out[paths[i]] = readers[i](facts);
  return out;
}

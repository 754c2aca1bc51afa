import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compare, compileCondition, ConditionError, describeMatch, isoInstant, matches } from '../../engine/conditions';

const m = (cond: Record<string, unknown>, facts: Record<string, unknown>) => matches(compileCondition(cond), facts);

const facts = {
  action_type: 'trade_execution',
  parameters: { amount: 75000, symbol: 'AAPL', tags: ['urgent', 'fx'], legs: [{ id: 'a' }, { id: 'b' }] },
  risk_score: 50,
  data_classes: ['PII', 'financial'],
  email: 'bob@company.com',
  when: '2026-03-23T12:00:00Z',
  nothing: null,
  undef: undefined,
  flag: false,
  zero: 0,
  empty: '',
  list: [1, 2, 3],
};

describe('condition operators', () => {
  const table: [string, Record<string, unknown>, boolean][] = [
    // $eq, plain values
    ['implicit $eq', { action_type: 'trade_execution' }, true],
    ['implicit $eq, other value', { action_type: 'x' }, false],
    ['$eq number', { risk_score: { $eq: 50 } }, true],
    ['$eq does not coerce "50" to 50', { risk_score: { $eq: '50' } }, false],
    ['$eq false is not 0', { flag: 0 }, false],
    ['$eq 0 is not ""', { zero: '' }, false],
    ['$eq scalar contained in an array fact', { data_classes: 'PII' }, true],
    ['$eq scalar not in the array fact', { data_classes: 'PHI' }, false],
    ['$eq whole array, same order', { list: [1, 2, 3] }, true],
    ['$eq whole array, other order', { list: [3, 2, 1] }, false],
    ['$eq array operand is not a subset test', { list: [1, 2] }, false],
    ['$eq null', { nothing: null }, true],
    ['$eq object, keys in any order', { 'parameters.legs.0': { id: 'a' } }, true],
    ['$eq object, different value', { 'parameters.legs.0': { id: 'b' } }, false],
    ['$eq object element of an array fact', { 'parameters.legs': { id: 'b' } }, true],
    ['$eq deep object', { parameters: { symbol: 'AAPL', amount: 75000, tags: ['urgent', 'fx'], legs: [{ id: 'a' }, { id: 'b' }] } }, true],
    // $ne
    ['$ne other value', { risk_score: { $ne: 40 } }, true],
    ['$ne same value', { risk_score: { $ne: 50 } }, false],
    ['$ne element of array fact', { data_classes: { $ne: 'PII' } }, false],
    // ordering
    ['$gt', { 'parameters.amount': { $gt: 74999 } }, true],
    ['$gt boundary', { 'parameters.amount': { $gt: 75000 } }, false],
    ['$gte boundary', { 'parameters.amount': { $gte: 75000 } }, true],
    ['$lt', { 'parameters.amount': { $lt: 75000 } }, false],
    ['$lte', { risk_score: { $lte: 50 } }, true],
    ['number vs string operand is false', { risk_score: { $gt: '10' } }, false],
    ['number vs string operand is false ($lt too)', { risk_score: { $lt: '99' } }, false],
    ['string vs number operand is false', { email: { $gt: 1 } }, false],
    ['null is not ordered', { nothing: { $lte: 0 } }, false],
    ['array facts are not ordered', { list: { $gt: 0 } }, false],
    ['strings compare lexicographically', { email: { $gt: 'alice' } }, true],
    ['strings: an upper bound', { 'parameters.symbol': { $lt: 'AAPM' } }, true],
    // dates
    ['dates compare as instants', { when: { $gt: '2026-03-23T11:00:00+00:00' } }, true],
    ['dates with offsets: 13:00+02:00 is 11:00Z', { when: { $lt: '2026-03-23T13:00:00+02:00' } }, false],
    ['dates with offsets: lexicographic would say otherwise', { when: { $gt: '2026-03-23T13:00:00+02:00' } }, true],
    ['date-only is midnight UTC', { when: { $gt: '2026-03-23' } }, true],
    // $in / $nin
    ['$in', { action_type: { $in: ['read', 'trade_execution'] } }, true],
    ['$in no match', { action_type: { $in: ['read', 'write'] } }, false],
    ['$in with an array fact intersecting', { data_classes: { $in: ['PHI', 'PII'] } }, true],
    ['$in with an array fact not intersecting', { data_classes: { $in: ['PHI', 'PCI'] } }, false],
    ['$in with an object element', { 'parameters.legs.1': { $in: [{ id: 'b' }, 3] } }, true],
    ['$in does not coerce', { risk_score: { $in: ['50'] } }, false],
    ['$in null', { nothing: { $in: [null] } }, true],
    ['$nin', { action_type: { $nin: ['sandbox'] } }, true],
    ['$nin with an array fact intersecting', { data_classes: { $nin: ['PII'] } }, false],
    // $contains
    ['$contains substring', { email: { $contains: '@company' } }, true],
    ['$contains is case-sensitive', { email: { $contains: '@COMPANY' } }, false],
    ['$contains array element', { 'parameters.tags': { $contains: 'fx' } }, true],
    ['$contains array, no element', { 'parameters.tags': { $contains: 'f' } }, false],
    ['$contains number element', { list: { $contains: 2 } }, true],
    ['$contains number in a string fact is false', { email: { $contains: 1 } }, false],
    ['$contains on a number fact is false', { risk_score: { $contains: '5' } }, false],
    // $regex
    ['$regex', { email: { $regex: '@company\\.com$' } }, true],
    ['$regex finds anywhere', { email: { $regex: 'company' } }, true],
    ['$regex $options i', { email: { $regex: '^BOB', $options: 'i' } }, true],
    ['$regex is case-sensitive by default', { email: { $regex: '^BOB' } }, false],
    ['$regex on an array fact: any string element', { data_classes: { $regex: '^fin' } }, true],
    ['$regex on an array fact with $options i', { data_classes: { $regex: '^FIN', $options: 'i' } }, true],
    ['$regex on a number fact is false', { risk_score: { $regex: '50' } }, false],
    // $exists
    ['$exists true', { 'parameters.symbol': { $exists: true } }, true],
    ['$exists true on null', { nothing: { $exists: true } }, true],
    ['$exists true on an undefined value', { undef: { $exists: true } }, false],
    ['$exists false', { 'parameters.nope': { $exists: false } }, true],
    ['$exists false on a present value', { flag: { $exists: false } }, false],
    // paths
    ['nested path', { 'parameters.symbol': 'AAPL' }, true],
    ['array index path', { 'parameters.tags.1': 'fx' }, true],
    ['array index then key', { 'parameters.legs.1.id': 'b' }, true],
    ['no path through a prototype', { 'email.length': { $exists: true } }, false],
    // AND of ops and of fields
    ['several ops AND', { 'parameters.amount': { $gte: 50000, $lt: 100000 } }, true],
    ['several ops AND, one fails', { 'parameters.amount': { $gte: 50000, $lt: 60000 } }, false],
    ['several fields AND', { action_type: 'trade_execution', risk_score: { $gt: 60 } }, false],
    ['empty condition matches everything', {}, true],
    // logic
    ['$or', { $or: [{ risk_score: { $gt: 60 } }, { action_type: 'trade_execution' }] }, true],
    ['$or none', { $or: [{ risk_score: { $gt: 60 } }, { action_type: 'x' }] }, false],
    ['$and', { $and: [{ risk_score: { $gt: 10 } }, { 'parameters.symbol': 'MSFT' }] }, false],
    ['$and all', { $and: [{ risk_score: { $gt: 10 } }, { 'parameters.symbol': 'AAPL' }] }, true],
    ['$not', { $not: { action_type: 'read' } }, true],
    ['$not of a match', { $not: { action_type: 'trade_execution' } }, false],
    ['$not of a missing path', { $not: { missing: 1 } }, true],
    ['logic beside fields (AND)', { action_type: 'trade_execution', $or: [{ risk_score: 1 }, { risk_score: 2 }] }, false],
    ['nested logic', { $or: [{ $not: { risk_score: 50 } }, { $and: [{ email: { $contains: 'bob' } }, { data_classes: { $in: ['PII'] } }] }] }, true],
  ];
  for (const [name, cond, want] of table) {
    it(name, () => assert.equal(m(cond, facts), want));
  }
});

describe('a missing path satisfies only $exists:false, $ne and $nin', () => {
  const ops: [string, unknown, boolean][] = [
    ['$eq', 1, false],
    ['$ne', 1, true],
    ['$gt', 1, false],
    ['$gte', 1, false],
    ['$lt', 1, false],
    ['$lte', 1, false],
    ['$in', [1, null], false],
    ['$nin', [1, null], true],
    ['$contains', 'a', false],
    ['$regex', '.*', false],
    ['$exists', true, false],
    ['$exists', false, true],
  ];
  // Missing: no key, a key holding undefined, a path through a scalar, through null, past an array's end.
  const paths = ['missing', 'undef', 'risk_score.x', 'nothing.x', 'list.7', 'parameters.legs.0.nope'];
  for (const [op, operand, want] of ops) {
    it(`${op}: ${JSON.stringify(operand)}`, () => {
      for (const path of paths) assert.equal(m({ [path]: { [op]: operand } }, facts), want, path);
    });
  }
  it('plain null does not match a missing path (it is $eq)', () => assert.equal(m({ missing: null }, facts), false));
});

describe('dates', () => {
  it('parses ISO-8601 as instants, by hand', () => {
    const table: [string, number | null][] = [
      ['2026-03-23', Date.UTC(2026, 2, 23)],
      ['2026-03-23T12:00', Date.UTC(2026, 2, 23, 12)],
      ['2026-03-23T12:00:05', Date.UTC(2026, 2, 23, 12, 0, 5)],
      ['2026-03-23T12:00:05.123Z', Date.UTC(2026, 2, 23, 12, 0, 5, 123)],
      ['2026-03-23T12:00:05.1239Z', Date.UTC(2026, 2, 23, 12, 0, 5, 123)],
      ['2026-03-23 12:00:00Z', Date.UTC(2026, 2, 23, 12)],
      ['2026-03-23T12:00:00+02:00', Date.UTC(2026, 2, 23, 10)],
      ['2026-03-23T12:00:00-0530', Date.UTC(2026, 2, 23, 17, 30)],
      ['2028-02-29', Date.UTC(2028, 1, 29)],
      ['2000-02-29', Date.UTC(2000, 1, 29)],
      ['1969-12-31T23:59:59Z', -1000],
      ['2026-02-29', null],
      ['1900-02-29', null],
      ['2026-02-30', null],
      ['2026-13-01', null],
      ['2026-04-31', null],
      ['2026-03-23T24:00:00Z', null],
      ['2026-03-23T12:60Z', null],
      ['2026-03-23T12:00:00+25:00', null],
      ['2026-3-23', null],
      ['23/03/2026', null],
      ['12:00', null],
      ['', null],
    ];
    for (const [s, want] of table) assert.equal(isoInstant(s), want, s);
  });

  it('a date-time without a zone is UTC whatever the machine’s zone', () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ['America/New_York', 'Asia/Kolkata', 'UTC']) {
        process.env.TZ = tz;
        assert.equal(m({ t: { $lt: '2026-03-23T12:00:00Z' } }, { t: '2026-03-23T11:30:00' }), true, tz);
        assert.equal(m({ t: { $gte: '2026-03-23T12:00:00Z' } }, { t: '2026-03-23T12:00' }), true, tz);
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('compares in one place: numbers, strings, instants, and nothing else', () => {
    assert.equal(compare(2, 10), -1);
    assert.equal(compare('2', '10'), 1, 'lexicographic');
    assert.equal(compare('2026-03-23T12:00:00+02:00', '2026-03-23T11:00:00Z'), -1, 'instants');
    assert.equal(compare('2026-03-23', '2026-03-23T00:00:00Z'), 0);
    assert.equal(compare('2026-02-30', '2026-03-01'), -1, 'not a date: lexicographic');
    assert.equal(compare('10', 10), null);
    assert.equal(compare(true, false), null);
    assert.equal(compare(null, 0), null);
    assert.equal(compare(Number.NaN, 1), null);
    assert.equal(compare([1], [1]), null);
  });

  it('an impossible date is compared as a string', () => {
    // As text "2026-02-30" sorts after "2026-02-28T23:00:00Z"; as a (rolled-over) date it would be March 2nd either way.
    assert.equal(m({ d: { $gt: '2026-02-28T23:00:00Z' } }, { d: '2026-02-30' }), true);
    // As instants (rolled over) +04:00 would be the later one; as text "+04" sorts first.
    assert.equal(m({ d: { $lt: '2026-02-30T00:00:00+05:00' } }, { d: '2026-02-30T00:00:00+04:00' }), true);
  });
});

describe('time of day across midnight', () => {
  const afterHours = compileCondition({ time_of_day: { $gte: '18:00', $lte: '06:00' } });
  const table: [string, boolean][] = [
    ['17:59', false],
    ['18:00', true],
    ['23:15', true],
    ['00:00', true],
    ['05:59', true],
    ['06:00', true],
    ['06:01', false],
    ['12:00', false],
  ];
  for (const [t, want] of table) it(`18:00–06:00 at ${t}`, () => assert.equal(afterHours.test({ time_of_day: t }), want));

  it('exclusive bounds wrap too', () => {
    const c = compileCondition({ time_of_day: { $gt: '22:00', $lt: '02:00' } });
    assert.deepEqual(['22:00', '22:01', '01:59', '02:00', '12:00'].map((t) => c.test({ time_of_day: t })), [false, true, true, false, false]);
  });

  it('an ordinary range does not wrap', () => {
    const day = compileCondition({ time_of_day: { $gte: '09:00', $lte: '17:00' } });
    assert.deepEqual(['08:59', '09:00', '12:00', '17:00', '23:00'].map((t) => day.test({ time_of_day: t })), [false, true, true, true, false]);
  });

  it('other operators on the field still apply, and a missing time never matches', () => {
    const c = compileCondition({ time_of_day: { $gte: '18:00', $lte: '06:00', $ne: '23:00' } });
    assert.deepEqual(['23:00', '23:01'].map((t) => c.test({ time_of_day: t })), [false, true]);
    assert.equal(afterHours.test({}), false);
    assert.equal(afterHours.test({ time_of_day: 2300 }), false, 'a number is not a time of day');
  });

  it('only "HH:MM" operands with one lower and one upper bound wrap', () => {
    assert.equal(m({ t: { $gte: '18:00:00', $lte: '06:00:00' } }, { t: '23:00:00' }), false, 'HH:MM:SS is plain text: an empty range');
    assert.equal(m({ t: { $gt: '17:00', $gte: '18:00', $lte: '06:00' } }, { t: '23:00' }), false, 'two lower bounds: plain AND');
    assert.equal(m({ t: { $gte: 'b', $lte: 'a' } }, { t: 'c' }), false);
  });

  it('works on the facts the evaluator builds (seed 002 after-hours rule)', () => {
    const rule = compileCondition({ action_type: 'trade_execution', time_of_day: { $gte: '18:00', $lte: '06:00' } });
    assert.equal(rule.test({ action_type: 'trade_execution', time_of_day: '19:30' }), true);
    assert.equal(rule.test({ action_type: 'trade_execution', time_of_day: '10:30' }), false);
  });
});

describe('compiled once, evaluated many times', () => {
  it('exposes the parsed tree and the paths it reads', () => {
    const c = compileCondition({ action_type: 'trade_execution', 'parameters.amount': { $gte: 50000 }, $or: [{ risk_score: { $gt: 80 } }, { 'parameters.amount': 1 }] });
    assert.deepEqual(c.paths, ['action_type', 'parameters.amount', 'risk_score']);
    assert.deepEqual(c.tree, {
      kind: 'and',
      children: [
        { kind: 'field', path: 'action_type', tests: [{ op: '$eq', operand: 'trade_execution' }] },
        { kind: 'field', path: 'parameters.amount', tests: [{ op: '$gte', operand: 50000 }] },
        { kind: 'or', children: [{ kind: 'field', path: 'risk_score', tests: [{ op: '$gt', operand: 80 }] }, { kind: 'field', path: 'parameters.amount', tests: [{ op: '$eq', operand: 1 }] }] },
      ],
    });
  });

  it('describeMatch reports every fact the condition looked at, missing ones as undefined', () => {
    const c = compileCondition({ action_type: 'trade_execution', 'parameters.amount': { $gte: 50000 }, 'parameters.nope': { $exists: false } });
    assert.deepEqual(describeMatch(c, facts), { action_type: 'trade_execution', 'parameters.amount': 75000, 'parameters.nope': undefined });
  });

  it('does not depend on the facts it saw before', () => {
    const c = compileCondition({ x: { $regex: 'a' } });
    assert.deepEqual(['a', 'b', 'a', 'ba'].map((x) => c.test({ x })), [true, false, true, true]);
  });
});

describe('matching is total', () => {
  const conds = [
    { 'a.b.c': { $gt: 1 }, x: { $regex: 'y' }, $or: [{ z: { $in: [1, [1], { a: 1 }] } }, { w: { $contains: 'q' } }] },
    { a: { a: { a: { a: 1 } } }, b: [[1, [2]]], c: { $ne: { k: [1] } }, d: { $nin: [{ k: 1 }] } },
    { $not: { $and: [{ a: { $exists: true } }, { 'a.0': { $lte: '2026-01-01' } }] } },
  ].map((c) => compileCondition(c));

  it('never throws on odd plain facts', () => {
    for (const f of [{}, { a: null }, { a: { b: 'str' } }, { a: [1, 2] }, { x: 5, z: { y: 1 }, w: null }, [], 'text', 42, null, undefined]) {
      for (const c of conds) assert.equal(typeof c.test(f as never), 'boolean');
    }
  });

  it('never throws on cyclic or very deep facts', () => {
    const cyclic: Record<string, unknown> = { k: [1] };
    cyclic.a = cyclic;
    cyclic.b = [cyclic, [cyclic]];
    cyclic.c = cyclic;
    cyclic.d = cyclic;
    let deep: unknown[] = [];
    const root = deep;
    for (let i = 0; i < 100_000; i++) {
      const next: unknown[] = [];
      deep.push(next);
      deep = next;
    }
    for (const c of conds) {
      assert.equal(typeof c.test(cyclic), 'boolean');
      assert.equal(typeof c.test({ a: root, b: root, c: root, z: root }), 'boolean');
    }
  });

  it('never throws on arbitrary values (property)', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }), (f) => {
        for (const c of conds) assert.equal(typeof c.test({ a: f, b: f, c: f, x: f, z: f, w: f, d: f } as never), 'boolean');
        for (const c of conds) assert.equal(typeof c.test(f as never), 'boolean');
      }),
      { numRuns: 2000, seed: 20261123 },
    );
  });
});

describe('compile errors name the rule, the path and the operator', () => {
  it('matches the documented message exactly', () => {
    assert.throws(
      () => compileCondition({ action_type: 'trade_execution', 'parameters.amount': { $gte: { value: 50000 } } }, { ruleId: 'rule_123', ruleName: 'High-Value Trade' }),
      (e: unknown) => {
        assert.ok(e instanceof ConditionError);
        assert.equal(e.message, 'rule "High-Value Trade": parameters.amount: $gte expects a number or string, got object');
        assert.equal(e.code, 'CONDITION_INVALID');
        assert.equal(e.rule, 'High-Value Trade');
        assert.equal(e.path, 'parameters.amount');
        assert.equal(e.operator, '$gte');
        return true;
      },
    );
  });

  it('falls back to the rule id when the rule has no name', () => {
    assert.throws(() => compileCondition({ x: { $bogus: 1 } }, { ruleId: 'rule_9' }), /^ConditionError: rule "rule_9": x: \$bogus is not a known operator$/);
  });

  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  const bad: [string, unknown, { path: string; operator: string; message: string }][] = [
    ['unknown operator', { 'parameters.amount': { $between: [1, 2] } }, { path: 'parameters.amount', operator: '$between', message: 'rule "Big trades": parameters.amount: $between is not a known operator' }],
    ['$gt with an array', { amount: { $gt: [1] } }, { path: 'amount', operator: '$gt', message: 'rule "Big trades": amount: $gt expects a number or string, got array' }],
    ['$lt with null', { amount: { $lt: null } }, { path: 'amount', operator: '$lt', message: 'rule "Big trades": amount: $lt expects a number or string, got null' }],
    ['$lte with a boolean', { amount: { $lte: true } }, { path: 'amount', operator: '$lte', message: 'rule "Big trades": amount: $lte expects a number or string, got boolean' }],
    ['$gt with NaN', { amount: { $gt: Number.NaN } }, { path: 'amount', operator: '$gt', message: 'rule "Big trades": amount: $gt expects a number or string, got NaN' }],
    ['$in with a string', { action_type: { $in: 'read' } }, { path: 'action_type', operator: '$in', message: 'rule "Big trades": action_type: $in expects an array, got string' }],
    ['$nin with an object', { action_type: { $nin: { a: 1 } } }, { path: 'action_type', operator: '$nin', message: 'rule "Big trades": action_type: $nin expects an array, got object' }],
    ['$exists with a string', { x: { $exists: 'yes' } }, { path: 'x', operator: '$exists', message: 'rule "Big trades": x: $exists expects true or false, got string' }],
    ['$contains with an object', { x: { $contains: { a: 1 } } }, { path: 'x', operator: '$contains', message: 'rule "Big trades": x: $contains expects a string, number or boolean, got object' }],
    ['$regex with a number', { x: { $regex: 5 } }, { path: 'x', operator: '$regex', message: 'rule "Big trades": x: $regex expects a pattern string, got number' }],
    ['$options other than i', { x: { $regex: 'a', $options: 'g' } }, { path: 'x', operator: '$regex', message: 'rule "Big trades": x: $regex $options may only be "i" (case-insensitive), got "g"' }],
    ['$options without $regex', { x: { $options: 'i' } }, { path: 'x', operator: '$options', message: 'rule "Big trades": x: $options needs a $regex beside it' }],
    ['$and with an object', { $and: { a: 1 } }, { path: '', operator: '$and', message: 'rule "Big trades": $and expects a non-empty array of conditions, got object' }],
    ['$or empty', { $or: [] }, { path: '', operator: '$or', message: 'rule "Big trades": $or expects a non-empty array of conditions, got an empty array' }],
    ['$or of a non-condition', { $or: [{ a: 1 }, 'b'] }, { path: '$or.1', operator: '', message: 'rule "Big trades": $or.1: a condition must be an object, got string' }],
    ['$not of a non-condition', { $not: [1] }, { path: '$not', operator: '', message: 'rule "Big trades": $not: a condition must be an object, got array' }],
    ['nested error names its path', { $or: [{ a: 1 }, { $and: [{ 'b.c': { $gte: {} } }] }] }, { path: 'b.c', operator: '$gte', message: 'rule "Big trades": b.c: $gte expects a number or string, got object' }],
    ['unknown logical operator', { $nor: [{ a: 1 }] }, { path: '', operator: '$nor', message: 'rule "Big trades": $nor is not a known operator here (use $and, $or, $not, or a fact path)' }],
    ['empty operator object', { x: {} }, { path: 'x', operator: '', message: 'rule "Big trades": x: has an empty operator object' }],
    ['operators mixed with plain keys', { x: { $gt: 1, plain: 2 } }, { path: 'x', operator: '', message: 'rule "Big trades": x: mixes operators with the plain key "plain"' }],
    ['empty path segment', { 'a..b': 1 }, { path: 'a..b', operator: '', message: 'rule "Big trades": a..b: path "a..b" has an empty segment' }],
    ['trailing dot', { 'a.': 1 }, { path: 'a.', operator: '', message: 'rule "Big trades": a.: path "a." has an empty segment' }],
    ['__proto__', { '__proto__.x': 1 }, { path: '__proto__.x', operator: '', message: 'rule "Big trades": __proto__.x: path "__proto__.x" uses a reserved segment (__proto__)' }],
    ['constructor', { 'a.constructor': 1 }, { path: 'a.constructor', operator: '', message: 'rule "Big trades": a.constructor: path "a.constructor" uses a reserved segment (constructor)' }],
    ['prototype', { 'a.prototype.b': 1 }, { path: 'a.prototype.b', operator: '', message: 'rule "Big trades": a.prototype.b: path "a.prototype.b" uses a reserved segment (prototype)' }],
    ['a function operand', { x: { $eq: () => 1 } }, { path: 'x', operator: '$eq', message: 'rule "Big trades": x: $eq expects JSON data: a function is not JSON data' }],
    ['a cyclic operand', { x: cyclic }, { path: 'x', operator: '$eq', message: 'rule "Big trades": x: $eq expects JSON data: nests deeper than 32 levels (or is cyclic)' }],
    ['a non-JSON list element', { x: { $in: [1, undefined] } }, { path: 'x', operator: '$in', message: 'rule "Big trades": x: $in expects JSON data: undefined is not JSON data' }],
    ['a document that is not an object', ['a'], { path: '', operator: '', message: 'rule "Big trades": a condition must be an object, got array' }],
  ];
  for (const [name, cond, want] of bad) {
    it(name, () => {
      assert.throws(
        () => compileCondition(cond, { ruleName: 'Big trades' }),
        (e: unknown) => {
          assert.ok(e instanceof ConditionError, String(e));
          assert.deepEqual({ path: e.path, operator: e.operator, message: e.message }, want);
          return true;
        },
      );
    });
  }

  it('refuses absurdly deep or cyclic documents with a ConditionError, not a stack overflow', () => {
    let deep: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < 10_000; i++) deep = { $not: deep };
    assert.throws(() => compileCondition(deep, { ruleName: 'Deep' }), (e: unknown) => e instanceof ConditionError && /nest deeper than 32 levels/.test(e.message));
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.$or = [cyclic];
    assert.throws(() => compileCondition(cyclic, { ruleName: 'Loop' }), (e: unknown) => e instanceof ConditionError && e.message.startsWith('rule "Loop": $or.0.$or.0'));
    let ok: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < 30; i++) ok = { $not: ok };
    assert.equal(compileCondition(ok).test({ a: 1 }), true, '30 levels are fine (an even number of $not)');
  });

  it('refuses non-plain objects as values', () => {
    assert.throws(() => compileCondition({ when: new Date(0) }, { ruleName: 'D' }), (e: unknown) => e instanceof ConditionError && e.message === 'rule "D": when: $eq expects JSON data: only plain objects are JSON data');
  });

  const badRegex: [string, string][] = [
    ['syntax error', '('],
    ['backreference', '(a)\\1'],
    ['lookahead', '(?=a)b'],
    ['negative lookahead', 'a(?!b)'],
    ['lookbehind', '(?<=a)b'],
  ];
  for (const [name, pattern] of badRegex) {
    it(`$regex ${name} is refused`, () => {
      assert.throws(
        () => compileCondition({ 'parameters.query': { $regex: pattern } }, { ruleName: 'No SQL' }),
        (e: unknown) => e instanceof ConditionError && e.operator === '$regex' && e.message.startsWith(`rule "No SQL": parameters.query: $regex pattern /${pattern}/ is not valid RE2`),
      );
    });
  }
});

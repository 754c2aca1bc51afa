import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition, ConditionError } from '../../engine/conditions';

const m = (cond: Record<string, unknown>, facts: Record<string, unknown>) => compileCondition(cond).test(facts);

describe('condition operators', () => {
  const facts = {
    action_type: 'trade_execution',
    parameters: { amount: 75000, symbol: 'AAPL', tags: ['urgent', 'fx'] },
    risk_score: 50,
    data_classes: ['PII', 'financial'],
    email: 'bob@company.com',
    when: '2026-03-23T12:00:00Z',
    nothing: null,
  };
  const table: [string, Record<string, unknown>, boolean][] = [
    ['implicit $eq', { action_type: 'trade_execution' }, true],
    ['implicit $eq, other value', { action_type: 'x' }, false],
    ['$eq number', { risk_score: { $eq: 50 } }, true],
    ['$eq does not coerce', { risk_score: { $eq: '50' } }, false],
    ['$eq scalar in array fact', { data_classes: 'PII' }, true],
    ['$eq null', { nothing: null }, true],
    ['$ne', { risk_score: { $ne: 40 } }, true],
    ['$ne on missing', { missing: { $ne: 1 } }, true],
    ['$gt', { 'parameters.amount': { $gt: 74999 } }, true],
    ['$gte boundary', { 'parameters.amount': { $gte: 75000 } }, true],
    ['$lt', { 'parameters.amount': { $lt: 75000 } }, false],
    ['$lte', { risk_score: { $lte: 50 } }, true],
    ['ordering across types is false', { risk_score: { $gt: '10' } }, false],
    ['ordering on missing is false', { missing: { $lt: 10 } }, false],
    ['dates compare as instants', { when: { $gt: '2026-03-23T11:00:00+00:00' } }, true],
    ['dates with offsets', { when: { $lt: '2026-03-23T13:00:00+02:00' } }, false],
    ['$in', { action_type: { $in: ['read', 'trade_execution'] } }, true],
    ['$in with array fact', { data_classes: { $in: ['PHI', 'PII'] } }, true],
    ['$nin', { action_type: { $nin: ['sandbox'] } }, true],
    ['$nin on missing', { agent_type: { $nin: ['sandbox'] } }, true],
    ['$contains string', { email: { $contains: '@company' } }, true],
    ['$contains array', { 'parameters.tags': { $contains: 'fx' } }, true],
    ['$contains on number is false', { risk_score: { $contains: '5' } }, false],
    ['$regex', { email: { $regex: '@company\\.com$' } }, true],
    ['$regex case-insensitive', { email: { $regex: '^BOB', $options: 'i' } }, true],
    ['$regex case-sensitive by default', { email: { $regex: '^BOB' } }, false],
    ['$regex on array', { data_classes: { $regex: '^fin' } }, true],
    ['$exists true', { 'parameters.symbol': { $exists: true } }, true],
    ['$exists false', { 'parameters.nope': { $exists: false } }, true],
    ['nested path', { 'parameters.symbol': 'AAPL' }, true],
    ['array index path', { 'parameters.tags.1': 'fx' }, true],
    ['several ops AND', { 'parameters.amount': { $gte: 50000, $lt: 100000 } }, true],
    ['several fields AND', { action_type: 'trade_execution', risk_score: { $gt: 60 } }, false],
    ['$or', { $or: [{ risk_score: { $gt: 60 } }, { action_type: 'trade_execution' }] }, true],
    ['$and', { $and: [{ risk_score: { $gt: 10 } }, { 'parameters.symbol': 'MSFT' }] }, false],
    ['$not', { $not: { action_type: 'read' } }, true],
    ['nested logic', { $or: [{ $not: { risk_score: 50 } }, { $and: [{ email: { $contains: 'bob' } }, { data_classes: { $in: ['PII'] } }] }] }, true],
    ['object equality', { parameters: { amount: 75000, symbol: 'AAPL', tags: ['urgent', 'fx'] } }, true],
  ];
  for (const [name, cond, want] of table) {
    it(name, () => assert.equal(m(cond, facts), want));
  }

  it('after hours wraps around midnight', () => {
    const c = compileCondition({ time_of_day: { $gte: '18:00', $lte: '06:00' } });
    assert.equal(c.test({ time_of_day: '23:15' }), true);
    assert.equal(c.test({ time_of_day: '05:59' }), true);
    assert.equal(c.test({ time_of_day: '12:00' }), false);
    const day = compileCondition({ time_of_day: { $gte: '09:00', $lte: '17:00' } });
    assert.equal(day.test({ time_of_day: '12:00' }), true);
    assert.equal(day.test({ time_of_day: '23:00' }), false);
  });

  it('never throws on odd facts', () => {
    const c = compileCondition({ 'a.b.c': { $gt: 1 }, x: { $regex: 'y' }, $or: [{ z: { $in: [1] } }, { w: { $contains: 'q' } }] });
    for (const f of [{}, { a: null }, { a: { b: 'str' } }, { a: [1, 2] }, { x: 5, z: { y: 1 }, w: null }]) assert.doesNotThrow(() => c.test(f));
  });
});

describe('compile errors name the rule, the path and the operator', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ 'parameters.amount': { $between: [1, 2] } }, /rule "Big trades": parameters\.amount: \$between is not a known operator/],
    [{ 'parameters.amount': { $gte: {} } }, /parameters\.amount: \$gte expects a number or string, got object/],
    [{ action_type: { $in: 'read' } }, /action_type: \$in expects an array, got string/],
    [{ x: { $exists: 'yes' } }, /x: \$exists expects true or false/],
    [{ x: { $regex: '(a)\\1' } }, /x: \$regex pattern .* is not valid RE2/],
    [{ x: { $regex: '(?=a)b' } }, /x: \$regex/],
    [{ x: { $options: 'i' } }, /\$options needs a \$regex/],
    [{ $or: [] }, /\$or expects a non-empty array/],
    [{ $nor: [{ a: 1 }] }, /\$nor is not a known operator/],
    [{ 'a..b': 1 }, /empty segment/],
    [{ '__proto__.x': 1 }, /reserved segment/],
    [{ x: { $gt: 1, plain: 2 } }, /mixes operators with plain keys/],
  ];
  for (const [cond, re] of bad) {
    it(JSON.stringify(cond), () => {
      assert.throws(() => compileCondition(cond, { ruleName: 'Big trades' }), (e: unknown) => e instanceof ConditionError && re.test(e.message));
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition, ConditionError } from '../../engine/conditions';

describe('regexes run on RE2: no catastrophic backtracking', () => {
  // On a backtracking engine (JS RegExp, PCRE) each of these takes exponential time on this input; RE2 is linear.
  const hostile = `${'a'.repeat(50_000)}!`;
  const patterns = ['(a+)+$', '^(a+)+$', '(a|aa)+$', '(a|a)+$', '(.*a){20}$', '^(\\w+\\s?)*$'];

  for (const pattern of patterns) {
    it(`evaluates /${pattern}/ against 50,000 a’s and a bang in bounded time`, () => {
      const c = compileCondition({ 'parameters.text': { $regex: pattern } }, { ruleName: 'Hostile' });
      const t0 = performance.now();
      const onString = c.test({ parameters: { text: hostile } });
      const onArray = c.test({ parameters: { text: ['!', hostile] } });
      const elapsed = performance.now() - t0;
      assert.equal(onString, false);
      assert.equal(onArray, false);
      assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
    });
  }

  it('the same patterns still match what they should', () => {
    assert.equal(compileCondition({ t: { $regex: '(a+)+$' } }).test({ t: 'baaaa' }), true);
    assert.equal(compileCondition({ t: { $regex: '^(a+)+$' } }).test({ t: 'aaaa' }), true);
    assert.equal(compileCondition({ t: { $regex: '^(a+)+$', $options: 'i' } }).test({ t: 'AaA' }), true);
  });

  it('refuses backreferences and lookaround at compile time, naming rule, path and operator', () => {
    for (const pattern of ['(a)\\1', '(?<x>a)\\k<x>', 'a(?!b)', '(?=a)', '(?<=a)b', '(?<!a)b']) {
      assert.throws(
        () => compileCondition({ 'parameters.text': { $regex: pattern } }, { ruleName: 'Hostile' }),
        (e: unknown) =>
          e instanceof ConditionError &&
          e.path === 'parameters.text' &&
          e.operator === '$regex' &&
          e.message.startsWith(`rule "Hostile": parameters.text: $regex pattern /${pattern}/ is not valid RE2`),
        pattern,
      );
    }
  });
});

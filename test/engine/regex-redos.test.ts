import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition } from '../../engine/conditions';

describe('regexes run on RE2: no catastrophic backtracking', () => {
  it('evaluates ^(a+)+$ against 50,000 a’s and a bang in bounded time', () => {
    // On a backtracking engine (JS RegExp, PCRE) this input takes exponential time; RE2 is linear.
    const hostile = { parameters: { text: `${'a'.repeat(50_000)}!` } };
    for (const pattern of ['^(a+)+$', '(a|aa)+$', '(.*a){20}$']) {
      const c = compileCondition({ 'parameters.text': { $regex: pattern } });
      const t0 = performance.now();
      const result = c.test(hostile);
      const elapsed = performance.now() - t0;
      assert.equal(result, false, pattern);
      assert.ok(elapsed < 2000, `${pattern} took ${elapsed} ms`);
    }
    assert.equal(compileCondition({ t: { $regex: '^(a+)+$' } }).test({ t: 'aaaa' }), true);
  });

  it('refuses backreferences and lookaround at compile time', () => {
    assert.throws(() => compileCondition({ t: { $regex: '(a)\\1' } }), /RE2/);
    assert.throws(() => compileCondition({ t: { $regex: 'a(?!b)' } }), /RE2/);
  });
});

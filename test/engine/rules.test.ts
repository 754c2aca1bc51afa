import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConditionError } from '../../engine/conditions';
import { compileRule, compileRuleSet, evaluateRules } from '../../engine/rules';
import type { RuleAction, SmartRuleDef } from '../../engine/types';

const rule = (id: string, priority: number, conditions: Record<string, unknown>, action: RuleAction = 'DENY', extra: Partial<SmartRuleDef> = {}): SmartRuleDef => ({ id, name: `Rule ${id}`, priority, isActive: true, conditions, action, ...extra });

describe('smart rule sets', () => {
  it('skip inactive rules and order by priority, then id', () => {
    const set = compileRuleSet([rule('b', 10, {}), rule('c', 50, {}), rule('a', 10, {}), rule('z', 99, {}, 'DENY', { isActive: false })]);
    assert.deepEqual(set.rules.map((r) => r.def.id), ['c', 'a', 'b']);
    assert.deepEqual(evaluateRules(set, {}).map((m) => m.rule.id), ['c', 'a', 'b']);
  });

  it('refuse the first invalid active rule, in the order given; inactive rules are not compiled', () => {
    const defs = [
      rule('ok', 1, { action_type: 'x' }),
      rule('off', 1, { x: { $bogus: 1 } }, 'DENY', { isActive: false }),
      rule('bad1', 1, { 'parameters.amount': { $gte: {} } }, 'DENY', { name: 'High-Value Trade' }),
      rule('bad2', 100, { y: { $regex: '(' } }),
    ];
    assert.throws(() => compileRuleSet(defs), (e: unknown) => e instanceof ConditionError && e.message === 'rule "High-Value Trade": parameters.amount: $gte expects a number or string, got object');
  });

  it('compileRule validates one rule at save time', () => {
    assert.doesNotThrow(() => compileRule(rule('r', 1, { action_type: 'trade_execution', 'parameters.amount': { $gte: 50000 } })));
    assert.throws(() => compileRule(rule('r', 1, { email: { $regex: '(a)\\1' } })), (e: unknown) => e instanceof ConditionError && e.rule === 'Rule r' && e.path === 'email' && e.operator === '$regex');
  });

  it('index rules by action type without changing what matches', () => {
    const defs = [
      rule('pinned', 5, { action_type: 'trade_execution' }),
      rule('pinned-eq', 4, { capability: { $eq: 'trade_execution' } }),
      rule('pinned-in', 3, { action_type: { $in: ['db.query', 'trade_execution'] } }),
      rule('other', 2, { action_type: 'db.query' }),
      rule('floating', 1, { risk_score: { $gt: 10 } }),
    ];
    const set = compileRuleSet(defs);
    const ids = (facts: Record<string, unknown>) => evaluateRules(set, facts).map((m) => m.rule.id);
    assert.deepEqual(ids({ action_type: 'trade_execution', capability: 'trade_execution', risk_score: 50 }), ['pinned', 'pinned-eq', 'pinned-in', 'floating']);
    assert.deepEqual(ids({ action_type: 'db.query', capability: 'db.query', risk_score: 5 }), ['pinned-in', 'other']);
    // Hand-built facts that do not look like buildFacts' still get every rule tried.
    assert.deepEqual(ids({ action_type: ['trade_execution', 'db.query'] }), ['pinned', 'pinned-in', 'other']);
    assert.deepEqual(ids({ action_type: 'db.query', capability: 'trade_execution' }), ['pinned-eq', 'pinned-in', 'other']);
  });

  it('report each match with its reason, notifications and approval level', () => {
    const set = compileRuleSet([
      rule('hv', 100, { action_type: 'trade_execution', 'parameters.amount': { $gte: 50000 }, 'parameters.note': { $exists: false } }, 'REQUIRE_APPROVAL', {
        name: 'High-Value Trade Approval',
        approvalLevel: 3,
        notifications: { channels: ['slack-trading-alerts'], priority: 'high' },
      }),
      rule('long', 1, { 'parameters.blob': { $exists: true } }, 'NOTIFY'),
    ]);
    const [hv, long] = evaluateRules(set, { action_type: 'trade_execution', parameters: { amount: 75000, blob: 'x'.repeat(500) } });
    assert.equal(hv.reason.message, 'Rule "High-Value Trade Approval" (priority 100) matched: action_type=trade_execution, parameters.amount=75000, parameters.note=(missing) → REQUIRE_APPROVAL');
    assert.deepEqual(hv.reason.matched, { action_type: 'trade_execution', 'parameters.amount': 75000, 'parameters.note': undefined });
    assert.equal(hv.approvalLevel, 3);
    assert.deepEqual(hv.notifications, { channels: ['slack-trading-alerts'], priority: 'high' });
    assert.equal(long.reason.effect, 'NOTIFY');
    assert.ok(long.reason.message.length < 200, 'long fact values are shortened in messages');
    assert.equal((long.reason.matched?.['parameters.blob'] as string).length, 500, 'but kept whole in matched');
  });
});

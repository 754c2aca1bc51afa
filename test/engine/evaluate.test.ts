import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../../engine/evaluate';
import type { Layer } from '../../engine/evaluate';
import { DEFAULT_RISK_CONFIG } from '../../engine/risk';
import { compileRuleSet } from '../../engine/rules';
import type { Proposal, RuleAction, SmartRuleDef } from '../../engine/types';

const now = Date.parse('2026-11-23T12:00:00Z');
const p = (capability: string, over: Partial<Proposal> = {}): Proposal => ({ actor: { id: 'a', type: 'ai-agent' }, action: { capability, parameters: {} }, environment: 'development', context: { metadata: {} }, dataClasses: [], ...over });
let n = 0;
const rule = (action: RuleAction, conditions: Record<string, unknown>, priority = 0, extra: Partial<SmartRuleDef> = {}): SmartRuleDef => ({ id: `r${++n}`, name: `${action} ${n}`, priority, isActive: true, conditions, action, ...extra });
const run = (proposal: Proposal, rules: SmartRuleDef[], layers: Layer[] = []) => evaluate({ proposal, rules: compileRuleSet(rules), risk: DEFAULT_RISK_CONFIG, now, layers });

describe('combining (DESIGN.md §4)', () => {
  it('allows a low-risk action with no rules, and says why', () => {
    const v = run(p('db.query'), []);
    assert.equal(v.outcome, 'ALLOW');
    assert.equal(v.decisive?.code, 'RISK_WITHIN_AUTO_APPROVE');
  });

  it('a DENY rule denies', () => {
    const v = run(p('db.query'), [rule('DENY', { action_type: 'db.query' })]);
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.decisive?.source, 'rule');
  });

  it('risk at or above the deny threshold denies, and AUTO_APPROVE cannot lift it', () => {
    const v = run(p('records.delete', { environment: 'production', dataClasses: ['PHI'] }), [rule('AUTO_APPROVE', { action_type: 'records.delete' })]);
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.decisive?.code, 'RISK_ABOVE_DENY_THRESHOLD');
  });

  it('AUTO_APPROVE overrides the risk layer’s approval, never a rule’s REQUIRE_APPROVAL', () => {
    const pii = p('customers.read', { dataClasses: ['PII'] });
    assert.equal(run(pii, []).outcome, 'REQUIRE_APPROVAL');
    assert.equal(run(pii, [rule('AUTO_APPROVE', { data_classes: 'PII' })]).outcome, 'ALLOW');
    assert.equal(run(pii, [rule('AUTO_APPROVE', { data_classes: 'PII' }), rule('REQUIRE_APPROVAL', { action_type: 'customers.read' })]).outcome, 'REQUIRE_APPROVAL');
  });

  it('AUTO_APPROVE never overrides a policy layer’s hard requirement', () => {
    const layer: Layer = () => ({ reasons: [{ source: 'policy', id: 'p1', effect: 'REQUIRE_APPROVAL', code: 'APPROVAL_REQUIRED_BY_POLICY', message: 'policy says so' }] });
    assert.equal(run(p('db.query'), [rule('AUTO_APPROVE', { action_type: 'db.query' })], [layer]).outcome, 'REQUIRE_APPROVAL');
  });

  it('ESCALATE beats REQUIRE_APPROVAL and starts at tier 2; deny beats both', () => {
    const e = run(p('db.query'), [rule('REQUIRE_APPROVAL', { action_type: 'db.query' }, 5), rule('ESCALATE', { action_type: 'db.query' }, 1)]);
    assert.equal(e.outcome, 'ESCALATE');
    assert.equal(e.approval?.startTier, 2);
    assert.equal(run(p('db.query'), [rule('ESCALATE', { action_type: 'db.query' }), rule('DENY', { action_type: 'db.query' })]).outcome, 'DENY');
  });

  it('NOTIFY keeps the outcome and adds a notification', () => {
    const v = run(p('db.query'), [rule('NOTIFY', { action_type: 'db.query' }, 0, { notifications: { channels: ['#ops'] } })]);
    assert.equal(v.outcome, 'ALLOW');
    assert.deepEqual(v.notify.map((x) => x.channels), [['#ops']]);
  });

  it('a throwing layer fails closed as DENY with EVALUATION_ERROR', () => {
    const v = run(p('db.query'), [rule('AUTO_APPROVE', { action_type: 'db.query' })], [() => { throw new Error('boom'); }]);
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.decisive?.code, 'EVALUATION_ERROR');
    assert.equal(v.errors.length, 1);
  });

  it('every matched rule is a reason; the decisive one is the highest priority of the winning effect', () => {
    const low = rule('DENY', { action_type: 'db.query' }, 1);
    const high = rule('DENY', { 'parameters.table': 'users' }, 99);
    const note = rule('NOTIFY', { action_type: 'db.query' }, 50);
    const v = run(p('db.query', { action: { capability: 'db.query', parameters: { table: 'users' } } }), [low, high, note]);
    assert.equal(v.decisive?.id, high.id);
    assert.deepEqual(v.reasons.filter((r) => r.source === 'rule').map((r) => r.id), [high.id, note.id, low.id]);
    assert.deepEqual(v.reasons.find((r) => r.id === high.id)?.matched, { 'parameters.table': 'users' });
  });

  it('rules see risk_score and time_of_day', () => {
    const v = run(p('trade_execution'), [rule('DENY', { action_type: 'trade_execution', time_of_day: { $gte: '18:00', $lte: '06:00' } }), rule('ESCALATE', { risk_score: { $lt: 30 } })]);
    assert.equal(v.outcome, 'ESCALATE', 'noon is not after hours');
  });

  it('a rule’s approval_level raises the starting tier', () => {
    const v = run(p('db.query'), [rule('REQUIRE_APPROVAL', { action_type: 'db.query' }, 0, { approvalLevel: 2 })]);
    assert.equal(v.approval?.startTier, 2);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../../engine/evaluate';
import type { Layer, LayerContext } from '../../engine/evaluate';
import { DEFAULT_RISK_CONFIG } from '../../engine/risk';
import { compileRuleSet } from '../../engine/rules';
import type { Proposal, Reason, RiskConfig, RuleAction, SmartRuleDef, Verdict } from '../../engine/types';

const noon = Date.parse('2026-11-23T12:00:00Z');
const p = (capability: string, over: Partial<Proposal> = {}): Proposal => ({ actor: { id: 'a', type: 'ai-agent' }, action: { capability, parameters: {} }, environment: 'development', context: { metadata: {} }, dataClasses: [], ...over });
let n = 0;
const rule = (action: RuleAction, conditions: Record<string, unknown>, priority = 0, extra: Partial<SmartRuleDef> = {}): SmartRuleDef => ({ id: `r${String(++n).padStart(3, '0')}`, name: `${action} ${n}`, priority, isActive: true, conditions, action, ...extra });
const run = (proposal: Proposal, rules: SmartRuleDef[], layers: Layer[] = [], now = noon) => evaluate({ proposal, rules: compileRuleSet(rules), risk: DEFAULT_RISK_CONFIG, now, layers });
const layerOf = (reason: Partial<Reason> & Pick<Reason, 'effect'>, extra: Omit<ReturnType<Layer>, 'reasons'> = {}): Layer => () => ({ reasons: [{ source: 'policy', id: 'pol1', code: 'POLICY', message: 'policy says so', ...reason }], ...extra });

const lowRisk = p('db.query'); // score 9: auto-approve band
const midRisk = p('customers.read', { dataClasses: ['PII'] }); // score 79: approval band
const highRisk = p('records.delete', { environment: 'production', dataClasses: ['PHI'] }); // score 100: deny band

const riskReasons = (v: Verdict) => v.reasons.filter((r) => r.source === 'risk');

describe('combining (DESIGN.md §4)', () => {
  it('allows a low-risk action with no rules, and says why', () => {
    const v = run(lowRisk, []);
    assert.equal(v.outcome, 'ALLOW');
    assert.equal(v.risk.score, 9);
    assert.deepEqual(v.decisive, { source: 'risk', effect: 'ALLOW', code: 'RISK_WITHIN_AUTO_APPROVE', message: 'Risk score 9 is within the auto-approve limit 30', matched: { risk_score: 9 } });
    assert.equal(v.approval, undefined);
    assert.deepEqual(v.errors, []);
  });

  it('a DENY rule denies', () => {
    const deny = rule('DENY', { action_type: 'db.query' });
    const v = run(lowRisk, [deny]);
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.decisive?.id, deny.id);
    assert.equal(v.approval, undefined);
  });

  it('risk at or above the deny threshold denies, and AUTO_APPROVE cannot lift it', () => {
    const v = run(highRisk, [rule('AUTO_APPROVE', { action_type: 'records.delete' }, 1000)]);
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.decisive?.code, 'RISK_ABOVE_DENY_THRESHOLD');
    assert.equal(v.decisive?.message, 'Risk score 100 is at or above the deny threshold 95');
  });

  it('the risk band alone asks for approval, at tier 1', () => {
    const v = run(midRisk, []);
    assert.equal(v.outcome, 'REQUIRE_APPROVAL');
    assert.equal(v.decisive?.code, 'RISK_REQUIRES_APPROVAL');
    assert.equal(v.decisive?.message, 'Risk score 79 is above the auto-approve limit 30, so approval is required');
    assert.deepEqual(v.approval, { startTier: 1 });
  });

  it('AUTO_APPROVE overrides the risk layer’s approval', () => {
    const auto = rule('AUTO_APPROVE', { data_classes: 'PII' });
    const v = run(midRisk, [auto]);
    assert.equal(v.outcome, 'ALLOW');
    assert.equal(v.decisive?.id, auto.id);
    assert.equal(riskReasons(v)[0].effect, 'REQUIRE_APPROVAL', 'the risk layer still says what it asked for');
  });

  it('a REQUIRE_APPROVAL rule beats AUTO_APPROVE, whatever the priorities', () => {
    const need = rule('REQUIRE_APPROVAL', { action_type: 'db.query' }, 1);
    const v = run(lowRisk, [rule('AUTO_APPROVE', { action_type: 'db.query' }, 999), need]);
    assert.equal(v.outcome, 'REQUIRE_APPROVAL');
    assert.equal(v.decisive?.id, need.id);
  });

  it('AUTO_APPROVE never overrides a policy layer’s hard requirement', () => {
    const v = run(lowRisk, [rule('AUTO_APPROVE', { action_type: 'db.query' })], [layerOf({ effect: 'REQUIRE_APPROVAL', code: 'APPROVAL_REQUIRED_BY_POLICY' })]);
    assert.equal(v.outcome, 'REQUIRE_APPROVAL');
    assert.equal(v.decisive?.code, 'APPROVAL_REQUIRED_BY_POLICY');
  });

  it('ESCALATE beats REQUIRE_APPROVAL and starts at tier 2; DENY beats both', () => {
    const esc = rule('ESCALATE', { action_type: 'db.query' }, 1);
    const e = run(lowRisk, [rule('REQUIRE_APPROVAL', { action_type: 'db.query' }, 5), esc]);
    assert.equal(e.outcome, 'ESCALATE');
    assert.equal(e.decisive?.id, esc.id);
    assert.deepEqual(e.approval, { startTier: 2 });
    assert.equal(run(lowRisk, [rule('ESCALATE', { action_type: 'db.query' }), rule('DENY', { action_type: 'db.query' })]).outcome, 'DENY');
    assert.equal(run(midRisk, [], [layerOf({ effect: 'ESCALATE' })]).outcome, 'ESCALATE');
  });

  it('a layer’s DENY denies, and every layer still runs', () => {
    const seen: string[] = [];
    const v = run(lowRisk, [rule('AUTO_APPROVE', { action_type: 'db.query' })], [
      (ctx) => (seen.push('first'), layerOf({ effect: 'DENY', code: 'ACTION_DENIED_BY_POLICY' })(ctx)),
      (ctx) => (seen.push('second'), layerOf({ effect: 'ALLOW', id: 'pol2', code: 'POLICY_OK' })(ctx)),
    ]);
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.decisive?.code, 'ACTION_DENIED_BY_POLICY');
    assert.deepEqual(seen, ['first', 'second']);
    assert.ok(v.reasons.some((r) => r.code === 'POLICY_OK'));
  });

  it('NOTIFY keeps the outcome and adds a notification', () => {
    const note = rule('NOTIFY', { action_type: 'db.query' }, 0, { notifications: { channels: ['#ops'], priority: 'high' } });
    const v = run(lowRisk, [note]);
    assert.equal(v.outcome, 'ALLOW');
    assert.deepEqual(v.notify, [{ source: 'rule', id: note.id, name: note.name, channels: ['#ops'], priority: 'high' }]);
    const held = run(midRisk, [rule('NOTIFY', { data_classes: 'PII' })]);
    assert.equal(held.outcome, 'REQUIRE_APPROVAL', 'NOTIFY is not an approval');
    assert.equal(held.notify.length, 1);
  });

  it('the seed’s high-value trade: approval at the rule’s level, its channels notified, its facts shown', () => {
    const hv = rule('REQUIRE_APPROVAL', { action_type: 'trade_execution', 'parameters.amount': { $gte: 50000 } }, 100, {
      name: 'High-Value Trade Approval',
      approvalLevel: 3,
      notifications: { channels: ['slack-trading-alerts'], priority: 'high' },
    });
    const v = run(p('trade_execution', { environment: 'production', action: { capability: 'trade_execution', parameters: { amount: 75000, symbol: 'AAPL' } } }), [hv]);
    assert.equal(v.outcome, 'REQUIRE_APPROVAL');
    assert.equal(v.decisive?.id, hv.id);
    assert.deepEqual(v.decisive, {
      source: 'rule',
      id: hv.id,
      name: 'High-Value Trade Approval',
      effect: 'REQUIRE_APPROVAL',
      code: 'RULE_MATCHED',
      priority: 100,
      matched: { action_type: 'trade_execution', 'parameters.amount': 75000 },
      message: 'Rule "High-Value Trade Approval" (priority 100) matched: action_type=trade_execution, parameters.amount=75000 → REQUIRE_APPROVAL',
    });
    assert.deepEqual(v.approval, { startTier: 3 });
    assert.deepEqual(v.notify, [{ source: 'rule', id: hv.id, name: 'High-Value Trade Approval', channels: ['slack-trading-alerts'], priority: 'high' }]);
    assert.equal(run(p('trade_execution', { action: { capability: 'trade_execution', parameters: { amount: 49999 } } }), [hv]).reasons.some((r) => r.id === hv.id), false);
  });

  it('rules see risk_score and time_of_day (the seed’s after-hours rule)', () => {
    const afterHours = rule('DENY', { action_type: 'trade_execution', time_of_day: { $gte: '18:00', $lte: '06:00' } }, 50);
    const lowScore = rule('ESCALATE', { risk_score: { $lt: 30 } });
    const trade = p('trade_execution');
    assert.equal(run(trade, [afterHours, lowScore]).outcome, 'ESCALATE', 'noon is not after hours');
    const night = run(trade, [afterHours, lowScore], [], Date.parse('2026-11-23T23:30:00Z'));
    assert.equal(night.outcome, 'DENY');
    assert.deepEqual(night.decisive?.matched, { action_type: 'trade_execution', time_of_day: '23:30' });
  });

  it('every matched rule is a reason, in priority order; the decisive one is the highest priority of the winning effect', () => {
    const low = rule('DENY', { action_type: 'db.query' }, 1);
    const high = rule('DENY', { 'parameters.table': 'users' }, 99);
    const note = rule('NOTIFY', { action_type: 'db.query' }, 50);
    const auto = rule('AUTO_APPROVE', { action_type: 'db.query' }, 500);
    const unmatched = rule('DENY', { action_type: 'other' }, 1000);
    const inactive = rule('DENY', { action_type: 'db.query' }, 2000, { isActive: false });
    const v = run(p('db.query', { action: { capability: 'db.query', parameters: { table: 'users' } } }), [low, high, note, auto, unmatched, inactive]);
    assert.equal(v.decisive?.id, high.id);
    assert.deepEqual(v.reasons.map((r) => r.id ?? r.source), ['risk', auto.id, high.id, note.id, low.id]);
    assert.deepEqual(v.reasons.find((r) => r.id === high.id)?.matched, { 'parameters.table': 'users' });
  });

  it('the risk layer always contributes exactly one reason with its score and threshold', () => {
    for (const [proposal, code, threshold] of [[lowRisk, 'RISK_WITHIN_AUTO_APPROVE', '30'], [midRisk, 'RISK_REQUIRES_APPROVAL', '30'], [highRisk, 'RISK_ABOVE_DENY_THRESHOLD', '95']] as const) {
      const v = run(proposal, [rule('DENY', { action_type: proposal.action.capability })]);
      const rs = riskReasons(v);
      assert.equal(rs.length, 1);
      assert.equal(rs[0].code, code);
      assert.match(rs[0].message, new RegExp(`Risk score ${v.risk.score} .* ${threshold}`));
    }
  });
});

describe('layers', () => {
  it('receive the proposal, facts with risk_score, the assessment and now', () => {
    const calls: LayerContext[] = [];
    run(midRisk, [], [(ctx) => (calls.push(ctx), { reasons: [] })]);
    assert.equal(calls.length, 1);
    const [got] = calls;
    assert.equal(got.proposal, midRisk);
    assert.equal(got.facts.risk_score, 79);
    assert.equal(got.facts.action_type, 'customers.read');
    assert.equal(got.risk.score, 79);
    assert.equal(got.now, noon);
  });

  it('approval requests merge: approvers united, the largest quorum, the shortest timeout', () => {
    const v = run(lowRisk, [], [
      layerOf({ effect: 'REQUIRE_APPROVAL' }, { approval: { approvers: ['ann', 'ben'], quorum: 2, timeoutSeconds: 600 } }),
      layerOf({ effect: 'REQUIRE_APPROVAL' }, { approval: { approvers: ['ben', 'cy'], quorum: 1, timeoutSeconds: 300, startTier: 2 } }),
    ]);
    assert.deepEqual(v.approval, { approvers: ['ann', 'ben', 'cy'], quorum: 2, timeoutSeconds: 300, startTier: 2 });
  });

  it('constraints and notifications come from layers', () => {
    const v = run(lowRisk, [], [
      layerOf({ effect: 'ALLOW' }, { constraints: { budget_remaining: 40 }, notify: [{ source: 'policy', channels: ['email:ops@example.com'] }] }),
      layerOf({ effect: 'ALLOW' }, { constraints: { rate_remaining: 9 } }),
    ]);
    assert.equal(v.outcome, 'ALLOW');
    assert.deepEqual(v.constraints, { budget_remaining: 40, rate_remaining: 9 });
    assert.deepEqual(v.notify, [{ source: 'policy', channels: ['email:ops@example.com'] }]);
    assert.equal(v.approval, undefined, 'an ALLOW carries no approval request');
  });
});

describe('fails closed', () => {
  it('a throwing layer → DENY with EVALUATION_ERROR, other contributions kept', () => {
    const v = run(lowRisk, [rule('AUTO_APPROVE', { action_type: 'db.query' })], [
      function budgets() {
        throw new Error('boom');
      },
    ]);
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.decisive?.code, 'EVALUATION_ERROR');
    assert.equal(v.decisive?.source, 'system');
    assert.deepEqual(v.errors, [{ source: 'policy', message: 'layer 1 (budgets) failed: boom' }]);
    assert.ok(v.reasons.some((r) => r.effect === 'AUTO_APPROVE'));
    assert.equal(v.reasons[v.reasons.length - 1], v.decisive);
  });

  it('a layer that returns no reasons → DENY', () => {
    const v = run(lowRisk, [], [(() => ({})) as unknown as Layer]);
    assert.equal(v.outcome, 'DENY');
    assert.match(v.errors[0].message, /returned no reasons array/);
  });

  it('a layer reason with an effect the combiner does not know → DENY, not a silent ALLOW', () => {
    const v = run(lowRisk, [], [layerOf({ effect: 'BLOCK' as never })]);
    assert.equal(v.outcome, 'DENY');
    assert.match(v.errors[0].message, /unknown effect: BLOCK/);
  });

  it('a missing risk configuration → DENY, never a throw', () => {
    const v = evaluate({ proposal: lowRisk, rules: compileRuleSet([]), risk: undefined as unknown as RiskConfig, now: noon });
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.risk.score, 100);
    assert.deepEqual(v.errors.map((e) => e.source), ['risk']);
  });

  it('a rule that throws → DENY, and the error names the rule', () => {
    const params: Record<string, unknown> = {};
    Object.defineProperty(params, 'x', { enumerable: true, value: Object.defineProperty({}, 'y', { enumerable: true, get: () => { throw new Error('getter exploded'); } }) });
    const bad = rule('NOTIFY', { 'parameters.x.y': 1 }, 0, { name: 'Fragile' });
    const v = run(p('db.query', { action: { capability: 'db.query', parameters: params } }), [bad]);
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.decisive?.code, 'EVALUATION_ERROR');
    assert.deepEqual(v.errors, [{ source: 'rule', id: bad.id, message: 'rule "Fragile" failed: getter exploded' }]);
  });

  it('a malformed proposal or a missing clock → DENY, never a throw', () => {
    const broken = { ...lowRisk, context: undefined } as unknown as Proposal;
    const v = run(broken, [rule('AUTO_APPROVE', {})]);
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.decisive?.code, 'EVALUATION_ERROR');
    assert.deepEqual(v.errors.map((e) => e.source), ['system', 'risk']);
    const noClock = run(lowRisk, [], [], Number.NaN);
    assert.equal(noClock.outcome, 'DENY');
    assert.match(noClock.errors[0].message, /now must be epoch milliseconds/);
  });
});

describe('purity', () => {
  it('the same input gives the same verdict, and the input is left alone', () => {
    const proposal = p('payments.transfer', { amount: 1200, environment: 'production', dataClasses: ['internal'], context: { metadata: { external: true } } });
    const rules = compileRuleSet([rule('REQUIRE_APPROVAL', { amount: { $gte: 1000 } }), rule('NOTIFY', { data_classes: { $in: ['internal'] } }, 5, { notifications: { channels: ['#fin'] } })]);
    const before = JSON.stringify(proposal);
    const a = evaluate({ proposal, rules, risk: DEFAULT_RISK_CONFIG, now: noon, history: { total: 10, denied: 2 } });
    const b = evaluate({ proposal, rules, risk: DEFAULT_RISK_CONFIG, now: noon, history: { total: 10, denied: 2 } });
    assert.deepEqual(a, b);
    assert.equal(a.outcome, 'REQUIRE_APPROVAL');
    assert.equal(a.reasons.filter((r) => r.source === 'rule').length, 2);
    assert.equal(JSON.stringify(proposal), before);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a, 'a verdict is plain JSON data');
  });
});

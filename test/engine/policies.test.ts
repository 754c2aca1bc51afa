import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFacts } from '../../engine/facts';
import { compilePolicies, counterSpecs, matchAction, policyLayer, riskLevel } from '../../engine/policies';
import type { PolicyUsage } from '../../engine/policies';
import { validatePolicyDef } from '../../engine/policy-schema';
import type { PolicyDef } from '../../engine/policy-schema';
import type { Proposal } from '../../engine/types';

const now = Date.parse('2026-11-23T12:00:00Z');
const p = (capability: string, over: Partial<Proposal> = {}): Proposal => ({ actor: { id: 'bot', type: 'ai-agent' }, action: { capability, parameters: {} }, context: { runId: 'r1', sessionId: 's1', metadata: {} }, dataClasses: [], ...over });
const empty: PolicyUsage = { counters: {}, evidence: [], exceptions: [] };
const layerOf = (defs: PolicyDef[], usage: PolicyUsage = empty) => {
  const set = compilePolicies(defs.map((d, i) => ({ ...validate(d), id: `pol_${i}` })));
  return (prop: Proposal, riskScore = 10) => policyLayer(set, usage)({ proposal: prop, facts: buildFacts(prop, { now, riskScore }), risk: { score: riskScore, factors: {} as never, modifiers: [], band: 'AUTO_APPROVE' }, now });
};
function validate(d: unknown): PolicyDef {
  const v = validatePolicyDef(d);
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.value;
}

describe('dot globs', () => {
  const table: [string, string, boolean][] = [
    ['payments.*', 'payments.refund', true],
    ['payments.*', 'payments.refund.create', false],
    ['payments.**', 'payments.refund.create', true],
    ['payments.**', 'payments', true],
    ['*.delete', 'db.delete', true],
    ['*.delete', 'db.rows.delete', false],
    ['**', 'anything.at.all', true],
    ['db.query', 'db.query', true],
    ['db.query', 'db.queryx', false],
  ];
  for (const [glob, cap, want] of table) it(`${glob} ~ ${cap} = ${want}`, () => assert.equal(matchAction(glob, cap), want));
});

describe('policy schema', () => {
  it('names the field of each error with a dotted path', () => {
    const v = validatePolicyDef({ name: 'x', rate_limits: [{ action: 'a', max: 1, window_seconds: 0 }], extra: 1 });
    assert.equal(v.ok, false);
    if (!v.ok) {
      const paths = v.errors.map((e) => e.path);
      assert.ok(paths.includes('rate_limits.0.window_seconds'), paths.join());
      assert.ok(paths.includes('extra'), paths.join());
    }
    const scoped = validatePolicyDef({ name: 'x', scope: 'run' });
    assert.equal(scoped.ok, false);
    if (!scoped.ok) assert.equal(scoped.errors[0].path, 'target_id');
  });
});

describe('policy layer', () => {
  it('deny lists and allow lists', () => {
    const l = layerOf([{ name: 'L', denied_actions: ['payments.*'], allowed_actions: ['payments.**', 'db.*'] }]);
    assert.deepEqual(l(p('payments.refund')).reasons.map((r) => r.code), ['ACTION_DENIED_BY_POLICY']);
    assert.deepEqual(l(p('email.send')).reasons.map((r) => r.code), ['ACTION_NOT_ALLOWED']);
    assert.deepEqual(l(p('db.read')).reasons, []);
  });

  it('budgets at and over the limit, with the remaining headroom as a constraint', () => {
    const def = { name: 'B', run_budget: 100 };
    const set = compilePolicies([{ ...validate(def), id: 'pol_0' }]);
    const prop = p('shop.buy', { amount: 40 });
    const [spec] = counterSpecs(set, prop, buildFacts(prop, { now }), now);
    assert.equal(spec.key, 'budget:run:pol_0:r1');
    const at = layerOf([def], { ...empty, counters: { [spec.key]: 60 } })(prop);
    assert.deepEqual(at.reasons, []);
    assert.deepEqual(at.constraints, { budgets_remaining: { 'run_budget of run r1': 0 } });
    const over = layerOf([def], { ...empty, counters: { [spec.key]: 61 } })(prop);
    assert.equal(over.reasons[0].code, 'BUDGET_EXCEEDED');
  });

  it('rate limits count in fixed windows; a new window starts again', () => {
    const set = compilePolicies([{ ...validate({ name: 'R', rate_limits: [{ action: 'search.*', max: 2, window_seconds: 60 }] }), id: 'pol_r' }]);
    const prop = p('search.web');
    const k1 = counterSpecs(set, prop, buildFacts(prop, { now }), now)[0].key;
    const k2 = counterSpecs(set, prop, buildFacts(prop, { now: now + 60_000 }), now + 60_000)[0].key;
    assert.notEqual(k1, k2);
    assert.equal(counterSpecs(set, prop, buildFacts(prop, { now: now + 1000 }), now + 1000)[0].key, k1, 'same window, same key');
  });

  it('evidence: missing, stale, present in the same run but not another', () => {
    const def = { name: 'E', commit_actions: ['deploy.*'], evidence_actions: ['ci.pass'], evidence_max_age_seconds: 60 };
    const ev = (at: number, runId = 'r1') => ({ ...empty, evidence: [{ capability: 'ci.pass', at, runId }] });
    assert.equal(layerOf([def])(p('deploy.app')).reasons[0].code, 'EVIDENCE_MISSING');
    assert.equal(layerOf([def], ev(now - 120_000))(p('deploy.app')).reasons[0].code, 'EVIDENCE_STALE');
    assert.deepEqual(layerOf([def], ev(now - 10_000))(p('deploy.app')).reasons, []);
    assert.equal(layerOf([def], ev(now - 10_000, 'r2'))(p('deploy.app')).reasons[0].code, 'EVIDENCE_MISSING');
  });

  it('grounding: the parameter must be a value the evidence produced', () => {
    const def = { name: 'G', grounding_rules: [{ action: 'refund.*', parameter: 'order_id', evidence_action: 'orders.lookup', evidence_path: 'ids' }] };
    const usage = { ...empty, evidence: [{ capability: 'orders.lookup', at: now, runId: 'r1', output: { ids: ['o1', 'o2'] } }] };
    assert.deepEqual(layerOf([def], usage)(p('refund.issue', { action: { capability: 'refund.issue', parameters: { order_id: 'o2' } } })).reasons, []);
    assert.equal(layerOf([def], usage)(p('refund.issue', { action: { capability: 'refund.issue', parameters: { order_id: 'o9' } } })).reasons[0].code, 'UNGROUNDED_PARAMETER');
  });

  it('argument constraints name the instance path', () => {
    const def = { name: 'A', argument_constraints: { 'pay.*': { type: 'object', properties: { amount: { type: 'number', maximum: 10 } } } } };
    const r = layerOf([def])(p('pay.out', { action: { capability: 'pay.out', parameters: { amount: 11 } } }));
    assert.equal(r.reasons[0].code, 'ARGUMENT_CONSTRAINT_VIOLATED');
    assert.match(r.reasons[0].message, /\/amount must be <= 10/);
  });

  it('approval triggers merge approvers (union), quorum (max) and timeout (min)', () => {
    const l = layerOf([
      { name: 'A1', approval_threshold_usd: 100, default_approvers: ['ann'], approval_quorum: 1, approval_timeout_seconds: 600 },
      { name: 'A2', approval_rules: [{ name: 'big', conditions: { amount: { $gte: 500 } }, approvers: ['ben'], quorum: 2, timeout_seconds: 300 }] },
    ]);
    const r = l(p('shop.buy', { amount: 800 }));
    assert.equal(r.reasons.filter((x) => x.code === 'APPROVAL_REQUIRED_BY_POLICY').length, 2);
    assert.deepEqual(r.approval, { approvers: ['ann', 'ben'], quorum: 2, timeoutSeconds: 300 });
    assert.deepEqual(layerOf([{ name: 'T', approval_tags: ['prod'] }])(p('x', { context: { tags: ['prod'], metadata: {} } })).reasons.map((x) => x.code), ['APPROVAL_REQUIRED_BY_POLICY']);
    assert.equal(layerOf([{ name: 'K', approval_risk_levels: ['critical'] }])(p('x'), 80).reasons.length, 1);
    assert.equal(riskLevel(24), 'low');
    assert.equal(riskLevel(75), 'critical');
  });

  it('an exception skips its policy', () => {
    const l = layerOf([{ name: 'X', denied_actions: ['**'] }], { ...empty, exceptions: [{ policyId: 'pol_0', exceptionId: 'pex_1' }] });
    assert.deepEqual(l(p('a.b')).reasons.map((r) => r.code), ['POLICY_EXCEPTION_APPLIED']);
  });

  it('scopes select policies by agent, run, group and mission', () => {
    const l = layerOf([
      { name: 'ag', scope: 'agent', target_id: 'bot', denied_actions: ['a.*'] },
      { name: 'ru', scope: 'run', target_id: 'r9', denied_actions: ['a.*'] },
      { name: 'gr', scope: 'group', target_id: 'g1', denied_actions: ['a.*'] },
      { name: 'mi', scope: 'mission', target_id: 'm1', denied_actions: ['a.*'] },
    ]);
    assert.deepEqual(l(p('a.x')).reasons.map((r) => r.name), ['ag']);
    assert.deepEqual(l(p('a.x', { actor: { id: 'other', type: 'ai-agent' }, context: { runId: 'r9', groupIds: ['g1'], missionId: 'm1', metadata: {} } })).reasons.map((r) => r.name).sort(), ['gr', 'mi', 'ru']);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { evaluate } from '../../engine/evaluate';
import { compilePolicies, policyLayer } from '../../engine/policies';
import { DEFAULT_RISK_CONFIG } from '../../engine/risk';
import { compileRuleSet } from '../../engine/rules';
import type { Outcome, Proposal } from '../../engine/types';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

const CAPS = ['db.query', 'db.delete', 'payments.transfer', 'email.send', 'files.export', 'deploy.service'];
const ENVS = ['production', 'staging', 'development'];
const CLASSES = [[], [], ['PII'], ['PHI'], ['PCI']];

function gen(i: number): Proposal {
  const r = (n: number) => (i * 2654435761 + n * 40503) % 1000 / 1000;
  return {
    actor: { id: `agent-${i % 37}`, type: 'ai-agent' },
    action: { capability: CAPS[i % CAPS.length], parameters: { amount: Math.floor(r(1) * 20000) } },
    environment: ENVS[i % 3],
    context: { metadata: {} },
    dataClasses: CLASSES[i % CLASSES.length],
    amount: Math.floor(r(1) * 20000),
  };
}

const cls = (o: Outcome) => (o === 'ALLOW' ? 'ALLOW' : o === 'DENY' ? 'DENY' : 'APPROVAL');

describe('simulation over stored proposals', () => {
  let s: Stack;
  const N = 10_000;
  const t0 = Date.parse('2026-11-20T00:00:00Z');
  before(async () => {
    s = await startStack({ withWorker: false });
    // 10,000 stored proposals, inserted directly: the fast path is not what is tested here.
    for (let start = 0; start < N; start += 1000) {
      const params: unknown[] = [];
      const tuples: string[] = [];
      for (let i = start; i < start + 1000; i++) {
        const p = gen(i);
        const b = params.length;
        params.push(`dec_sim${i}`, p.actor.id, p.action.capability, JSON.stringify(p), new Date(t0 + i * 1000));
        tuples.push(`($${b + 1}, 'org_default', $${b + 2}, 'ai-agent', $${b + 3}, 'aegis', $${b + 4}, 'ALLOW', 'final', 'ALLOW', 0, 'seed', '{}', 'aud_x', 0, 'x', $${b + 5})`);
      }
      await s.core.ds.query(`INSERT INTO decisions (id, "orgId", "actorId", "actorType", capability, surface, proposal, outcome, status, "finalOutcome", "riskScore", reason, verdict, "auditRef", "auditSeq", "auditHash", "createdAt") VALUES ${tuples.join(',')}`, params);
    }
  });
  after(async () => {
    await s?.close();
  });

  it('reports exactly the flips that evaluating each proposal directly gives', async () => {
    const draftRule = { rule_id: 'draft_1', name: 'No prod deletes', priority: 10, conditions: { action_type: { $regex: 'delete$' }, environment: 'production' }, action: 'DENY' as const };
    const draftRisk = { thresholds: { auto_approve_max: 45, require_approval_min: 46, auto_deny_min: 90 } };
    const r = await s.call('POST', '/api/v1/policies/simulate', { body: { since: new Date(t0).toISOString(), until: new Date(t0 + N * 1000).toISOString(), rule: draftRule, risk_config: draftRisk } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    let sim = r.body;
    const until = Date.now() + 120_000;
    const progress: number[] = [];
    while (sim.status === 'running' && Date.now() < until) {
      await new Promise((ok) => setTimeout(ok, 200));
      sim = (await s.call('GET', `/api/v1/simulations/${sim.simulation_id}`)).body;
      progress.push(sim.processed);
    }
    assert.equal(sim.status, 'done', JSON.stringify(sim));
    assert.equal(sim.result.total, N);

    // The reference: each proposal evaluated directly with the live and the draft configuration.
    const live = compileRuleSet([]);
    const draft = compileRuleSet([{ id: 'draft_1', name: draftRule.name, priority: 10, isActive: true, conditions: draftRule.conditions, action: 'DENY' }]);
    const draftRiskCfg = { ...DEFAULT_RISK_CONFIG, thresholds: draftRisk.thresholds };
    const flips: Record<string, number> = {};
    for (let i = 0; i < N; i++) {
      const p = gen(i);
      const now = t0 + i * 1000;
      const a = cls(evaluate({ proposal: p, rules: live, risk: DEFAULT_RISK_CONFIG, now }).outcome);
      const b = cls(evaluate({ proposal: p, rules: draft, risk: draftRiskCfg, now }).outcome);
      if (a !== b) flips[`${a}->${b}`] = (flips[`${a}->${b}`] ?? 0) + 1;
    }
    assert.ok(Object.keys(flips).length >= 2, `the draft should move outcomes both ways: ${JSON.stringify(flips)}`);
    assert.deepEqual(sim.result.flips, flips);
    assert.equal(sim.result.changed, Object.values(flips).reduce((x, y) => x + y, 0));
    assert.ok(sim.result.top_capabilities.length > 0);
  });

  it('simulates a draft agent policy: the same flips as evaluating with its layer directly', async () => {
    const draft = { name: 'draft policy', denied_actions: ['files.*'], approval_threshold_usd: 15000, approval_actions: ['email.send'] };
    const n = 1500;
    const r = await s.call('POST', '/api/v1/policies/simulate', { body: { since: new Date(t0).toISOString(), until: new Date(t0 + (n - 1) * 1000).toISOString(), policy: draft } });
    assert.ok(r.status === 200 || r.status === 202, JSON.stringify(r.body));
    let sim = r.body;
    while (sim.status === 'running') {
      await new Promise((ok) => setTimeout(ok, 100));
      sim = (await s.call('GET', `/api/v1/simulations/${sim.simulation_id}`)).body;
    }
    assert.equal(sim.status, 'done', JSON.stringify(sim));
    assert.equal(sim.result.total, n);
    const rules = compileRuleSet([]);
    const layer = policyLayer(compilePolicies([{ ...draft, id: 'pol_draft' }]), { counters: {}, evidence: [], exceptions: [] });
    const flips: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const p = gen(i);
      const now = t0 + i * 1000;
      const a = cls(evaluate({ proposal: p, rules, risk: DEFAULT_RISK_CONFIG, now }).outcome);
      const b = cls(evaluate({ proposal: p, rules, risk: DEFAULT_RISK_CONFIG, now, layers: [layer] }).outcome);
      if (a !== b) flips[`${a}->${b}`] = (flips[`${a}->${b}`] ?? 0) + 1;
    }
    assert.ok(Object.values(flips).reduce((x, y) => x + y, 0) >= 50, `the draft should move outcomes: ${JSON.stringify(flips)}`);
    assert.deepEqual(sim.result.flips, flips);
  });

  it('reports a simulation whose process died as failed, instead of running forever', async () => {
    const r = await s.call('POST', '/api/v1/policies/simulate', { body: { since: new Date(t0).toISOString(), until: new Date(t0 + 10_000).toISOString(), rules: [] } });
    // The state a killed process leaves behind: still "running", no progress for minutes.
    await s.core.ds.query(`UPDATE simulations SET status = 'running', "finishedAt" = NULL, "heartbeatAt" = now() - interval '5 minutes' WHERE id = $1`, [r.body.simulation_id]);
    const polled = await s.call('GET', `/api/v1/simulations/${r.body.simulation_id}`);
    assert.equal(polled.body.status, 'failed');
    assert.match(polled.body.error, /interrupted/);
    const fresh = await s.call('POST', '/api/v1/policies/simulate', { body: { since: new Date(t0).toISOString(), until: new Date(t0 + 10_000).toISOString(), rules: [] } });
    await s.core.ds.query(`UPDATE simulations SET status = 'running', "heartbeatAt" = now() WHERE id = $1`, [fresh.body.simulation_id]);
    assert.equal((await s.call('GET', `/api/v1/simulations/${fresh.body.simulation_id}`)).body.status, 'running', 'a simulation with a recent heartbeat is left alone');
  });

  it('answers a small window at once and rejects an empty draft', async () => {
    const r = await s.call('POST', '/api/v1/policies/simulate', { body: { since: new Date(t0).toISOString(), until: new Date(t0 + 100_000).toISOString(), rules: [] } });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'done');
    assert.equal(r.body.result.total, 101);
    const none = await s.call('POST', '/api/v1/policies/simulate', { body: { since: new Date(t0).toISOString() } });
    assert.equal(none.status, 400);
  });
});

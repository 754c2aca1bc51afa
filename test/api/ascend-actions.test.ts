import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

/** Ascend's actions API: the seed's HTTP code per rule action, on the same decision path as every surface. */
describe('Ascend actions: submit, read, status, list', () => {
  let s: Stack;
  const submit = (body: Record<string, unknown>) => s.call('POST', '/api/v1/actions/submit', { body });
  before(async () => {
    s = await startStack();
    const rules = [
      { name: 'Reads pass', priority: 50, conditions: { action_type: 'db.read' }, action: 'AUTO_APPROVE' },
      { name: 'Transfers need a person', priority: 50, conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' },
      { name: 'No drops', priority: 90, conditions: { action_type: 'db.drop' }, action: 'DENY' },
      { name: 'Key rotation goes up', priority: 50, conditions: { action_type: 'keys.rotate' }, action: 'ESCALATE' },
      { name: 'PII in the description', priority: 80, conditions: { description: { $contains: 'PII' } }, action: 'DENY' },
    ];
    for (const body of rules) assert.equal((await s.call('POST', '/api/smart-rules', { body })).status, 201);
  });
  after(async () => {
    await s?.close();
  });

  it('answers 200 / 202 / 202 / 403 for AUTO_APPROVE, REQUIRE_APPROVAL, ESCALATE and DENY, in the seed’s envelope', async () => {
    const cases: [string, number, string, string][] = [
      ['db.read', 200, 'approved', 'AUTO_APPROVE'],
      ['payments.transfer', 202, 'pending_approval', 'REQUIRE_APPROVAL'],
      ['keys.rotate', 202, 'pending_approval', 'ESCALATE'],
      ['db.drop', 403, 'denied', 'DENY'],
    ];
    for (const [type, code, decision, action] of cases) {
      const r = await submit({ agent_id: 'agent-7', action_type: type, parameters: { amount: 10 } });
      assert.equal(r.status, code, `${type}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.status, 'success');
      assert.equal(r.body.data.decision, decision, type);
      assert.equal(r.body.data.policy_result.action, action, type);
      assert.ok(r.body.data.policy_result.matched_rule, type);
      assert.match(r.body.data.action_id, /^dec_/);
      assert.ok(['low', 'medium', 'high', 'critical'].includes(r.body.data.risk_assessment.level));
      assert.ok(r.body.data.risk_assessment.factors.length >= 5);
      for (const f of r.body.data.risk_assessment.factors) assert.equal(typeof f.score, 'number');
      assert.ok(Date.parse(r.body.data.timestamp));
    }
  });

  it('holds an action the agent asks a person for, and matches rules on its description', async () => {
    const asked = await submit({ agent_id: 'agent-7', action_type: 'db.read', require_approval: true });
    assert.equal(asked.status, 202);
    assert.equal(asked.body.data.decision, 'pending_approval');
    const pii = await submit({ agent_id: 'agent-7', action_type: 'report.send', description: 'weekly export with PII columns' });
    assert.equal(pii.status, 403);
    assert.equal(pii.body.data.policy_result.matched_rule, 'PII in the description');
  });

  it('reads an action back by id and by status, lists with filters, and refuses bad input in its envelope', async () => {
    const held = await submit({ agent_id: 'agent-9', action_type: 'payments.transfer', parameters: { amount: 5 } });
    const one = await s.call('GET', `/api/v1/actions/${held.body.data.action_id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.data.action_id, held.body.data.action_id);
    assert.equal(one.body.data.status, 'pending_approval');
    const status = await s.call('GET', `/api/v1/actions/${held.body.data.action_id}/status`);
    assert.deepEqual(Object.keys(status.body.data).sort(), ['action_id', 'decided_at', 'decided_by', 'status']);
    const mine = await s.call('GET', '/api/v1/actions?agent_id=agent-9&status=pending_approval');
    assert.deepEqual(mine.body.data.actions.map((a: { action_id: string }) => a.action_id), [held.body.data.action_id]);
    assert.equal((await s.call('GET', '/api/v1/actions?status=denied&action_type=db.drop')).body.data.total, 1);
    const bad = await submit({ agent_id: 'agent-9' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.status, 'error');
    assert.equal(bad.body.error.field, 'action_type');
    assert.equal((await s.call('GET', '/api/v1/actions/dec_nope')).status, 404);
  });

  it('holds a paused agent’s action and refuses a blocked one, as on every surface', async () => {
    assert.equal((await s.call('POST', '/api/v1/agents', { body: { agent_id: 'agent-p' } })).status, 201);
    await s.call('POST', '/api/v1/agents/agent-p/pause', { body: {} });
    assert.equal((await submit({ agent_id: 'agent-p', action_type: 'db.read' })).status, 202);
    await s.call('POST', '/api/v1/agents/agent-p/block', { body: {} });
    assert.equal((await submit({ agent_id: 'agent-p', action_type: 'db.read' })).status, 403);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { addUser, proposal } from '../helpers/fixtures';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal';

// TheWARDN's layers (seed 003) end to end, on every surface: registered agents (pause,
// block, resume), unregistered agents, confidence floors, Sentinel principles (tier X,
// even in AUDIT_ONLY), L6 model governance and the organization's monthly limit.

const HEX64 = /^[0-9a-f]{64}$/;
const HOUR = 3_600_000;

type Body = Record<string, any>;

/** A /govern body with overrides. */
const action = (agentId: string, over: Record<string, unknown> = {}) => ({ agent_id: agentId, action_type: 'read_logs', target_service: 'production-api', ...over });

describe('TheWARDN layers on every surface', () => {
  let temporal: TestWorkflowEnvironment;
  let s: Stack;
  let agentKey: string;

  /** Governs as an agent (Bearer, as the seed shows), expecting 200. */
  const govern = async (body: Record<string, unknown>): Promise<Body> => {
    const r = await s.call('POST', '/govern', { body, key: null, headers: { Authorization: `Bearer ${agentKey}` } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  /** Proposes on Aegis as the agent, expecting 200. */
  const aegis = async (over: Record<string, unknown>): Promise<Body> => {
    const r = await s.call('POST', '/api/v1/governance/propose', { body: proposal(over), key: agentKey });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const aegisAs = (actorId: string, over: Record<string, unknown> = {}) => aegis({ actor: { id: actorId, type: 'ai-agent' }, ...over });
  const detail = async (decisionId: string): Promise<Body> => (await s.call('GET', `/api/v1/governance/decisions/${decisionId}`)).body;
  const settings = async (body: Record<string, unknown>): Promise<Body> => {
    const r = await s.call('PUT', '/api/v1/governance-settings', { body });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const auditOf = async (query: string): Promise<Body[]> => {
    const r = await s.call('GET', `/api/v1/audit?limit=200&${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.data as Body[]).reverse();
  };
  const openEscrows = async (): Promise<Body[]> => (await s.call('GET', '/escrow?limit=200', { key: agentKey })).body.escrows as Body[];
  const register = async (...ids: string[]) => {
    for (const id of ids) {
      const r = await s.call('POST', '/api/v1/agents', { body: { agent_id: id, name: id } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
  };
  const key = async (body: { name: string; scopes: string[]; role?: string }): Promise<string> => {
    const r = await s.call('POST', '/api/v1/keys', { body: { role: 'member', ...body } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.key as string;
  };
  const codes = (l6: Body) => (l6.violations as { code: string }[]).map((v) => v.code);

  before(async () => {
    temporal = await startTemporal();
    s = await startStack({ temporal });
    await addUser(s, 'ann@example.com', ['approver'], 'Ann');
    await addUser(s, 'root@example.com', ['admin'], 'Root');
    agentKey = await key({ name: 'agent', scopes: ['governance:propose', 'governance:read'] });
  });
  after(async () => {
    await s?.close();
    await temporal?.teardown();
  });

  it('a paused agent is held on /govern, Aegis and Ascend; a blocked one refused on both; resume restores; each change audited', async () => {
    await register('agt_pause');
    const aegisRead = () => aegisAs('agt_pause');
    assert.equal((await govern(action('agt_pause'))).verdict, 'CLEARED');
    assert.equal((await aegisRead()).outcome, 'ALLOW');

    // Paused: its actions wait for a person.
    const paused = await s.call('POST', '/api/v1/agents/agt_pause/pause', { body: { reason: 'investigating a spike' } });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal(paused.body.status, 'paused');
    const held = await govern(action('agt_pause'));
    assert.deepEqual({ execute: held.execute, verdict: held.verdict, tier: held.tier }, { execute: false, verdict: 'HELD', tier: 'B' });
    assert.equal(typeof held.escrow_id, 'string');
    assert.match(held.message, /agt_pause is paused/);
    assert.ok((await openEscrows()).some((e) => e.escrow_id === held.escrow_id && e.agent_id === 'agt_pause'), 'its escrow is open');
    const confirm = await aegisRead();
    assert.deepEqual({ outcome: confirm.outcome, status: confirm.status }, { outcome: 'REQUIRE_CONFIRMATION', status: 'pending' });
    assert.ok((await detail(confirm.decision_id)).reasons.some((r: Body) => r.code === 'AGENT_PAUSED'));
    // Ascend has no propose path of its own: the paused agent's action is among its pending approvals.
    const pending = await s.call('GET', '/api/governance/dashboard/pending-approvals');
    assert.equal(pending.status, 200);
    const mine = (pending.body.data.pending as Body[]).filter((x) => x.agent_id === 'agt_pause').map((x) => x.action_id);
    assert.ok(mine.includes(confirm.decision_id) && mine.includes(held.decision_id), `Ascend lists both held actions: ${JSON.stringify(mine)}`);

    // Blocked: refused on every surface.
    assert.equal((await s.call('POST', '/api/v1/agents/agt_pause/block', { body: { reason: 'kill switch' } })).body.status, 'blocked');
    const blocked = await govern(action('agt_pause'));
    assert.deepEqual({ execute: blocked.execute, verdict: blocked.verdict, tier: blocked.tier, reason: blocked.reason }, { execute: false, verdict: 'BLOCKED', tier: 'C', reason: 'AGENT_BLOCKED' });
    assert.ok(!('escrow_id' in blocked) && !('rule_violated' in blocked));
    const denied = await aegisRead();
    assert.deepEqual({ outcome: denied.outcome, status: denied.status }, { outcome: 'DENY', status: 'final' });
    assert.match(denied.reason, /agt_pause is blocked/);

    // Resumed: as before.
    const resumed = await s.call('POST', '/api/v1/agents/agt_pause/resume', { body: {} });
    assert.equal(resumed.body.status, 'active');
    assert.equal((await s.call('GET', '/api/v1/agents/agt_pause')).body.status, 'active');
    const cleared = await govern(action('agt_pause'));
    assert.deepEqual({ execute: cleared.execute, verdict: cleared.verdict, tier: cleared.tier }, { execute: true, verdict: 'CLEARED', tier: 'A' });
    assert.equal((await aegisRead()).outcome, 'ALLOW');
    // Resuming an active agent changes nothing and records nothing.
    assert.equal((await s.call('POST', '/api/v1/agents/agt_pause/resume', { body: {} })).status, 200);

    const trail = await auditOf('entity_type=agent&entity_id=agt_pause');
    assert.deepEqual(trail.map((r) => r.action), ['register', 'pause', 'block', 'resume']);
    assert.deepEqual(trail.slice(1).map((r) => [r.data.from, r.data.to, r.data.reason]), [['active', 'paused', 'investigating a spike'], ['paused', 'blocked', 'kill switch'], ['blocked', 'active', null]]);
    assert.ok(trail.every((r) => r.actor_type === 'api_key' && r.actor_id === trail[0].actor_id && HEX64.test(r.hash)));
  });

  it('an unregistered agent: BLOCKED on /govern, allowed on Aegis by default, denied once the organization says so', async () => {
    const ghost = await govern(action('agt_ghost'));
    assert.deepEqual({ execute: ghost.execute, verdict: ghost.verdict, reason: ghost.reason }, { execute: false, verdict: 'BLOCKED', reason: 'AGENT_NOT_REGISTERED' });
    assert.match(ghost.message, /agt_ghost is not registered/);
    assert.equal((await aegisAs('agt_ghost')).outcome, 'ALLOW');
    assert.equal((await s.call('GET', '/api/v1/governance-settings')).body.unregistered_agents, 'allow');

    assert.equal((await settings({ unregistered_agents: 'deny' })).unregistered_agents, 'deny');
    try {
      const denied = await aegisAs('agt_ghost');
      assert.equal(denied.outcome, 'DENY');
      assert.ok((await detail(denied.decision_id)).reasons.some((r: Body) => r.code === 'AGENT_NOT_REGISTERED'));
      await register('agt_known');
      assert.equal((await aegisAs('agt_known')).outcome, 'ALLOW', 'a registered agent is still allowed');
      assert.equal((await govern(action('agt_ghost'))).reason, 'AGENT_NOT_REGISTERED');
      const changes = await auditOf('action=governance_settings.update');
      assert.deepEqual(changes.at(-1)?.data, { changes: { unregisteredAgents: 'deny' } });
    } finally {
      await settings({ unregistered_agents: 'allow' });
    }
    assert.equal((await aegisAs('agt_ghost')).outcome, 'ALLOW');
  });

  it('confidence below a floor holds with the seed’s message; a missing dimension holds; floor changes are versioned and audited', async () => {
    await register('agt_floor');
    const created = await s.call('POST', '/api/v1/confidence-floors', { body: { action_type: 'deploy_*', environment: 'production', floors: { fix: 0.75 } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const floor = created.body as Body;
    assert.deepEqual({ action_type: floor.action_type, environment: floor.environment, floors: floor.floors, version: floor.version, is_active: floor.is_active }, { action_type: 'deploy_*', environment: 'production', floors: { fix: 0.75 }, version: 1, is_active: true });
    try {
      const below = await govern(action('agt_floor', { action_type: 'deploy_code', environment: 'production', confidence: { incident: 0.95, fix: 0.7, containment: 0.92 } }));
      assert.deepEqual({ execute: below.execute, verdict: below.verdict, tier: below.tier }, { execute: false, verdict: 'HELD', tier: 'B' });
      assert.equal(typeof below.escrow_id, 'string');
      assert.ok(String(below.message).startsWith('Confidence below floor: fix=0.70 < 0.75'), below.message);
      const missing = await govern(action('agt_floor', { action_type: 'deploy_code', confidence: { incident: 0.95 } }));
      assert.equal(missing.verdict, 'HELD');
      assert.ok(String(missing.message).startsWith('Confidence missing: fix (floor 0.75)'), missing.message);
      // The floor names production: staging is not held by it.
      const staging = await govern(action('agt_floor', { action_type: 'deploy_code', environment: 'staging', confidence: { fix: 0.5 } }));
      assert.equal(staging.verdict, 'CLEARED', JSON.stringify(staging));

      // A change is a new version, and counts at once.
      const changed = await s.call('PUT', `/api/v1/confidence-floors/${floor.floor_id}`, { body: { environment: '*', floors: { fix: 0.6 } } });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.deepEqual({ environment: changed.body.environment, floors: changed.body.floors, version: changed.body.version }, { environment: '*', floors: { fix: 0.6 }, version: 2 });
      const heldStaging = await govern(action('agt_floor', { action_type: 'deploy_code', environment: 'staging', confidence: { fix: 0.5 } }));
      assert.equal(heldStaging.verdict, 'HELD');
      assert.ok(String(heldStaging.message).startsWith('Confidence below floor: fix=0.50 < 0.60'), heldStaging.message);
      assert.equal((await govern(action('agt_floor', { action_type: 'deploy_code', environment: 'staging', confidence: { fix: 0.7 } }))).verdict, 'CLEARED');
      // Aegis holds on the same floor.
      const onAegis = await aegisAs('agt_floor', { action: { capability: 'deploy_code', parameters: {} }, environment: 'staging', confidence: { fix: 0.4 } });
      assert.equal(onAegis.outcome, 'REQUIRE_CONFIRMATION');
      assert.match(onAegis.reason, /^Confidence below floor: fix=0\.40 < 0\.60/);
      const listed = (await s.call('GET', '/api/v1/confidence-floors')).body.floors as Body[];
      assert.deepEqual(listed.filter((f) => f.floor_id === floor.floor_id).map((f) => f.version), [2]);
    } finally {
      assert.equal((await s.call('DELETE', `/api/v1/confidence-floors/${floor.floor_id}`)).status, 204);
    }
    const trail = await auditOf(`entity_type=confidence_floor&entity_id=${floor.floor_id}`);
    assert.deepEqual(trail.map((r) => r.action), ['create', 'update', 'delete']);
    assert.deepEqual(trail[0].data.floors, { fix: 0.75 });
    assert.deepEqual(trail[1].data.before, { actionType: 'deploy_*', environment: 'production', floors: { fix: 0.75 }, isActive: true, version: 1 });
    const changes = trail[1].data.changes as Body;
    assert.deepEqual({ environment: changes.environment, floors: changes.floors, version: changes.version }, { environment: '*', floors: { fix: 0.6 }, version: 2 });
    assert.equal(trail[2].data.version, 2);
    assert.equal((await govern(action('agt_floor', { action_type: 'deploy_code', environment: 'staging', confidence: { fix: 0.1 } }))).verdict, 'CLEARED', 'a removed floor holds nothing');
  });

  it('the HELD message for a floor is exactly the seed’s', async () => {
    const created = await s.call('POST', '/api/v1/confidence-floors', { body: { action_type: 'deploy_*', environment: 'production', floors: { fix: 0.75 } } });
    assert.equal(created.status, 201);
    try {
      const held = await govern(action('agt_floor', { action_type: 'deploy_code', environment: 'production', confidence: { incident: 0.95, fix: 0.7, containment: 0.92 } }));
      assert.equal(held.verdict, 'HELD');
      assert.equal(held.message, 'Confidence below floor: fix=0.70 < 0.75');
    } finally {
      await s.call('DELETE', `/api/v1/confidence-floors/${created.body.floor_id}`);
    }
  });

  it('a PUT of a floor changes only the fields it names', async () => {
    const created = await s.call('POST', '/api/v1/confidence-floors', { body: { action_type: 'deploy_*', environment: 'production', floors: { fix: 0.75 }, is_active: false } });
    assert.equal(created.status, 201);
    try {
      const changed = await s.call('PUT', `/api/v1/confidence-floors/${created.body.floor_id}`, { body: { floors: { fix: 0.6 } } });
      assert.equal(changed.status, 200);
      assert.deepEqual({ environment: changed.body.environment, is_active: changed.body.is_active, floors: changed.body.floors, version: changed.body.version }, { environment: 'production', is_active: false, floors: { fix: 0.6 }, version: 2 });
    } finally {
      await s.call('DELETE', `/api/v1/confidence-floors/${created.body.floor_id}`);
    }
  });

  it('a tier X principle blocks, even in AUDIT_ONLY, and cannot be waived: no escrow', async () => {
    await register('agt_sgp');
    assert.deepEqual((await settings({ principles: ['NO_PRODUCTION_WITHOUT_REVIEW'] })).principles, ['NO_PRODUCTION_WITHOUT_REVIEW']);
    const architect = await key({ name: 'architect', scopes: ['governance:read'], role: 'architect' });
    const sgpIds: string[] = [];
    try {
      const change = () => govern(action('agt_sgp', { action_type: 'update_config', environment: 'production' }));
      const x = await change();
      assert.deepEqual(
        { execute: x.execute, verdict: x.verdict, tier: x.tier, reason: x.reason, rule_violated: x.rule_violated, message: x.message },
        { execute: false, verdict: 'BLOCKED', tier: 'X', reason: 'SGP_VIOLATION', rule_violated: 'NO_PRODUCTION_WITHOUT_REVIEW', message: 'Action blocked by Sentinel Governance Principle' },
      );
      assert.match(x.hash, HEX64);
      assert.ok(!('escrow_id' in x));
      sgpIds.push(x.decision_id);
      // A reviewed change, a read, a staging change: not the principle's business.
      assert.equal((await govern(action('agt_sgp', { action_type: 'update_config', metadata: { review_id: 'rev_7' } }))).verdict, 'CLEARED');
      assert.equal((await govern(action('agt_sgp', { action_type: 'update_config', metadata: { reviewed_by: 'ann@example.com' } }))).verdict, 'CLEARED');
      assert.equal((await govern(action('agt_sgp', { action_type: 'data_query' }))).verdict, 'CLEARED');
      assert.equal((await govern(action('agt_sgp', { action_type: 'update_config', environment: 'staging' }))).verdict, 'CLEARED');
      const onAegis = await aegisAs('agt_sgp', { action: { capability: 'update_config', parameters: {} }, environment: 'production' });
      assert.equal(onAegis.outcome, 'DENY');
      sgpIds.push(onAegis.decision_id);

      // AUDIT_ONLY clears everything else, not a principle.
      const mode = await s.call('PUT', '/governance-mode', { body: { mode: 'AUDIT_ONLY' }, key: architect });
      assert.equal(mode.status, 200, JSON.stringify(mode.body));
      const audited = await change();
      assert.deepEqual(
        { execute: audited.execute, verdict: audited.verdict, tier: audited.tier, reason: audited.reason, rule_violated: audited.rule_violated, mode: audited.governance_mode, original: audited.original_verdict },
        { execute: false, verdict: 'BLOCKED', tier: 'X', reason: 'SGP_VIOLATION', rule_violated: 'NO_PRODUCTION_WITHOUT_REVIEW', mode: 'AUDIT_ONLY', original: 'BLOCKED' },
      );
      sgpIds.push(audited.decision_id);
      const unregistered = await govern(action('agt_ghost_audit'));
      assert.deepEqual({ verdict: unregistered.verdict, original: unregistered.original_verdict }, { verdict: 'CLEARED', original: 'BLOCKED' }, 'a refusal that is not a principle’s is cleared');
      const auditedAegis = await aegisAs('agt_sgp', { action: { capability: 'update_config', parameters: {} }, environment: 'production' });
      assert.equal(auditedAegis.outcome, 'DENY');
      const d = await detail(auditedAegis.decision_id);
      assert.deepEqual({ mode: d.governance_mode, would: d.audit_only_outcome, status: d.status }, { mode: 'AUDIT_ONLY', would: 'DENY', status: 'final' });
      sgpIds.push(auditedAegis.decision_id);

      // Never an escrow, and nothing to waive.
      const escrowed = (await openEscrows()).map((e) => e.decision_id);
      for (const id of sgpIds) {
        assert.ok(!escrowed.includes(id), `no escrow for ${id}`);
        const waive = await s.call('POST', `/api/v1/governance/decisions/${id}/waive`, { body: { reason: 'ship it anyway' } });
        assert.equal(waive.status, 409, JSON.stringify(waive.body));
        assert.equal((await detail(id)).outcome, 'DENY');
      }
      const records = await auditOf('action=decision.proposed&entity_id=' + audited.decision_id);
      assert.deepEqual({ outcome: records[0].data.outcome, mode: records[0].data.governanceMode, original: records[0].data.originalOutcome }, { outcome: 'DENY', mode: 'AUDIT_ONLY', original: 'DENY' });
    } finally {
      assert.equal((await s.call('PUT', '/governance-mode', { body: { mode: 'ENFORCED' }, key: architect })).status, 200);
      await settings({ principles: [] });
    }
    // Another agent (agt_sgp's denials raise its risk history): the same change passes with the principle off.
    await register('agt_sgp_after');
    assert.equal((await govern(action('agt_sgp_after', { action_type: 'update_config' }))).verdict, 'CLEARED', 'with the principle off');
  });

  it('a freeze window: a change inside it is tier X; a read is not; a window in the past blocks nothing', async () => {
    await register('agt_freeze');
    const now = Date.now();
    const set = await settings({ principles: ['NO_CHANGE_IN_FREEZE_WINDOW'], freeze_windows: [{ from: new Date(now - HOUR).toISOString(), until: new Date(now + HOUR).toISOString(), name: 'Release freeze' }] });
    assert.deepEqual(set.freeze_windows, [{ from: new Date(now - HOUR).toISOString(), until: new Date(now + HOUR).toISOString(), name: 'Release freeze' }]);
    try {
      const frozen = await govern(action('agt_freeze', { action_type: 'deploy_code', environment: 'staging' }));
      assert.deepEqual({ verdict: frozen.verdict, tier: frozen.tier, rule: frozen.rule_violated }, { verdict: 'BLOCKED', tier: 'X', rule: 'NO_CHANGE_IN_FREEZE_WINDOW' });
      assert.match(frozen.detail, /Release freeze/);
      assert.equal((await govern(action('agt_freeze', { action_type: 'data_query', environment: 'staging' }))).verdict, 'CLEARED');
      await settings({ freeze_windows: [{ from: new Date(now - 3 * HOUR).toISOString(), until: new Date(now - 2 * HOUR).toISOString() }] });
      assert.equal((await govern(action('agt_freeze', { action_type: 'deploy_code', environment: 'staging' }))).verdict, 'CLEARED');
    } finally {
      await settings({ principles: [], freeze_windows: [] });
    }
  });

  it('L6: an unapproved model, a data class it may not see, a blown budget; MONITOR reports without blocking; the cost follows the registry’s prices', async () => {
    await register('agt_l6', 'agt_budget', 'agt_budget_org');
    const put = async (id: string, body: Record<string, unknown>) => {
      const r = await s.call('PUT', `/api/v1/models/${id}`, { body });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body as Body;
    };
    const sonnet = await put('claude-sonnet', { provider: 'anthropic', access_channels: ['API'], data_classes: ['PII'], agreements: ['dpa'], price_per_1k_input_usd: 0.003, price_per_1k_output_usd: 0.015 });
    assert.deepEqual(sonnet.agreements, ['DPA']);
    await put('old-model', { provider: 'acme', price_per_1k_input_usd: 0.001, status: 'blocked' });
    const use = (agentId: string, m: Record<string, unknown>, over: Record<string, unknown> = {}) => govern(action(agentId, { action_type: 'generate_text', target_service: 'llm-gateway', environment: 'development', metadata: m, ...over }));

    // A clean call: the seed's l6 object, its cost from the registry's prices.
    const clean = await use('agt_l6', { model_id: 'claude-sonnet', access_channel: 'API', estimated_tokens: { input: 2000, output: 1000 } });
    assert.equal(clean.verdict, 'CLEARED', JSON.stringify(clean));
    const expected = Math.round(((2000 / 1000) * sonnet.price_per_1k_input_usd + (1000 / 1000) * sonnet.price_per_1k_output_usd) * 1e6) / 1e6;
    assert.equal(expected, 0.021);
    assert.deepEqual(clean.l6, { verdict: 'CLEARED', model_id: 'claude-sonnet', provider: 'anthropic', mode: 'ENFORCEMENT', violations: [], violations_count: 0, estimated_cost_usd: 0.021 });
    assert.equal((await use('agt_l6', { model_id: 'claude-sonnet', estimated_tokens: 5000 })).l6.estimated_cost_usd, 0.015);
    assert.ok(!('l6' in (await govern(action('agt_l6')))), 'no model_id, no l6 object');

    // ENFORCEMENT: each violation blocks.
    const unapproved = await use('agt_l6', { model_id: 'old-model', estimated_tokens: 1000 });
    assert.deepEqual({ verdict: unapproved.verdict, reason: unapproved.reason, l6: unapproved.l6.verdict, codes: codes(unapproved.l6), cost: unapproved.l6.estimated_cost_usd }, { verdict: 'BLOCKED', reason: 'L6_VIOLATION', l6: 'BLOCKED', codes: ['MODEL_NOT_APPROVED'], cost: 0.001 });
    const unregistered = await use('agt_l6', { model_id: 'mystery-7b' });
    assert.deepEqual({ verdict: unregistered.verdict, codes: codes(unregistered.l6), provider: unregistered.l6.provider }, { verdict: 'BLOCKED', codes: ['MODEL_NOT_REGISTERED'], provider: null });
    const pci = await use('agt_l6', { model_id: 'claude-sonnet', data_classes: ['PCI'] });
    assert.deepEqual({ verdict: pci.verdict, codes: codes(pci.l6) }, { verdict: 'BLOCKED', codes: ['DATA_CLASS_NOT_ALLOWED'] });
    const channel = await use('agt_l6', { model_id: 'claude-sonnet', access_channel: 'AZURE' });
    assert.deepEqual({ verdict: channel.verdict, codes: codes(channel.l6) }, { verdict: 'BLOCKED', codes: ['CHANNEL_NOT_ALLOWED'] });
    const onAegis = await aegisAs('agt_l6', { model_id: 'old-model', action: { capability: 'generate_text', parameters: {} } });
    assert.equal(onAegis.outcome, 'DENY');
    assert.deepEqual(codes(onAegis.constraints.l6), ['MODEL_NOT_APPROVED']);

    // Budgets: month-to-date spend plus this call's estimate.
    assert.equal((await settings({ agent_monthly_budget_usd: 0.02 })).agent_monthly_budget_usd, 0.02);
    try {
      const first = await use('agt_budget', { model_id: 'claude-sonnet', estimated_tokens: 5000 });
      assert.deepEqual({ verdict: first.verdict, codes: codes(first.l6) }, { verdict: 'CLEARED', codes: [] }, '0.015 of 0.02');
      const second = await use('agt_budget', { model_id: 'claude-sonnet', estimated_tokens: 5000 });
      assert.deepEqual({ verdict: second.verdict, reason: second.reason, codes: codes(second.l6) }, { verdict: 'BLOCKED', reason: 'L6_VIOLATION', codes: ['BUDGET_EXCEEDED'] }, '0.030 > 0.02');
      assert.match(second.l6.violations[0].message, /agt_budget: 0\.0300 USD this month > 0\.02 USD/);
      const third = await use('agt_budget', { model_id: 'claude-sonnet', estimated_tokens: 1000 });
      assert.deepEqual(codes(third.l6), [], 'a blocked call spent nothing: 0.015 + 0.003 is within');
      // The organization's budget: everything spent so far counts.
      await settings({ agent_monthly_budget_usd: null, org_monthly_budget_usd: 0.03 });
      const org = await use('agt_budget_org', { model_id: 'claude-sonnet', estimated_tokens: 1000 });
      assert.deepEqual({ verdict: org.verdict, codes: codes(org.l6) }, { verdict: 'BLOCKED', codes: ['BUDGET_EXCEEDED'] });
      assert.match(org.l6.violations[0].message, /^organization: /);

      // MONITOR: reported, not blocking.
      assert.equal((await settings({ l6_mode: 'MONITOR' })).l6_mode, 'MONITOR');
      const overBudget = await use('agt_budget_org', { model_id: 'claude-sonnet', estimated_tokens: 1000 });
      assert.deepEqual({ execute: overBudget.execute, verdict: overBudget.verdict, l6: overBudget.l6.verdict, mode: overBudget.l6.mode, codes: codes(overBudget.l6) }, { execute: true, verdict: 'CLEARED', l6: 'CLEARED', mode: 'MONITOR', codes: ['BUDGET_EXCEEDED'] });
      await settings({ org_monthly_budget_usd: null });
      const monitored = await use('agt_l6', { model_id: 'old-model', estimated_tokens: 1000 });
      assert.deepEqual({ execute: monitored.execute, verdict: monitored.verdict }, { execute: true, verdict: 'CLEARED' });
      assert.deepEqual({ verdict: monitored.l6.verdict, mode: monitored.l6.mode, codes: codes(monitored.l6), count: monitored.l6.violations_count }, { verdict: 'CLEARED', mode: 'MONITOR', codes: ['MODEL_NOT_APPROVED'], count: 1 });
      assert.equal((await aegisAs('agt_l6', { model_id: 'old-model', action: { capability: 'generate_text', parameters: {} } })).outcome, 'ALLOW');
    } finally {
      await settings({ l6_mode: 'ENFORCEMENT', agent_monthly_budget_usd: null, org_monthly_budget_usd: null });
    }
    const trail = await auditOf('entity_type=model');
    assert.deepEqual(trail.map((r) => [r.entity_id, r.action]), [['claude-sonnet', 'register'], ['old-model', 'register']]);
  });

  /** /govern without asserting the status. */
  const governRaw = (body: Record<string, unknown>) => s.call('POST', '/govern', { body, key: null, headers: { Authorization: `Bearer ${agentKey}` } });
  const monthlyUsed = async () => (await s.call('GET', '/dashboard', { key: agentKey })).body.monthly_used as number;

  it('the monthly limit counts every decision of the month, those made before it was set too', async () => {
    await register('agt_limit');
    const used = await monthlyUsed();
    assert.ok(used > 20, `decisions made so far: ${used}`);
    const limit = used + 2;
    assert.equal((await settings({ monthly_limit: limit })).monthly_limit, limit);
    try {
      assert.equal((await govern(action('agt_limit'))).verdict, 'CLEARED');
      assert.equal((await aegisAs('agt_limit')).outcome, 'ALLOW');
      const dash = (await s.call('GET', '/dashboard', { key: agentKey })).body;
      assert.deepEqual({ used: dash.monthly_used, limit: dash.monthly_limit }, { used: limit, limit });
      const refused = await governRaw(action('agt_limit'));
      assert.equal(refused.status, 429, `monthly_used ${limit} of ${limit}: ${JSON.stringify(refused.body)}`);
    } finally {
      await settings({ monthly_limit: null });
    }
  });

  it('the monthly limit: past it /govern and Aegis answer 429, audited as decision.refused; lifting it lets actions through', async () => {
    await s.call('POST', '/api/v1/agents', { body: { agent_id: 'agt_limit', name: 'agt_limit' } });
    const refusedBefore = (await auditOf('action=decision.refused')).length;
    const used = await monthlyUsed();
    const limit = used + 2;
    assert.equal((await settings({ monthly_limit: limit })).monthly_limit, limit);
    try {
      // Until the limit refuses (after 2 decisions when it counts the whole month; see the todo above).
      let passed = 0;
      let refused = await governRaw(action('agt_limit'));
      while (refused.status === 200 && passed <= limit) {
        assert.equal(refused.body.verdict, 'CLEARED');
        passed++;
        refused = await governRaw(action('agt_limit'));
      }
      assert.equal(refused.status, 429, JSON.stringify(refused.body));
      assert.ok(passed <= limit, `refused after ${passed} decisions`);
      assert.deepEqual({ execute: refused.body.execute, verdict: refused.body.verdict, reason: refused.body.reason }, { execute: false, verdict: 'BLOCKED', reason: 'MONTHLY_LIMIT_EXCEEDED' });
      const refusedAegis = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ actor: { id: 'agt_limit', type: 'ai-agent' } }), key: agentKey });
      assert.equal(refusedAegis.status, 429, JSON.stringify(refusedAegis.body));
      assert.deepEqual({ outcome: refusedAegis.body.outcome, code: refusedAegis.body.error.code }, { outcome: 'DENY', code: 'MONTHLY_LIMIT_EXCEEDED' });
      assert.equal((await governRaw(action('agt_limit', { action_type: 'deploy_code' }))).status, 429, 'any action, whatever it would be');
      assert.equal(await monthlyUsed(), used + passed, 'a refusal is no decision');

      const records = (await auditOf('action=decision.refused')).slice(refusedBefore);
      assert.equal(records.length, 3);
      for (const r of records) {
        assert.deepEqual({ type: r.entity_type, actor: r.actor_type, code: r.data.code, limit: r.data.limit, agent: r.data.agentId }, { type: 'organization', actor: 'system', code: 'MONTHLY_LIMIT_EXCEEDED', limit, agent: 'agt_limit' });
      }
      assert.deepEqual(records.map((r) => r.data.capability), ['read_logs', 'database.query', 'deploy_code']);
    } finally {
      await settings({ monthly_limit: null });
    }
    assert.equal((await govern(action('agt_limit'))).verdict, 'CLEARED', 'no limit, no refusal');
    assert.equal((await aegisAs('agt_limit')).outcome, 'ALLOW');
    assert.equal((await s.call('GET', '/api/v1/audit/verify')).body.ok, true);
  });
});

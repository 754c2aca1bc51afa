import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../../engine/evaluate';
import type { Layer, LayerContext } from '../../engine/evaluate';
import { auditOnly } from '../../engine/modes';
import { DEFAULT_RISK_CONFIG } from '../../engine/risk';
import { compileRuleSet } from '../../engine/rules';
import type { Proposal, Reason, RiskAssessment, SmartRuleDef, Verdict } from '../../engine/types';
import { agentLayer, DEFAULT_WARDN_SETTINGS, estimateCost, floorsLayer, l6Check, l6Layer, PRINCIPLES, principlesLayer, sentinelViolation } from '../../engine/wardn';
import type { AgentRecord, FloorRule, ModelRecord, PrincipleName, Spend, WardnData, WardnSettings } from '../../engine/wardn';

// TheWARDN's layers (seed 003), pure: registered agents, confidence floors, Sentinel
// principles (tier X), L6 model governance; and how they combine in evaluate and AUDIT_ONLY.

const noon = Date.parse('2026-11-23T12:00:00Z');
const HOUR = 3_600_000;

/** A WARDN-style proposal (environment defaults to production, as /govern does). */
const p = (capability: string, over: Partial<Proposal> = {}): Proposal => ({
  actor: { id: 'agt_a', type: 'ai-agent' },
  action: { capability, parameters: {} },
  environment: 'production',
  context: { metadata: {} },
  dataClasses: [],
  ...over,
});
const meta = (m: Record<string, unknown>) => ({ context: { metadata: m } });

const agent = (id: string, over: Partial<AgentRecord> = {}): AgentRecord => ({ id, status: 'active', allowedEnvironments: [], allowedModels: [], ...over });
const model = (id: string, over: Partial<ModelRecord> = {}): ModelRecord => ({ id, provider: 'anthropic', channels: [], dataClasses: [], agreements: [], priceInputPer1k: 0.003, priceOutputPer1k: 0.015, status: 'approved', ...over });

function data(over: { agents?: AgentRecord[]; floors?: FloorRule[]; models?: ModelRecord[]; settings?: Partial<WardnSettings> } = {}): WardnData {
  return {
    agents: new Map((over.agents ?? [agent('agt_a')]).map((a) => [a.id, a])),
    floors: over.floors ?? [],
    models: new Map((over.models ?? []).map((m) => [m.id, m])),
    settings: { ...DEFAULT_WARDN_SETTINGS, ...over.settings },
  };
}

const NO_RISK = { score: 0, factors: {}, modifiers: [], band: 'AUTO_APPROVE' } as unknown as RiskAssessment;
const ctx = (proposal: Proposal, now = noon): LayerContext => ({ proposal, facts: {}, risk: NO_RISK, now });
const reasonsOf = (layer: Layer, proposal: Proposal, now = noon): Reason[] => layer(ctx(proposal, now)).reasons;
const codes = (rs: readonly { code: string }[]) => rs.map((r) => r.code);

let ruleSeq = 0;
const autoApprove = (conditions: Record<string, unknown> = {}): SmartRuleDef => ({ id: `r${++ruleSeq}`, name: `Auto ${ruleSeq}`, priority: 1000, isActive: true, conditions, action: 'AUTO_APPROVE' });
const run = (proposal: Proposal, layers: Layer[], rules: SmartRuleDef[] = [], now = noon): Verdict => evaluate({ proposal, rules: compileRuleSet(rules), risk: DEFAULT_RISK_CONFIG, now, layers });

describe('agentLayer: registered agents', () => {
  const d = data({ agents: [agent('agt_on'), agent('agt_paused', { status: 'paused' }), agent('agt_blocked', { status: 'blocked' })] });
  const as = (id: string) => p('deploy_code', { actor: { id, type: 'ai-agent' } });

  const table: { agentId: string; surface: string; settings?: Partial<WardnSettings>; expect: Pick<Reason, 'effect' | 'code'> | null }[] = [
    { agentId: 'agt_on', surface: 'wardn', expect: null },
    { agentId: 'agt_on', surface: 'aegis', expect: null },
    { agentId: 'agt_paused', surface: 'wardn', expect: { effect: 'REQUIRE_APPROVAL', code: 'AGENT_PAUSED' } },
    { agentId: 'agt_paused', surface: 'aegis', expect: { effect: 'REQUIRE_APPROVAL', code: 'AGENT_PAUSED' } },
    { agentId: 'agt_paused', surface: 'ascend', expect: { effect: 'REQUIRE_APPROVAL', code: 'AGENT_PAUSED' } },
    { agentId: 'agt_blocked', surface: 'wardn', expect: { effect: 'DENY', code: 'AGENT_BLOCKED' } },
    { agentId: 'agt_blocked', surface: 'aegis', expect: { effect: 'DENY', code: 'AGENT_BLOCKED' } },
    { agentId: 'agt_blocked', surface: 'ascend', expect: { effect: 'DENY', code: 'AGENT_BLOCKED' } },
    { agentId: 'agt_ghost', surface: 'wardn', expect: { effect: 'DENY', code: 'AGENT_NOT_REGISTERED' } },
    { agentId: 'agt_ghost', surface: 'aegis', expect: null },
    { agentId: 'agt_ghost', surface: 'ascend', expect: null },
    { agentId: 'agt_ghost', surface: 'aegis', settings: { unregisteredAgents: 'deny' }, expect: { effect: 'DENY', code: 'AGENT_NOT_REGISTERED' } },
    { agentId: 'agt_ghost', surface: 'ascend', settings: { unregisteredAgents: 'deny' }, expect: { effect: 'DENY', code: 'AGENT_NOT_REGISTERED' } },
    { agentId: 'agt_ghost', surface: 'wardn', settings: { unregisteredAgents: 'allow' }, expect: { effect: 'DENY', code: 'AGENT_NOT_REGISTERED' } },
    { agentId: 'agt_on', surface: 'aegis', settings: { unregisteredAgents: 'deny' }, expect: null },
  ];
  for (const t of table) {
    it(`${t.agentId} on ${t.surface}${t.settings ? ` (unregistered: ${t.settings.unregisteredAgents})` : ''} → ${t.expect ? `${t.expect.effect} ${t.expect.code}` : 'nothing'}`, () => {
      const rs = reasonsOf(agentLayer({ ...d, settings: { ...d.settings, ...t.settings } }, t.surface), as(t.agentId));
      if (!t.expect) return assert.deepEqual(rs, []);
      assert.equal(rs.length, 1);
      assert.deepEqual({ effect: rs[0].effect, code: rs[0].code }, t.expect);
      assert.equal(rs[0].source, 'policy');
      assert.ok(rs[0].message.includes(t.agentId), `the message names the agent: ${rs[0].message}`);
    });
  }

  it('through evaluate: a paused agent waits even with an AUTO_APPROVE rule; a blocked one is denied', () => {
    const paused = run(p('read_logs', { actor: { id: 'agt_paused', type: 'ai-agent' } }), [agentLayer(d, 'wardn')], [autoApprove()]);
    assert.equal(paused.outcome, 'REQUIRE_APPROVAL');
    assert.equal(paused.decisive?.code, 'AGENT_PAUSED');
    const blocked = run(p('read_logs', { actor: { id: 'agt_blocked', type: 'ai-agent' } }), [agentLayer(d, 'aegis')], [autoApprove()]);
    assert.equal(blocked.outcome, 'DENY');
    assert.equal(blocked.decisive?.code, 'AGENT_BLOCKED');
    const on = run(p('read_logs', { actor: { id: 'agt_on', type: 'ai-agent' } }), [agentLayer(d, 'wardn')]);
    assert.equal(on.outcome, 'ALLOW');
  });
});

describe('floorsLayer: confidence floors', () => {
  const fix75: FloorRule = { id: 'flr_deploy', actionType: 'deploy_*', environment: 'production', floors: { fix: 0.75 } };

  it('the seed’s message, two decimals: Confidence below floor: fix=0.70 < 0.75', () => {
    const rs = reasonsOf(floorsLayer([fix75]), p('deploy_code', { confidence: { incident: 0.95, fix: 0.7, containment: 0.92 } }));
    assert.deepEqual(rs, [{ source: 'confidence', effect: 'REQUIRE_APPROVAL', code: 'CONFIDENCE_BELOW_FLOOR', message: 'Confidence below floor: fix=0.70 < 0.75', id: 'flr_deploy' }]);
  });

  const table: { name: string; floors: FloorRule[]; proposal: Proposal; expect: string[] }[] = [
    { name: 'at the floor exactly: passes', floors: [fix75], proposal: p('deploy_code', { confidence: { fix: 0.75 } }), expect: [] },
    { name: 'above the floor: passes', floors: [fix75], proposal: p('deploy_code', { confidence: { fix: 0.9 } }), expect: [] },
    { name: 'a dimension without a floor does not matter', floors: [fix75], proposal: p('deploy_code', { confidence: { fix: 0.8, incident: 0.01 } }), expect: [] },
    { name: 'a missing dimension holds', floors: [fix75], proposal: p('deploy_code', { confidence: { incident: 0.95 } }), expect: ['Confidence missing: fix (floor 0.75)'] },
    { name: 'no confidence at all holds', floors: [fix75], proposal: p('deploy_code'), expect: ['Confidence missing: fix (floor 0.75)'] },
    { name: 'a non-finite value counts as missing', floors: [fix75], proposal: p('deploy_code', { confidence: { fix: Number.NaN } }), expect: ['Confidence missing: fix (floor 0.75)'] },
    { name: 'the glob deploy_* matches deploy_infra', floors: [fix75], proposal: p('deploy_infra', { confidence: { fix: 0.5 } }), expect: ['Confidence below floor: fix=0.50 < 0.75'] },
    { name: 'the glob deploy_* does not match redeploy_code', floors: [fix75], proposal: p('redeploy_code', { confidence: { fix: 0.5 } }), expect: [] },
    { name: 'the glob deploy_* does not match read_logs', floors: [fix75], proposal: p('read_logs', { confidence: { fix: 0.5 } }), expect: [] },
    { name: 'a named environment: staging is not production', floors: [fix75], proposal: p('deploy_code', { environment: 'staging', confidence: { fix: 0.5 } }), expect: [] },
    { name: 'a named environment: no environment means production', floors: [fix75], proposal: p('deploy_code', { environment: undefined, confidence: { fix: 0.5 } }), expect: ['Confidence below floor: fix=0.50 < 0.75'] },
    { name: 'environment * applies to staging', floors: [{ ...fix75, environment: '*' }], proposal: p('deploy_code', { environment: 'staging', confidence: { fix: 0.5 } }), expect: ['Confidence below floor: fix=0.50 < 0.75'] },
    { name: 'environment * applies to production', floors: [{ ...fix75, environment: '*' }], proposal: p('deploy_code', { confidence: { fix: 0.5 } }), expect: ['Confidence below floor: fix=0.50 < 0.75'] },
    { name: 'an exact action type', floors: [{ id: 'f', actionType: 'send_email', environment: '*', floors: { tone: 0.6 } }], proposal: p('send_email', { confidence: { tone: 0.55 } }), expect: ['Confidence below floor: tone=0.55 < 0.60'] },
    {
      name: 'each dimension below or missing is its own reason',
      floors: [{ id: 'f', actionType: 'deploy_*', environment: '*', floors: { incident: 0.9, fix: 0.75, containment: 0.8 } }],
      proposal: p('deploy_code', { confidence: { incident: 0.85, fix: 0.7 } }),
      expect: ['Confidence below floor: incident=0.85 < 0.90', 'Confidence below floor: fix=0.70 < 0.75', 'Confidence missing: containment (floor 0.80)'],
    },
    {
      name: 'two matching floors both apply (a named environment and *)',
      floors: [fix75, { id: 'f2', actionType: '*', environment: '*', floors: { incident: 0.5 } }],
      proposal: p('deploy_code', { confidence: { incident: 0.4, fix: 0.6 } }),
      expect: ['Confidence below floor: fix=0.60 < 0.75', 'Confidence below floor: incident=0.40 < 0.50'],
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const rs = reasonsOf(floorsLayer(t.floors), t.proposal);
      assert.deepEqual(rs.map((r) => r.message), t.expect);
      for (const r of rs) {
        assert.equal(r.effect, 'REQUIRE_APPROVAL');
        assert.equal(r.source, 'confidence');
        assert.equal(r.code, r.message.startsWith('Confidence missing') ? 'CONFIDENCE_MISSING' : 'CONFIDENCE_BELOW_FLOOR');
      }
    });
  }

  it('a value just below its floor never reads as equal to it', () => {
    const [r] = reasonsOf(floorsLayer([fix75]), p('deploy_code', { confidence: { fix: 0.749 } }));
    assert.equal(r.code, 'CONFIDENCE_BELOW_FLOOR');
    assert.notEqual(r.message, 'Confidence below floor: fix=0.75 < 0.75');
  });

  it('through evaluate: a floor holds even with an AUTO_APPROVE rule, and is the decisive reason', () => {
    const v = run(p('deploy_code', { environment: 'staging', confidence: { fix: 0.7 } }), [floorsLayer([{ ...fix75, environment: '*' }])], [autoApprove()]);
    assert.equal(v.outcome, 'REQUIRE_APPROVAL');
    assert.equal(v.decisive?.message, 'Confidence below floor: fix=0.70 < 0.75');
  });
});

describe('principlesLayer: Sentinel principles (tier X)', () => {
  const models = [model('claude-approved', { dataClasses: ['PII', 'PHI'], agreements: ['DPA', 'BAA'] }), model('gpt-no-sensitive', { provider: 'openai' }), model('gpt-blocked', { provider: 'openai', dataClasses: ['PII', 'PHI'], status: 'blocked' })];
  const agents = [agent('agt_a'), agent('agt_staging', { allowedEnvironments: ['staging', 'development'] })];
  const freeze = { from: noon - HOUR, until: noon + HOUR, name: 'Black Friday' };
  const on = (...principles: PrincipleName[]) => principlesLayer(data({ agents, models, settings: { principles, freezeWindows: [freeze] } }));
  const all = () => on(...PRINCIPLES);

  it('none enabled: nothing, even for a production change in a freeze with PII to a blocked model outside the agent’s environments', () => {
    const layer = principlesLayer(data({ agents, models, settings: { principles: [], freezeWindows: [freeze] } }));
    assert.deepEqual(reasonsOf(layer, p('deploy_code', { actor: { id: 'agt_staging', type: 'ai-agent' }, modelId: 'gpt-blocked', dataClasses: ['PII'] })), []);
  });

  const table: { name: string; principle: PrincipleName; proposal: Proposal; now?: number; violated: boolean }[] = [
    // NO_PRODUCTION_WITHOUT_REVIEW
    { name: 'a production change without a review', principle: 'NO_PRODUCTION_WITHOUT_REVIEW', proposal: p('deploy_code'), violated: true },
    { name: 'a change with no environment (production by default)', principle: 'NO_PRODUCTION_WITHOUT_REVIEW', proposal: p('update_config', { environment: undefined }), violated: true },
    { name: 'a production change with metadata.review_id', principle: 'NO_PRODUCTION_WITHOUT_REVIEW', proposal: p('deploy_code', meta({ review_id: 'rev_42' })), violated: false },
    { name: 'a production change with metadata.reviewed_by', principle: 'NO_PRODUCTION_WITHOUT_REVIEW', proposal: p('deploy_code', meta({ reviewed_by: 'ann@example.com' })), violated: false },
    { name: 'a production change with an empty review_id', principle: 'NO_PRODUCTION_WITHOUT_REVIEW', proposal: p('deploy_code', meta({ review_id: '' })), violated: true },
    { name: 'a read-only production action (data_query)', principle: 'NO_PRODUCTION_WITHOUT_REVIEW', proposal: p('data_query'), violated: false },
    { name: 'a read-only production action (read_logs)', principle: 'NO_PRODUCTION_WITHOUT_REVIEW', proposal: p('read_logs'), violated: false },
    { name: 'a read-only production action (database.query)', principle: 'NO_PRODUCTION_WITHOUT_REVIEW', proposal: p('database.query'), violated: false },
    { name: 'a staging change', principle: 'NO_PRODUCTION_WITHOUT_REVIEW', proposal: p('deploy_code', { environment: 'staging' }), violated: false },
    { name: 'a production change whose name merely contains a query word (queryable_flag_set)', principle: 'NO_PRODUCTION_WITHOUT_REVIEW', proposal: p('queryable_flag_set'), violated: true },
    // NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL
    { name: 'PII to a model approved for it', principle: 'NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL', proposal: p('generate_text', { modelId: 'claude-approved', dataClasses: ['PII'] }), violated: false },
    { name: 'phi (any case) to a model approved for it', principle: 'NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL', proposal: p('generate_text', { modelId: 'claude-approved', dataClasses: ['phi'] }), violated: false },
    { name: 'PII to a model not approved for PII', principle: 'NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL', proposal: p('generate_text', { modelId: 'gpt-no-sensitive', dataClasses: ['PII'] }), violated: true },
    { name: 'PHI to a blocked model (even one listing PHI)', principle: 'NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL', proposal: p('generate_text', { modelId: 'gpt-blocked', dataClasses: ['PHI'] }), violated: true },
    { name: 'PII to a model not in the registry', principle: 'NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL', proposal: p('generate_text', { modelId: 'mystery-7b', dataClasses: ['PII'] }), violated: true },
    { name: 'non-sensitive data to an unapproved model', principle: 'NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL', proposal: p('generate_text', { modelId: 'gpt-no-sensitive', dataClasses: ['public'] }), violated: false },
    { name: 'PII with no model named', principle: 'NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL', proposal: p('generate_text', { dataClasses: ['PII'] }), violated: false },
    // NO_ACTION_OUTSIDE_ALLOWED_ENVIRONMENTS
    { name: 'an agent allowed staging acts in production', principle: 'NO_ACTION_OUTSIDE_ALLOWED_ENVIRONMENTS', proposal: p('read_logs', { actor: { id: 'agt_staging', type: 'ai-agent' } }), violated: true },
    { name: 'an agent allowed staging acts with no environment (production)', principle: 'NO_ACTION_OUTSIDE_ALLOWED_ENVIRONMENTS', proposal: p('read_logs', { actor: { id: 'agt_staging', type: 'ai-agent' }, environment: undefined }), violated: true },
    { name: 'an agent allowed staging acts in staging', principle: 'NO_ACTION_OUTSIDE_ALLOWED_ENVIRONMENTS', proposal: p('deploy_code', { actor: { id: 'agt_staging', type: 'ai-agent' }, environment: 'staging' }), violated: false },
    { name: 'an agent with no environment list acts anywhere', principle: 'NO_ACTION_OUTSIDE_ALLOWED_ENVIRONMENTS', proposal: p('deploy_code'), violated: false },
    { name: 'an unregistered actor (the agent layer’s business)', principle: 'NO_ACTION_OUTSIDE_ALLOWED_ENVIRONMENTS', proposal: p('deploy_code', { actor: { id: 'agt_ghost', type: 'ai-agent' } }), violated: false },
    // NO_CHANGE_IN_FREEZE_WINDOW
    { name: 'a change inside the freeze', principle: 'NO_CHANGE_IN_FREEZE_WINDOW', proposal: p('deploy_code', { environment: 'staging' }), now: noon, violated: true },
    { name: 'a change at the freeze’s start', principle: 'NO_CHANGE_IN_FREEZE_WINDOW', proposal: p('deploy_code'), now: freeze.from, violated: true },
    { name: 'a change at the freeze’s end (half-open)', principle: 'NO_CHANGE_IN_FREEZE_WINDOW', proposal: p('deploy_code'), now: freeze.until, violated: false },
    { name: 'a change before the freeze', principle: 'NO_CHANGE_IN_FREEZE_WINDOW', proposal: p('deploy_code'), now: freeze.from - 1, violated: false },
    { name: 'a change a day later', principle: 'NO_CHANGE_IN_FREEZE_WINDOW', proposal: p('deploy_code'), now: noon + 24 * HOUR, violated: false },
    { name: 'a read inside the freeze', principle: 'NO_CHANGE_IN_FREEZE_WINDOW', proposal: p('data_query'), now: noon, violated: false },
  ];
  for (const t of table) {
    it(`${t.principle}: ${t.name} → ${t.violated ? 'BLOCKED tier X' : 'nothing'}`, () => {
      const rs = reasonsOf(on(t.principle), t.proposal, t.now ?? noon);
      if (!t.violated) return assert.deepEqual(rs, []);
      assert.equal(rs.length, 1);
      assert.deepEqual({ source: rs[0].source, effect: rs[0].effect, code: rs[0].code, name: rs[0].name }, { source: 'policy', effect: 'DENY', code: 'SGP_VIOLATION', name: t.principle });
      assert.ok(rs[0].message.startsWith(`Action blocked by Sentinel Governance Principle ${t.principle}: `), rs[0].message);
      assert.equal(sentinelViolation(rs), rs[0]);
    });
  }

  it('messages say why: the missing review, the classes and model, the environments, the freeze and its end', () => {
    const msg = (layer: Layer, proposal: Proposal) => reasonsOf(layer, proposal)[0].message;
    assert.match(msg(on('NO_PRODUCTION_WITHOUT_REVIEW'), p('deploy_code')), /review_id or reviewed_by/);
    assert.match(msg(on('NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL'), p('x_run', { modelId: 'gpt-no-sensitive', dataClasses: ['PII', 'PHI', 'PCI'] })), /PII, PHI to model gpt-no-sensitive/);
    assert.match(msg(on('NO_ACTION_OUTSIDE_ALLOWED_ENVIRONMENTS'), p('read_logs', { actor: { id: 'agt_staging', type: 'ai-agent' } })), /staging, development, not production/);
    assert.match(msg(on('NO_CHANGE_IN_FREEZE_WINDOW'), p('deploy_code')), /\(Black Friday\) runs until 2026-11-23T13:00:00\.000Z/);
  });

  it('a principle not enabled does not fire; several violated give one reason each', () => {
    const proposal = p('deploy_code', { actor: { id: 'agt_staging', type: 'ai-agent' }, modelId: 'gpt-blocked', dataClasses: ['PII'] });
    assert.deepEqual(reasonsOf(on('NO_CHANGE_IN_FREEZE_WINDOW'), proposal, noon + 24 * HOUR), []);
    assert.deepEqual(reasonsOf(all(), proposal).map((r) => r.name), [...PRINCIPLES]);
  });

  it('through evaluate: a violation decides DENY even with an AUTO_APPROVE rule of the highest priority', () => {
    const auto = autoApprove({ action_type: 'update_config' });
    const v = run(p('update_config'), [on('NO_PRODUCTION_WITHOUT_REVIEW')], [auto]);
    assert.equal(v.outcome, 'DENY');
    assert.equal(v.decisive?.code, 'SGP_VIOLATION');
    assert.equal(v.decisive?.name, 'NO_PRODUCTION_WITHOUT_REVIEW');
    assert.ok(v.reasons.some((r) => r.id === auto.id && r.effect === 'AUTO_APPROVE'), 'the rule still matched');
    assert.equal(sentinelViolation(v.reasons)?.name, 'NO_PRODUCTION_WITHOUT_REVIEW');
    const reviewed = run(p('update_config', meta({ review_id: 'rev_1' })), [on('NO_PRODUCTION_WITHOUT_REVIEW')], [auto]);
    assert.equal(reviewed.outcome, 'ALLOW');
    assert.equal(sentinelViolation(reviewed.reasons), null);
  });

  it('AUDIT_ONLY keeps a Sentinel violation DENY, and clears anything else', () => {
    const sgp = run(p('update_config'), [on('NO_PRODUCTION_WITHOUT_REVIEW')]);
    const a = auditOnly(sgp);
    assert.equal(a.outcome, 'DENY');
    assert.equal(a.mode, 'AUDIT_ONLY');
    assert.equal(a.originalOutcome, 'DENY');
    assert.equal(a.decisive, sgp.decisive);
    assert.ok(!a.reasons.some((r) => r.code === 'GOVERNANCE_AUDIT_ONLY'), 'no clearing reason is added');
    // A DENY that is not a principle's is cleared, and so is a hold.
    const blocked = run(p('read_logs', { actor: { id: 'agt_x', type: 'ai-agent' } }), [agentLayer(data({ agents: [agent('agt_x', { status: 'blocked' })] }), 'wardn')]);
    const cleared = auditOnly(blocked);
    assert.deepEqual({ outcome: cleared.outcome, original: cleared.originalOutcome, decisive: cleared.decisive?.code }, { outcome: 'ALLOW', original: 'DENY', decisive: 'GOVERNANCE_AUDIT_ONLY' });
    const held = auditOnly(run(p('deploy_code', { confidence: { fix: 0.1 } }), [floorsLayer([{ id: 'f', actionType: '*', environment: '*', floors: { fix: 0.5 } }])]));
    assert.deepEqual({ outcome: held.outcome, original: held.originalOutcome, approval: held.approval }, { outcome: 'ALLOW', original: 'REQUIRE_APPROVAL', approval: undefined });
  });

  it('sentinelViolation ignores a reason that is not a principle’s DENY', () => {
    assert.equal(sentinelViolation([]), null);
    assert.equal(sentinelViolation([{ source: 'policy', effect: 'DENY', code: 'AGENT_BLOCKED', message: 'x' }]), null);
    assert.equal(sentinelViolation([{ source: 'policy', effect: 'REQUIRE_APPROVAL', code: 'SGP_VIOLATION', message: 'x' }]), null);
  });
});

describe('principles: what counts as a change', () => {
  const review = principlesLayer(data({ settings: { principles: ['NO_PRODUCTION_WITHOUT_REVIEW'] } }));
  for (const capability of ['delete_search_index', 'update_view', 'drop_list', 'purge.get_cache']) {
    it(`${capability} in production without a review is a change and is blocked`, () => {
      const rs = reasonsOf(review, p(capability));
      assert.deepEqual(rs.map((r) => r.name), ['NO_PRODUCTION_WITHOUT_REVIEW']);
    });
  }
});

describe('L6: model governance', () => {
  const sonnet = model('claude-sonnet', { channels: ['API', 'BEDROCK'], dataClasses: ['PII', 'PHI'], agreements: ['DPA', 'BAA'] });
  const gpt = model('gpt-4o', { provider: 'openai', channels: ['AZURE'], dataClasses: ['PII'], agreements: [], priceInputPer1k: 0.005, priceOutputPer1k: 0.02 });
  const blocked = model('old-model', { status: 'blocked' });
  const anyChannel = model('any-channel', { channels: [] });
  const agents = [agent('agt_a'), agent('agt_limited', { allowedModels: ['claude-sonnet'] })];
  const NO_SPEND: Spend = { org: 0, agent: 0 };
  const d = (settings: Partial<WardnSettings> = {}) => data({ agents, models: [sonnet, gpt, blocked, anyChannel], settings });
  const call = (modelId: string | undefined, over: Partial<Proposal> = {}, m: Record<string, unknown> = {}) => p('generate_text', { ...(modelId ? { modelId } : {}), ...meta(m), ...over });

  it('no model named: no L6 check, no reason, no constraint', () => {
    assert.equal(l6Check(d(), call(undefined), NO_SPEND), null);
    assert.deepEqual(l6Layer(d(), NO_SPEND)(ctx(call(undefined))), { reasons: [] });
  });

  it('a clean call: CLEARED, no violations, the seed’s l6 object', () => {
    const l6 = l6Check(d(), call('claude-sonnet', { dataClasses: ['PHI'] }, { access_channel: 'api', estimated_tokens: 1500 }), NO_SPEND);
    assert.deepEqual(l6, { verdict: 'CLEARED', model_id: 'claude-sonnet', provider: 'anthropic', mode: 'ENFORCEMENT', violations: [], violations_count: 0, estimated_cost_usd: 0.0045 });
  });

  const table: { name: string; modelId: string; over?: Partial<Proposal>; meta?: Record<string, unknown>; spend?: Spend; settings?: Partial<WardnSettings>; expect: string[] }[] = [
    { name: 'a model not in the registry', modelId: 'mystery-7b', expect: ['MODEL_NOT_REGISTERED'] },
    { name: 'a blocked model', modelId: 'old-model', expect: ['MODEL_NOT_APPROVED'] },
    { name: 'a model the agent may not use', modelId: 'gpt-4o', over: { actor: { id: 'agt_limited', type: 'ai-agent' } }, expect: ['MODEL_NOT_ALLOWED_FOR_AGENT'] },
    { name: 'a model the agent may use', modelId: 'claude-sonnet', over: { actor: { id: 'agt_limited', type: 'ai-agent' } }, expect: [] },
    { name: 'a channel the model may not be reached through', modelId: 'gpt-4o', meta: { access_channel: 'API' }, expect: ['CHANNEL_NOT_ALLOWED'] },
    { name: 'an allowed channel, any case', modelId: 'gpt-4o', meta: { access_channel: 'azure' }, expect: [] },
    { name: 'any channel when the model lists none', modelId: 'any-channel', meta: { access_channel: 'SOMEWHERE' }, expect: [] },
    { name: 'no channel given', modelId: 'gpt-4o', expect: [] },
    { name: 'a data class the model may not see', modelId: 'gpt-4o', over: { dataClasses: ['PCI'] }, expect: ['DATA_CLASS_NOT_ALLOWED'] },
    { name: 'PUBLIC is always allowed', modelId: 'any-channel', over: { dataClasses: ['public'] }, expect: [] },
    { name: 'PII without a DPA', modelId: 'gpt-4o', over: { dataClasses: ['PII'] }, expect: ['AGREEMENT_MISSING'] },
    { name: 'PHI it may not see, and without a BAA', modelId: 'gpt-4o', over: { dataClasses: ['PHI'] }, expect: ['DATA_CLASS_NOT_ALLOWED', 'AGREEMENT_MISSING'] },
    { name: 'PII and PHI with both agreements', modelId: 'claude-sonnet', over: { dataClasses: ['pii', 'phi'] }, expect: [] },
    { name: 'the agent’s monthly budget blown by this call', modelId: 'claude-sonnet', meta: { estimated_tokens: 5000 }, spend: { org: 0, agent: 0.99 }, settings: { agentMonthlyBudgetUsd: 1 }, expect: ['BUDGET_EXCEEDED'] },
    { name: 'the agent’s budget reached exactly: within', modelId: 'claude-sonnet', meta: { estimated_tokens: 5000 }, spend: { org: 0, agent: 0.985 }, settings: { agentMonthlyBudgetUsd: 1 }, expect: [] },
    { name: 'the organization’s monthly budget blown', modelId: 'claude-sonnet', meta: { estimated_tokens: 5000 }, spend: { org: 10, agent: 0 }, settings: { orgMonthlyBudgetUsd: 10 }, expect: ['BUDGET_EXCEEDED'] },
    { name: 'both budgets blown: two violations', modelId: 'claude-sonnet', meta: { estimated_tokens: 5000 }, spend: { org: 10, agent: 1 }, settings: { orgMonthlyBudgetUsd: 10, agentMonthlyBudgetUsd: 1 }, expect: ['BUDGET_EXCEEDED', 'BUDGET_EXCEEDED'] },
    { name: 'no budgets set: any spend', modelId: 'claude-sonnet', meta: { estimated_tokens: 5000 }, spend: { org: 1e6, agent: 1e6 }, expect: [] },
    { name: 'a blocked model the agent may not use, for PII through a wrong channel', modelId: 'old-model', over: { actor: { id: 'agt_limited', type: 'ai-agent' }, dataClasses: ['PII'] }, meta: { access_channel: 'AZURE' }, expect: ['MODEL_NOT_APPROVED', 'MODEL_NOT_ALLOWED_FOR_AGENT', 'DATA_CLASS_NOT_ALLOWED', 'AGREEMENT_MISSING'] },
  ];
  for (const t of table) {
    for (const mode of ['ENFORCEMENT', 'MONITOR'] as const) {
      it(`${t.name} → ${t.expect.join(', ') || 'no violation'} (${mode})`, () => {
        const wd = d({ ...t.settings, l6Mode: mode });
        const proposal = call(t.modelId, t.over, t.meta);
        const l6 = l6Check(wd, proposal, t.spend ?? NO_SPEND);
        assert.ok(l6);
        assert.deepEqual(codes(l6.violations), t.expect);
        assert.equal(l6.violations_count, t.expect.length);
        assert.equal(l6.mode, mode);
        assert.equal(l6.model_id, t.modelId);
        for (const v of l6.violations) assert.ok(v.message.length > 0);
        const blocks = t.expect.length > 0 && mode === 'ENFORCEMENT';
        assert.equal(l6.verdict, blocks ? 'BLOCKED' : 'CLEARED');
        // The layer: ENFORCEMENT denies, MONITOR only reports; the l6 object rides in the constraints either way.
        const r = l6Layer(wd, t.spend ?? NO_SPEND)(ctx(proposal));
        assert.deepEqual(r.constraints, { l6 });
        assert.deepEqual(r.reasons.map((x) => [x.source, x.effect, x.code]), blocks ? [['model', 'DENY', 'L6_VIOLATION']] : []);
        if (blocks) for (const v of l6.violations) assert.ok(r.reasons[0].message.includes(v.message), `the reason names ${v.code}`);
      });
    }
  }

  it('budget messages give the month’s spend with this call and the budget', () => {
    const l6 = l6Check(d({ agentMonthlyBudgetUsd: 1, orgMonthlyBudgetUsd: 10 }), call('claude-sonnet', {}, { estimated_tokens: 5000 }), { org: 10, agent: 0.99 });
    assert.deepEqual(l6?.violations.map((v) => v.message), ['agent agt_a: 1.0050 USD this month > 1 USD', 'organization: 10.0150 USD this month > 10 USD']);
  });

  it('a registry provider is named; an unregistered model has provider null and costs 0', () => {
    assert.equal(l6Check(d(), call('gpt-4o'), NO_SPEND)?.provider, 'openai');
    const ghost = l6Check(d(), call('mystery-7b', {}, { estimated_tokens: 5000 }), NO_SPEND);
    assert.deepEqual({ provider: ghost?.provider, cost: ghost?.estimated_cost_usd }, { provider: null, cost: 0 });
  });

  it('through evaluate: ENFORCEMENT denies despite AUTO_APPROVE, MONITOR allows, the l6 object in the constraints', () => {
    const proposal = call('old-model', { environment: 'development' }, { estimated_tokens: 1000 });
    const enforced = run(proposal, [l6Layer(d(), NO_SPEND)], [autoApprove()]);
    assert.equal(enforced.outcome, 'DENY');
    assert.equal(enforced.decisive?.code, 'L6_VIOLATION');
    assert.equal((enforced.constraints.l6 as { verdict: string }).verdict, 'BLOCKED');
    const monitored = run(proposal, [l6Layer(d({ l6Mode: 'MONITOR' }), NO_SPEND)]);
    assert.equal(monitored.outcome, 'ALLOW');
    assert.deepEqual(monitored.constraints.l6, { verdict: 'CLEARED', model_id: 'old-model', provider: 'anthropic', mode: 'MONITOR', violations: [{ code: 'MODEL_NOT_APPROVED', message: 'model old-model is blocked' }], violations_count: 1, estimated_cost_usd: 0.003 });
  });
});

describe('estimateCost: exactly from the registry’s prices', () => {
  const m = model('m', { priceInputPer1k: 0.003, priceOutputPer1k: 0.015 });
  const table: { name: string; model?: ModelRecord; tokens: unknown; usd: number }[] = [
    { name: '5000 input tokens at 0.003/1k', model: m, tokens: 5000, usd: 0.015 },
    { name: '1500 input tokens at 0.003/1k (the seed’s 0.0045)', model: m, tokens: 1500, usd: 0.0045 },
    { name: '{input: 2000, output: 1000}', model: m, tokens: { input: 2000, output: 1000 }, usd: 0.021 },
    { name: '{output: 1000} only', model: m, tokens: { output: 1000 }, usd: 0.015 },
    { name: '{input: 1}: rounded to the micro-dollar', model: m, tokens: { input: 1 }, usd: 0.000003 },
    { name: '{input: 0.1}: below a micro-dollar', model: m, tokens: { input: 0.1 }, usd: 0 },
    { name: 'one million input tokens', model: m, tokens: 1_000_000, usd: 3 },
    { name: 'gpt-4o prices', model: model('g', { priceInputPer1k: 0.005, priceOutputPer1k: 0.02 }), tokens: { input: 3000, output: 500 }, usd: 0.025 },
    { name: 'a free model', model: model('f', { priceInputPer1k: 0, priceOutputPer1k: 0 }), tokens: { input: 9999, output: 9999 }, usd: 0 },
    { name: 'no model', model: undefined, tokens: 5000, usd: 0 },
    { name: 'no tokens', model: m, tokens: undefined, usd: 0 },
    { name: 'negative tokens count as none', model: m, tokens: { input: -5000, output: 1000 }, usd: 0.015 },
    { name: 'non-finite tokens count as none', model: m, tokens: Number.POSITIVE_INFINITY, usd: 0 },
    // A count sent as a numeric string costs what it says, so it cannot slip past a budget.
    { name: 'a numeric string counts as its number', model: m, tokens: '5000', usd: 0.015 },
    { name: 'a string that is not a number costs nothing', model: m, tokens: 'lots', usd: 0 },
    { name: 'null', model: m, tokens: null, usd: 0 },
  ];
  for (const t of table) {
    it(`${t.name} → ${t.usd} USD`, () => {
      assert.equal(estimateCost(t.model, t.tokens), t.usd);
    });
  }

  it('the l6 object’s estimated_cost_usd is estimateCost of metadata.estimated_tokens', () => {
    const wd = data({ models: [m] });
    for (const tokens of [5000, { input: 2000, output: 1000 }, undefined]) {
      const l6 = l6Check(wd, p('generate_text', { modelId: 'm', ...meta({ estimated_tokens: tokens }) }), { org: 0, agent: 0 });
      assert.equal(l6?.estimated_cost_usd, estimateCost(m, tokens));
    }
  });
});

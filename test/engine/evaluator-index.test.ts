// Differential test of the optimised evaluator: on bench workloads and hand-made edge
// cases, every verdict (its JSON, key order included) must equal the one the engine gave
// before the optimisation (a linear scan of every rule and policy, with no index), kept
// as hashes in ./golden/evaluator.json (see ./golden.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import RE2 from 're2';
import { makePolicies, makeProposals, makeRules, makeWardn } from '../../bench/workload';
import { compileCondition, literalPattern } from '../../engine/conditions';
import { evaluate } from '../../engine/evaluate';
import type { Layer } from '../../engine/evaluate';
import { buildFacts } from '../../engine/facts';
import { compilePolicies, counterSpecs, policiesInScope, policyLayer } from '../../engine/policies';
import type { PolicyUsage } from '../../engine/policies';
import type { PolicyDef } from '../../engine/policy-schema';
import { DEFAULT_RISK_CONFIG } from '../../engine/risk';
import { compileRuleSet, evaluateRules } from '../../engine/rules';
import type { ActorHistory, Proposal, RiskConfig, SmartRuleDef } from '../../engine/types';
import { agentLayer, floorsLayer, l6Layer, principlesLayer } from '../../engine/wardn';
import { digest, golden } from './golden';

const noon = Date.parse('2026-11-23T12:00:00Z');
type PolicyWithId = PolicyDef & { id: string };

interface Case {
  proposal: Proposal;
  now?: number;
  history?: ActorHistory;
  risk?: RiskConfig;
}

/** Builds both engines from the same definitions and compares their verdicts on every case. */
function compare(label: string, opts: { rules: SmartRuleDef[]; policies?: PolicyWithId[]; usage?: PolicyUsage; extraLayers?: Layer[]; cases: Case[] }): number {
  const usage = opts.usage ?? { counters: {}, evidence: [], exceptions: [] };
  const rules = compileRuleSet(opts.rules);
  const layers: Layer[] = [];
  let set: ReturnType<typeof compilePolicies> | undefined;
  if (opts.policies) {
    set = compilePolicies(opts.policies);
    layers.push(policyLayer(set, usage));
  }
  for (const l of opts.extraLayers ?? []) {
    layers.push(l);
  }
  let differentOutcomes = 0;
  for (const [i, c] of opts.cases.entries()) {
    const now = c.now ?? noon;
    const risk = c.risk ?? DEFAULT_RISK_CONFIG;
    const got = evaluate({ proposal: c.proposal, rules, risk, now, history: c.history, layers });
    const where = `${label}, case ${i}: ${safeJson(c.proposal).slice(0, 300)}`;
    same(label, i, got, where);
    if (got.outcome !== 'ALLOW') differentOutcomes += 1;
    if (set) {
      let facts: ReturnType<typeof buildFacts> | null = null;
      try {
        facts = buildFacts(c.proposal, { now });
      } catch {
        // a malformed proposal: the evaluators above have already compared how they fail
      }
      if (facts) {
        same(`${label}/scope`, i, policiesInScope(set, c.proposal).map((x) => x.id), `${where} (policies in scope)`);
        same(`${label}/counters`, i, counterSpecs(set, c.proposal, facts, now), `${where} (counter specs)`);
      }
    }
  }
  return differentOutcomes;
}

/** Today's answer for case `i` of `group` hashes to the previous evaluator's (the golden file). */
function same(group: string, i: number, got: unknown, where: string): void {
  const want = golden(group, i);
  assert.ok(want, `${where}: no golden answer for ${group} #${i} (a case was added: record it from the previous evaluator, see golden.ts)`);
  assert.equal(digest(safeJson(got)), want, `${where}: differs from the previous evaluator's answer`);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return '(unprintable)';
  }
}

const base = (capability: string, over: Partial<Proposal> = {}): Proposal => ({
  actor: { id: 'agent-1', type: 'ai-agent' },
  action: { capability, parameters: { amount: 500 } },
  environment: 'production',
  context: { runId: 'run-1', sessionId: 'sess-1', metadata: {} },
  dataClasses: [],
  ...over,
});

describe('optimised evaluator = the evaluator before the optimisation', () => {
  it('bench workload: 100 smart rules', () => {
    const proposals = makeProposals(3000);
    const denied = compare('100 rules', { rules: makeRules(100).map((r) => r.def), cases: proposals.map((proposal) => ({ proposal })) });
    assert.ok(denied > 0, 'the workload exercises non-ALLOW verdicts too');
  });

  it('bench workload: 100 smart rules + WARDN layers', () => {
    const proposals = makeProposals(1500);
    const wardn = makeWardn(proposals);
    const extraLayers = [agentLayer(wardn, 'aegis'), floorsLayer(wardn.floors), principlesLayer(wardn), l6Layer(wardn, { org: 0, agent: 0 })];
    compare('100 rules + WARDN', { rules: makeRules(100).map((r) => r.def), extraLayers, cases: proposals.map((proposal) => ({ proposal })) });
  });

  it('bench workload: 1,000 rules + 100 policies', () => {
    const proposals = makeProposals(3000);
    compare('1,000 rules + 100 policies', { rules: makeRules(1000).map((r) => r.def), policies: makePolicies(100).map((p) => p.def), cases: proposals.map((proposal) => ({ proposal })) });
  });

  it('rules on action types by value, glob, regex, negation and logic; floating, inactive and equal-priority rules', () => {
    let n = 0;
    const r = (conditions: Record<string, unknown>, over: Partial<SmartRuleDef> = {}): SmartRuleDef => {
      n += 1;
      return { id: `edge_${String(n).padStart(2, '0')}`, name: `edge ${n}`, priority: 10, isActive: true, conditions, action: 'NOTIFY', ...over };
    };
    const rules: SmartRuleDef[] = [
      r({ action_type: 'svc1.read' }, { action: 'DENY', priority: 5 }),
      r({ capability: 'svc1.read' }, { action: 'REQUIRE_APPROVAL', priority: 5, approvalLevel: 2 }),
      r({ action_type: { $eq: 'svc1.read' } }, { action: 'ESCALATE', approvalLevel: 3, notifications: { channels: ['#sec'], priority: 'high' } }),
      r({ action_type: { $in: ['svc1.read', 'svc2.delete', 'svc1.read'] } }, { action: 'AUTO_APPROVE' }),
      r({ action_type: { $in: [] } }, { action: 'DENY' }),
      r({ action_type: { $in: ['svc1.read', 7] } }, { action: 'NOTIFY' }),
      r({ action_type: { $regex: '^svc1\\.' } }, { action: 'REQUIRE_APPROVAL', priority: 50 }),
      r({ action_type: { $regex: 'READ$', $options: 'i' } }, { action: 'NOTIFY', priority: 50 }),
      r({ action_type: { $ne: 'svc1.read' } }, { action: 'NOTIFY', priority: 1 }),
      r({ action_type: { $nin: ['svc1.read', 'svc2.delete'] } }, { action: 'NOTIFY', priority: 1 }),
      r({ action_type: { $contains: 'delete' } }, { action: 'DENY', priority: 1 }),
      r({ $or: [{ action_type: 'svc1.read' }, { action_type: 'svc3.create' }] }, { action: 'REQUIRE_APPROVAL', priority: 7 }),
      r({ $not: { action_type: 'svc1.read' } }, { action: 'AUTO_APPROVE', priority: 7 }),
      r({ action_type: 'svc1.read', capability: 'svc9.read' }, { action: 'DENY', priority: 99 }),
      r({ action_type: ['svc1.read'] }, { action: 'DENY', priority: 99 }),
      r({ action_type: { $exists: true }, verb: 'delete' }, { action: 'DENY', priority: 3 }),
      r({}, { action: 'NOTIFY', priority: 0, notifications: { channels: [] } }),
      r({ amount: { $gte: 10_000 } }, { action: 'REQUIRE_APPROVAL', priority: 10 }),
      r({ risk_score: { $gt: 60 } }, { action: 'ESCALATE', priority: 10 }),
      r({ time_of_day: { $gte: '18:00', $lte: '06:00' } }, { action: 'REQUIRE_APPROVAL', priority: 10 }),
      r({ data_classes: { $contains: 'PII' }, environment: { $in: ['production', 'prod'] } }, { action: 'REQUIRE_APPROVAL', priority: 10 }),
      r({ 'parameters.nested.deep': { $exists: false } }, { action: 'NOTIFY', priority: 10 }),
      r({ action_type: 'svc1.read' }, { action: 'DENY', priority: 1000, isActive: false }),
      r({ tags: 'urgent' }, { action: 'AUTO_APPROVE', priority: 5 }),
      r({ 'parameters.amount': { $lt: 100 } }, { action: 'AUTO_APPROVE', priority: 5 }),
    ];
    const caps = ['svc1.read', 'svc2.delete', 'svc3.create', 'svc9.read', 'SVC1.READ', 'trade_execution', 'db.delete_records', 'x', ' svc1.read ', 'payments.refund.create', 'a-b.c_d', ''];
    const cases: Case[] = [];
    for (const cap of caps) {
      cases.push({ proposal: base(cap) });
      cases.push({ proposal: base(cap, { environment: 'development', amount: 20_000, dataClasses: ['PII'] }) });
      cases.push({ proposal: base(cap, { action: { capability: cap, parameters: { amount: 50, nested: { deep: 1 } } }, context: { metadata: {}, tags: ['urgent'] } }), now: Date.parse('2026-11-23T22:30:00Z') });
    }
    compare('edge rules', { rules, cases });
    // With only equal-priority rules, ties are broken by id in both.
    compare('ties', { rules: rules.map((x) => ({ ...x, priority: 1 })), cases });
  });

  it('risk: data classes, verbs, environments, amounts, targets, history, configurations', () => {
    const classes = [[], ['PHI'], ['health'], ['Card'], ['PCI'], ['financial'], ['pii'], ['Secret'], ['confidential'], ['internal'], ['PUBLIC'], ['other'], ['public', 'internal'], ['internal', 'PII', 'phi'], ['pii', 'PII'], ['PHI\n']];
    const caps = ['db.query', 'trade_execution', 'payments.refund.create', 'db.delete_records', 'files.upload', 'svc.wipe', 'svc.frobnicate', 'Deploy', 'x.', '.', 'a_b-c.d-e_f'];
    const envs = [undefined, 'production', 'PROD', 'staging', 'development', 'dev', 'test', 'sandbox', 'qa'];
    const configs: RiskConfig[] = [
      DEFAULT_RISK_CONFIG,
      { id: 'cfg1', weights: { data_sensitivity: 0.35, operation_type: 0.25, financial_impact: 0.25, compliance: 0.15, historical: 0.1 }, thresholds: { auto_approve_max: 25, require_approval_min: 31, auto_deny_min: 90 }, modifiers: { pii_data: 0, financial_data: 10, health_data: 0, delete_operation: 5, external_api: 0 } },
      { weights: { data_sensitivity: 0, operation_type: 0, financial_impact: 0, compliance: 0, historical: 0 }, thresholds: { auto_approve_max: 30, require_approval_min: 31, auto_deny_min: 95 }, modifiers: DEFAULT_RISK_CONFIG.modifiers },
      { id: 'broken', weights: { data_sensitivity: Number.NaN, operation_type: 0.25, financial_impact: 0.2, compliance: 0.15, historical: 0.1 }, thresholds: DEFAULT_RISK_CONFIG.thresholds, modifiers: DEFAULT_RISK_CONFIG.modifiers },
    ];
    const cases: Case[] = [];
    let i = 0;
    for (const dataClasses of classes) {
      for (const cap of caps) {
        i += 1;
        const env = envs[i % envs.length];
        cases.push({
          proposal: base(cap, {
            dataClasses,
            ...(env === undefined ? { environment: undefined } : { environment: env }),
            amount: i % 3 === 0 ? undefined : [0, -5, 9, 99, 999.5, 1e7][i % 6],
            action: { capability: cap, parameters: i % 2 ? { amount: 1234 } : { amount: '1234' } },
            target: ['https://api.example.com', 'HTTP://x', 'db-1', undefined][i % 4],
            context: { metadata: { external: i % 5 === 0 }, runId: 'run-1' },
          }),
          history: [undefined, { total: 4, denied: 4 }, { total: 10, denied: 3 }, { total: 7, denied: 9 }][i % 4],
          risk: configs[i % configs.length],
        });
      }
    }
    compare('risk', { rules: [{ id: 'any', name: 'any', priority: 1, isActive: true, conditions: { risk_score: { $gte: 0 } }, action: 'NOTIFY' }], cases });
  });

  it('clock: whole, fractional and missing instants', () => {
    const rules: SmartRuleDef[] = [{ id: 'night', name: 'night', priority: 1, isActive: true, conditions: { time_of_day: { $gte: '18:00', $lte: '06:00' }, day_of_week: { $in: ['sat', 'sun'] } }, action: 'DENY' }];
    const nows = [noon, noon + 59_999, noon + 60_000, noon + 0.5, Date.parse('2026-11-28T23:59:59.999Z'), Date.parse('2026-11-29T00:00:00Z'), -1, -86_400_001, 0, Number.NaN, Number.POSITIVE_INFINITY, 1e15 + 0.25];
    compare('clock', { rules, cases: nows.map((now) => ({ proposal: base('db.query'), now })) });
  });

  it('agent policies of every scope, with exceptions, budgets, rates, evidence, grounding, constraints and approvals', () => {
    const policies: PolicyWithId[] = [
      { id: 'p_global', name: 'global', denied_actions: ['svc1.delete', 'danger.**'], approval_threshold_usd: 1000, default_approvers: ['ann'], approval_quorum: 1, approval_timeout_seconds: 600 },
      { id: 'p_allow', name: 'allow list', scope: 'global', priority: 5, allowed_actions: ['svc1.*', 'payments.**', 'db.*'] },
      { id: 'p_agent', name: 'agent', scope: 'agent', target_id: 'agent-1', priority: 5, approval_actions: ['payments.*'], approval_tags: ['prod'], approval_risk_levels: ['critical', 'high'] },
      { id: 'p_agent2', name: 'agent 2', scope: 'agent', target_id: 'agent-2', denied_actions: ['**'] },
      { id: 'p_run', name: 'run', scope: 'run', target_id: 'run-1', run_budget: 1000, session_budget: 5000, action_budgets: { 'payments.*': 700 }, rate_limits: [{ action: 'svc1.*', max: 2, window_seconds: 60 }, { action: '**', max: 100, window_seconds: 3600, per: 'run' }, { action: 'db.*', max: 1, window_seconds: 10, per: 'session' }, { action: 'db.*', max: 5, window_seconds: 10, per: 'policy' }] },
      { id: 'p_group', name: 'group', scope: 'group', target_id: 'g1', priority: 5, require_approval: true, approval_rules: [{ name: 'big', conditions: { amount: { $gte: 500 } }, approvers: ['ben'], quorum: 2, timeout_seconds: 300 }] },
      { id: 'p_group_b', name: 'group b', scope: 'group', target_id: 'g2', approval_rules: [{ name: 'any', conditions: {} }] },
      { id: 'p_mission', name: 'mission', scope: 'mission', target_id: 'm1', commit_actions: ['deploy.*'], evidence_actions: ['ci.pass'], evidence_max_age_seconds: 60 },
      { id: 'p_evreq', name: 'evidence requirements', priority: 2, evidence_requirements: [{ action: 'release.*', requires: ['review.*', 'ci.pass'], within: 'session', max_age_seconds: 30 }] },
      { id: 'p_ground', name: 'grounding', priority: 2, grounding_rules: [{ action: 'refund.*', parameter: 'order_id', evidence_action: 'orders.lookup', evidence_path: 'ids' }] },
      { id: 'p_constraint', name: 'constraints', priority: 2, argument_constraints: { 'pay.*': { type: 'object', required: ['amount'], properties: { amount: { type: 'number', maximum: 10 } } }, 'pay.**': { type: 'object' } } },
      { id: 'p_inactive', name: 'inactive', is_active: false, denied_actions: ['**'] },
      { id: 'p_odd_scope', name: 'odd scope', scope: 'planet' as never, target_id: 'x', denied_actions: ['**'] },
      { id: 'p_tie_b', name: 'tie b', priority: 5, approval_threshold_usd: 10 },
      { id: 'p_tie_a', name: 'tie a', priority: 5, approval_threshold_usd: 10, default_approvers: ['cid', 'ann'] },
    ];
    const usage: PolicyUsage = {
      counters: { 'budget:run:p_run:run-1': 600 },
      evidence: [
        { capability: 'ci.pass', at: noon - 10_000, runId: 'run-1', sessionId: 'sess-1' },
        { capability: 'review.code', at: noon - 100_000, runId: 'run-2', sessionId: 'sess-1' },
        { capability: 'orders.lookup', at: noon, runId: 'run-1', output: { ids: ['o1', 'o2'] } },
      ],
      exceptions: [{ policyId: 'p_agent2', exceptionId: 'ex1' }],
    };
    const caps = ['svc1.read', 'svc1.delete', 'danger.zone.now', 'payments.refund', 'payments.refund.create', 'db.query', 'deploy.app', 'release.v1', 'refund.issue', 'pay.out', 'pay.out.now', 'email.send'];
    const cases: Case[] = [];
    for (const cap of caps) {
      for (const over of [
        {},
        { actor: { id: 'agent-2', type: 'ai-agent' }, amount: 800 },
        { amount: 300, context: { runId: 'run-1', sessionId: 'sess-1', groupIds: ['g1', 'g2', 'g1'], missionId: 'm1', tags: ['prod'], metadata: {} } },
        { amount: 50, context: { runId: 'run-2', groupIds: [], missionId: 'm2', tags: ['dev'], metadata: {} }, dataClasses: ['PHI'] },
        { context: { metadata: {} }, action: { capability: cap, parameters: { order_id: 'o2', amount: 11 } } },
        { action: { capability: cap, parameters: { order_id: 'o9' } }, amount: 5000 },
        { context: { runId: 'run-1', groupIds: 'g1' as never, metadata: {} } },
      ] as Partial<Proposal>[]) {
        cases.push({ proposal: base(cap, over) });
      }
    }
    const rules = makeRules(60).map((r) => r.def);
    compare('policies', { rules, policies, usage, cases });
    compare('policies, no usage', { rules, policies, cases });
  });

  it('malformed proposals fail closed the same way', () => {
    const ok = base('db.query');
    const cases: Case[] = [
      { proposal: { ...ok, context: undefined } as unknown as Proposal },
      { proposal: { ...ok, action: { capability: 42, parameters: {} } } as unknown as Proposal },
      { proposal: { ...ok, dataClasses: null } as unknown as Proposal },
      { proposal: { ...ok, dataClasses: 'PII' } as unknown as Proposal },
      { proposal: { ...ok, dataClasses: [7] } as unknown as Proposal },
      { proposal: { ...ok, action: { capability: 'db.query', parameters: undefined } } as unknown as Proposal },
      { proposal: { ...ok, context: { metadata: {}, tags: 'prod' } } as unknown as Proposal },
      { proposal: ok, risk: undefined as unknown as RiskConfig },
    ];
    // A risk config that is not there at all.
    cases[cases.length - 1].risk = null as unknown as RiskConfig;
    const params = { amount: 5 } as Record<string, unknown>;
    Object.defineProperty(params, 'boom', { enumerable: true, get: () => { throw new Error('getter exploded'); } });
    cases.push({ proposal: base('db.query', { action: { capability: 'db.query', parameters: params } }) });
    const rules: SmartRuleDef[] = [
      { id: 'fragile', name: 'Fragile', priority: 1, isActive: true, conditions: { 'parameters.boom': 1 }, action: 'NOTIFY' },
      { id: 'tagged', name: 'tagged', priority: 1, isActive: true, conditions: { tags: 'prod' }, action: 'DENY' },
    ];
    compare('malformed', { rules, policies: [{ id: 'p_tags', name: 'tags', approval_tags: ['prod'] }, { id: 'p_plain', name: 'plain', denied_actions: ['x.*'] }], cases });
  });

  it('hand-built facts: missing, inherited or disagreeing action types and capabilities', () => {
    const defs: SmartRuleDef[] = [
      { id: 'a', name: 'a', priority: 9, isActive: true, conditions: { action_type: 'x.run', amount: { $gt: 1 } }, action: 'DENY' },
      { id: 'b', name: 'b', priority: 8, isActive: true, conditions: { capability: 'x.run', amount: { $gt: 1 } }, action: 'DENY' },
      { id: 'c', name: 'c', priority: 7, isActive: true, conditions: { capability: { $in: ['x.run', 'y.run'] } }, action: 'NOTIFY' },
      { id: 'd', name: 'd', priority: 6, isActive: true, conditions: { action_type: { $eq: 'x.run', $ne: 'y.run' }, amount: 2 }, action: 'NOTIFY' },
      { id: 'e', name: 'e', priority: 5, isActive: true, conditions: { amount: { $gt: 1 }, action_type: { $in: ['x.run'] }, capability: 'x.run' }, action: 'NOTIFY' },
      { id: 'f', name: 'f', priority: 4, isActive: true, conditions: { action_type: { $regex: '^x' }, capability: { $eq: 'x.run' } }, action: 'NOTIFY' },
      { id: 'g', name: 'g', priority: 3, isActive: true, conditions: { action_type: 'x.run' }, action: 'NOTIFY' },
      { id: 'h', name: 'h', priority: 3, isActive: true, conditions: { $or: [{ action_type: 'x.run' }], amount: 2 }, action: 'NOTIFY' },
    ];
    const set = compileRuleSet(defs);
    const inherited = Object.create({ action_type: 'x.run', capability: 'x.run' }) as Record<string, unknown>;
    inherited.amount = 2;
    const factsList: Record<string, unknown>[] = [
      { action_type: 'x.run', capability: 'x.run', amount: 2 },
      { action_type: 'x.run', amount: 2 },
      { action_type: 'x.run', capability: 'y.run', amount: 2 },
      { action_type: 'y.run', capability: 'x.run', amount: 2 },
      { action_type: ['x.run'], capability: 'x.run', amount: 2 },
      { capability: 'x.run', amount: 2 },
      { action_type: 'x.run', capability: undefined, amount: 2 },
      inherited,
      Object.assign(Object.create({ capability: 'x.run' }) as Record<string, unknown>, { action_type: 'x.run', amount: 2 }),
      {},
    ];
    for (const [i, facts] of factsList.entries()) {
      same('action-type facts', i, evaluateRules(set, facts), safeJson(facts));
    }
  });

  it('the rule index tries only rules that can match, in the linear order', () => {
    const set = compileRuleSet(makeRules(500).map((r) => r.def).concat([{ id: 'float', name: 'float', priority: 500, isActive: true, conditions: { amount: { $gte: 0 } }, action: 'NOTIFY' }]));
    for (const p of makeProposals(300)) {
      const facts = buildFacts(p, { now: noon });
      const viaIndex = evaluateRules(set, facts).map((m) => m.rule.id);
      // Facts whose capability disagrees with action_type make the evaluator scan every rule.
      const linear = evaluateRules(set, { ...facts, capability: { not: 'a string' } }).map((m) => m.rule.id);
      assert.deepStrictEqual(viaIndex, linear);
      const order = set.candidates(p.action.capability).map((r) => r.order);
      assert.deepStrictEqual(order, [...order].sort((a, b) => a - b), 'candidates come in evaluation order');
    }
  });
});

describe('$regex patterns that are plain literals skip RE2 with the same answers', () => {
  it('literalPattern recognises only plain text with optional anchors', () => {
    assert.deepStrictEqual(literalPattern('^db-3'), { text: 'db-3', start: true, end: false });
    assert.deepStrictEqual(literalPattern('\\.exe$'), { text: '.exe', start: false, end: true });
    assert.deepStrictEqual(literalPattern('^a\\$$'), { text: 'a$', start: true, end: true });
    assert.deepStrictEqual(literalPattern('cost\\$'), { text: 'cost$', start: false, end: false });
    for (const p of ['a.b', 'a+', '(a)', '[ab]', 'a|b', '\\d', '\\w+', 'a{2}', '^^a', 'a$$', 'a\\', 'é', 'a\nb', '(?i)a', '\\/x', 'a\\-b']) assert.equal(literalPattern(p), null, p);
  });

  it('agrees with RE2 on every pattern and input', () => {
    const patterns = ['', '^', '$', '^$', 'db', '^db-3', 'db-3$', '^db-3$', '\\.exe$', '^a\\$$', 'cost\\$', 'a\\\\b', '\\^x', ' ', '^ ', 'x y', '#1', 'svc1\\.read', '^svc1\\.', 'READ', 'a.b', '^(db|cache)-'];
    const inputs = ['', 'db', 'db-3', 'db-30', 'xdb-3', 'db-3\n', '\ndb-3', 'a$', 'xa$', 'cost$', 'cost$ ', 'a\\b', '^x', ' ', 'x y', '#1', 'svc1.read', 'svc1xread', 'svc1.READ', 'read', 'a.b', 'axb', 'db-\uD800-3', '\uD800db-3', 'db-3\uDC00', 'file.exe', 'file.exe.txt', 'café.exe', 'cache-1'];
    let literals = 0;
    for (const pattern of patterns) {
      if (literalPattern(pattern)) literals++;
      for (const options of [undefined, 'i']) {
        const fast = compileCondition({ t: { $regex: pattern, ...(options ? { $options: options } : {}) } });
        const re = new RE2(pattern, options === 'i' ? 'iu' : 'u');
        for (const input of inputs) {
          assert.equal(fast.test({ t: input }), re.test(input), `/${pattern}/${options ?? ''} on ${JSON.stringify(input)}`);
          assert.equal(fast.test({ t: [7, input] }), re.test(input), `/${pattern}/${options ?? ''} on [7, ${JSON.stringify(input)}]`);
        }
      }
    }
    assert.ok(literals >= 15, 'most of these patterns take the literal path');
  });
});

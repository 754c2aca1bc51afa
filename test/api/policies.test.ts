import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, proposal } from '../helpers/fixtures';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

const propose = (s: Stack, over: Record<string, unknown>) => s.call('POST', '/api/v1/governance/propose', { body: proposal(over) });
const act = (capability: string, parameters: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ action: { capability, parameters }, ...extra });

describe('agent policies (seed 004) deciding proposals through the HTTP API', () => {
  let s: Stack;
  const made: string[] = [];
  const policy = async (body: Record<string, unknown>) => {
    const r = await s.call('POST', '/api/v1/policies', { body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    made.push(r.body.id);
    return r.body;
  };
  before(async () => {
    s = await startStack({ withWorker: false });
  });
  after(async () => {
    await s?.close();
  });
  // Each test starts from no policies so field groups do not interfere.
  const reset = async () => {
    for (const id of made.splice(0)) await s.call('DELETE', `/api/v1/policies/${id}`);
  };

  it('validates a policy and names the field; nothing half-written', async () => {
    const bad = await s.call('POST', '/api/v1/policies', { body: { name: 'x', rate_limits: [{ action: 'a.*', max: 0, window_seconds: 60 }] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'rate_limits.0.max');
    const unknown = await s.call('POST', '/api/v1/policies', { body: { name: 'x', budgetz: 1 } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /budgetz/);
    const scoped = await s.call('POST', '/api/v1/policies', { body: { name: 'x', scope: 'agent' } });
    assert.equal(scoped.status, 400);
    assert.match(scoped.body.error.message, /target_id/);
    const list = await s.call('GET', '/api/v1/policies');
    assert.equal(list.body.count, 0);
  });

  it('deny and allow lists with dotted globs', async () => {
    await reset();
    await policy({ name: 'lists', denied_actions: ['payments.*'], allowed_actions: ['payments.**', 'reports.*', 'database.query'] });
    assert.equal((await propose(s, act('payments.refund'))).body.outcome, 'DENY');
    assert.equal((await propose(s, act('payments.refund.create'))).body.outcome, 'ALLOW');
    assert.equal((await propose(s, act('reports.read'))).body.outcome, 'ALLOW');
    const other = await propose(s, act('email.send'));
    assert.equal(other.body.outcome, 'DENY');
    assert.match(other.body.reason, /lists/);
  });

  it('run, session and per-action budgets', async () => {
    await reset();
    await policy({ name: 'budgets', run_budget: 300, session_budget: 250, action_budgets: { 'cloud.*': 120 } });
    const spend = (amount: number, cap = 'shop.buy', run = 'run-b', session = 'sess-b') => propose(s, { ...act(cap), amount, context: { run_id: run, session_id: session, metadata: { environment: 'development' } } });
    assert.equal((await spend(100)).body.outcome, 'ALLOW');
    assert.equal((await spend(100)).body.outcome, 'ALLOW');
    const over = await spend(100);
    assert.equal(over.body.outcome, 'DENY', 'the session budget of 250 is spent');
    assert.match(over.body.reason, /budget/i);
    assert.equal((await spend(100, 'shop.buy', 'run-b', 'sess-c')).body.outcome, 'ALLOW', 'a new session; the run is at 300 of 300');
    assert.equal((await spend(1, 'shop.buy', 'run-b', 'sess-d')).body.outcome, 'DENY', 'the run budget is spent');
    assert.equal((await spend(100, 'cloud.compute', 'run-c', 'sess-e')).body.outcome, 'ALLOW');
    const action = await spend(100, 'cloud.compute', 'run-c', 'sess-f');
    assert.equal(action.body.outcome, 'DENY', 'the per-action budget for cloud.* is 120 per run');
  });

  it('rate limits per agent in fixed windows', async () => {
    await reset();
    await policy({ name: 'rate', rate_limits: [{ action: 'search.*', max: 3, window_seconds: 3600, per: 'agent' }] });
    for (let i = 0; i < 3; i++) assert.equal((await propose(s, act('search.web', { q: i }))).body.outcome, 'ALLOW');
    const fourth = await propose(s, act('search.web', { q: 4 }));
    assert.equal(fourth.body.outcome, 'DENY');
    assert.match(fourth.body.reason, /rate/i);
    assert.equal((await propose(s, { ...act('search.web'), actor: { id: 'another-agent', type: 'ai-agent' } })).body.outcome, 'ALLOW');
  });

  it('argument constraints name the failing path', async () => {
    await reset();
    await policy({ name: 'args', argument_constraints: { 'payments.transfer': { type: 'object', required: ['amount'], properties: { amount: { type: 'number', maximum: 1000 } } } } });
    assert.equal((await propose(s, act('payments.transfer', { amount: 10 }))).body.outcome, 'ALLOW');
    const bad = await propose(s, act('payments.transfer', { amount: 5000 }));
    assert.equal(bad.body.outcome, 'DENY');
    assert.match(bad.body.reason, /amount/);
  });

  it('evidence: a commit action needs a recent evidence action in the same run', async () => {
    await reset();
    await policy({ name: 'evidence', commit_actions: ['deploy.*'], evidence_actions: ['ci.tests.pass'], evidence_max_age_seconds: 3600 });
    const ctx = (run: string) => ({ context: { run_id: run, metadata: { environment: 'development' } } });
    assert.equal((await propose(s, { ...act('deploy.service'), ...ctx('run-e1') })).body.outcome, 'DENY');
    assert.equal((await propose(s, { ...act('ci.tests.pass'), ...ctx('run-e1') })).body.outcome, 'ALLOW');
    assert.equal((await propose(s, { ...act('deploy.service'), ...ctx('run-e1') })).body.outcome, 'ALLOW');
    assert.equal((await propose(s, { ...act('deploy.service'), ...ctx('run-e2') })).body.outcome, 'DENY', 'evidence of another run does not count');
  });

  it('grounding: a parameter must match what the evidence produced', async () => {
    await reset();
    await policy({ name: 'grounding', grounding_rules: [{ action: 'deploy.*', parameter: 'commit_sha', evidence_action: 'ci.tests.pass', evidence_path: 'commit_sha' }] });
    const ctx = { context: { run_id: 'run-g', metadata: { environment: 'development' } } };
    const ci = await propose(s, { ...act('ci.tests.pass'), ...ctx });
    assert.equal((await s.call('POST', `/api/v1/governance/decisions/${ci.body.decision_id}/result`, { body: { output: { commit_sha: 'abc123' } } })).status, 200);
    assert.equal((await propose(s, { ...act('deploy.service', { commit_sha: 'abc123' }), ...ctx })).body.outcome, 'ALLOW');
    const made_up = await propose(s, { ...act('deploy.service', { commit_sha: 'fff999' }), ...ctx });
    assert.equal(made_up.body.outcome, 'DENY');
    assert.match(made_up.body.reason, /commit_sha/);
  });

  it('approval settings build the approval plan: approvers, quorum, timeout', async () => {
    await reset();
    const ann = await addUser(s, 'ann.p@example.com', ['approver']);
    const bo = await addUser(s, 'bo.p@example.com', ['approver']);
    await policy({ name: 'approvals', approval_threshold_usd: 500, approval_actions: ['db.migrate'], approval_tags: ['sensitive'], default_approvers: [ann, 'bo.p@example.com'], approval_quorum: 2, approval_timeout_seconds: 900 });
    assert.equal((await propose(s, { ...act('shop.buy'), amount: 100 })).body.outcome, 'ALLOW');
    const big = await propose(s, { ...act('shop.buy'), amount: 600 });
    assert.equal(big.body.outcome, 'REQUIRE_CONFIRMATION');
    const d = await s.call('GET', `/api/v1/governance/decisions/${big.body.decision_id}`);
    const tier1 = d.body.approval.plan.tiers[0];
    assert.deepEqual([...tier1.approvers].sort(), [ann, bo].sort());
    assert.equal(tier1.quorum, 2);
    assert.equal(tier1.timeoutSeconds, 900);
    assert.equal((await propose(s, act('db.migrate'))).body.outcome, 'REQUIRE_CONFIRMATION');
    assert.equal((await propose(s, { ...act('notes.write'), context: { tags: ['sensitive'], metadata: {} } })).body.outcome, 'REQUIRE_CONFIRMATION');
    await reset();
    await policy({ name: 'always', require_approval: true });
    assert.equal((await propose(s, act('anything.at.all'))).body.outcome, 'REQUIRE_CONFIRMATION');
    await reset();
    await policy({ name: 'by risk', approval_risk_levels: ['critical'] });
    assert.equal((await propose(s, act('reports.read'))).body.outcome, 'ALLOW');
  });

  it('scopes: agent, run and group policies apply only to their target', async () => {
    await reset();
    await policy({ name: 'agent scoped', scope: 'agent', target_id: 'bad-bot', denied_actions: ['**'] });
    await policy({ name: 'run scoped', scope: 'run', target_id: 'run-x', denied_actions: ['files.*'] });
    await policy({ name: 'group scoped', scope: 'group', target_id: 'interns', denied_actions: ['prod.*'] });
    assert.equal((await propose(s, { ...act('reports.read'), actor: { id: 'bad-bot', type: 'ai-agent' } })).body.outcome, 'DENY');
    assert.equal((await propose(s, act('reports.read'))).body.outcome, 'ALLOW');
    assert.equal((await propose(s, { ...act('files.read'), context: { run_id: 'run-x', metadata: {} } })).body.outcome, 'DENY');
    assert.equal((await propose(s, { ...act('files.read'), context: { run_id: 'run-y', metadata: {} } })).body.outcome, 'ALLOW');
    assert.equal((await propose(s, { ...act('prod.deploy'), context: { group_ids: ['interns'], metadata: {} } })).body.outcome, 'DENY');
  });

  it('scopes: a mission policy applies to that mission only; a global one to everyone', async () => {
    await reset();
    await policy({ name: 'mission scoped', scope: 'mission', target_id: 'm-apollo', denied_actions: ['rocket.*'] });
    await policy({ name: 'everyone', denied_actions: ['nukes.*'] });
    assert.equal((await propose(s, { ...act('rocket.launch'), context: { mission_id: 'm-apollo', metadata: {} } })).body.outcome, 'DENY');
    assert.equal((await propose(s, { ...act('rocket.launch'), context: { mission_id: 'm-gemini', metadata: {} } })).body.outcome, 'ALLOW');
    assert.equal((await propose(s, act('nukes.launch'))).body.outcome, 'DENY');
  });

  it('approval rules: a named condition asks its own approvers, with its own quorum and timeout', async () => {
    await reset();
    const cat = await addUser(s, 'cat.p@example.com', ['approver']);
    await addUser(s, 'dan.p@example.com', ['approver']);
    await policy({
      name: 'rules',
      default_approvers: ['dan.p@example.com'],
      approval_rules: [{ name: 'prod writes', conditions: { environment: 'production', 'parameters.write': true }, approvers: ['cat.p@example.com'], quorum: 1, timeout_seconds: 120 }],
    });
    const prod = (write: boolean) => propose(s, { ...act('db.update', { write }), context: { metadata: { environment: 'production' } } });
    const asked = await prod(true);
    assert.equal(asked.body.outcome, 'REQUIRE_CONFIRMATION');
    const d = await s.call('GET', `/api/v1/governance/decisions/${asked.body.decision_id}`);
    assert.deepEqual(d.body.approval.plan.tiers[0].approvers, [cat]);
    assert.equal(d.body.approval.plan.tiers[0].timeoutSeconds, 120);
    assert.match(JSON.stringify(d.body.reasons ?? d.body), /prod writes/);
    assert.notEqual((await prod(false)).body.outcome, 'REQUIRE_CONFIRMATION', 'a read in production does not match the rule');
    const bad = await s.call('POST', '/api/v1/policies', { body: { name: 'broken', approval_rules: [{ name: 'x', conditions: { amount: { $regex: '(a' } } }] } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.field, /^approval_rules\.0\.conditions/);
  });

  it('approval by risk level: the policy asks for approval at the levels it names, not others', async () => {
    await reset();
    await policy({ name: 'risky', approval_risk_levels: ['high'] });
    assert.equal((await propose(s, act('reports.read'))).body.outcome, 'ALLOW');
    const env = (environment: string) => ({ context: { metadata: { environment } } });
    const high = await propose(s, { ...act('db.delete_records'), ...env('production') }); // risk 68: high
    assert.equal(high.body.outcome, 'REQUIRE_CONFIRMATION', JSON.stringify(high.body));
    assert.match(JSON.stringify((await s.call('GET', `/api/v1/governance/decisions/${high.body.decision_id}`)).body), /risk level high is in approval_risk_levels/);
    const medium = await propose(s, { ...act('db.write'), ...env('staging'), amount: 5000 }); // risk 37: medium, asked for by the risk thresholds alone
    assert.doesNotMatch(JSON.stringify((await s.call('GET', `/api/v1/governance/decisions/${medium.body.decision_id}`)).body), /approval_risk_levels/);
  });

  it('evidence requirements: a named evidence action within the session, and too-old evidence does not count', async () => {
    await reset();
    await policy({ name: 'evidence req', evidence_requirements: [{ action: 'payments.refund', requires: ['tickets.read', 'orders.lookup'], within: 'session', max_age_seconds: 3600 }] });
    const ctx = (run: string, session: string) => ({ context: { run_id: run, session_id: session, metadata: { environment: 'development' } } });
    assert.equal((await propose(s, { ...act('payments.refund'), ...ctx('r1', 'sess-ev') })).body.outcome, 'DENY');
    assert.equal((await propose(s, { ...act('orders.lookup'), ...ctx('r1', 'sess-ev') })).body.outcome, 'ALLOW');
    assert.equal((await propose(s, { ...act('payments.refund'), ...ctx('r2', 'sess-ev') })).body.outcome, 'ALLOW', 'evidence from another run of the same session counts');
    // Age the evidence past max_age_seconds: it no longer counts.
    await s.core.ds.query(`UPDATE decisions SET "createdAt" = now() - interval '2 hours' WHERE "sessionId" = 'sess-ev' AND capability = 'orders.lookup'`);
    const stale = await propose(s, { ...act('payments.refund'), ...ctx('r3', 'sess-ev') });
    assert.equal(stale.body.outcome, 'DENY');
    assert.match(stale.body.reason, /evidence/i);
  });

  it('exceptions: a time-bound carve-out lets one agent through, then is revoked', async () => {
    await reset();
    const p = await policy({ name: 'no exports', denied_actions: ['data.export'] });
    const ex = await s.call('POST', `/api/v1/policies/${p.id}/exceptions`, { body: { actor_id: 'agent-001', reason: 'audit season', duration_seconds: 3600 } });
    assert.equal(ex.status, 201);
    assert.equal((await propose(s, act('data.export'))).body.outcome, 'ALLOW');
    assert.equal((await propose(s, { ...act('data.export'), actor: { id: 'agent-002', type: 'ai-agent' } })).body.outcome, 'DENY');
    assert.equal((await s.call('POST', `/api/v1/policies/${p.id}/exceptions`, { body: { actor_id: 'x', reason: 'unbounded' } })).status, 400);
    assert.equal((await s.call('DELETE', `/api/v1/policies/${p.id}/exceptions/${ex.body.id}`)).status, 200);
    assert.equal((await propose(s, act('data.export'))).body.outcome, 'DENY');
  });

  it('versions: every PUT snapshots, archives the previous; drafts get reviewed; rollback is a new version; diff', async () => {
    await reset();
    const p = await policy({ name: 'versioned', denied_actions: ['a.*'] });
    const put = await s.call('PUT', `/api/v1/policies/${p.id}`, { body: { denied_actions: ['b.*'] } });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body.denied_actions, ['b.*']);
    let versions = (await s.call('GET', `/api/v1/policies/${p.id}/versions`)).body.items;
    assert.deepEqual(versions.map((v: { version: number; status: string }) => [v.version, v.status]), [[2, 'active'], [1, 'archived']]);
    const diff = await s.call('GET', `/api/v1/policies/${p.id}/diff?from=${versions[1].id}&to=${versions[0].id}`);
    assert.deepEqual(diff.body.changes.map((c: { path: string }) => c.path), ['denied_actions']);

    const draft = await s.call('POST', `/api/v1/policies/${p.id}/versions`, { body: { policy_data: { name: 'versioned', denied_actions: ['c.*'] }, status: 'in_review' } });
    assert.equal(draft.status, 201);
    assert.equal(draft.body.status, 'in_review');
    const selfReview = await s.call('POST', `/api/v1/policies/${p.id}/versions/${draft.body.id}/review`, { body: {} });
    assert.equal(selfReview.status, 403, 'the author does not review their own draft');
    const reviewerKey = (await s.call('POST', '/api/v1/keys', { body: { name: 'reviewer', scopes: ['governance:write', 'governance:read'] } })).body.key;
    const reviewed = await s.call('POST', `/api/v1/policies/${p.id}/versions/${draft.body.id}/review`, { body: { note: 'lgtm' }, key: reviewerKey });
    assert.equal(reviewed.status, 200);
    assert.ok(reviewed.body.reviewed_by);
    assert.equal((await propose(s, act('c.x'))).body.outcome, 'ALLOW', 'a draft does not apply');

    const rolled = await s.call('POST', `/api/v1/policies/${p.id}/versions/${versions[1].id}/rollback`);
    assert.equal(rolled.status, 200);
    assert.deepEqual(rolled.body.denied_actions, ['a.*']);
    versions = (await s.call('GET', `/api/v1/policies/${p.id}/versions`)).body.items;
    assert.equal(versions[0].version, 4);
    assert.equal(versions[0].status, 'active');
    assert.equal(versions.filter((v: { status: string }) => v.status === 'active').length, 1);
    assert.equal((await propose(s, act('a.x'))).body.outcome, 'DENY');
    const audit = await s.core.ds.query(`SELECT action FROM audit_records WHERE "entityId" IN ($1, $2) ORDER BY seq`, [p.id, draft.body.id]);
    assert.deepEqual(audit.map((a: { action: string }) => a.action), ['create', 'update', 'draft', 'review', 'rollback']);
  });

  it('compiles YAML and JSON, with errors located; prose needs an LLM (422)', async () => {
    const ok = await s.call('POST', '/api/v1/policies/compile', { body: { source: 'name: From YAML\ndenied_actions:\n  - payments.*\nrun_budget: 100\n' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.ok, true);
    assert.deepEqual(ok.body.policy.denied_actions, ['payments.*']);
    const bad = await s.call('POST', '/api/v1/policies/compile', { body: { source: 'name: Bad\nrate_limits:\n  - action: x.*\n    max: -1\n    window_seconds: 60\n' } });
    assert.equal(bad.body.ok, false);
    assert.equal(bad.body.errors[0].path, 'rate_limits.0.max');
    assert.equal(bad.body.errors[0].line, 4);
    const json = await s.call('POST', '/api/v1/policies/compile', { body: { source: '{"name": "J", "run_budget": "lots"}', format: 'json' } });
    assert.equal(json.body.ok, false);
    assert.equal(json.body.errors[0].path, 'run_budget');
    const prose = await s.call('POST', '/api/v1/policies/compile', { body: { source: 'Agents may not spend more than fifty dollars per run.' } });
    assert.equal(prose.status, 422);
    assert.equal(prose.body.error.code, 'PROSE_NEEDS_LLM');
  });

  it('sends a test alert to the default approvers', async () => {
    await reset();
    const p = await policy({ name: 'alerting', default_approvers: ['ann.p@example.com', 'ghost@example.com'] });
    const r = await s.call('POST', `/api/v1/policies/${p.id}/test-alert`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.sent.map((x: { to: string }) => x.to), ['ann.p@example.com']);
    assert.deepEqual(r.body.unknown, ['ghost@example.com']);
    const outbox = await s.call('GET', '/api/v1/outbox');
    assert.ok(outbox.body.messages.some((m: { subject: string }) => /Test alert/.test(m.subject)));
  });
});

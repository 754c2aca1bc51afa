import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { syncPolicies } from '../../cli/policy-sync';
import { proposal } from '../helpers/fixtures';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

describe('risk configuration, templates, analytics, prose compile and policy sync', () => {
  let s: Stack;
  let llm: ReturnType<typeof createServer>;
  const llmRequests: unknown[] = [];
  before(async () => {
    // A local stand-in for an OpenAI-compatible endpoint: it answers with policy YAML.
    llm = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        llmRequests.push(JSON.parse(body));
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ choices: [{ message: { content: '```yaml\nname: Fifty per run\nrun_budget: 50\n```' } }] }));
      });
    });
    await new Promise<void>((ok) => llm.listen(0, '127.0.0.1', ok));
    s = await startStack({ withWorker: false, env: { LLM_BASE_URL: `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1` } });
  });
  after(async () => {
    await s?.close();
    llm?.close();
  });

  it('keeps every risk configuration; the activated one counts on the next proposal', async () => {
    const defaults = await s.call('GET', '/api/risk-scoring/config');
    assert.equal(defaults.status, 200);
    assert.deepEqual(defaults.body.data.weights, { data_sensitivity: 0.3, operation_type: 0.25, financial_impact: 0.2, compliance: 0.15, historical: 0.1 });
    assert.deepEqual(defaults.body.data.thresholds, { auto_approve_max: 30, require_approval_min: 31, auto_deny_min: 95 });

    const body = proposal({ action: { capability: 'customers.read', parameters: {} }, data_classes: ['PII'] });
    const before = await s.call('POST', '/api/v1/governance/propose', { body });
    assert.equal(before.body.outcome, 'REQUIRE_CONFIRMATION', `PII read scores ${before.body.risk_score}`);

    const bad = await s.call('POST', '/api/risk-scoring/config', { body: { thresholds: { auto_approve_max: 120 } } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.field, /auto_approve_max/);

    const created = await s.call('POST', '/api/risk-scoring/config', { body: { name: 'lenient', modifiers: { pii_data: 0 }, thresholds: { auto_approve_max: 60, require_approval_min: 61, auto_deny_min: 95 } } });
    assert.equal(created.status, 201);
    assert.equal(created.body.data.is_active, false);
    assert.equal((await s.call('POST', '/api/v1/governance/propose', { body })).body.outcome, 'REQUIRE_CONFIRMATION', 'not active yet');
    const act = await s.call('PUT', `/api/risk-scoring/config/${created.body.data.config_id}/activate`);
    assert.equal(act.status, 200);
    const after = await s.call('POST', '/api/v1/governance/propose', { body });
    assert.equal(after.body.outcome, 'ALLOW');
    const d = await s.call('GET', `/api/v1/governance/decisions/${after.body.decision_id}`);
    assert.equal(d.body.risk.factors.data_sensitivity.value, 75);
    assert.ok(d.body.risk.factors.data_sensitivity.contribution > 0);
    const all = await s.call('GET', '/api/risk-scoring/config');
    assert.equal(all.body.data.config_id, created.body.data.config_id);
    assert.equal(all.body.data.configs.length, 1);
  });

  it('lists templates and creates a template’s rules and policies', async () => {
    const list = await s.call('GET', '/api/governance/policies/templates');
    const ids = list.body.data.templates.map((t: { template_id: string }) => t.template_id);
    assert.deepEqual(ids, ['tpl_financial', 'tpl_healthcare', 'tpl_production_change']);
    for (const t of list.body.data.templates) assert.ok(t.rules_count >= 5);
    const made = await s.call('POST', '/api/governance/policies/from-template', { body: { template_id: 'tpl_production_change', name: 'Delivery' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.ok(made.body.data.rules.length >= 5);
    const deny = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ action: { capability: 'git.push', parameters: { force: true, branch: 'main' } } }) });
    assert.equal(deny.body.outcome, 'DENY');
    assert.match(deny.body.reason, /Force push/);
    const rulesBefore = (await s.call('GET', '/api/smart-rules')).body.data.total;
    const again = await s.call('POST', '/api/governance/policies/from-template', { body: { template_id: 'tpl_production_change', name: 'Delivery' } });
    assert.equal(again.status, 409);
    assert.equal(again.body.status, 'error');
    assert.equal((await s.call('GET', '/api/smart-rules')).body.data.total, rulesBefore, 'a refused template leaves no rules behind');
    assert.equal((await s.call('POST', '/api/governance/policies/from-template', { body: { template_id: 'tpl_nope' } })).status, 404);
    // Ascend paths answer in the Ascend envelope even before a route is matched.
    const badJson = await s.call('POST', '/api/smart-rules', { body: '{"name": ', headers: { 'content-type': 'application/json' } });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.status, 'error');
    const nowhere = await s.call('GET', '/api/smart-rules/x/y/z');
    assert.equal(nowhere.status, 404);
    assert.equal(nowhere.body.status, 'error');
  });

  it('counts evaluations, matches and decisive hits per rule (analytics and match_count_30d)', async () => {
    const r = await s.call('POST', '/api/smart-rules', { body: { name: 'Notify on exports', priority: 3, conditions: { action_type: { $regex: 'export$' } }, action: 'NOTIFY' } });
    for (let i = 0; i < 3; i++) await s.call('POST', '/api/v1/governance/propose', { body: proposal({ action: { capability: 'data.export', parameters: { i } } }) });
    await s.call('POST', '/api/v1/governance/propose', { body: proposal() });
    const a = await s.call('GET', '/api/smart-rules/analytics');
    assert.equal(a.status, 200);
    const row = a.body.data.rules.find((x: { rule_id: string }) => x.rule_id === r.body.data.rule_id);
    assert.equal(row.matches, 3);
    assert.equal(row.evaluations, 4);
    const list = await s.call('GET', '/api/smart-rules');
    assert.equal(list.body.data.rules.find((x: { rule_id: string }) => x.rule_id === r.body.data.rule_id).match_count_30d, 3);
  });

  it('smart rules: a rule that does not compile is refused and not written; updates and deletes are audited', async () => {
    const bad = await s.call('POST', '/api/smart-rules', { body: { name: 'Broken', conditions: { amount: { $between: [1, 2] } }, action: 'DENY' } });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.equal(bad.body.error?.code ?? bad.body.code, 'RULE_INVALID');
    assert.match(JSON.stringify(bad.body), /conditions\.amount/);
    const all = (await s.call('GET', '/api/smart-rules')).body.data.rules as { name: string }[];
    assert.ok(!all.some((x) => x.name === 'Broken'), 'nothing written');

    const made = await s.call('POST', '/api/smart-rules', { body: { name: 'Audited rule', priority: 3, conditions: { action_type: 'audit.me' }, action: 'NOTIFY' } });
    assert.equal(made.status, 201);
    const id = made.body.data.rule_id as string;
    const badUpdate = await s.call('PUT', `/api/smart-rules/${id}`, { body: { conditions: { amount: { $between: [1, 2] } } } });
    assert.equal(badUpdate.status, 400);
    assert.deepEqual((await s.call('GET', `/api/smart-rules/${id}`)).body.data.conditions, { action_type: 'audit.me' }, 'a refused update changes nothing');
    const upd = await s.call('PUT', `/api/smart-rules/${id}`, { body: { priority: 7, is_active: false } });
    assert.equal(upd.status, 200);
    assert.deepEqual([upd.body.data.priority, upd.body.data.is_active], [7, false]);
    const del = await s.call('DELETE', `/api/smart-rules/${id}`);
    assert.deepEqual(del.body.data, { rule_id: id, deleted: true });
    assert.equal((await s.call('GET', `/api/smart-rules/${id}`)).status, 404);
    const trail = (await s.call('GET', `/api/v1/audit?entity_id=${id}`)).body.data as { action: string; data: Record<string, any> }[];
    assert.deepEqual(trail.map((r) => r.action).sort(), ['create', 'delete', 'update']);
    const update = trail.find((r) => r.action === 'update');
    assert.deepEqual(update?.data.changes, { priority: 7, is_active: false });
    assert.equal(update?.data.before.priority, 3);
    assert.equal(update?.data.before.is_active, true);
  });

  it('compiles prose through the configured LLM endpoint and validates what comes back', async () => {
    const r = await s.call('POST', '/api/v1/policies/compile', { body: { source: 'Agents may not spend more than fifty dollars per run.' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.ok, true);
    assert.equal(r.body.format, 'prose');
    assert.equal(r.body.policy.run_budget, 50);
    assert.equal(llmRequests.length, 1);
  });

  it('policy sync makes the organization match a folder, with a dry run first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-sync-'));
    writeFileSync(join(dir, 'a.yaml'), 'name: Sync A\ndenied_actions: [danger.*]\n');
    writeFileSync(join(dir, 'b.yml'), 'name: Sync B\nrun_budget: 10\n');
    const client = { request: async (method: string, path: string, body?: unknown) => s.call(method, path, { body }) };
    const existing = (await s.call('GET', '/api/v1/policies?limit=200')).body.items.map((p: { name: string }) => p.name);
    const plan = await syncPolicies(client, dir, { dryRun: true });
    assert.deepEqual(plan.filter((c) => c.kind === 'create').map((c) => c.name), ['Sync A', 'Sync B']);
    assert.deepEqual(plan.filter((c) => c.kind === 'delete').map((c) => c.name).sort(), [...existing].sort());
    assert.equal((await s.call('GET', '/api/v1/policies?limit=200')).body.count, existing.length, 'a dry run changes nothing');
    await syncPolicies(client, dir, { dryRun: false });
    const names = (await s.call('GET', '/api/v1/policies?limit=200')).body.items.map((p: { name: string }) => p.name).sort();
    assert.deepEqual(names, ['Sync A', 'Sync B']);
    writeFileSync(join(dir, 'b.yml'), 'name: Sync B\nrun_budget: 20\n');
    const second = await syncPolicies(client, dir, { dryRun: false });
    assert.deepEqual(second.map((c) => [c.name, c.kind]), [['Sync A', 'unchanged'], ['Sync B', 'update']]);
    writeFileSync(join(dir, 'c.yaml'), 'name: Broken\nrate_limits: [{action: x, max: 0, window_seconds: 1}]\n');
    await assert.rejects(syncPolicies(client, dir, { dryRun: true }), /c\.yaml:2:\d+: rate_limits\.0\.max/);
  });
});

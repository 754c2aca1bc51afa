import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintKey, proposal, secondOrg } from '../helpers/fixtures';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

describe('Aegis surface: the fast path on a real database', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ withWorker: false });
  });
  after(async () => {
    await s?.close();
  });

  it('allows a low-risk read and answers in the seed shape', async () => {
    const r = await s.call('POST', '/api/v1/governance/propose', { body: proposal() });
    assert.equal(r.status, 200);
    assert.equal(r.body.outcome, 'ALLOW');
    assert.match(r.body.decision_id, /^dec_/);
    assert.match(r.body.audit_ref, /^aud_/);
    assert.ok(r.body.risk_score >= 0 && r.body.risk_score <= 0.3, `risk ${r.body.risk_score}`);
    assert.deepEqual(Object.keys(r.body).sort(), ['audit_ref', 'constraints', 'decision_id', 'outcome', 'reason', 'risk_score', 'status', 'timestamp']);
    assert.equal(r.body.status, 'final');
  });

  it('denies from risk: deleting health data in production scores above the deny threshold', async () => {
    const r = await s.call('POST', '/api/v1/governance/propose', {
      body: proposal({ action: { capability: 'records.delete', parameters: { table: 'patients' } }, environment: 'production', data_classes: ['PHI'] }),
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.outcome, 'DENY');
    assert.ok(r.body.risk_score >= 0.95, `risk ${r.body.risk_score}`);
    const d = await s.call('GET', `/api/v1/governance/decisions/${r.body.decision_id}`);
    assert.equal(d.body.risk.band, 'AUTO_DENY');
    assert.ok(d.body.risk.modifiers.some((m: { name: string }) => m.name === 'health_data'));
  });

  it('denies from a smart rule, and a rule change counts on the very next proposal', async () => {
    const body = proposal({ action: { capability: 'email.send', parameters: { to: 'x@example.com' } } });
    assert.equal((await s.call('POST', '/api/v1/governance/propose', { body })).body.outcome, 'ALLOW');
    const rule = await s.call('POST', '/api/smart-rules', { body: { name: 'No outbound mail', priority: 50, conditions: { action_type: 'email.send' }, action: 'DENY' } });
    assert.equal(rule.status, 201);
    assert.equal(rule.body.status, 'success');
    const denied = await s.call('POST', '/api/v1/governance/propose', { body });
    assert.equal(denied.body.outcome, 'DENY');
    assert.match(denied.body.reason, /No outbound mail/);
    const off = await s.call('PUT', `/api/smart-rules/${rule.body.data.rule_id}`, { body: { is_active: false } });
    assert.equal(off.status, 200);
    assert.equal((await s.call('POST', '/api/v1/governance/propose', { body })).body.outcome, 'ALLOW');
    assert.equal((await s.call('DELETE', `/api/smart-rules/${rule.body.data.rule_id}`)).status, 200);
  });

  it('refuses a rule that does not compile, naming the path and operator', async () => {
    const r = await s.call('POST', '/api/smart-rules', { body: { name: 'Bad', conditions: { 'parameters.amount': { $between: [1, 2] } }, action: 'DENY' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.status, 'error');
    assert.match(r.body.error.message, /parameters\.amount/);
    assert.match(r.body.error.message, /\$between/);
    const bad = await s.call('POST', '/api/smart-rules', { body: { name: 'Bad regex', conditions: { target: { $regex: '(a)\\1' } }, action: 'DENY' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /\$regex/);
    const list = await s.call('GET', '/api/smart-rules');
    assert.ok(!list.body.data.rules.some((x: { name: string }) => x.name.startsWith('Bad')), 'nothing half-written');
  });

  it('answers 400 naming the field for a malformed proposal, and writes nothing', async () => {
    const before = await s.call('GET', '/api/v1/governance/decisions?limit=200');
    const r = await s.call('POST', '/api/v1/governance/propose', { body: { actor: { type: 'ai-agent' }, action: { capability: 'db.query', parameters: {} } } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.field, 'actor.id');
    const r2 = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ action: { capability: 'bad capability!', parameters: {} } }) });
    assert.equal(r2.status, 400);
    assert.equal(r2.body.error.field, 'action.capability');
    const r3 = await s.call('POST', '/api/v1/governance/propose', { body: '{"actor":' });
    assert.equal(r3.status, 400);
    assert.equal(r3.body.error.code, 'MALFORMED_JSON');
    const afterList = await s.call('GET', '/api/v1/governance/decisions?limit=200');
    assert.equal(afterList.body.decisions.length, before.body.decisions.length);
  });

  it('authenticates and checks scopes: 401 without a key, 403 without governance:propose', async () => {
    assert.equal((await s.call('POST', '/api/v1/governance/propose', { body: proposal(), key: null })).status, 401);
    assert.equal((await s.call('POST', '/api/v1/governance/propose', { body: proposal(), key: 'arb_nope_nope' })).status, 401);
    const readOnly = await mintKey(s, ['governance:read']);
    const r = await s.call('POST', '/api/v1/governance/propose', { body: proposal(), key: readOnly });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /governance:propose/);
    const bearer = await fetch(`${s.url}/api/v1/governance/decisions`, { headers: { Authorization: `Bearer ${readOnly}` } });
    assert.equal(bearer.status, 200);
    assert.equal((await s.call('GET', '/api/v1/users', { key: readOnly })).status, 403);
  });

  it('replays an Idempotency-Key with the same body and refuses it with another (422)', async () => {
    const headers = { 'Idempotency-Key': 'idem-1' };
    const a = await s.call('POST', '/api/v1/governance/propose', { body: proposal(), headers });
    const b = await s.call('POST', '/api/v1/governance/propose', { body: proposal(), headers });
    assert.equal(a.status, 200);
    assert.equal(b.body.decision_id, a.body.decision_id);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    const c = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ actor: { id: 'agent-002', type: 'ai-agent' } }), headers });
    assert.equal(c.status, 422);
    assert.equal(c.body.error.code, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('lists decisions with filters and an opaque cursor', async () => {
    for (let i = 0; i < 5; i++) {
      await s.call('POST', '/api/v1/governance/propose', { body: proposal({ actor: { id: 'lister', type: 'automation' }, action: { capability: 'report.read', parameters: { i } } }) });
    }
    const p1 = await s.call('GET', '/api/v1/governance/decisions?actor_id=lister&limit=2');
    assert.equal(p1.status, 200);
    assert.equal(p1.body.decisions.length, 2);
    assert.ok(p1.body.next_cursor);
    const p2 = await s.call('GET', `/api/v1/governance/decisions?actor_id=lister&limit=2&cursor=${p1.body.next_cursor}`);
    const p3 = await s.call('GET', `/api/v1/governance/decisions?actor_id=lister&limit=2&cursor=${p2.body.next_cursor}`);
    const ids = [...p1.body.decisions, ...p2.body.decisions, ...p3.body.decisions].map((d: { decision_id: string }) => d.decision_id);
    assert.equal(new Set(ids).size, 5);
    assert.equal(p3.body.next_cursor, null);
    const denied = await s.call('GET', '/api/v1/governance/decisions?outcome=DENY');
    assert.ok(denied.body.decisions.every((d: { outcome: string }) => d.outcome === 'DENY'));
    assert.ok(denied.body.decisions.length >= 1);
    assert.equal((await s.call('GET', '/api/v1/governance/decisions?limit=500')).status, 400);
    assert.equal((await s.call('GET', '/api/v1/governance/decisions?cursor=garbage')).status, 400);
    const since = await s.call('GET', `/api/v1/governance/decisions?actor_id=lister&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    assert.equal(since.body.decisions.length, 0);
  });

  it("never shows one organization's decisions to another's key", async () => {
    const mine = await s.call('POST', '/api/v1/governance/propose', { body: proposal() });
    const otherKey = await secondOrg(s);
    const r = await s.call('GET', `/api/v1/governance/decisions/${mine.body.decision_id}`, { key: otherKey });
    assert.equal(r.status, 404);
    const list = await s.call('GET', '/api/v1/governance/decisions', { key: otherKey });
    assert.equal(list.body.decisions.length, 0);
    const rules = await s.call('GET', '/api/smart-rules', { key: otherKey });
    assert.equal(rules.body.data.total, 0);
    assert.equal((await s.call('GET', `/api/v1/audit?entity_id=${mine.body.decision_id}`, { key: otherKey })).body.data.length, 0);
    assert.equal((await s.call('GET', '/api/v1/users', { key: otherKey })).body.total, 0);
    assert.equal((await s.call('GET', '/api/v1/outbox', { key: otherKey })).body.total, 0);
    assert.equal((await s.call('GET', '/api/governance/dashboard/pending-approvals', { key: otherKey })).body.data.total, 0);
    assert.equal((await s.call('POST', `/api/v1/governance/decisions/${mine.body.decision_id}/withdraw`, { key: otherKey, body: { reason: 'not yours' } })).status, 404);
    const own = await s.call('POST', '/api/v1/governance/propose', { body: proposal(), key: otherKey });
    assert.equal(own.status, 200);
    assert.equal((await s.call('GET', `/api/v1/governance/decisions/${own.body.decision_id}`)).status, 404);
  });

  it('catches a tampered audit row and names its seq', async () => {
    const ok = await s.call('GET', '/api/v1/audit/verify');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.ok, true);
    assert.ok(ok.body.checked > 5);
    const [row] = await s.core.ds.query(`SELECT seq FROM audit_records WHERE "orgId" = 'org_default' AND action = 'decision.proposed' ORDER BY seq LIMIT 1 OFFSET 2`);
    await s.core.ds.query(`UPDATE audit_records SET data = data || '{"tampered": true}'::jsonb WHERE "orgId" = 'org_default' AND seq = $1`, [row.seq]);
    const bad = await s.call('GET', '/api/v1/audit/verify');
    assert.equal(bad.body.ok, false);
    assert.equal(bad.body.first_broken_seq, Number(row.seq));
  });

  it('serves health, readiness and an OpenAPI document of its routes', async () => {
    assert.equal((await s.call('GET', '/healthz', { key: null })).status, 200);
    assert.equal((await s.call('GET', '/readyz', { key: null })).status, 200);
    const doc = await s.call('GET', '/openapi.json', { key: null });
    assert.equal(doc.body.openapi, '3.1.0');
    for (const p of ['/api/v1/governance/propose', '/api/v1/governance/decisions/{id}', '/api/smart-rules', '/api/v1/users', '/api/v1/keys', '/api/v1/outbox', '/api/v1/audit', '/api/v1/audit/verify', '/api/v1/audit/export', '/api/v1/webhooks/secret', '/metrics', '/approve/{token}']) {
      assert.ok(doc.body.paths[p], `missing ${p}`);
    }
    assert.ok(doc.body.paths['/api/v1/users/{id}'].patch && doc.body.paths['/api/v1/users/{id}'].delete);
    assert.ok(doc.body.paths['/api/v1/governance/propose'].post.requestBody.content['application/json'].schema.properties.callback_url);
    const schema = doc.body.paths['/api/v1/governance/propose'].post.requestBody.content['application/json'].schema;
    assert.ok(schema.required.includes('actor'));
    const html = await fetch(`${s.url}/docs`);
    assert.match(await html.text(), /\/api\/v1\/governance\/propose/);
  });

  it('exposes Prometheus metrics: decisions by outcome, requests by route pattern, group commits', async () => {
    await s.call('POST', '/api/v1/governance/propose', { body: proposal() });
    const text = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(text, /arbiter_decisions_total\{surface="aegis",outcome="ALLOW"\} [1-9]/);
    assert.match(text, /arbiter_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/governance\/propose",status="2xx"\} [1-9]/);
    assert.match(text, /arbiter_audit_batch_size_count [1-9]/);
    assert.doesNotMatch(text, /route="\/api\/v1\/governance\/decisions\/dec_/, 'ids never become label values');
  });
});

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ArbiterClient, ArbiterRequestError } from '../../sdk';
import { addUser } from '../helpers/fixtures';
import { ADMIN_KEY, startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

const agent = { id: 'sdk-bot', type: 'ai-agent' as const };

describe('the TypeScript SDK: an agent acts only on a final ALLOW', () => {
  let s: Stack;
  let client: ArbiterClient;
  before(async () => {
    s = await startStack();
    client = new ArbiterClient({ baseUrl: s.url, apiKey: ADMIN_KEY });
    await addUser(s, 'fay@example.com', ['approver'], 'Fay');
    await s.call('POST', '/api/smart-rules', { body: { name: 'No drops', conditions: { action_type: 'db.drop' }, action: 'DENY' } });
    await s.call('POST', '/api/smart-rules', { body: { name: 'People see refunds', conditions: { action_type: 'payments.refund' }, action: 'REQUIRE_APPROVAL' } });
  });
  after(async () => {
    await s?.close();
  });

  it('answers ALLOW and DENY from the fast path', async () => {
    const ok = await client.propose({ actor: agent, action: { capability: 'reports.read', parameters: {} }, context: { metadata: { environment: 'development' } } });
    assert.deepEqual({ outcome: ok.outcome, status: ok.status, allowed: ok.allowed }, { outcome: 'ALLOW', status: 'final', allowed: true });
    const no = await client.propose({ actor: agent, action: { capability: 'db.drop', parameters: {} } });
    assert.deepEqual({ outcome: no.outcome, allowed: no.allowed, failClosed: no.failClosed }, { outcome: 'DENY', allowed: false, failClosed: undefined });
  });

  it('decide() waits for people and returns their final answer', async () => {
    const pending = client.decide({ actor: agent, action: { capability: 'payments.refund', parameters: { amount: 20 } } }, { timeoutMs: 30_000 });
    let id: string | undefined;
    for (let i = 0; i < 100 && !id; i++) {
      id = (await s.call('GET', '/api/governance/dashboard/pending-approvals')).body.data.pending.find((p: { agent_id: string }) => p.agent_id === 'sdk-bot')?.action_id;
      if (!id) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(id, 'the proposal is waiting for people');
    assert.equal((await s.call('POST', `/api/governance/workflows/${id}/approve`, { body: { decision: 'approved' } })).status, 200);
    const d = await pending;
    assert.deepEqual({ id: d.decision_id, outcome: d.outcome, status: d.status, allowed: d.allowed }, { id, outcome: 'ALLOW', status: 'final', allowed: true });
  });

  it('a bad request throws with the field named; it is never an ALLOW', async () => {
    await assert.rejects(client.propose({ actor: agent, action: { capability: 'no capability here', parameters: {} } }), (e: unknown) => e instanceof ArbiterRequestError && e.status === 400 && e.field === 'action.capability');
    const stranger = new ArbiterClient({ baseUrl: s.url, apiKey: 'arb_wrong_key_000000000000000000' });
    await assert.rejects(stranger.propose({ actor: agent, action: { capability: 'reports.read', parameters: {} } }), (e: unknown) => e instanceof ArbiterRequestError && e.status === 401);
  });

  it('fails closed when Arbiter is unreachable or failing, retrying with the same Idempotency-Key', async () => {
    const down = new ArbiterClient({ baseUrl: 'http://127.0.0.1:9', apiKey: ADMIN_KEY, retries: 1, timeoutMs: 1000 });
    const d = await down.propose({ actor: agent, action: { capability: 'reports.read', parameters: {} } });
    assert.deepEqual({ outcome: d.outcome, allowed: d.allowed, closed: !!d.failClosed }, { outcome: 'DENY', allowed: false, closed: true });

    const keys: string[] = [];
    const flaky = createServer((req, res) => {
      keys.push(String(req.headers['idempotency-key']));
      res.statusCode = 503;
      res.setHeader('Content-Type', 'application/json');
      res.end('{"outcome":"DENY","error":{"code":"UNAVAILABLE","message":"try later"}}');
    });
    await new Promise<void>((ok) => flaky.listen(0, '127.0.0.1', ok));
    try {
      const c = new ArbiterClient({ baseUrl: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`, apiKey: ADMIN_KEY, retries: 2 });
      const r = await c.propose({ actor: agent, action: { capability: 'reports.read', parameters: {} } });
      assert.equal(r.allowed, false);
      assert.match(r.failClosed?.error ?? '', /503 UNAVAILABLE/);
      assert.equal(keys.length, 3, 'one try and two retries');
      assert.equal(new Set(keys).size, 1, 'every retry carries the same Idempotency-Key');
    } finally {
      flaky.close();
    }
  });

  it('a retried propose that did reach Arbiter is one decision, not two', async () => {
    const first = await client.propose({ actor: agent, action: { capability: 'reports.read', parameters: { n: 1 } } }, { idempotencyKey: 'sdk-retry-1' });
    const again = await client.propose({ actor: agent, action: { capability: 'reports.read', parameters: { n: 1 } } }, { idempotencyKey: 'sdk-retry-1' });
    assert.equal(again.decision_id, first.decision_id);
  });

  it('lists decisions across pages', async () => {
    const seen: unknown[] = [];
    for await (const d of client.listDecisions({ actor_id: 'sdk-bot', pageSize: 2 })) seen.push(d);
    assert.ok(seen.length >= 4, `saw ${seen.length} (two or more pages of 2)`);
    assert.equal(new Set(seen.map((d) => (d as { decision_id: string }).decision_id)).size, seen.length);
  });
});

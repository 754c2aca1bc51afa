import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { proposal } from '../helpers/fixtures';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

describe('fail closed', () => {
  let s: Stack;
  let dbName: string;
  before(async () => {
    s = await startStack({ withWorker: false });
    dbName = new URL(s.config.DATABASE_URL).pathname.slice(1);
  });
  after(async () => {
    await s.core.ds.query('SELECT 1').catch(() => undefined);
    await s?.close();
  });

  it('with the database unreachable, propose answers DENY or a 5xx, never ALLOW', async () => {
    const warm = await s.call('POST', '/api/v1/governance/propose', { body: proposal() });
    assert.equal(warm.body.outcome, 'ALLOW', 'the same proposal is allowed while the database is up');

    const { Client } = await import('pg');
    const admin = new Client({ connectionString: s.config.DATABASE_URL.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
      for (let i = 0; i < 3; i++) {
        const r = await s.call('POST', '/api/v1/governance/propose', { body: proposal() });
        assert.notEqual(r.body?.outcome, 'ALLOW');
        assert.ok(r.status >= 500, `status ${r.status}`);
        assert.equal(r.body.outcome, 'DENY');
        assert.equal(r.body.error.code, 'INTERNAL');
      }
      const ready = await s.call('GET', '/readyz', { key: null });
      assert.equal(ready.status, 503);
    } finally {
      await admin.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    // Nothing was written while it was down: the chain still verifies.
    const v = await s.call('GET', '/api/v1/audit/verify');
    assert.equal(v.body.ok, true);
  });

  it('when Temporal refuses to start the approval, the decision ends DENY and its approval is closed, not left open to votes', async () => {
    const rule = await s.call('POST', '/api/smart-rules', { body: { name: 'Transfers need a person (fail closed)', priority: 5, conditions: { action_type: 'payments.refund' }, action: 'REQUIRE_APPROVAL' } });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    await s.call('POST', '/api/v1/users', { body: { email: 'fc-approver@example.com', name: 'FC', roles: ['approver'] } });
    // Temporal refusing the start (overload, an outage): the gateway's call fails.
    const gateway = s.workflows as unknown as { startProposal: (...a: unknown[]) => Promise<string> };
    const real = gateway.startProposal;
    gateway.startProposal = () => Promise.reject(new Error('resource exhausted: start refused'));
    let r;
    try {
      r = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ action: { capability: 'payments.refund', parameters: { amount: 5 } } }) });
    } finally {
      gateway.startProposal = real;
    }
    assert.ok(r.status >= 500, `a 5xx (fail closed), got ${r.status}`);
    assert.equal(r.body.outcome, 'DENY');
    const [d] = (await s.core.ds.query(`SELECT id, status, "finalOutcome" FROM decisions WHERE capability = 'payments.refund' ORDER BY "createdAt" DESC LIMIT 1`)) as { id: string; status: string; finalOutcome: string }[];
    assert.deepEqual([d.status, d.finalOutcome], ['final', 'DENY']);
    const [a] = (await s.core.ds.query(`SELECT status, state->>'reason' AS reason FROM approvals WHERE "subjectId" = $1`, [d.id])) as { status: string; reason: string }[];
    assert.deepEqual(a, { status: 'EXPIRED', reason: 'WORKFLOW_START_FAILED' });
  });

  it('a vote that arrives before the approval\'s workflow has started answers 503 (try again), not 409 (ended), and changes nothing', async () => {
    const rule = await s.call('POST', '/api/smart-rules', { body: { name: 'Refund reviews', priority: 5, conditions: { action_type: 'payments.review' }, action: 'REQUIRE_APPROVAL' } });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const user = await s.call('POST', '/api/v1/users', { body: { email: 'early-voter@example.com', name: 'Early', roles: ['approver'] } });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const key = (await s.call('POST', '/api/v1/keys', { body: { name: 'early', scopes: ['governance:read', 'governance:write'], user_id: user.body.id } })).body.key as string;
    // The gap between the decision's commit and its workflow's start, held open.
    const gateway = s.workflows as unknown as { startProposal: (...a: unknown[]) => Promise<string> };
    const real = gateway.startProposal;
    gateway.startProposal = () => Promise.resolve('not-started');
    let p;
    try {
      p = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ action: { capability: 'payments.review', parameters: {} } }) });
    } finally {
      gateway.startProposal = real;
    }
    assert.equal(p.body.outcome, 'REQUIRE_CONFIRMATION', JSON.stringify(p.body));
    const queue = (await s.call('GET', '/api/v1/approvals', { key })).body.items as { approval_id: string; subject_id?: string }[];
    const a = queue.find((x) => JSON.stringify(x).includes(p.body.decision_id as string));
    assert.ok(a, 'the approval is in the approver\'s queue');
    const vote = await s.call('POST', `/api/v1/approvals/${a.approval_id}/vote`, { key, body: { decision: 'approve' } });
    assert.equal(vote.status, 503, JSON.stringify(vote.body));
    assert.equal(vote.body.error.code, 'APPROVAL_UNAVAILABLE');
    const d = await s.call('GET', `/api/v1/governance/decisions/${p.body.decision_id}`);
    assert.equal(d.body.status, 'pending');
  });
});

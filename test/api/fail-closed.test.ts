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
});

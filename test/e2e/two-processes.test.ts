import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { loadConfig } from '../../config';
import { createCore } from '../../services/core';
import { dropDatabase, testDatabaseUrl } from '../helpers/db';
import { ADMIN_KEY } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal';

/** Two real API processes on one database, as in a scaled-out deployment. */
describe('two API processes against one database', () => {
  let temporal: TestWorkflowEnvironment;
  const dbUrl = testDatabaseUrl('two');
  const procs: ChildProcess[] = [];
  const urls: string[] = [];

  before(async () => {
    temporal = await startTemporal();
    const core = await createCore(loadConfig({ DATABASE_URL: dbUrl, ARBITER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' }), { log: pino({ level: 'silent' }) });
    await core.close();
    for (let i = 0; i < 2; i++) {
      const port = 19_000 + Math.floor(Math.random() * 5000);
      const p = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts'], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: dbUrl, TEMPORAL_ADDRESS: temporal.address, ARBITER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'warn', ARBITER_ROLE: 'api', TEMPORAL_TASK_QUEUE: `two-${process.pid}` }, stdio: ['ignore', 'ignore', 'inherit'] });
      procs.push(p);
      urls.push(`http://127.0.0.1:${port}`);
    }
    for (const u of urls) {
      const until = Date.now() + 60_000;
      for (;;) {
        try {
          if ((await fetch(`${u}/healthz`)).ok) break;
        } catch {
          /* starting */
        }
        if (Date.now() > until) throw new Error(`${u} did not start`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  });
  after(async () => {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((ok) => (p.exitCode !== null ? ok(null) : p.once('exit', ok)))));
    await temporal?.teardown();
    await dropDatabase(dbUrl);
  });

  const call = async (url: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, { method, headers: { 'X-API-Key': ADMIN_KEY, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };

  it('a rule change in one process reaches the other within a second (LISTEN/NOTIFY)', async () => {
    const body = { actor: { id: 'fresh', type: 'ai-agent' }, action: { capability: 'notes.write', parameters: {} }, context: { metadata: { environment: 'development' } } };
    assert.equal((await call(urls[1], 'POST', '/api/v1/governance/propose', body)).body.outcome, 'ALLOW', 'process B has cached its snapshot');
    const rule = await call(urls[0], 'POST', '/api/smart-rules', { name: 'No notes', conditions: { action_type: 'notes.write' }, action: 'DENY' });
    assert.equal(rule.status, 201);
    const t0 = Date.now();
    let outcome = 'ALLOW';
    while (outcome !== 'DENY' && Date.now() - t0 < 5000) {
      outcome = (await call(urls[1], 'POST', '/api/v1/governance/propose', body)).body.outcome;
      if (outcome !== 'DENY') await new Promise((r) => setTimeout(r, 20));
    }
    const elapsed = Date.now() - t0;
    assert.equal(outcome, 'DENY');
    assert.ok(elapsed < 1000, `process B saw the change after ${elapsed} ms`);
    await call(urls[0], 'DELETE', `/api/smart-rules/${rule.body.data.rule_id}`);
  });

  it('never overspends a budget under concurrent proposals through both processes, and a refused proposal spends nothing', async () => {
    // The per-action budget binds; the run and session budgets are spent before it is checked, so a
    // proposal refused there must give them back.
    const created = await call(urls[0], 'POST', '/api/v1/policies', { name: 'Run budget', run_budget: 100000, session_budget: 100000, action_budgets: { 'shop.*': 1000 } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // The other process hears of the policy through LISTEN/NOTIFY.
    await new Promise((r) => setTimeout(r, 1200));
    const proposals = Array.from({ length: 60 }, (_, i) =>
      call(urls[i % 2], 'POST', '/api/v1/governance/propose', { actor: { id: 'spender', type: 'ai-agent' }, action: { capability: 'shop.buy', parameters: { item: i } }, amount: 100, context: { run_id: 'run-1', session_id: 'sess-1', metadata: { environment: 'development' } } }),
    );
    const results = await Promise.all(proposals);
    assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.find((r) => r.status !== 200)?.body));
    const allowed = results.filter((r) => r.body.outcome === 'ALLOW').length;
    assert.equal(allowed, 10, `allowed ${allowed} × $100 against a $1000 run budget`);
    const denied = results.filter((r) => r.body.outcome === 'DENY');
    assert.equal(denied.length, 50);
    assert.ok(denied.every((r) => /budget/i.test(r.body.reason)), denied.map((r) => r.body.reason).join('\n'));
    // The audit trail says what was decided, including proposals denied because another process spent the budget first.
    const { Client } = await import('pg');
    const c = new Client({ connectionString: dbUrl });
    await c.connect();
    const mismatch = await c.query(`SELECT count(*)::int AS n FROM decisions d JOIN audit_records a ON a.id = d."auditRef" WHERE a.data->>'outcome' <> d.outcome`);
    const counters = await c.query(`SELECT key, value::float AS value FROM counters WHERE key LIKE 'budget:%' AND key LIKE $1 ORDER BY key`, [`%:${created.body.id}:%`]);
    await c.end();
    assert.deepEqual(counters.rows.map((r) => r.value), [1000, 1000, 1000], JSON.stringify(counters.rows));
    assert.equal(mismatch.rows[0].n, 0);
  });

  it('holds a rate limit exactly across both processes', async () => {
    const created = await call(urls[1], 'POST', '/api/v1/policies', { name: 'Search rate', rate_limits: [{ action: 'search.*', max: 7, window_seconds: 3600, per: 'agent' }] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await new Promise((r) => setTimeout(r, 1200));
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => call(urls[i % 2], 'POST', '/api/v1/governance/propose', { actor: { id: 'searcher', type: 'ai-agent' }, action: { capability: 'search.web', parameters: { q: i } }, context: { metadata: { environment: 'development' } } })),
    );
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(results.filter((r) => r.body.outcome === 'ALLOW').length, 7, '7 per hour per agent, whichever process answers');
    assert.ok(results.filter((r) => r.body.outcome === 'DENY').every((r) => /rate/i.test(r.body.reason)));
    await call(urls[0], 'DELETE', `/api/v1/policies/${created.body.id}`);
  });

  it('spends a count-bound exception exactly max_uses times across both processes', async () => {
    const pol = await call(urls[1], 'POST', '/api/v1/policies', { name: 'No exports', denied_actions: ['data.export'] });
    assert.equal(pol.status, 201);
    const ex = await call(urls[0], 'POST', `/api/v1/policies/${pol.body.id}/exceptions`, { actor_id: 'exporter', reason: 'quarterly report', max_uses: 5 });
    assert.equal(ex.status, 201, JSON.stringify(ex.body));
    await new Promise((r) => setTimeout(r, 1200));
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => call(urls[i % 2], 'POST', '/api/v1/governance/propose', { actor: { id: 'exporter', type: 'ai-agent' }, action: { capability: 'data.export', parameters: { i } }, context: { metadata: { environment: 'development' } } })),
    );
    assert.equal(results.filter((r) => r.body.outcome === 'ALLOW').length, 5);
    const after = await call(urls[0], 'GET', `/api/v1/policies/${pol.body.id}/exceptions`);
    assert.equal(after.body.items[0].uses, 5);
    assert.equal(after.body.items[0].active, false);
  });
});

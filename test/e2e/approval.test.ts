import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { verifyWebhookSignature } from '../../services/webhooks';
import { addUser, linkIn, postForm, proposal } from '../helpers/fixtures';
import { startSmtp } from '../helpers/smtp';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal';
import { spawnWorker } from '../helpers/worker-process';


/** Polls `check` until it holds (activities run beside the request that started them). */
async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const transfer = (over: Record<string, unknown> = {}) =>
  proposal({ actor: { id: 'pay-bot', type: 'ai-agent' }, action: { capability: 'payments.transfer', parameters: { amount: 1200, to: 'ACME' } }, ...over });

describe('human approval, end to end: email link → page → decision → the agent reads it', () => {
  let temporal: TestWorkflowEnvironment;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let s: Stack;
  let alice: string;
  before(async () => {
    temporal = await startTemporal();
    smtp = await startSmtp();
    s = await startStack({ temporal, env: { SMTP_URL: smtp.url, APPROVAL_TIER1_TIMEOUT_SECONDS: '600', PENDING_SWEEP_SECONDS: '3600' } });
    alice = await addUser(s, 'alice@example.com', ['approver'], 'Alice');
    await addUser(s, 'root@example.com', ['admin'], 'Root');
    const rule = await s.call('POST', '/api/smart-rules', { body: { name: 'Transfers need a person', priority: 10, conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' } });
    assert.equal(rule.status, 201);
  });
  after(async () => {
    await s?.close();
    await smtp?.close();
    await temporal?.teardown();
  });

  it('REQUIRE_CONFIRMATION → mail with a link → GET changes nothing → POST approves → ALLOW', async () => {
    const p = await s.call('POST', '/api/v1/governance/propose', { body: transfer() });
    assert.equal(p.status, 200);
    assert.equal(p.body.outcome, 'REQUIRE_CONFIRMATION');
    assert.equal(p.body.status, 'pending');
    const id = p.body.decision_id as string;

    const mail = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(id));
    assert.match(mail.subject, /payments\.transfer/);
    const link = linkIn(mail.text);

    // A mail scanner prefetching the link twice decides nothing.
    for (let i = 0; i < 2; i++) {
      const page = await fetch(link);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /payments\.transfer/);
      assert.match(html, /name="decision" value="approve"/);
    }
    const still = await s.call('GET', `/api/v1/governance/decisions/${id}`);
    assert.equal(still.body.status, 'pending');
    assert.equal(still.body.outcome, 'REQUIRE_CONFIRMATION');

    const posted = await postForm(link, { decision: 'approve', comment: 'ok by me' });
    assert.equal(posted.status, 200, posted.text);
    assert.match(posted.text, /approved/);

    const final = await s.call('GET', `/api/v1/governance/decisions/${id}?wait=15`);
    assert.equal(final.body.status, 'final');
    assert.equal(final.body.outcome, 'ALLOW');
    assert.equal(final.body.original_outcome, 'REQUIRE_CONFIRMATION');
    assert.deepEqual(final.body.decided_by, [alice]);
    assert.ok(final.body.decided_at);

    // The same link a second time is refused and changes nothing.
    const again = await postForm(link, { decision: 'deny' });
    assert.equal(again.status, 410);
    assert.equal((await s.call('GET', `/api/v1/governance/decisions/${id}`)).body.outcome, 'ALLOW');

    const audit = await s.core.ds.query(`SELECT action FROM audit_records WHERE "entityId" = $1 ORDER BY seq`, [id]);
    assert.deepEqual(audit.map((a: { action: string }) => a.action), ['decision.proposed', 'approval.notified', 'approval.approve', 'decision.finalized']);
    assert.equal((await s.call('GET', '/api/v1/audit/verify')).body.ok, true);
  });

  it('a deny through the link ends it as DENY', async () => {
    const p = await s.call('POST', '/api/v1/governance/propose', { body: transfer({ action: { capability: 'payments.transfer', parameters: { amount: 5, to: 'Bob' } } }) });
    const mail = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(p.body.decision_id));
    const posted = await postForm(linkIn(mail.text), { decision: 'deny' });
    assert.equal(posted.status, 200);
    const final = await s.call('GET', `/api/v1/governance/decisions/${p.body.decision_id}?wait=15`);
    assert.equal(final.body.outcome, 'DENY');
  });

  it('refuses self-approval: a person never approves their own action', async () => {
    const p = await s.call('POST', '/api/v1/governance/propose', { body: transfer({ actor: { id: alice, type: 'human' } }) });
    assert.equal(p.body.outcome, 'REQUIRE_CONFIRMATION');
    // The proposer is never asked: the request goes to the admins' tier only when escalated, and nobody mails Alice.
    const id = p.body.decision_id as string;
    await waitUntil(async () => (await s.core.ds.query(`SELECT 1 FROM audit_records WHERE "entityId" = $1 AND action = 'approval.notified'`, [id])).length === 1);
    const notified = await s.core.ds.query(`SELECT data FROM audit_records WHERE "entityId" = $1 AND action = 'approval.notified'`, [id]);
    assert.ok(!notified[0].data.approvers.includes(alice), 'the proposer is not among those asked');
    assert.ok(!smtp.inbox.some((m) => m.to === 'alice@example.com' && m.text.includes(id)));
    // A link in the proposer's hands (however it got there) still cannot approve.
    const [approval] = await s.core.ds.query(`SELECT id, "workflowId" FROM approvals WHERE "subjectId" = $1`, [id]);
    const token = await s.core.ds.transaction((em) => s.core.links.issue(em, { orgId: 'org_default', decisionId: id, approvalId: approval.id, workflowId: approval.workflowId, approverId: alice, tier: 1, ttlSeconds: 600 }));
    const posted = await postForm(`${s.url}/approve/${token}`, { decision: 'approve' });
    assert.equal(posted.status, 403);
    assert.match(posted.text, /SELF_APPROVAL/);
    const d = await s.call('GET', `/api/v1/governance/decisions/${id}`);
    assert.equal(d.body.status, 'pending');
  });

  it('approves through the API as a person (Ascend), lists pending approvals, waives and withdraws', async () => {
    const aliceKey = (await s.call('POST', '/api/v1/keys', { body: { name: 'alice', scopes: ['governance:read', 'governance:write'], user_id: alice } })).body.key;
    const a = await s.call('POST', '/api/v1/governance/propose', { body: transfer() });
    const pending = await s.call('GET', '/api/governance/dashboard/pending-approvals');
    const item = pending.body.data.pending.find((x: { action_id: string }) => x.action_id === a.body.decision_id);
    assert.equal(item.action_type, 'payments.transfer');
    assert.match(item.summary, /^payments.transfer by pay-bot: .*amount 1200/);
    // Ascend's approve is the seed's admin endpoint: a person votes with their own key on the approvals API.
    const notAdmin = await s.call('POST', `/api/governance/workflows/${item.workflow_execution_id}/approve`, { body: { decision: 'approved' }, key: aliceKey });
    assert.equal(notAdmin.status, 403);
    assert.equal(notAdmin.body.error.message, 'Admin role required');
    const [apr] = (await s.core.ds.query('SELECT id FROM approvals WHERE "workflowId" = $1', [item.workflow_execution_id])) as { id: string }[];
    const ok = await s.call('POST', `/api/v1/approvals/${apr.id}/vote`, { body: { decision: 'approve', comment: 'fine' }, key: aliceKey });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.status, 'APPROVED');
    assert.equal((await s.call('GET', `/api/v1/governance/decisions/${a.body.decision_id}?wait=15`)).body.outcome, 'ALLOW');
    const again = await s.call('POST', `/api/v1/approvals/${apr.id}/vote`, { body: { decision: 'deny' }, key: aliceKey });
    assert.equal(again.status, 409);
    const hist = await s.call('GET', `/api/v1/governance/decisions/${a.body.decision_id}/history`);
    assert.equal(hist.body.state.status, 'APPROVED');
    assert.ok(hist.body.events.some((e: { eventType: string }) => /UPDATE_ACCEPTED/.test(e.eventType)));

    const w = await s.call('POST', '/api/v1/governance/propose', { body: transfer() });
    assert.equal((await s.call('POST', `/api/v1/governance/decisions/${w.body.decision_id}/waive`, { body: { reason: ' ' } })).status, 400);
    const waived = await s.call('POST', `/api/v1/governance/decisions/${w.body.decision_id}/waive`, { body: { reason: 'change ticket CHG-42' } });
    assert.equal(waived.status, 200);
    assert.equal((await s.call('GET', `/api/v1/governance/decisions/${w.body.decision_id}?wait=15`)).body.outcome, 'ALLOW');

    const x = await s.call('POST', '/api/v1/governance/propose', { body: transfer() });
    assert.equal((await s.call('POST', `/api/v1/governance/decisions/${x.body.decision_id}/withdraw`, { body: { reason: 'no longer needed' } })).status, 202);
    const withdrawn = await s.call('GET', `/api/v1/governance/decisions/${x.body.decision_id}?wait=15`);
    assert.equal(withdrawn.body.outcome, 'DENY');
    assert.equal(withdrawn.body.approval.state.status, 'WITHDRAWN');
  });

  it('budget held by a pending approval goes back when the approval ends in DENY', async () => {
    const pol = await s.call('POST', '/api/v1/policies', { body: { name: 'run budget', run_budget: 150 } });
    assert.equal(pol.status, 201, JSON.stringify(pol.body));
    const spend = () => s.call('POST', '/api/v1/governance/propose', { body: transfer({ amount: 100, context: { run_id: 'run-held', metadata: {} } }) });
    try {
      const first = await spend();
      assert.equal(first.body.outcome, 'REQUIRE_CONFIRMATION');
      const second = await spend();
      assert.equal(second.body.outcome, 'DENY', 'the first proposal holds 100 of 150 while people decide');
      assert.match(second.body.reason, /budget/i);
      assert.equal((await s.call('POST', `/api/v1/governance/decisions/${first.body.decision_id}/withdraw`, { body: { reason: 'changed my mind' } })).status, 202);
      assert.equal((await s.call('GET', `/api/v1/governance/decisions/${first.body.decision_id}?wait=15`)).body.outcome, 'DENY');
      const third = await spend();
      assert.equal(third.body.outcome, 'REQUIRE_CONFIRMATION', 'the withdrawn proposal gave its 100 back');
      const audit = await s.call('GET', `/api/v1/audit?entity_id=${first.body.decision_id}`);
      const finalized = audit.body.data.find((a: { action: string }) => a.action === 'decision.finalized');
      assert.deepEqual(finalized.data.released.map((r: { amount: number }) => Number(r.amount)), [100]);
      await s.call('POST', `/api/v1/governance/decisions/${third.body.decision_id}/withdraw`, { body: { reason: 'cleanup' } });
    } finally {
      await s.call('DELETE', `/api/v1/policies/${pol.body.id}`);
    }
  });

  it('a NOTIFY rule allows and mails the people it names; unreachable channels are reported', async () => {
    const named = await s.call('POST', '/api/smart-rules', { body: { name: 'Tell security about exports', priority: 5, conditions: { action_type: 'files.export' }, action: 'NOTIFY', notifications: { channels: ['security@example.com', 'slack-sec-alerts'], priority: 'high' } } });
    assert.equal(named.status, 201, JSON.stringify(named.body));
    const plain = await s.call('POST', '/api/smart-rules', { body: { name: 'Tell the admins', priority: 6, conditions: { action_type: 'files.export' }, action: 'NOTIFY' } });
    try {
      const p = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ action: { capability: 'files.export', parameters: { file: 'q3.csv' } } }) });
      assert.equal(p.body.outcome, 'ALLOW', 'NOTIFY approves');
      const sec = await smtp.waitFor((m) => m.to === 'security@example.com' && m.text.includes(p.body.decision_id));
      assert.match(sec.subject, /\[high\].*files\.export.*was allowed/);
      assert.match(sec.text, /Tell security about exports/);
      await smtp.waitFor((m) => m.to === 'root@example.com' && m.text.includes(p.body.decision_id));
      let sent: { data: { recipients: string[]; undelivered: string[] } } | undefined;
      for (let i = 0; i < 50 && !sent; i++) {
        sent = (await s.call('GET', `/api/v1/audit?entity_id=${p.body.decision_id}&action=notification.sent`)).body.data[0];
        if (!sent) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(sent, 'the notice is audited');
      assert.deepEqual([...sent.data.recipients].sort(), ['root@example.com', 'security@example.com']);
      assert.deepEqual(sent.data.undelivered, ['slack-sec-alerts']);
      assert.equal(smtp.inbox.filter((m) => m.to === 'security@example.com' && m.text.includes(p.body.decision_id)).length, 1, 'once each');
    } finally {
      await s.call('DELETE', `/api/smart-rules/${named.body.data.rule_id}`);
      await s.call('DELETE', `/api/smart-rules/${plain.body.data.rule_id}`);
    }
  });

  it('a vote the workflow counted is audited by the workflow, even when its caller dies before writing anything', async () => {
    const p = await s.call('POST', '/api/v1/governance/propose', { body: transfer({ action: { capability: 'payments.transfer', parameters: { amount: 31, to: 'Gone Ltd' } } }) });
    assert.equal(p.body.outcome, 'REQUIRE_CONFIRMATION');
    const id = p.body.decision_id as string;
    const [row] = (await s.core.ds.query('SELECT id, "workflowId" FROM approvals WHERE "subjectId" = $1', [id])) as { id: string; workflowId: string }[];
    const record = { actorType: 'user' as const, actorId: alice, entityType: 'decision', entityId: id, action: 'approval.approve', data: { approvalId: row.id, via: 'api', comment: null }, fill: ['tier' as const, 'status' as const] };
    // What the API sends, and then nothing more: as if it died the moment the update was out.
    let result: Awaited<ReturnType<typeof s.workflows.decide>> | undefined;
    await waitUntil(async () => {
      result = await s.workflows.decide(row.workflowId, { approverId: alice, decision: 'approve', via: 'api', audit: record }).catch(() => undefined);
      return !!result;
    });
    assert.deepEqual(result, { status: 'APPROVED', tier: 1, counted: true, audited: true });
    const final = await s.call('GET', `/api/v1/governance/decisions/${id}?wait=15`);
    assert.equal(final.body.outcome, 'ALLOW');
    const trail = (await s.call('GET', `/api/v1/audit?entity_id=${id}&limit=50`)).body.data as { action: string; seq: number; actor_id?: string; data: Record<string, unknown> }[];
    const votes = trail.filter((r) => r.action === 'approval.approve');
    assert.equal(votes.length, 1, 'one record for the vote');
    assert.deepEqual(votes[0].data, { approvalId: row.id, via: 'api', comment: null, tier: 1, status: 'APPROVED' });
    const finalized = trail.find((r) => r.action === 'decision.finalized');
    assert.ok(finalized && finalized.seq > votes[0].seq, 'the vote is recorded before the decision it ended');
    // The caller retrying finds it counted, and nothing is recorded twice.
    await assert.rejects(s.workflows.decide(row.workflowId, { approverId: alice, decision: 'approve', via: 'api', audit: record }));
    const again = (await s.call('GET', `/api/v1/audit?entity_id=${id}&action=approval.approve`)).body.data as unknown[];
    assert.equal(again.length, 1);
  });

  it('a pending decision whose workflow never started (the process died in between) is resumed by the sweep', async () => {
    const p = await s.call('POST', '/api/v1/governance/propose', { body: transfer({ action: { capability: 'payments.transfer', parameters: { amount: 77, to: 'Orphan Inc' } } }) });
    assert.equal(p.body.outcome, 'REQUIRE_CONFIRMATION');
    // The state a crash between commit and workflow start leaves: the same decision, committed, with no workflow.
    const orphan = `${p.body.decision_id}x`;
    await s.core.ds.transaction(async (em) => {
      await em.query('CREATE TEMP TABLE orphan ON COMMIT DROP AS SELECT * FROM decisions WHERE id = $1', [p.body.decision_id]);
      await em.query(`UPDATE orphan SET id = $1, "workflowId" = 'proposal-' || $1, "workflowStartedAt" = NULL, "createdAt" = now() - interval '1 minute'`, [orphan]);
      await em.query('INSERT INTO decisions SELECT * FROM orphan');
      // Its approval row commits with it (one transaction), so the crash leaves that too.
      await em.query(`INSERT INTO approvals (id, "orgId", "subjectType", "subjectId", "workflowId", "proposerId", plan, state, status, summary)
        SELECT id || 'x', "orgId", "subjectType", $1, 'proposal-' || $1, "proposerId", plan, state, status, summary FROM approvals WHERE "subjectId" = $2`, [orphan, p.body.decision_id]);
    });
    assert.equal(await s.services.approvals.resumeUnstarted(), 1);
    assert.equal(await s.services.approvals.resumeUnstarted(), 0, 'resumed once');
    const mail = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(orphan));
    assert.equal((await postForm(linkIn(mail.text), { decision: 'approve' })).status, 200);
    const final = await s.call('GET', `/api/v1/governance/decisions/${orphan}?wait=15`);
    assert.equal(final.body.outcome, 'ALLOW');
    await s.call('POST', `/api/v1/governance/decisions/${p.body.decision_id}/withdraw`, { body: { reason: 'cleanup' } });
  });

  it('tells the agent the final outcome at its callback_url, signed, retrying while the endpoint fails', async () => {
    const calls: { body: string; signature: string }[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        calls.push({ body, signature: String(req.headers['x-arbiter-signature'] ?? '') });
        res.statusCode = calls.length === 1 ? 503 : 204; // down once, then up
        res.end();
      });
    });
    await new Promise<void>((ok) => hook.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/arbiter-hook`;
    try {
      const refused = await s.call('POST', '/api/v1/governance/propose', { body: transfer({ callback_url: 'ftp://example.com/x' }) });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.field, 'callback_url');

      const p = await s.call('POST', '/api/v1/governance/propose', { body: transfer({ callback_url: url, action: { capability: 'payments.transfer', parameters: { amount: 33, to: 'Hook Ltd' } } }) });
      assert.equal(p.body.outcome, 'REQUIRE_CONFIRMATION');
      const mail = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(p.body.decision_id));
      assert.equal((await postForm(linkIn(mail.text), { decision: 'approve' })).status, 200);
      for (let i = 0; i < 100 && calls.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(calls.length, 2, 'one failed delivery, then one that succeeded');
      const payload = JSON.parse(calls[1].body);
      assert.deepEqual({ id: payload.decision_id, outcome: payload.outcome, status: payload.approval_status, by: payload.decided_by }, { id: p.body.decision_id, outcome: 'ALLOW', status: 'APPROVED', by: [alice] });
      const { secret } = (await s.call('GET', '/api/v1/webhooks/secret')).body;
      const now = Math.floor(Date.now() / 1000);
      assert.ok(verifyWebhookSignature(secret, calls[1].body, calls[1].signature, now), 'the signature checks out with the organization secret');
      assert.ok(!verifyWebhookSignature(secret, calls[1].body.replace('ALLOW', 'DENY'), calls[1].signature, now), 'a changed body does not');
      let delivered: { data: { attempt: number; status: number } } | undefined;
      for (let i = 0; i < 50 && !delivered; i++) {
        delivered = (await s.call('GET', `/api/v1/audit?entity_id=${p.body.decision_id}&action=webhook.delivered`)).body.data[0];
        if (!delivered) await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(delivered?.data && { attempt: delivered.data.attempt, status: delivered.data.status }, { attempt: 2, status: 204 });

      // An endpoint that refuses (410) is not retried: the give-up is audited, and the decision stands.
      const gone = createServer((_req, res) => {
        res.statusCode = 410;
        res.end();
      });
      await new Promise<void>((ok) => gone.listen(0, '127.0.0.1', ok));
      try {
        const goneHost = `127.0.0.1:${(gone.address() as AddressInfo).port}`;
        const q = await s.call('POST', '/api/v1/governance/propose', { body: transfer({ callback_url: `http://${goneHost}/hook?token=secret`, action: { capability: 'payments.transfer', parameters: { amount: 34, to: 'Gone Ltd' } } }) });
        const qMail = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(q.body.decision_id));
        assert.equal((await postForm(linkIn(qMail.text), { decision: 'deny' })).status, 200);
        let failed: { data: { host: string } } | undefined;
        for (let i = 0; i < 100 && !failed; i++) {
          failed = (await s.call('GET', `/api/v1/audit?entity_id=${q.body.decision_id}&action=webhook.failed`)).body.data[0];
          if (!failed) await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(failed?.data, { host: goneHost }, 'only the host is recorded, never the query string');
        assert.equal((await s.call('GET', `/api/v1/governance/decisions/${q.body.decision_id}`)).body.outcome, 'DENY');
      } finally {
        gone.close();
      }
    } finally {
      hook.close();
    }
  });

  it('shows the mail in the dev outbox listing too', async () => {
    const r = await s.call('GET', '/api/v1/outbox');
    assert.equal(r.status, 200);
    assert.ok(r.body.messages.some((m: { to: string; transport: string }) => m.to === 'alice@example.com' && m.transport === 'smtp'));
  });

  it('a removed person is asked no more: their links and keys stop working; PATCH brings them back', async () => {
    const dave = await addUser(s, 'dave@example.com', ['approver'], 'Dave');
    const daveKey = (await s.call('POST', '/api/v1/keys', { body: { name: 'dave', scopes: ['governance:read', 'governance:write'], user_id: dave } })).body.key;
    const p = await s.call('POST', '/api/v1/governance/propose', { body: transfer({ action: { capability: 'payments.transfer', parameters: { amount: 9, to: 'Dave Co' } } }) });
    const mail = await smtp.waitFor((m) => m.to === 'dave@example.com' && m.text.includes(p.body.decision_id));
    const removed = await s.call('DELETE', `/api/v1/users/${dave}`);
    assert.equal(removed.status, 200);
    assert.ok(removed.body.disabled_at);
    assert.equal((await fetch(linkIn(mail.text))).status, 403, 'the page refuses a removed person');
    assert.equal((await postForm(linkIn(mail.text), { decision: 'approve' })).status, 403);
    assert.equal((await s.call('GET', '/api/v1/governance/decisions', { key: daveKey })).status, 401, 'their keys are revoked');
    assert.equal((await s.call('GET', `/api/v1/governance/decisions/${p.body.decision_id}`)).body.status, 'pending');
    const next = await s.call('POST', '/api/v1/governance/propose', { body: transfer({ action: { capability: 'payments.transfer', parameters: { amount: 10, to: 'Dave Co' } } }) });
    const plan = (await s.call('GET', `/api/v1/governance/decisions/${next.body.decision_id}`)).body.approval.plan;
    assert.ok(!plan.tiers[0].approvers.includes(dave), 'a removed person is not in new approval plans');
    const audit = (await s.call('GET', `/api/v1/audit?entity_id=${dave}`)).body.data.map((a: { action: string }) => a.action);
    assert.deepEqual(audit, ['disable', 'create']);

    const back = await s.call('PATCH', `/api/v1/users/${dave}`, { body: { disabled: false, roles: ['approver', 'admin'], name: 'Dave D.' } });
    assert.equal(back.status, 200);
    assert.deepEqual({ disabled_at: back.body.disabled_at, name: back.body.name, roles: back.body.roles }, { disabled_at: null, name: 'Dave D.', roles: ['approver', 'admin'] });
    const bad = await s.call('PATCH', `/api/v1/users/${dave}`, { body: { roles: ['owner'] } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.field, /^roles/);
    for (const id of [p.body.decision_id, next.body.decision_id]) await s.call('POST', `/api/v1/governance/decisions/${id}/withdraw`, { body: { reason: 'cleanup' } });
  });
});

describe('escalation, expiry, quorum and a worker lost mid-approval', () => {
  let temporal: TestWorkflowEnvironment;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let fast: Stack;
  let quorum: Stack;
  let annId: string;
  before(async () => {
    temporal = await startTemporal();
    smtp = await startSmtp();
    fast = await startStack({ temporal, env: { SMTP_URL: smtp.url, APPROVAL_TIER1_TIMEOUT_SECONDS: '2', APPROVAL_TIER2_TIMEOUT_SECONDS: '2' } });
    quorum = await startStack({ temporal, env: { SMTP_URL: smtp.url, APPROVAL_QUORUM: '2', APPROVAL_TIER1_TIMEOUT_SECONDS: '600' } });
    for (const st of [fast, quorum]) {
      annId = await addUser(st, 'ann@example.com', ['approver'], 'Ann');
      await addUser(st, 'ben@example.com', ['approver'], 'Ben');
      await addUser(st, 'boss@example.com', ['admin'], 'Boss');
      await st.call('POST', '/api/smart-rules', { body: { name: 'Transfers need a person', conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' } });
    }
  });
  after(async () => {
    await fast?.close();
    await quorum?.close();
    await smtp?.close();
    await temporal?.teardown();
  });

  it('a silent tier escalates to the admins, and the last tier expires as DENY', async () => {
    const p = await fast.call('POST', '/api/v1/governance/propose', { body: transfer() });
    const id = p.body.decision_id as string;
    await smtp.waitFor((m) => m.to === 'ann@example.com' && m.text.includes(id));
    const escalated = await smtp.waitFor((m) => m.to === 'boss@example.com' && m.text.includes(id), 20_000);
    assert.match(escalated.text, /escalated/);
    const final = await fast.call('GET', `/api/v1/governance/decisions/${id}?wait=20`);
    assert.equal(final.body.status, 'final');
    assert.equal(final.body.outcome, 'DENY');
    const actions = (await fast.core.ds.query(`SELECT action FROM audit_records WHERE "entityId" = $1 ORDER BY seq`, [id])).map((a: { action: string }) => a.action);
    // Reminders go out beside the loop (halfway through each tier by default), so only their count is fixed.
    assert.deepEqual(actions.filter((a: string) => a !== 'approval.reminded'), ['decision.proposed', 'approval.notified', 'approval.escalated', 'approval.notified', 'approval.expired', 'decision.finalized']);
    assert.equal(actions.filter((a: string) => a === 'approval.reminded').length, 2, 'one reminder in each tier');
  });

  it('needs a quorum of distinct approvers, and a worker killed (SIGKILL) mid-approval loses nothing', async () => {
    // The approval runs on a worker in its own process, as in production.
    await quorum.stopWorker();
    const workerA = await spawnWorker(quorum, temporal, smtp.url);
    const p = await quorum.call('POST', '/api/v1/governance/propose', { body: transfer() });
    const id = p.body.decision_id as string;
    const annMail = await smtp.waitFor((m) => m.to === 'ann@example.com' && m.text.includes(id), 30_000);
    const benMail = await smtp.waitFor((m) => m.to === 'ben@example.com' && m.text.includes(id));

    assert.equal((await postForm(linkIn(annMail.text), { decision: 'approve' })).status, 200);
    let d = await quorum.call('GET', `/api/v1/governance/decisions/${id}`);
    assert.equal(d.body.status, 'pending', 'one approval of two is not enough');

    // The worker process dies without a chance to clean up; another one takes over from the workflow's history.
    workerA.kill('SIGKILL');
    await new Promise((ok) => workerA.once('exit', ok));
    const workerB = await spawnWorker(quorum, temporal, smtp.url);
    try {
      const state = await quorum.workflows.state(`proposal-${id}`);
      assert.equal(state.approvals.length, 1);
      assert.equal(state.approvals[0].approverId, annId);
      assert.equal((await postForm(linkIn(benMail.text), { decision: 'approve' })).status, 200);
      d = await quorum.call('GET', `/api/v1/governance/decisions/${id}?wait=30`);
      assert.equal(d.body.outcome, 'ALLOW');
      assert.equal(d.body.decided_by.length, 2);
      const notified = await quorum.core.ds.query(`SELECT count(*)::int AS n FROM email_messages WHERE "idempotencyKey" LIKE $1`, [`proposal-${id}:%`]);
      assert.equal(notified[0].n, 2, 'the new worker did not mail the approvers again');
    } finally {
      workerB.kill('SIGTERM');
      await new Promise((ok) => workerB.once('exit', ok));
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { addUser, linkIn, mintKey, postForm, proposal } from '../helpers/fixtures';
import { startSmtp } from '../helpers/smtp';
import type { ReceivedMail } from '../helpers/smtp';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal';

type Res = { status: number; body: any };
type AuditRow = { action: string; actorId: string; data: Record<string, any>; at: Date };

/** A refusal must come back at once: the workflow's update validator answers, nothing waits for a timeout. */
const REFUSAL_BUDGET_MS = 1000;

const transfer = (actor: { id: string; type?: string } = { id: 'pay-bot' }, amount = 1200, to = 'ACME') =>
  proposal({ actor: { type: 'ai-agent', ...actor }, action: { capability: 'payments.transfer', parameters: { amount, to } } });

describe('approval core, end to end: refusals, delegation, the approvals API and reminders', () => {
  let temporal: TestWorkflowEnvironment;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let s: Stack;
  // Alice and Ben approve; Dana and Olga approve nothing (Dana only ever as Alice's delegate); Root and Rita are admins.
  let alice: string, ben: string, dana: string, olga: string, root: string, rita: string;
  let aliceKey: string, benKey: string, danaKey: string, olgaKey: string, rootKey: string, ritaKey: string;

  /** A key that acts as `userId` (so votes made with it are that person's). */
  const personKey = async (userId: string, role: 'admin' | 'member' = 'member'): Promise<string> => {
    const r = await s.call('POST', '/api/v1/keys', { body: { name: `key of ${userId}`, scopes: ['governance:read', 'governance:write', 'governance:propose'], role, user_id: userId } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.key as string;
  };

  /** Proposes and returns the decision id of what now waits for people. */
  const propose = async (st: Stack, body: Record<string, unknown>): Promise<string> => {
    const p = await st.call('POST', '/api/v1/governance/propose', { body });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.outcome, 'REQUIRE_CONFIRMATION', JSON.stringify(p.body));
    return p.body.decision_id as string;
  };

  /** The decision once final (long-poll). */
  const final = async (st: Stack, id: string, wait = 15): Promise<any> => {
    const d = await st.call('GET', `/api/v1/governance/decisions/${id}?wait=${wait}`);
    assert.equal(d.body.status, 'final', `${id} did not end: ${JSON.stringify(d.body.approval?.state?.status)}`);
    return d.body;
  };

  const timed = async (call: () => Promise<Res>): Promise<Res & { ms: number }> => {
    const t = performance.now();
    const r = await call();
    return { ...r, ms: performance.now() - t };
  };

  /** Asserts a refusal: its status, its code (Aegis or Ascend envelope) and that it came back within the budget. */
  const refused = (r: Res & { ms: number }, status: number, code: string | null): void => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    if (code) assert.equal(r.body.error?.code, code, JSON.stringify(r.body));
    assert.ok(r.ms < REFUSAL_BUDGET_MS, `refused in ${Math.round(r.ms)} ms, over ${REFUSAL_BUDGET_MS} ms`);
  };

  /** A person's vote with their own key on the decision `id`'s approval (the approvals API; Ascend's approve is admin-only). */
  const ascendVote = async (id: string, key: string, decision: 'approved' | 'denied' = 'approved') => {
    const [a] = (await s.core.ds.query('SELECT id FROM approvals WHERE "subjectId" = $1', [id])) as { id: string }[];
    return s.call('POST', `/api/v1/approvals/${a.id}/vote`, { body: { decision: decision === 'approved' ? 'approve' : 'deny', comment: 'via the API' }, key });
  };

  const audit = async (st: Stack, id: string): Promise<AuditRow[]> =>
    st.core.ds.query('SELECT action, "actorId", data, at FROM audit_records WHERE "entityId" = $1 ORDER BY seq', [id]);

  /** The first audit record of `action` on `id`, waiting for it (notices are audited by the worker, after the mail). */
  const auditOf = async (st: Stack, id: string, action: string): Promise<AuditRow> => {
    for (let i = 0; i < 100; i++) {
      const hit = (await audit(st, id)).find((a) => a.action === action);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`no ${action} audited for ${id}: ${(await audit(st, id)).map((a) => a.action).join(', ')}`);
  };

  const mailsTo = (email: string, id: string): ReceivedMail[] => smtp.inbox.filter((m) => m.to === email && m.text.includes(id));
  const mailTo = (email: string, id: string) => smtp.waitFor((m) => m.to === email && m.text.includes(id));

  const withdraw = (id: string) => s.call('POST', `/api/v1/governance/decisions/${id}/withdraw`, { body: { reason: 'test cleanup' } });

  /** Alice is away, Dana stands in for her, from a minute ago for an hour. */
  const aliceAway = async (): Promise<void> => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const r = await s.call('PATCH', `/api/v1/users/${alice}`, { body: { delegate_id: dana, delegate_from: from, delegate_until: until } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.delegate_id, dana);
  };
  const aliceBack = async (): Promise<void> => {
    const r = await s.call('PATCH', `/api/v1/users/${alice}`, { body: { delegate_id: null } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.delegate_id, null);
  };

  before(async () => {
    temporal = await startTemporal();
    smtp = await startSmtp();
    s = await startStack({ temporal, env: { SMTP_URL: smtp.url, APPROVAL_TIER1_TIMEOUT_SECONDS: '600', PENDING_SWEEP_SECONDS: '3600' } });
    alice = await addUser(s, 'alice@example.com', ['approver'], 'Alice');
    ben = await addUser(s, 'ben@example.com', ['approver'], 'Ben');
    dana = await addUser(s, 'dana@example.com', [], 'Dana');
    olga = await addUser(s, 'olga@example.com', [], 'Olga');
    root = await addUser(s, 'root@example.com', ['admin'], 'Root');
    rita = await addUser(s, 'rita@example.com', ['admin'], 'Rita');
    [aliceKey, benKey, danaKey, olgaKey] = await Promise.all([alice, ben, dana, olga].map((id) => personKey(id)));
    [rootKey, ritaKey] = await Promise.all([root, rita].map((id) => personKey(id, 'admin')));
    const rule = await s.call('POST', '/api/smart-rules', { body: { name: 'Transfers need a person', priority: 10, conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' } });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
  });
  after(async () => {
    await s?.close();
    await smtp?.close();
    await temporal?.teardown();
  });

  describe('every refusal answers a 4xx at once, and the approval still ends normally', () => {
    it('self-approval: the proposer votes with their own key → 403 SELF_APPROVAL; another approver then approves', async () => {
      const id = await propose(s, transfer({ id: alice, type: 'human' }, 40, 'Alice Ltd'));
      await mailTo('ben@example.com', id);
      refused(await timed(() => ascendVote(id, aliceKey)), 403, 'SELF_APPROVAL');
      assert.equal((await s.call('GET', `/api/v1/governance/decisions/${id}`)).body.status, 'pending', 'the refusal changed nothing');
      const ok = await ascendVote(id, benKey);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const d = await final(s, id);
      assert.equal(d.outcome, 'ALLOW');
      assert.deepEqual(d.decided_by, [ben]);
    });

    it('an admin waiving their own proposal → 403 SELF_APPROVAL; another admin waives → ALLOW', async () => {
      const id = await propose(s, transfer({ id: root, type: 'human' }, 41, 'Root Corp'));
      await mailTo('alice@example.com', id);
      refused(await timed(() => s.call('POST', `/api/v1/governance/decisions/${id}/waive`, { body: { reason: 'change ticket CHG-7' }, key: rootKey })), 403, 'SELF_APPROVAL');
      const waived = await s.call('POST', `/api/v1/governance/decisions/${id}/waive`, { body: { reason: 'change ticket CHG-7' }, key: ritaKey });
      assert.equal(waived.status, 200, JSON.stringify(waived.body));
      assert.equal(waived.body.status, 'WAIVED');
      const d = await final(s, id);
      assert.equal(d.outcome, 'ALLOW');
      assert.equal(d.approval.state.status, 'WAIVED');
      // Only the counted waiver is audited, and it is Rita's.
      const waivers = (await audit(s, id)).filter((a) => a.action === 'approval.waive');
      assert.deepEqual(waivers.map((a) => [a.actorId, a.data.reason]), [[rita, 'change ticket CHG-7']]);
    });

    it('an outsider (no approver at this tier, no admin) → 403 NOT_AN_APPROVER; an approver then approves', async () => {
      const id = await propose(s, transfer(undefined, 42, 'Outsider Inc'));
      const mail = await mailTo('alice@example.com', id);
      refused(await timed(() => ascendVote(id, olgaKey)), 403, 'NOT_AN_APPROVER');
      assert.equal((await postForm(linkIn(mail.text), { decision: 'approve' })).status, 200);
      const d = await final(s, id);
      assert.equal(d.outcome, 'ALLOW');
      assert.deepEqual(d.decided_by, [alice]);
    });

    it('a second vote by the same approver on a quorum-2 plan → 409 ALREADY_DECIDED; a second approver completes it', async () => {
      // An agent policy scoped to one agent asks two approvers for its transfers, and nobody else's.
      const pol = await s.call('POST', '/api/v1/policies', { body: { name: 'Two approvers for the quorum bot', scope: 'agent', target_id: 'quorum-bot', approval_actions: ['payments.transfer'], approval_quorum: 2 } });
      assert.equal(pol.status, 201, JSON.stringify(pol.body));
      try {
        const id = await propose(s, transfer({ id: 'quorum-bot' }, 43, 'Quorum AG'));
        assert.equal((await s.call('GET', `/api/v1/governance/decisions/${id}`)).body.approval.plan.tiers[0].quorum, 2);
        await mailTo('alice@example.com', id);
        const first = await ascendVote(id, aliceKey);
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.equal(first.body.status, 'PENDING', 'one approval of two');
        refused(await timed(() => ascendVote(id, aliceKey)), 409, 'ALREADY_DECIDED');
        refused(await timed(() => ascendVote(id, aliceKey, 'denied')), 409, 'ALREADY_DECIDED');
        const second = await ascendVote(id, benKey);
        assert.equal(second.status, 200, JSON.stringify(second.body));
        assert.equal(second.body.status, 'APPROVED');
        const d = await final(s, id);
        assert.equal(d.outcome, 'ALLOW');
        assert.deepEqual(d.decided_by, [alice, ben]);
        assert.equal((await audit(s, id)).filter((a) => a.action === 'approval.approve').length, 2, 'the refused votes are not audited');
      } finally {
        await s.call('DELETE', `/api/v1/policies/${pol.body.id}`);
      }
    });

    it('someone other than the proposer withdrawing with their own key → 403 NOT_PROPOSER; the approval goes on', async () => {
      const id = await propose(s, transfer({ id: alice, type: 'human' }, 46, 'Not Yours'));
      const mail = await mailTo('ben@example.com', id);
      // Only the proposing key, the proposing person or an admin acts for the proposer; anyone else reaches the engine's NOT_PROPOSER.
      refused(await timed(() => s.call('POST', `/api/v1/governance/decisions/${id}/withdraw`, { body: { reason: 'not mine to withdraw' }, key: olgaKey })), 403, 'NOT_PROPOSER');
      assert.equal((await postForm(linkIn(mail.text), { decision: 'approve' })).status, 200);
      assert.equal((await final(s, id)).outcome, 'ALLOW');
    });

    it('a vote on an ended approval → 409 NOT_PENDING; the outcome stands', async () => {
      const id = await propose(s, transfer(undefined, 44, 'Ended GmbH'));
      await mailTo('alice@example.com', id);
      assert.equal((await ascendVote(id, benKey)).status, 200);
      assert.equal((await final(s, id)).outcome, 'ALLOW');
      refused(await timed(() => ascendVote(id, aliceKey, 'denied')), 409, 'NOT_PENDING');
      const d = await s.call('GET', `/api/v1/governance/decisions/${id}`);
      assert.equal(d.body.outcome, 'ALLOW');
      assert.deepEqual(d.body.decided_by, [ben]);
    });

    it('a withdrawal of an ended approval → 409; the outcome stands', async () => {
      const id = await propose(s, transfer(undefined, 45, 'Late Ltd'));
      const mail = await mailTo('alice@example.com', id);
      assert.equal((await postForm(linkIn(mail.text), { decision: 'deny' })).status, 200);
      assert.equal((await final(s, id)).outcome, 'DENY');
      refused(await timed(() => withdraw(id)), 409, 'NOT_PENDING');
      const d = await s.call('GET', `/api/v1/governance/decisions/${id}`);
      assert.equal(d.body.outcome, 'DENY');
      assert.equal(d.body.approval.state.status, 'DENIED');
      assert.ok(!(await audit(s, id)).some((a) => a.action === 'approval.withdraw'), 'nothing was withdrawn');
    });
  });

  describe('delegation', () => {
    it('an away approver’s request goes to their delegate, whose vote counts for them', async () => {
      await aliceAway();
      try {
        const id = await propose(s, transfer(undefined, 50, 'Delegated SA'));
        const mail = await mailTo('dana@example.com', id);
        assert.match(mail.subject, /payments\.transfer/);
        // Named by display name, or by id where the name is unknown.
        assert.match(mail.text, new RegExp(`delegate of (Alice|${alice}), who is away`), 'the mail says she is a delegate');
        const notified = await auditOf(s, id, 'approval.notified');
        assert.deepEqual(notified.data.delegated, [{ approver: alice, delegate: dana }]);
        // The notice is audited after every mail of the tier went out, so Alice's absence is final here.
        assert.equal(mailsTo('alice@example.com', id).length, 0, 'Alice, who is away, is not asked');

        assert.equal((await postForm(linkIn(mail.text), { decision: 'approve', comment: 'for Alice' })).status, 200);
        const d = await final(s, id);
        assert.equal(d.outcome, 'ALLOW');
        const votes = (await audit(s, id)).filter((a) => a.action === 'approval.approve');
        assert.equal(votes.length, 1);
        assert.equal(votes[0].actorId, dana);
        assert.equal(votes[0].data.onBehalfOf, alice);
        assert.equal(votes[0].data.delegated, true);
        const vote = d.approval.state.approvals[0];
        assert.deepEqual({ by: vote.approverId, for: vote.onBehalfOf }, { by: dana, for: alice });
      } finally {
        await aliceBack();
      }
    });

    it('a delegate who proposed the action is skipped: the approver is asked, and the delegate’s vote is SELF_APPROVAL', async () => {
      await aliceAway();
      try {
        const id = await propose(s, transfer({ id: dana, type: 'human' }, 51, 'Dana Holdings'));
        const mail = await mailTo('alice@example.com', id);
        assert.ok(!mail.text.includes('delegate of'), 'Alice is asked as herself');
        const notified = await auditOf(s, id, 'approval.notified');
        assert.equal(notified.data.delegated, undefined);
        assert.equal(mailsTo('dana@example.com', id).length, 0, 'Dana is never asked about her own action');

        refused(await timed(() => ascendVote(id, danaKey)), 403, 'SELF_APPROVAL');
        assert.equal((await postForm(linkIn(mail.text), { decision: 'approve' })).status, 200);
        const d = await final(s, id);
        assert.equal(d.outcome, 'ALLOW');
        assert.deepEqual(d.decided_by, [alice]);
      } finally {
        await aliceBack();
      }
    });

    it('a delegate for two away approvers votes for the one who did not propose', async () => {
      // Alice and Ben are both away with Dana; each proposes once. On each, Dana may stand in
      // only for the other one: her queue says so, and her vote must count for that one.
      await aliceAway();
      const benBack = async () => s.call('PATCH', `/api/v1/users/${ben}`, { body: { delegate_id: null } });
      try {
        const r = await s.call('PATCH', `/api/v1/users/${ben}`, { body: { delegate_id: dana, delegate_from: new Date(Date.now() - 60_000).toISOString() } });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const byAlice = await propose(s, transfer({ id: alice, type: 'human' }, 52, 'Two Away One'));
        const byBen = await propose(s, transfer({ id: ben, type: 'human' }, 53, 'Two Away Two'));
        await auditOf(s, byAlice, 'approval.notified');
        await auditOf(s, byBen, 'approval.notified');
        const queue = (await s.call('GET', '/api/v1/approvals', { key: danaKey })).body.items as any[];
        const mine = queue.filter((i) => i.subject_id === byAlice || i.subject_id === byBen).map((i) => [i.subject_id, i.on_behalf_of]);
        assert.deepEqual(mine, [[byAlice, ben], [byBen, alice]]);
        const ids = await Promise.all([byAlice, byBen].map(async (d) => (await s.core.ds.query('SELECT id FROM approvals WHERE "subjectId" = $1', [d]))[0].id as string));
        const batch = await s.call('POST', '/api/v1/approvals/votes', { key: danaKey, body: { votes: ids.map((approval_id) => ({ approval_id, decision: 'approve' })) } });
        assert.equal(batch.status, 200, JSON.stringify(batch.body));
        // Dana stands in for the approver who did not propose each one, never for the proposer.
        assert.deepEqual(batch.body.results.map((x: any) => [x.ok, x.on_behalf_of ?? x.error?.code]), [[true, ben], [true, alice]]);
        for (const d of [byAlice, byBen]) assert.equal((await final(s, d)).outcome, 'ALLOW');
      } finally {
        for (const d of await s.call('GET', '/api/governance/dashboard/pending-approvals').then((x) => x.body.data.pending as { action_id: string }[])) await withdraw(d.action_id);
        await benBack();
        await aliceBack();
      }
    });

    it('a person cannot be their own delegate → 400 naming delegate_id', async () => {
      const r = await s.call('PATCH', `/api/v1/users/${alice}`, { body: { delegate_id: alice } });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.field, 'delegate_id');
      assert.match(r.body.error.message, /delegate_id/);
      assert.equal((await s.call('GET', `/api/v1/users/${alice}`)).body.delegate_id, null, 'nothing changed');
    });
  });

  describe('the approvals API: your queue, and a batch of votes', () => {
    it('GET /api/v1/approvals lists exactly what waits for the key’s person, as approver or delegate', async () => {
      // Earlier tests end what they start; anything left over would make "exactly" a lie, so end it first.
      const left = (await s.call('GET', '/api/governance/dashboard/pending-approvals')).body.data.pending as { action_id: string }[];
      for (const x of left) {
        await withdraw(x.action_id);
        await final(s, x.action_id);
      }

      await aliceAway();
      const cleanup: string[] = [];
      try {
        const a1 = await propose(s, transfer(undefined, 61, 'Queue One'));
        const a2 = await propose(s, transfer(undefined, 62, 'Queue Two'));
        const bens = await propose(s, transfer({ id: ben, type: 'human' }, 63, 'Ben Own'));
        const danas = await propose(s, transfer({ id: dana, type: 'human' }, 64, 'Dana Own'));
        cleanup.push(bens, danas);
        const ended = await propose(s, transfer(undefined, 65, 'Already Done'));
        await mailTo('ben@example.com', ended);
        assert.equal((await ascendVote(ended, benKey)).status, 200);
        await final(s, ended);

        const list = async (key: string) => {
          const r = await s.call('GET', '/api/v1/approvals', { key });
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.equal(r.body.total, r.body.items.length);
          return r.body.items as any[];
        };

        // Ben: everything he may decide, oldest first; not his own proposal, not the ended one.
        const benItems = await list(benKey);
        assert.deepEqual(benItems.map((i) => i.subject_id), [a1, a2, danas]);
        assert.ok(benItems.every((i) => i.on_behalf_of === null));
        const item = benItems[0];
        const row = (await s.core.ds.query('SELECT * FROM approvals WHERE "subjectId" = $1', [a1]))[0];
        assert.equal(item.approval_id, row.id);
        assert.match(item.approval_id, /^apr_/);
        assert.equal(item.workflow_id, `proposal-${a1}`);
        assert.match(item.summary, /^payments\.transfer by pay-bot: .*amount 61/);
        assert.equal(item.action.capability, 'payments.transfer');
        assert.equal(item.tier, 1);
        assert.equal(new Date(item.deadline).toISOString(), item.deadline, 'the deadline is ISO 8601');
        const untilDeadline = Date.parse(item.deadline) - Date.parse(item.created_at);
        assert.ok(Math.abs(untilDeadline - 600_000) < 5_000, `the deadline is the tier's 600 s after the start: ${untilDeadline} ms`);
        // The test stack builds its services before it knows its port, so page_url carries the
        // configured PUBLIC_URL's origin (http://localhost:0): open the same path on the stack.
        const pageUrl = (u: string) => `${s.url}${new URL(u).pathname}`;
        assert.match(new URL(item.page_url).pathname, /^\/approve\/apt_/);
        const page = await fetch(pageUrl(item.page_url));
        assert.equal(page.status, 200);
        const html = await page.text();
        assert.match(html, /payments\.transfer/);
        assert.match(html, /Signed in by link as Ben/);

        // Dana approves nothing herself: she holds Alice's items, but never her own proposal.
        const danaItems = await list(danaKey);
        assert.deepEqual(danaItems.map((i) => [i.subject_id, i.on_behalf_of]), [[a1, alice], [a2, alice], [bens, alice]]);
        assert.equal((await fetch(pageUrl(danaItems[0].page_url))).status, 200);

        // Olga is nobody's approver or delegate.
        assert.deepEqual(await list(olgaKey), []);

        // A key that belongs to no person has no queue, even an admin one.
        const nobody = await mintKey(s, ['governance:read']);
        const r1 = await s.call('GET', '/api/v1/approvals', { key: nobody });
        assert.equal(r1.status, 403);
        assert.equal(r1.body.error.code, 'NOT_A_PERSON');
        assert.equal((await s.call('GET', '/api/v1/approvals')).status, 403, 'the admin key belongs to no person');

        // A batch: two valid votes, an unknown approval, and Ben's own proposal.
        const ids = Object.fromEntries(
          await Promise.all([a1, a2, bens].map(async (d) => [d, (await s.core.ds.query('SELECT id FROM approvals WHERE "subjectId" = $1', [d]))[0].id as string])),
        ) as Record<string, string>;
        const batch = await s.call('POST', '/api/v1/approvals/votes', {
          key: benKey,
          body: {
            votes: [
              { approval_id: ids[a1], decision: 'approve', comment: 'batch' },
              { approval_id: ids[a2], decision: 'approve' },
              { approval_id: 'apr_doesnotexist', decision: 'approve' },
              { approval_id: ids[bens], decision: 'approve' },
            ],
          },
        });
        assert.equal(batch.status, 200, JSON.stringify(batch.body));
        const results = batch.body.results as any[];
        assert.deepEqual(results.map((x) => [x.approval_id, x.ok, x.status ?? x.error?.code]), [
          [ids[a1], true, 'APPROVED'],
          [ids[a2], true, 'APPROVED'],
          ['apr_doesnotexist', false, 'NOT_FOUND'],
          [ids[bens], false, 'SELF_APPROVAL'],
        ]);
        assert.deepEqual(results.map((x) => x.error?.status ?? null), [null, null, 404, 403]);
        for (const d of [a1, a2]) {
          const fin = await final(s, d);
          assert.equal(fin.outcome, 'ALLOW');
          assert.deepEqual(fin.decided_by, [ben]);
          // Each counted vote has its own audit record, on its own approval.
          const votes = (await audit(s, d)).filter((a) => a.action === 'approval.approve');
          assert.equal(votes.length, 1, d);
          assert.deepEqual({ by: votes[0].actorId, approval: votes[0].data.approvalId, via: votes[0].data.via }, { by: ben, approval: ids[d], via: 'api' });
        }
        assert.equal((await s.call('GET', `/api/v1/governance/decisions/${bens}`)).body.status, 'pending', 'the refused item changed nothing');
        assert.ok(!(await audit(s, bens)).some((a) => a.action.startsWith('approval.approve')));

        // What ended leaves both queues.
        assert.deepEqual((await list(benKey)).map((i) => i.subject_id), [danas]);
        assert.deepEqual((await list(danaKey)).map((i) => [i.subject_id, i.on_behalf_of]), [[bens, alice]]);
      } finally {
        for (const id of cleanup) await withdraw(id);
        await aliceBack();
      }
    });
  });

  describe('reminders', () => {
    let fast: Stack;
    let annKey: string;
    before(async () => {
      // Its own stack on the same Temporal server: 4-second tiers, so the default (halfway) reminder comes after 2 s.
      fast = await startStack({ temporal, env: { SMTP_URL: smtp.url, APPROVAL_TIER1_TIMEOUT_SECONDS: '4', APPROVAL_TIER2_TIMEOUT_SECONDS: '4', PENDING_SWEEP_SECONDS: '3600' } });
      await addUser(fast, 'ann@example.com', ['approver'], 'Ann');
      await addUser(fast, 'bob@example.com', ['approver'], 'Bob');
      await addUser(fast, 'boss@example.com', ['admin'], 'Boss');
      await fast.call('POST', '/api/smart-rules', { body: { name: 'Transfers need a person', conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' } });
      annKey = await (async () => {
        const ann = (await fast.call('GET', '/api/v1/users')).body.users.find((u: { email: string }) => u.email === 'ann@example.com').id as string;
        return (await fast.call('POST', '/api/v1/keys', { body: { name: 'ann', scopes: ['governance:read', 'governance:write'], user_id: ann } })).body.key as string;
      })();
    });
    after(async () => {
      await fast?.close();
    });

    it('each approver gets exactly one reminder per tier, halfway through it, and never again', async () => {
      const id = await propose(fast, transfer(undefined, 70, 'Slow Deciders'));
      const d = await final(fast, id, 25);
      assert.equal(d.outcome, 'DENY');
      assert.equal(d.approval.state.status, 'EXPIRED');
      // The workflow ends only after its best-effort deliveries settled: nothing can be in flight after this.
      await fast.temporal.client.workflow.getHandle(`proposal-${id}`).result();

      const reminders = (email: string) => mailsTo(email, id).filter((m) => m.subject.includes('Reminder'));
      const requests = (email: string) => mailsTo(email, id).filter((m) => !m.subject.includes('Reminder'));
      for (const email of ['ann@example.com', 'bob@example.com', 'boss@example.com']) {
        assert.equal(requests(email).length, 1, `${email}: one request`);
        assert.equal(reminders(email).length, 1, `${email}: one reminder`);
        assert.match(reminders(email)[0].text, /Reminder: this still waits for your decision/);
        assert.ok(linkIn(reminders(email)[0].text));
      }
      // Tier 1 reminds its approvers; tier 2 (the admins) is reminded as an escalation.
      assert.doesNotMatch(reminders('ann@example.com')[0].text, /escalated/);
      assert.match(reminders('boss@example.com')[0].text, /escalated to you \(tier 2\)/);

      // Halfway: 2 s into each 4 s tier (generous bounds: the worker and the mail take their time).
      const rows = await audit(fast, id);
      const notified = rows.filter((a) => a.action === 'approval.notified');
      const reminded = rows.filter((a) => a.action === 'approval.reminded');
      assert.deepEqual(reminded.map((a) => [a.data.tier, a.data.step]), [[1, 'reminder-1'], [2, 'reminder-1']]);
      for (const tier of [1, 2]) {
        const n = notified.find((a) => a.data.tier === tier)!;
        const r = reminded.find((a) => a.data.tier === tier)!;
        const after = new Date(r.at).getTime() - new Date(n.at).getTime();
        assert.ok(after >= 1500 && after < 3900, `tier ${tier}: reminded ${after} ms after the request, expected about 2000`);
      }

      // They do not repeat: a while after the end, still one each.
      await new Promise((r) => setTimeout(r, 1500));
      for (const email of ['ann@example.com', 'bob@example.com', 'boss@example.com']) assert.equal(reminders(email).length, 1, `${email}: still one reminder`);
      assert.equal((await audit(fast, id)).filter((a) => a.action === 'approval.reminded').length, 2);
    });

    it('a reminder goes only to approvers who have not decided yet', async () => {
      const pol = await fast.call('POST', '/api/v1/policies', { body: { name: 'Two approvers for the quorum bot', scope: 'agent', target_id: 'quorum-bot', approval_actions: ['payments.transfer'], approval_quorum: 2 } });
      assert.equal(pol.status, 201, JSON.stringify(pol.body));
      try {
        const id = await propose(fast, transfer({ id: 'quorum-bot' }, 71, 'Half Decided'));
        await smtp.waitFor((m) => m.to === 'ann@example.com' && m.text.includes(id));
        const [apr] = (await fast.core.ds.query('SELECT id FROM approvals WHERE "subjectId" = $1', [id])) as { id: string }[];
        const voted = await fast.call('POST', `/api/v1/approvals/${apr.id}/vote`, { body: { decision: 'approve' }, key: annKey });
        assert.equal(voted.status, 200, JSON.stringify(voted.body));
        assert.equal(voted.body.status, 'PENDING', 'one approval of two');
        // The tier's reminder is audited once every reminder mail of that step went out.
        await smtp.waitFor((m) => m.to === 'bob@example.com' && m.text.includes(id) && m.subject.includes('Reminder'), 10_000);
        await auditOf(fast, id, 'approval.reminded');
        // Ann already approved: a reminder that it "still waits for your decision" would be wrong.
        assert.equal(mailsTo('ann@example.com', id).filter((m) => m.subject.includes('Reminder')).length, 0, 'Ann already approved');
      } finally {
        await fast.call('DELETE', `/api/v1/policies/${pol.body.id}`);
        for (const d of await fast.call('GET', '/api/governance/dashboard/pending-approvals').then((x) => x.body.data.pending as { action_id: string }[])) {
          await fast.call('POST', `/api/v1/governance/decisions/${d.action_id}/withdraw`, { body: { reason: 'test cleanup' } });
        }
      }
    });
  });
});

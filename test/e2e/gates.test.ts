import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { addUser, linkIn, postForm } from '../helpers/fixtures';
import { startSmtp } from '../helpers/smtp';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal';
import { spawnWorker } from '../helpers/worker-process';
import { RESOURCE_TYPES } from '../../engine/gates';

const GOV = '/api/v1/governance';
type Res = { status: number; body: any };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The seed's resource types, in its order: test/engine/gates.test.ts pins this list to the seed's text. */
const SEED_RESOURCE_TYPES = RESOURCE_TYPES;

/** Every field of the seed's Policy object. */
const SEED_POLICY_FIELDS = ['_id', 'name', 'description', 'category', 'severity', 'applicableResourceTypes', 'stages', 'isActive', 'isDraft', 'createdBy', 'organizationId', 'createdAt', 'updatedAt'];

const CHECKLIST_SCHEMA = {
  type: 'object',
  required: ['threatModel', 'dataClassification', 'rollbackPlan'],
  properties: {
    threatModel: { type: 'boolean', const: true },
    dataClassification: { enum: ['public', 'internal', 'confidential'] },
    rollbackPlan: { type: 'string', minLength: 10 },
  },
};
const GOOD_ANSWERS = { threatModel: true, dataClassification: 'internal', rollbackPlan: 'helm rollback to the previous release' };

/** The seed's example policy, with a named reviewer on both gates and a checklist in stage 2. */
const productionGate = (reviewer: string) => ({
  name: 'Production Deployment Gate',
  description: 'Requires security review before production deploys',
  category: 'security',
  severity: 'high',
  applicableResourceTypes: ['app', 'workflow'],
  stages: [
    { id: 'stage_1', name: 'Security Review', gates: [{ id: 'gate_sec_1', name: 'Security sign-off', type: 'approval', approvers: [reviewer] }] },
    { id: 'stage_2', name: 'Go-live Checklist', gates: [{ id: 'gate_chk_1', name: 'Go-live checklist', type: 'checklist', approvers: [reviewer], schema: CHECKLIST_SCHEMA }] },
  ],
  isActive: true,
  isDraft: false,
});

/** A one-stage policy with one approval gate. */
const oneGate = (name: string, types: string[], gate: Record<string, unknown>, over: Record<string, unknown> = {}) => ({
  name,
  description: `${name} (test)`,
  category: 'change',
  severity: 'medium',
  applicableResourceTypes: types,
  stages: [{ id: 'review', name: 'Review', gates: [{ id: 'gate_review', type: 'approval', ...gate }] }],
  isActive: true,
  isDraft: false,
  ...over,
});

function ok(r: Res, status = 200): any {
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}

/** A refusal in the default envelope: its status, code and (when given) the field it names. */
function refused(r: Res, status: number, code: string, field?: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error?.code, code, JSON.stringify(r.body));
  if (field !== undefined) assert.equal(r.body.error?.field, field, JSON.stringify(r.body));
}

/** A key that acts as `userId`, so reviews and submissions made with it are that person's. */
async function personKey(st: Stack, userId: string, role: 'admin' | 'member' = 'member'): Promise<string> {
  const r = await st.call('POST', '/api/v1/keys', { body: { name: `key of ${userId}`, scopes: ['governance:read', 'governance:write'], role, user_id: userId } });
  return ok(r, 201).key as string;
}

async function createPolicy(st: Stack, body: unknown, key?: string): Promise<string> {
  return ok(await st.call('POST', `${GOV}/policies`, { body, key }), 201).policyId as string;
}

async function createSolution(st: Stack, name: string, resources: { type: string; id: string }[], key?: string): Promise<string> {
  return ok(await st.call('POST', `${GOV}/solutions`, { body: { name, description: `${name} (test)`, resources }, key }), 201).solutionId as string;
}

const submit = (st: Stack, solutionId: string, gateId: string, policyId: string, data: Record<string, unknown>, key?: string) =>
  st.call('POST', `${GOV}/solutions/${solutionId}/gates/${gateId}/submit`, { body: { policyId, data }, key });

const review = (st: Stack, id: string, key: string, decision: 'approved' | 'denied' | 'conditional', comments?: string) =>
  st.call('POST', `${GOV}/gate-submissions/${id}/approve`, { body: { decision, ...(comments ? { comments } : {}) }, key });

const pendingFor = (st: Stack, key: string) => st.call('GET', `${GOV}/gate-submissions/pending-reviews`, { key });
const getSub = async (st: Stack, id: string) => ok(await st.call('GET', `${GOV}/gate-submissions/${id}`));
const solutionStatus = async (st: Stack, id: string) => ok(await st.call('GET', `${GOV}/solutions/${id}`)).status as string;
const check = async (st: Stack, resourceId: string, resourceType: string) =>
  ok(await st.call('GET', `${GOV}/enforcement/check?resourceId=${encodeURIComponent(resourceId)}&resourceType=${resourceType}`));

/** The first truthy answer of `probe`, polled. */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) assert.fail(`not seen within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** The submission once its review has ended (the workflow records the end just after the deciding vote). */
async function settled(st: Stack, id: string, timeoutMs = 20_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const sub = await getSub(st, id);
    if (sub.status !== 'in_review') return sub;
    if (Date.now() > until) assert.fail(`gate submission ${id} still in review after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** A gate's requirement row: `{gateId, status, submissionId, round, conditions}` of the solution's one policy. */
async function gateReq(st: Stack, solutionId: string, policyId: string, gateId: string): Promise<any> {
  const req = ok(await st.call('GET', `${GOV}/solutions/${solutionId}/requirements`));
  const pol = req.requirements.find((p: any) => p.policyId === policyId);
  assert.ok(pol, `policy ${policyId} does not apply to ${solutionId}`);
  for (const st of pol.stages) for (const g of st.gates) if (g.gateId === gateId) return g;
  assert.fail(`no gate ${gateId}`);
}


async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill(signal);
  await exited;
}

describe('governance gates, end to end (seed 000)', () => {
  let temporal: TestWorkflowEnvironment;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const env = () => ({ SMTP_URL: smtp.url, APPROVAL_TIER1_TIMEOUT_SECONDS: '600', PENDING_SWEEP_SECONDS: '3600' });
  const mailsAbout = (email: string, id: string) => smtp.inbox.filter((m) => m.to === email && m.text.includes(id));

  before(async () => {
    temporal = await startTemporal();
    smtp = await startSmtp();
  });
  after(async () => {
    await smtp?.close();
    await temporal?.teardown();
  });

  describe('a governance day through HTTP', () => {
    // Its own organization, so the metrics at the end count exactly this day.
    let s: Stack;
    let dev: string, rev: string, root: string;
    let devKey: string, revKey: string, rootKey: string;
    let policyId: string, portal: string, billing: string;
    let secSub: string, chkSub: string, deniedSub: string, round2Sub: string;
    const COND = 'Rotate the database credentials before go-live';

    before(async () => {
      s = await startStack({ temporal, env: env() });
      dev = await addUser(s, 'dev@example.com', [], 'Dev');
      rev = await addUser(s, 'rev@example.com', [], 'Rev');
      root = await addUser(s, 'root@example.com', ['admin'], 'Root');
      [devKey, revKey] = await Promise.all([personKey(s, dev), personKey(s, rev)]);
      rootKey = await personKey(s, root, 'admin');
    });
    after(async () => {
      await s?.close();
    });

    it('an admin creates the policy; a new solution deploying an app lists both stages not started and may not deploy', async () => {
      policyId = await createPolicy(s, productionGate('rev@example.com'), rootKey);
      portal = await createSolution(s, 'Customer Portal', [{ type: 'app', id: 'app-portal' }], devKey);
      const req = ok(await s.call('GET', `${GOV}/solutions/${portal}/requirements`));
      assert.equal(req.solutionId, portal);
      assert.equal(req.status, 'draft');
      assert.equal(req.requirements.length, 1);
      const [p] = req.requirements;
      assert.equal(p.policyId, policyId);
      assert.equal(p.policyName, 'Production Deployment Gate');
      assert.deepEqual(p.stages.map((st: any) => [st.stageId, st.name, st.open, st.passed]), [['stage_1', 'Security Review', true, false], ['stage_2', 'Go-live Checklist', false, false]]);
      assert.deepEqual(p.stages.flatMap((st: any) => st.gates.map((g: any) => [g.gateId, g.type, g.status, g.round])), [['gate_sec_1', 'approval', 'not_started', 0], ['gate_chk_1', 'checklist', 'not_started', 0]]);

      const c = await check(s, 'app-portal', 'app');
      assert.equal(c.allowed, false);
      assert.equal(c.reason, 'GATES_NOT_PASSED');
      assert.deepEqual(c.blocking.map((b: any) => [b.policyId, b.stageId, b.gateId, b.status]), [[policyId, 'stage_1', 'gate_sec_1', 'not_started'], [policyId, 'stage_2', 'gate_chk_1', 'not_started']]);
      // An app no solution deploys is not let through while a policy applies to apps.
      const unknown = await check(s, 'app-nobody-registered', 'app');
      assert.equal(unknown.allowed, false);
      assert.equal(unknown.reason, 'UNKNOWN_RESOURCE');
      assert.deepEqual(unknown.blockingPolicies.map((b: any) => b.policyId), [policyId]);
    });

    it('stage 2 before stage 1 → 409 naming stage 1; stage 1 is approved by the named reviewer through the emailed link', async () => {
      const early = await submit(s, portal, 'gate_chk_1', policyId, { answers: GOOD_ANSWERS }, devKey);
      refused(early, 409, 'STAGE_BLOCKED');
      assert.match(early.body.error.message, /stage_1/);
      assert.match(early.body.error.message, /Security Review/);

      const sub = ok(await submit(s, portal, 'gate_sec_1', policyId, { ticket: 'SEC-88' }, devKey));
      secSub = sub._id;
      assert.equal(sub.status, 'in_review');
      assert.equal(sub.round, 1);
      assert.equal(sub.stageId, 'stage_1');
      assert.equal(sub.gateId, 'gate_sec_1');
      assert.equal(sub.policyId, policyId);
      assert.equal(sub.solutionId, portal);
      assert.equal(sub.submittedBy, dev);
      assert.equal(await solutionStatus(s, portal), 'in-review');
      refused(await submit(s, portal, 'gate_sec_1', policyId, {}, devKey), 409, 'GATE_IN_REVIEW');

      const pending = ok(await pendingFor(s, revKey));
      assert.deepEqual(pending.items.map((i: any) => [i._id, i.tier]), [[secSub, 1]]);

      const mail = await smtp.waitFor((m) => m.to === 'rev@example.com' && m.text.includes(secSub));
      assert.match(mail.subject, /Security sign-off/);
      // The page behind the link says what is being reviewed, and opening it decides nothing.
      const shown = await fetch(linkIn(mail.text));
      assert.equal(shown.status, 200);
      const html = await shown.text();
      assert.match(html, /Customer Portal/);
      assert.match(html, /Security Review/);
      assert.equal((await getSub(s, secSub)).status, 'in_review');
      const page = await postForm(linkIn(mail.text), { decision: 'approve', comment: 'threat model reviewed' });
      assert.equal(page.status, 200, page.text);
      const done = await settled(s, secSub);
      assert.equal(done.status, 'approved');
      assert.deepEqual(done.reviews.map((r: any) => [r.by, r.decision]), [[rev, 'approved']]);
      assert.ok(done.decidedAt);
      // The submitter is never asked, and nobody escalated.
      assert.equal(mailsAbout('dev@example.com', secSub).length, 0);
      assert.equal(mailsAbout('root@example.com', secSub).length, 0);
      assert.equal(ok(await pendingFor(s, revKey)).count, 0);
      refused(await submit(s, portal, 'gate_sec_1', policyId, {}, devKey), 409, 'GATE_PASSED');
    });

    it('a checklist with bad answers → 400 naming the field; good answers go to review and the reviewer approves with a condition', async () => {
      refused(await submit(s, portal, 'gate_chk_1', policyId, { answers: { ...GOOD_ANSWERS, dataClassification: 'top-secret' } }, devKey), 400, 'VALIDATION_FAILED', 'data.answers.dataClassification');
      const { rollbackPlan: _, ...missing } = GOOD_ANSWERS;
      refused(await submit(s, portal, 'gate_chk_1', policyId, { answers: missing }, devKey), 400, 'VALIDATION_FAILED', 'data.answers.rollbackPlan');
      refused(await submit(s, portal, 'gate_chk_1', policyId, {}, devKey), 400, 'VALIDATION_FAILED', 'data.answers');
      // Refused answers start no round.
      assert.equal((await gateReq(s, portal, policyId, 'gate_chk_1')).status, 'not_started');

      const sub = ok(await submit(s, portal, 'gate_chk_1', policyId, { answers: GOOD_ANSWERS }, devKey));
      chkSub = sub._id;
      assert.equal(sub.status, 'in_review');
      assert.equal(sub.gateType, 'checklist');
      assert.deepEqual(sub.data, { answers: GOOD_ANSWERS });
      refused(await review(s, chkSub, revKey, 'conditional'), 400, 'CONDITIONS_REQUIRED', 'comments');
      const r = ok(await review(s, chkSub, revKey, 'conditional', COND));
      assert.equal(r.status, 'conditional');
      assert.deepEqual(r.conditions, [COND]);
      assert.deepEqual(r.reviews.map((x: any) => [x.by, x.decision, x.comments]), [[rev, 'conditional', COND]]);
      assert.equal(await solutionStatus(s, portal), 'conditionally-approved');

      const c = await check(s, 'app-portal', 'app');
      assert.equal(c.allowed, true);
      assert.equal(c.reason, 'CONDITIONALLY_APPROVED');
      assert.deepEqual(c.blocking, []);
      assert.deepEqual(c.blockingPolicies, []);
      assert.deepEqual(c.conditions, [{ solutionId: portal, policyId, gateId: 'gate_chk_1', conditions: [COND] }]);
    });

    it('a denied gate blocks a second solution and the check names it; resubmitting starts round 2 and keeps round 1', async () => {
      billing = await createSolution(s, 'Billing Service', [{ type: 'app', id: 'app-billing' }], devKey);
      const sec = ok(await submit(s, billing, 'gate_sec_1', policyId, { ticket: 'SEC-91' }, devKey));
      assert.equal(ok(await review(s, sec._id, revKey, 'approved', 'fine')).status, 'approved');
      const chk = ok(await submit(s, billing, 'gate_chk_1', policyId, { answers: { ...GOOD_ANSWERS, rollbackPlan: 'redeploy by hand' } }, devKey));
      deniedSub = chk._id;
      const denied = ok(await review(s, deniedSub, revKey, 'denied', 'the rollback was never tested'));
      assert.equal(denied.status, 'denied');
      assert.equal(await solutionStatus(s, billing), 'blocked');

      const c = await check(s, 'app-billing', 'app');
      assert.equal(c.allowed, false);
      assert.equal(c.reason, 'GATES_NOT_PASSED');
      assert.deepEqual(c.blocking.map((b: any) => [b.solutionId, b.policyId, b.stageId, b.gateId, b.status]), [[billing, policyId, 'stage_2', 'gate_chk_1', 'denied']]);
      assert.deepEqual(c.blockingPolicies.map((b: any) => b.policyId), [policyId]);
      // The portal's own deploy is not held up by another solution's deny.
      assert.equal((await check(s, 'app-portal', 'app')).allowed, true);

      const again = ok(await submit(s, billing, 'gate_chk_1', policyId, { answers: GOOD_ANSWERS }, devKey));
      round2Sub = again._id;
      assert.notEqual(round2Sub, deniedSub);
      assert.equal(again.round, 2);
      assert.equal(again.status, 'in_review');
      const old = await getSub(s, deniedSub);
      assert.equal(old.round, 1);
      assert.equal(old.status, 'denied');
      assert.deepEqual(old.reviews.map((r: any) => [r.by, r.decision, r.comments]), [[rev, 'denied', 'the rollback was never tested']]);
      const g = await gateReq(s, billing, policyId, 'gate_chk_1');
      assert.deepEqual([g.submissionId, g.round, g.status], [round2Sub, 2, 'in_review']);
      assert.equal(await solutionStatus(s, billing), 'in-review');
    });

    it('an admin waives round 2 with a reason: the solution is approved and may deploy; recompute agrees', async () => {
      refused(await s.call('POST', `${GOV}/gate-submissions/${round2Sub}/waive`, { body: { reason: '  ' }, key: rootKey }), 400, 'VALIDATION_FAILED', 'reason');
      const reason = 'Compensating control documented in ticket SEC-1234';
      const w = ok(await s.call('POST', `${GOV}/gate-submissions/${round2Sub}/waive`, { body: { reason }, key: rootKey }));
      assert.equal(w.status, 'waived');
      assert.equal(w.waivedBy, root);
      assert.equal(w.waiverReason, reason);
      assert.equal(await solutionStatus(s, billing), 'approved');
      const c = await check(s, 'app-billing', 'app');
      assert.equal(c.allowed, true);
      assert.equal(c.reason, 'APPROVED');
      assert.deepEqual(c.blocking, []);

      // The workflows already recomputed each status: asking again changes nothing.
      const rb = ok(await s.call('POST', `${GOV}/solutions/${billing}/recompute`, { key: rootKey }));
      assert.deepEqual([rb.solutionId, rb.previousStatus, rb.status, rb.changed], [billing, 'approved', 'approved', false]);
      assert.deepEqual(rb.blocking, []);
      assert.deepEqual(rb.conditions, []);
      assert.equal(rb.requirements[0].policyId, policyId);
      const rp = ok(await s.call('POST', `${GOV}/solutions/${portal}/recompute`, { key: rootKey }));
      assert.deepEqual([rp.previousStatus, rp.status, rp.changed], ['conditionally-approved', 'conditionally-approved', false]);
      assert.deepEqual(rp.conditions, [{ policyId, gateId: 'gate_chk_1', conditions: [COND] }]);

      const approvedList = ok(await s.call('GET', `${GOV}/solutions?status=approved`));
      assert.deepEqual(approvedList.items.map((x: any) => x._id), [billing]);
    });

    it('metrics count the day; the audit trail records every decided gate', async () => {
      const m = ok(await s.call('GET', `${GOV}/metrics`));
      assert.equal(m.solutions.total, 2);
      assert.deepEqual(m.solutions.byStatus, { draft: 0, 'in-review': 0, approved: 1, 'conditionally-approved': 1, blocked: 0 });
      // A gate counts once, at its latest round: billing's checklist is waived, not denied.
      assert.equal(m.gates.total, 4);
      assert.deepEqual(m.gates.byStatus, { in_review: 0, approved: 2, conditional: 1, denied: 0, waived: 1, expired: 0 });
      assert.equal(m.pendingReviews, 0);
      assert.equal(m.waivers, 1);
      assert.equal(m.timeToDecisionSeconds.byPolicy.length, 1);
      const byPolicy = m.timeToDecisionSeconds.byPolicy[0];
      assert.deepEqual([byPolicy.policyId, byPolicy.name, byPolicy.severity, byPolicy.decided], [policyId, 'Production Deployment Gate', 'high', 5]);
      assert.ok(typeof byPolicy.median === 'number' && byPolicy.median >= 0 && byPolicy.p90 >= byPolicy.median, JSON.stringify(byPolicy));
      assert.deepEqual(m.timeToDecisionSeconds.bySeverity.map((x: any) => [x.severity, x.decided]), [['high', 5]]);

      const decided = ok(await s.call('GET', `${GOV}/audit?entityType=gate_submission&action=gate_submission.decided&limit=500`, { key: rootKey }));
      assert.equal(decided.count, 5);
      assert.deepEqual(decided.items.map((a: any) => a.metadata.status).sort(), ['approved', 'approved', 'conditional', 'denied', 'waived']);
      const waiver = ok(await s.call('GET', `${GOV}/audit?action=approval.waive`, { key: rootKey }));
      assert.deepEqual(waiver.items.map((a: any) => [a.entityId, a.userId]), [[round2Sub, root]]);
      assert.equal(ok(await s.call('GET', '/api/v1/audit/verify')).ok, true);
    });
  });

  describe('refusals, and shapes against the seed', () => {
    let s: Stack;
    let alice: string, ben: string, root: string;
    let aliceKey: string, benKey: string, olgaKey: string, devKey: string, rootKey: string;
    let changeReview: string;

    before(async () => {
      s = await startStack({ temporal, env: env() });
      alice = await addUser(s, 'alice@example.com', ['approver'], 'Alice');
      ben = await addUser(s, 'ben@example.com', ['approver'], 'Ben');
      // Olga approves in this organization, but the gates below do not name her.
      const olga = await addUser(s, 'olga@example.com', ['approver'], 'Olga');
      const dev = await addUser(s, 'dev@example.com', [], 'Dev');
      root = await addUser(s, 'root@example.com', ['admin'], 'Root');
      [aliceKey, benKey, olgaKey, devKey] = await Promise.all([alice, ben, olga, dev].map((id) => personKey(s, id)));
      rootKey = await personKey(s, root, 'admin');
      changeReview = await createPolicy(s, oneGate('Change Review', ['workflow'], { approvers: ['alice@example.com', 'ben@example.com'] }), rootKey);
    });
    after(async () => {
      await s?.close();
    });

    describe('refusals: each answers 403 and the review goes on to end normally', () => {
      it('member key on the audit and on waive → 403 "Admin role required"; an outsider → NOT_AN_APPROVER; the submitter → SELF_APPROVAL', async () => {
        const audit = await s.call('GET', `${GOV}/audit`, { key: devKey });
        refused(audit, 403, 'FORBIDDEN');
        assert.equal(audit.body.error.message, 'Admin role required');

        const sol = await createSolution(s, 'Nightly ETL', [{ type: 'workflow', id: 'wf-etl' }], aliceKey);
        // Alice is a reviewer of this gate, and submits it with her own key.
        const sub = ok(await submit(s, sol, 'gate_review', changeReview, { change: 'CHG-1' }, aliceKey));
        const id = sub._id as string;
        assert.equal(sub.submittedBy, alice);
        await smtp.waitFor((m) => m.to === 'ben@example.com' && m.text.includes(id));

        const waive = await s.call('POST', `${GOV}/gate-submissions/${id}/waive`, { body: { reason: 'I say so' }, key: devKey });
        refused(waive, 403, 'FORBIDDEN');
        assert.equal(waive.body.error.message, 'Admin role required');
        assert.equal((await getSub(s, id)).status, 'in_review');

        refused(await review(s, id, olgaKey, 'approved'), 403, 'NOT_AN_APPROVER');
        assert.equal((await getSub(s, id)).status, 'in_review');
        refused(await review(s, id, aliceKey, 'approved'), 403, 'SELF_APPROVAL');
        refused(await review(s, id, aliceKey, 'conditional', 'my own conditions'), 403, 'SELF_APPROVAL');
        assert.equal((await getSub(s, id)).status, 'in_review');
        // The submitter is never asked, though the gate names her.
        // The notice is audited by the worker just after the mail.
        const notified = await eventually(async () => ok(await s.call('GET', `${GOV}/audit?action=approval.notified&limit=500`, { key: rootKey })).items.find((a: any) => a.entityId === id));
        assert.deepEqual(notified.metadata.approvers, [ben]);
        assert.equal(mailsAbout('alice@example.com', id).length, 0);
        assert.equal(ok(await pendingFor(s, aliceKey)).count, 0);

        const r = ok(await review(s, id, benKey, 'approved', 'looks right'));
        assert.equal(r.status, 'approved');
        assert.deepEqual(r.reviews.map((x: any) => x.by), [ben]);
        assert.equal(await solutionStatus(s, sol), 'approved');
        // An ended review takes no more votes.
        refused(await review(s, id, aliceKey, 'denied'), 409, 'NOT_PENDING');
      });

      it('the same gate submitted twice at once (a double click): one review, the other 409 GATE_IN_REVIEW, one mail', async () => {
        const sol = await createSolution(s, 'Report Builder', [{ type: 'workflow', id: 'wf-reports' }], devKey);
        const both = await Promise.all([1, 2].map(() => submit(s, sol, 'gate_review', changeReview, { change: 'CHG-3' }, devKey)));
        assert.deepEqual(both.map((r) => r.status).sort(), [200, 409], JSON.stringify(both.map((r) => r.body)));
        refused(both.find((r) => r.status === 409)!, 409, 'GATE_IN_REVIEW', 'sub');
        const id = both.find((r) => r.status === 200)!.body._id as string;
        const g = await gateReq(s, sol, changeReview, 'gate_review');
        assert.deepEqual([g.submissionId, g.round, g.status], [id, 1, 'in_review']);
        await smtp.waitFor((m) => m.to === 'ben@example.com' && m.text.includes(id));
        assert.equal(ok(await review(s, id, benKey, 'approved')).status, 'approved');
        assert.equal(mailsAbout('ben@example.com', id).length, 1);
        const [{ n }] = await s.core.ds.query('SELECT count(*)::int AS n FROM gate_submissions WHERE "solutionId" = $1', [sol]);
        assert.equal(n, 1, 'the refused submission left nothing behind');
      });

      it('a key that belongs to no person submits: that key cannot approve nor waive it; another admin waives', async () => {
        const sol = await createSolution(s, 'Invoice Sync', [{ type: 'workflow', id: 'wf-invoices' }]);
        // The bootstrap admin key is nobody: the key itself is the submitter.
        const id = ok(await submit(s, sol, 'gate_review', changeReview, { change: 'CHG-2' }))._id as string;
        await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(id));
        refused(await s.call('POST', `${GOV}/gate-submissions/${id}/approve`, { body: { decision: 'approved' } }), 403, 'SELF_APPROVAL');
        refused(await s.call('POST', `${GOV}/gate-submissions/${id}/waive`, { body: { reason: 'my own change' } }), 403, 'SELF_APPROVAL');
        assert.equal((await getSub(s, id)).status, 'in_review');
        const w = ok(await s.call('POST', `${GOV}/gate-submissions/${id}/waive`, { body: { reason: 'emergency change CHG-2' }, key: rootKey }));
        assert.equal(w.status, 'waived');
        assert.equal(w.waivedBy, root);
        assert.equal(await solutionStatus(s, sol), 'approved');
      });
    });

    describe('shapes against the seed', () => {
      let prod: string, modelRisk: string, draftAgent: string, retiredAgent: string, scan: string;

      it('policies: POST 201 {policyId}; GET has every seed field; list envelope; PUT returns the update; DELETE 204 empty', async () => {
        const created = await s.call('POST', `${GOV}/policies`, { body: productionGate('alice@example.com'), key: rootKey });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.deepEqual(Object.keys(created.body), ['policyId']);
        prod = created.body.policyId;

        const p = ok(await s.call('GET', `${GOV}/policies/${prod}`));
        for (const f of SEED_POLICY_FIELDS) assert.ok(f in p, `policy lacks ${f}`);
        assert.equal(p._id, prod);
        const { stages: _s, ...scalars } = productionGate('alice@example.com');
        for (const [k, v] of Object.entries(scalars)) assert.deepEqual(p[k], v, k);
        assert.deepEqual(p.stages, productionGate('alice@example.com').stages);
        assert.equal(p.createdBy, root);
        assert.equal(p.organizationId, 'org_default');
        for (const f of ['createdAt', 'updatedAt']) assert.equal(new Date(p[f]).toISOString(), p[f], `${f} is ISO 8601`);

        modelRisk = await createPolicy(s, { ...oneGate('Model Risk Review', ['mlModel'], {}), category: 'risk', severity: 'critical' }, rootKey);
        draftAgent = await createPolicy(s, oneGate('Draft Agent Policy', ['agent'], {}, { isDraft: true }), rootKey);
        retiredAgent = await createPolicy(s, oneGate('Retired Agent Policy', ['agent'], {}, { isActive: false }), rootKey);

        const list = ok(await s.call('GET', `${GOV}/policies`));
        assert.deepEqual(Object.keys(list).sort(), ['count', 'items', 'limit', 'offset']);
        assert.deepEqual([list.count, list.limit, list.offset], [5, 20, 0]);
        for (const item of list.items) for (const f of ['_id', 'name', 'category', 'severity', 'isActive']) assert.ok(f in item, `list item lacks ${f}`);
        // Newest first by default.
        assert.deepEqual(list.items.map((x: any) => x._id), [retiredAgent, draftAgent, modelRisk, prod, changeReview]);

        await sleep(5); // updatedAt moves on
        const put = ok(await s.call('PUT', `${GOV}/policies/${modelRisk}`, { body: { severity: 'high', description: 'AI models need a risk review' }, key: rootKey }));
        assert.equal(put._id, modelRisk);
        assert.equal(put.severity, 'high');
        assert.equal(put.description, 'AI models need a risk review');
        assert.equal(put.name, 'Model Risk Review');
        assert.equal(put.category, 'risk');
        assert.ok(put.updatedAt > put.createdAt, JSON.stringify([put.createdAt, put.updatedAt]));
        assert.deepEqual(ok(await s.call('GET', `${GOV}/policies/${modelRisk}`)), put);
        refused(await s.call('PUT', `${GOV}/policies/${modelRisk}`, { body: { applicableResourceTypes: ['mlModel', 'spaceship'] }, key: rootKey }), 400, 'VALIDATION_FAILED', 'applicableResourceTypes.1');
        refused(await s.call('PUT', `${GOV}/policies/pol_nope`, { body: { severity: 'low' } }), 404, 'NOT_FOUND');

        const gone = await createPolicy(s, oneGate('Short Lived', ['skill'], {}), rootKey);
        const del = await s.call('DELETE', `${GOV}/policies/${gone}`, { key: rootKey });
        assert.equal(del.status, 204);
        assert.equal(del.body, '');
        refused(await s.call('GET', `${GOV}/policies/${gone}`), 404, 'NOT_FOUND');
        refused(await s.call('DELETE', `${GOV}/policies/${gone}`), 404, 'NOT_FOUND');
      });

      it('policy list filters, sort and paging; a bad sort or limit → 400 naming it', async () => {
        const names = async (qs: string) => ok(await s.call('GET', `${GOV}/policies?${qs}`)).items.map((x: any) => x.name);
        assert.deepEqual(await names('category=security'), ['Production Deployment Gate']);
        assert.deepEqual(await names('severity=high&sort=name:asc'), ['Model Risk Review', 'Production Deployment Gate']);
        assert.deepEqual(await names('isActive=false'), ['Retired Agent Policy']);
        assert.deepEqual(await names('isActive=true&category=change&sort=name:asc'), ['Change Review', 'Draft Agent Policy']);
        assert.deepEqual(await names('search=DEPLOY'), ['Production Deployment Gate']);
        assert.deepEqual(await names('search=risk%20review'), ['Model Risk Review']);
        // LIKE wildcards in a search are taken literally.
        assert.deepEqual(await names('search=%25'), []);
        const all = ['Change Review', 'Draft Agent Policy', 'Model Risk Review', 'Production Deployment Gate', 'Retired Agent Policy'];
        assert.deepEqual(await names('sort=name:asc'), all);
        assert.deepEqual(await names('sort=name:desc'), [...all].reverse());
        const page = ok(await s.call('GET', `${GOV}/policies?sort=name:asc&limit=2&offset=1`));
        assert.deepEqual([page.count, page.limit, page.offset, page.items.map((x: any) => x.name)], [5, 2, 1, all.slice(1, 3)]);

        refused(await s.call('GET', `${GOV}/policies?sort=name:up`), 400, 'VALIDATION_FAILED', 'sort');
        refused(await s.call('GET', `${GOV}/policies?sort=password:asc`), 400, 'VALIDATION_FAILED', 'sort');
        refused(await s.call('GET', `${GOV}/policies?limit=1000`), 400, 'VALIDATION_FAILED', 'limit');
        refused(await s.call('GET', `${GOV}/policies?limit=0`), 400, 'VALIDATION_FAILED', 'limit');
        refused(await s.call('GET', `${GOV}/policies?isActive=maybe`), 400, 'VALIDATION_FAILED', 'isActive');
      });

      it('bad policy bodies → 400 naming the field', async () => {
        const base = productionGate('alice@example.com');
        const bad = async (body: unknown, field: string) => {
          const r = await s.call('POST', `${GOV}/policies`, { body, key: rootKey });
          refused(r, 400, 'VALIDATION_FAILED', field);
          assert.match(r.body.error.message, new RegExp(field.replace(/\./g, '\\.')));
        };
        await bad({ ...base, applicableResourceTypes: ['spaceship'] }, 'applicableResourceTypes.0');
        await bad({ ...base, stages: [base.stages[0], { ...base.stages[1], gates: [{ ...base.stages[1].gates[0], id: 'gate_sec_1' }] }] }, 'stages.1.gates.0.id');
        await bad({ ...base, stages: [base.stages[0], { ...base.stages[0], name: 'Again' }] }, 'stages.1.id');
        await bad({ ...base, stages: [{ id: 'st', name: 'Checklist', gates: [{ id: 'g', type: 'checklist' }] }] }, 'stages.0.gates.0.schema');
        await bad({ ...base, stages: [{ id: 'st', name: 'Auto', gates: [{ id: 'g', type: 'automated', conditions: { score: { $between: [1, 2] } } }] }] }, 'stages.0.gates.0.conditions');
        await bad({ ...base, stages: [{ id: 'st', name: 'Auto', gates: [{ id: 'g', type: 'automated' }] }] }, 'stages.0.gates.0.conditions');
        await bad({ ...base, stages: [{ id: 'st', name: 'Magic', gates: [{ id: 'g', type: 'magic' }] }] }, 'stages.0.gates.0.type');
        await bad({ ...base, severity: 'extreme' }, 'severity');
        await bad({ ...base, stages: [] }, 'stages');
        const { isDraft: _d, ...noDraft } = base;
        await bad(noDraft, 'isDraft');
        // Nothing refused was stored.
        assert.equal(ok(await s.call('GET', `${GOV}/policies?category=security`)).count, 1);
      });

      it('solutions: 201 {solutionId}, the list envelope, the document, update, delete; resource types are the seed’s', async () => {
        const created = await s.call('POST', `${GOV}/solutions`, { body: { name: 'Fraud Model', description: 'scores payments', resources: [{ type: 'mlModel', id: 'model-fraud-v3' }] }, key: devKey });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.deepEqual(Object.keys(created.body), ['solutionId']);
        const id = created.body.solutionId as string;
        const doc = ok(await s.call('GET', `${GOV}/solutions/${id}`));
        for (const f of ['_id', 'name', 'description', 'resources', 'status', 'createdBy', 'organizationId', 'createdAt', 'updatedAt']) assert.ok(f in doc, `solution lacks ${f}`);
        assert.deepEqual([doc._id, doc.name, doc.status, doc.organizationId], [id, 'Fraud Model', 'draft', 'org_default']);
        assert.deepEqual(doc.resources, [{ type: 'mlModel', id: 'model-fraud-v3' }]);

        const list = ok(await s.call('GET', `${GOV}/solutions?search=fraud`));
        assert.deepEqual(Object.keys(list).sort(), ['count', 'items', 'limit', 'offset']);
        assert.deepEqual([list.count, list.limit, list.offset], [1, 20, 0]);
        for (const f of ['_id', 'name', 'status']) assert.ok(f in list.items[0], `list item lacks ${f}`);
        assert.equal(ok(await s.call('GET', `${GOV}/solutions?status=draft&search=fraud`)).count, 1);
        refused(await s.call('GET', `${GOV}/solutions?status=finished`), 400, 'VALIDATION_FAILED', 'status');

        refused(await s.call('POST', `${GOV}/solutions`, { body: { name: 'Bad', resources: [{ type: 'app', id: 'a' }, { type: 'spaceship', id: 'b' }] } }), 400, 'VALIDATION_FAILED', 'resources.1.type');
        const put = ok(await s.call('PUT', `${GOV}/solutions/${id}`, { body: { description: 'scores card payments' } }));
        assert.equal(put.description, 'scores card payments');
        assert.equal(put.name, 'Fraud Model');
        // What it deploys decides what it must pass: a skill needs nothing here, a model needs its risk review.
        const moved = ok(await s.call('PUT', `${GOV}/solutions/${id}`, { body: { resources: [{ type: 'skill', id: 'sk-fraud' }] } }));
        assert.equal(moved.status, 'approved');
        assert.deepEqual(ok(await s.call('GET', `${GOV}/solutions/${id}/requirements`)).requirements, []);
        assert.equal(ok(await s.call('PUT', `${GOV}/solutions/${id}`, { body: { resources: [{ type: 'mlModel', id: 'model-fraud-v3' }] } })).status, 'draft');
        const del = await s.call('DELETE', `${GOV}/solutions/${id}`);
        assert.equal(del.status, 204);
        assert.equal(del.body, '');
        refused(await s.call('GET', `${GOV}/solutions/${id}`), 404, 'NOT_FOUND');

        assert.deepEqual(ok(await s.call('GET', `${GOV}/resource-types`, { key: devKey })), SEED_RESOURCE_TYPES);
      });

      it('an automated gate is decided at once by its conditions; a failed one blocks until a later round passes', async () => {
        scan = await createPolicy(s, {
          name: 'Release Scan', description: 'static analysis must be clean', category: 'quality', severity: 'low', applicableResourceTypes: ['codeSession'],
          stages: [{ id: 'checks', name: 'Automated checks', gates: [{ id: 'gate_scan', type: 'automated', conditions: { 'scan.critical': 0, 'scan.coverage': { $gte: 80 } } }] }],
          isActive: true, isDraft: false,
        }, rootKey);
        const clean = await createSolution(s, 'Clean Session', [{ type: 'codeSession', id: 'cs-clean' }], devKey);
        const pass = ok(await submit(s, clean, 'gate_scan', scan, { scan: { critical: 0, coverage: 91 } }, devKey));
        assert.deepEqual([pass.status, pass.gateType, pass.round, pass.reviews], ['approved', 'automated', 1, []]);
        assert.ok(pass.decidedAt);
        assert.equal(await solutionStatus(s, clean), 'approved');
        assert.equal((await check(s, 'cs-clean', 'codeSession')).allowed, true);

        const dirty = await createSolution(s, 'Dirty Session', [{ type: 'codeSession', id: 'cs-dirty' }], devKey);
        const fail = ok(await submit(s, dirty, 'gate_scan', scan, { scan: { critical: 2, coverage: 95 } }, devKey));
        assert.equal(fail.status, 'denied');
        assert.equal(await solutionStatus(s, dirty), 'blocked');
        const c = await check(s, 'cs-dirty', 'codeSession');
        assert.equal(c.allowed, false);
        assert.deepEqual(c.blocking.map((b: any) => [b.policyId, b.stageId, b.gateId, b.status]), [[scan, 'checks', 'gate_scan', 'denied']]);
        // A field of the wrong type does not pass (no coercion).
        assert.equal(ok(await submit(s, dirty, 'gate_scan', scan, { scan: { critical: '0', coverage: 95 } }, devKey)).status, 'denied');
        const fixed = ok(await submit(s, dirty, 'gate_scan', scan, { scan: { critical: 0, coverage: 80 } }, devKey));
        assert.deepEqual([fixed.status, fixed.round], ['approved', 3]);
        assert.equal(await solutionStatus(s, dirty), 'approved');
        // Nobody is asked about an automated gate.
        assert.equal(smtp.inbox.filter((m) => [pass._id, fail._id, fixed._id].some((x) => m.text.includes(x))).length, 0);
      });

      it('draft and inactive policies require nothing, until one becomes active', async () => {
        const support = await createSolution(s, 'Support Agent', [{ type: 'agent', id: 'agent-7' }], devKey);
        const req = ok(await s.call('GET', `${GOV}/solutions/${support}/requirements`));
        assert.deepEqual(req.requirements, []);
        assert.equal(req.status, 'approved');
        const c = await check(s, 'agent-7', 'agent');
        assert.deepEqual([c.allowed, c.reason, c.blocking], [true, 'APPROVED', []]);
        const unknown = await check(s, 'agent-unregistered', 'agent');
        assert.deepEqual([unknown.allowed, unknown.reason], [true, 'NO_POLICY_APPLIES']);
        refused(await submit(s, support, 'gate_review', draftAgent, {}, devKey), 422, 'POLICY_NOT_APPLICABLE', 'policyId');
        refused(await submit(s, support, 'gate_review', retiredAgent, {}, devKey), 422, 'POLICY_NOT_APPLICABLE', 'policyId');
        refused(await s.call('GET', `${GOV}/enforcement/check?resourceId=x&resourceType=spaceship`), 400, 'VALIDATION_FAILED', 'resourceType');

        ok(await s.call('PUT', `${GOV}/policies/${retiredAgent}`, { body: { isActive: true }, key: rootKey }));
        const now = await check(s, 'agent-unregistered', 'agent');
        assert.deepEqual([now.allowed, now.reason, now.blockingPolicies.map((b: any) => b.policyId)], [false, 'UNKNOWN_RESOURCE', [retiredAgent]]);
        assert.equal((await check(s, 'agent-7', 'agent')).allowed, false);
        const re = ok(await s.call('POST', `${GOV}/solutions/${support}/recompute`, { key: rootKey }));
        assert.equal(re.status, 'draft');
        assert.equal(re.changed, re.previousStatus !== re.status);
        assert.deepEqual(re.blocking.map((b: any) => [b.policyId, b.gateId, b.status]), [[retiredAgent, 'gate_review', 'not_started']]);
        assert.equal(await solutionStatus(s, support), 'draft');
      });

      it('audit: admin only, seed item shape, filters by entityType, action and inclusive dates, limit ≤ 500', async () => {
        const all = ok(await s.call('GET', `${GOV}/audit`, { key: rootKey }));
        assert.deepEqual(Object.keys(all).sort(), ['count', 'items', 'limit', 'offset']);
        assert.deepEqual([all.limit, all.offset], [100, 0]);
        for (const a of all.items) {
          for (const f of ['_id', 'entityType', 'action', 'userId', 'timestamp']) assert.ok(f in a, `audit item lacks ${f}`);
          assert.equal(a.metadata.organizationId, 'org_default');
          assert.equal(new Date(a.timestamp).toISOString(), a.timestamp);
        }
        // Newest first by default.
        const times = all.items.map((a: any) => a.timestamp);
        assert.deepEqual(times, [...times].sort().reverse());

        const creates = ok(await s.call('GET', `${GOV}/audit?entityType=policy&action=create&limit=500`, { key: rootKey }));
        assert.equal(creates.limit, 500);
        assert.ok(creates.items.length >= 6, `${creates.items.length} policy creations`);
        assert.ok(creates.items.every((a: any) => a.entityType === 'policy' && a.action === 'create'));
        assert.ok(creates.items.some((a: any) => a.entityId === prod));

        const one = creates.items.find((a: any) => a.entityId === modelRisk);
        const at = encodeURIComponent(one.timestamp);
        const same = ok(await s.call('GET', `${GOV}/audit?entityType=policy&startDate=${at}&endDate=${at}`, { key: rootKey }));
        assert.ok(same.items.some((a: any) => a._id === one._id), 'startDate and endDate are inclusive');
        assert.ok(same.items.every((a: any) => a.timestamp === one.timestamp));
        const later = encodeURIComponent(new Date(Date.parse(one.timestamp) + 1).toISOString());
        assert.ok(!ok(await s.call('GET', `${GOV}/audit?entityType=policy&startDate=${later}&endDate=${later}`, { key: rootKey })).items.some((a: any) => a._id === one._id));

        refused(await s.call('GET', `${GOV}/audit?limit=501`, { key: rootKey }), 400, 'VALIDATION_FAILED', 'limit');
        refused(await s.call('GET', `${GOV}/audit?startDate=yesterday`, { key: rootKey }), 400, 'VALIDATION_FAILED', 'startDate');
        refused(await s.call('GET', `${GOV}/audit?sort=hash:asc`, { key: rootKey }), 400, 'VALIDATION_FAILED', 'sort');
        const denied = await s.call('GET', `${GOV}/audit?entityType=policy`, { key: benKey });
        refused(denied, 403, 'FORBIDDEN');
        assert.equal(denied.body.error.message, 'Admin role required');
      });

      it('a checklist answer the schema does not allow is named', async () => {
        const strict = await createPolicy(s, {
          name: 'Strict Checklist', description: 'only the listed answers', category: 'quality', severity: 'low', applicableResourceTypes: ['abTest'],
          stages: [{ id: 'list', name: 'Checklist', gates: [{ id: 'gate_list', type: 'checklist', schema: { type: 'object', properties: { ok: { type: 'boolean' } }, additionalProperties: false } }] }],
          isActive: true, isDraft: false,
        }, rootKey);
        const sol = await createSolution(s, 'Button Colour Test', [{ type: 'abTest', id: 'ab-1' }], devKey);
        refused(await submit(s, sol, 'gate_list', strict, { answers: { ok: true, sneaky: 'yes' } }, devKey), 400, 'VALIDATION_FAILED', 'data.answers.sneaky');
      });

      it('a field of the wrong type is called wrong, not missing', async () => {
        const r = await s.call('POST', `${GOV}/policies`, { body: { ...productionGate('alice@example.com'), isActive: 'yes' }, key: rootKey });
        refused(r, 400, 'VALIDATION_FAILED', 'isActive');
        assert.doesNotMatch(r.body.error.message, /is required/);
      });

      it('a policy change moves the stored status of the solutions it applies to', async () => {
        const promptBot = await createSolution(s, 'Prompt Library', [{ type: 'prompt', id: 'prompt-faq' }], devKey);
        assert.equal(await solutionStatus(s, promptBot), 'approved');
        const review = await createPolicy(s, oneGate('Prompt Review', ['prompt'], {}, { isActive: false }), rootKey);
        ok(await s.call('PUT', `${GOV}/policies/${review}`, { body: { isActive: true }, key: rootKey }));
        assert.equal((await check(s, 'prompt-faq', 'prompt')).allowed, false);
        // The document, the list and the metrics say what the check says.
        assert.equal(await solutionStatus(s, promptBot), 'draft');
        assert.ok(!ok(await s.call('GET', `${GOV}/solutions?status=approved`)).items.some((x: any) => x._id === promptBot));
        ok(await s.call('DELETE', `${GOV}/policies/${review}`, { key: rootKey }), 204);
        assert.equal(await solutionStatus(s, promptBot), 'approved');
      });

      it('audit: a person’s policy change is recorded under their user id, as createdBy names them', async () => {
        const mine = ok(await s.call('GET', `${GOV}/audit?entityType=policy&action=create&userId=${root}`, { key: rootKey }));
        assert.ok(mine.items.some((a: any) => a.entityId === prod), JSON.stringify(mine.items.map((a: any) => [a.entityId, a.userId])));
      });
    });
  });

  describe('durability: a worker killed mid-review, and a review nobody answers', () => {
    let d: Stack;
    let workerB: ChildProcess | undefined;
    let ann: string, ben: string;
    let devKey: string, benKey: string, annKey: string;

    before(async () => {
      // Workflows run only on worker processes spawned below, as in production.
      d = await startStack({ temporal, env: env(), withWorker: false });
      ann = await addUser(d, 'ann@example.com', ['approver'], 'Ann');
      ben = await addUser(d, 'ben@example.com', ['approver'], 'Ben');
      await addUser(d, 'root@example.com', ['admin'], 'Root');
      const dev = await addUser(d, 'dev@example.com', [], 'Dev');
      [devKey, benKey, annKey] = await Promise.all([dev, ben, ann].map((id) => personKey(d, id)));
    });
    after(async () => {
      await stopProcess(workerB, 'SIGTERM');
      await d?.close();
    });

    it('SIGKILL of the worker mid-review loses nothing: a second worker takes over, the review completes, mail is not sent twice', async () => {
      const pol = await createPolicy(d, oneGate('Two Reviewers', ['project'], { approvers: ['ann@example.com', 'ben@example.com'], quorum: 2, timeoutSeconds: 600 }));
      const sol = await createSolution(d, 'Data Platform', [{ type: 'project', id: 'proj-data' }], devKey);
      const workerA = await spawnWorker(d, temporal, smtp.url);
      try {
        const id = ok(await submit(d, sol, 'gate_review', pol, { change: 'new cluster' }, devKey))._id as string;
        const annMail = await smtp.waitFor((m) => m.to === 'ann@example.com' && m.text.includes(id), 30_000);
        const benMail = await smtp.waitFor((m) => m.to === 'ben@example.com' && m.text.includes(id));
        assert.equal((await postForm(linkIn(annMail.text), { decision: 'approve' })).status, 200);
        assert.equal((await getSub(d, id)).status, 'in_review', 'one approval of two is not enough');

        // The worker dies without a chance to clean up; another one replays the workflow's history.
        await stopProcess(workerA, 'SIGKILL');
        workerB = await spawnWorker(d, temporal, smtp.url);
        const state = await d.workflows.state(`gate-${id}`);
        assert.deepEqual(state.approvals.map((v) => v.approverId), [ann]);
        assert.equal(ok(await pendingFor(d, benKey)).items.some((i: any) => i._id === id), true);

        assert.equal((await postForm(linkIn(benMail.text), { decision: 'approve' })).status, 200);
        const done = await settled(d, id, 30_000);
        assert.equal(done.status, 'approved');
        assert.deepEqual(done.reviews.map((r: any) => r.by).sort(), [ann, ben].sort());
        assert.equal(await solutionStatus(d, sol), 'approved');
        // Each reviewer was mailed once, by whichever worker, and the new worker sent nothing again.
        assert.equal(mailsAbout('ann@example.com', id).length, 1);
        assert.equal(mailsAbout('ben@example.com', id).length, 1);
        const [{ n }] = await d.core.ds.query(`SELECT count(*)::int AS n FROM email_messages WHERE "idempotencyKey" LIKE $1`, [`gate-${id}:%`]);
        assert.equal(n, 2);
        const decided = await d.core.ds.query(`SELECT count(*)::int AS n FROM audit_records WHERE "entityId" = $1 AND action = 'gate_submission.decided'`, [id]);
        assert.equal(decided[0].n, 1, 'the end is recorded once');
      } finally {
        await stopProcess(workerA, 'SIGKILL');
      }
    });

    it('a review nobody answers (2 s, escalated, 2 s) ends expired: the gate is not approved and the solution is blocked', async () => {
      const pol = await createPolicy(d, oneGate('Quick Review', ['volume'], { approvers: ['ann@example.com'], timeoutSeconds: 2, escalation: { timeoutSeconds: 2 } }));
      const sol = await createSolution(d, 'Shared Volume', [{ type: 'volume', id: 'vol-shared' }], devKey);
      const id = ok(await submit(d, sol, 'gate_review', pol, {}, devKey))._id as string;
      const done = await settled(d, id, 30_000);
      assert.equal(done.status, 'expired');
      assert.deepEqual(done.reviews, []);
      assert.deepEqual(done.conditions, []);
      assert.equal((await gateReq(d, sol, pol, 'gate_review')).status, 'expired');
      assert.equal(await solutionStatus(d, sol), 'blocked');
      const c = await check(d, 'vol-shared', 'volume');
      assert.equal(c.allowed, false);
      assert.deepEqual(c.blocking.map((b: any) => [b.gateId, b.status]), [['gate_review', 'expired']]);
      // Ann was asked, then the admins on escalation; nobody can still decide it.
      assert.ok(mailsAbout('ann@example.com', id).length >= 1);
      await smtp.waitFor((m) => m.to === 'root@example.com' && m.text.includes(id) && /escalated/.test(m.text));
      refused(await review(d, id, annKey, 'approved'), 409, 'NOT_PENDING');
      const m = ok(await d.call('GET', `${GOV}/metrics`));
      assert.equal(m.gates.byStatus.expired, 1);
      assert.equal(m.solutions.byStatus.blocked, 1);
    });
  });
});

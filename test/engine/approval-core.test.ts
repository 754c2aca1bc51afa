import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDecision, applyTimeout, applyWaive, applyWithdraw, checkDecision, checkWaive, finalOutcome, initialState, reminderOffsets, tierDeadline } from '../../engine/approval';
import type { ApprovalPlan, ApprovalState, VoteRequest } from '../../engine/approval';

// The plan of the engine's own test: 'agent' proposes and (to prove the proposer check
// wins over the list) is also listed as a tier-1 approver; 'dana' and 'mallory' are nobody's approvers.
const plan = (quorum = 1, over: Partial<ApprovalPlan> = {}): ApprovalPlan => ({
  tiers: [
    { approvers: ['ann', 'ben', 'agent'], quorum, timeoutSeconds: 60, label: 'team' },
    { approvers: ['boss'], quorum: 1, timeoutSeconds: 120, label: 'managers' },
    { approvers: ['cfo'], quorum: 1, timeoutSeconds: 300, label: 'executives' },
  ],
  startTier: 1,
  proposerId: 'agent',
  denyEndsIt: true,
  ...over,
});
const gates = (quorum = 1) => plan(quorum, { allowConditional: true });
const t0 = '2026-11-23T12:00:00.000Z';
const t1 = '2026-11-23T12:01:00.000Z';
const t2 = '2026-11-23T12:03:00.000Z';
const at = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

/** Applies votes in order, each at t1. */
const run = (pl: ApprovalPlan, votes: VoteRequest[], from = initialState(pl, t0)): ApprovalState => votes.reduce((s, v) => applyDecision(pl, s, { ...v, atIso: t1 }), from);

describe('approval core: conditional approvals', () => {
  it('refuses a conditional vote unless the plan allows it, and one without conditions', () => {
    const table: { name: string; pl: ApprovalPlan; v: VoteRequest; code: string | null }[] = [
      { name: 'plan without allowConditional', pl: plan(), v: { approverId: 'ann', decision: 'conditional', conditions: ['only on weekdays'] }, code: 'CONDITIONAL_NOT_ALLOWED' },
      { name: 'allowConditional: false', pl: plan(1, { allowConditional: false }), v: { approverId: 'ann', decision: 'conditional', conditions: ['x'] }, code: 'CONDITIONAL_NOT_ALLOWED' },
      { name: 'no conditions', pl: gates(), v: { approverId: 'ann', decision: 'conditional' }, code: 'CONDITIONS_REQUIRED' },
      { name: 'empty list', pl: gates(), v: { approverId: 'ann', decision: 'conditional', conditions: [] }, code: 'CONDITIONS_REQUIRED' },
      { name: 'only blanks', pl: gates(), v: { approverId: 'ann', decision: 'conditional', conditions: ['', '   '] }, code: 'CONDITIONS_REQUIRED' },
      { name: 'the proposer, with conditions', pl: gates(), v: { approverId: 'agent', decision: 'conditional', conditions: ['x'] }, code: 'SELF_APPROVAL' },
      { name: 'an outsider, with conditions', pl: gates(), v: { approverId: 'mallory', decision: 'conditional', conditions: ['x'] }, code: 'NOT_AN_APPROVER' },
      { name: 'an approver, with conditions', pl: gates(), v: { approverId: 'ann', decision: 'conditional', conditions: ['x'] }, code: null },
      { name: 'a plain approve on a gate plan', pl: gates(), v: { approverId: 'ann', decision: 'approve' }, code: null },
    ];
    for (const c of table) {
      const s = initialState(c.pl, t0);
      assert.equal(checkDecision(c.pl, s, c.v)?.code ?? null, c.code, c.name);
      if (c.code) assert.throws(() => applyDecision(c.pl, s, { ...c.v, atIso: t1 }), new RegExp(`^Error: ${c.code}:`), c.name);
    }
  });

  it('a conditional vote reaching the quorum ends CONDITIONAL, which allows; conditions are trimmed', () => {
    const s = run(gates(), [{ approverId: 'ann', decision: 'conditional', conditions: ['  after 18:00 ', '', 'with a rollback plan'] }]);
    assert.equal(s.status, 'CONDITIONAL');
    assert.equal(s.reason, 'QUORUM_REACHED');
    assert.equal(s.endedAt, t1);
    assert.deepEqual(s.conditions, ['after 18:00', 'with a rollback plan']);
    assert.deepEqual(s.approvals, [{ approverId: 'ann', tier: 1, at: t1, conditions: ['after 18:00', 'with a rollback plan'] }]);
    assert.deepEqual(s.history.at(-1), { at: t1, event: 'CONDITIONAL_BY', by: 'ann', tier: 1, detail: 'conditions: after 18:00; with a rollback plan' });
    assert.equal(finalOutcome(s), 'ALLOW');
  });

  it('conditions accumulate across votes; any conditional vote makes the end CONDITIONAL', () => {
    const table: { name: string; votes: VoteRequest[]; status: string; conditions: string[] | undefined }[] = [
      { name: 'two conditional', votes: [{ approverId: 'ann', decision: 'conditional', conditions: ['a'] }, { approverId: 'ben', decision: 'conditional', conditions: ['b', 'c'] }], status: 'CONDITIONAL', conditions: ['a', 'b', 'c'] },
      { name: 'conditional then plain', votes: [{ approverId: 'ann', decision: 'conditional', conditions: ['a'] }, { approverId: 'ben', decision: 'approve' }], status: 'CONDITIONAL', conditions: ['a'] },
      { name: 'plain then conditional', votes: [{ approverId: 'ann', decision: 'approve' }, { approverId: 'ben', decision: 'conditional', conditions: ['b'] }], status: 'CONDITIONAL', conditions: ['b'] },
      { name: 'two plain', votes: [{ approverId: 'ann', decision: 'approve' }, { approverId: 'ben', decision: 'approve' }], status: 'APPROVED', conditions: undefined },
      // Conditions ride only on a conditional vote: a plain approve carrying some records none.
      { name: 'plain approves carrying conditions', votes: [{ approverId: 'ann', decision: 'approve', conditions: ['ignored'] }, { approverId: 'ben', decision: 'approve' }], status: 'APPROVED', conditions: undefined },
    ];
    for (const c of table) {
      const first = run(gates(2), c.votes.slice(0, 1));
      assert.equal(first.status, 'PENDING', `${c.name}: one of two`);
      const s = run(gates(2), c.votes.slice(1), first);
      assert.equal(s.status, c.status, c.name);
      assert.deepEqual(s.conditions, c.conditions, c.name);
      assert.equal(finalOutcome(s), 'ALLOW', c.name);
    }
    // Conditions are kept while still pending, so the next voter's result carries them all.
    assert.deepEqual(run(gates(3), [{ approverId: 'ann', decision: 'conditional', conditions: ['a'] }]).conditions, ['a']);
  });

  it('a deny still ends it as DENY, whatever conditions came before', () => {
    const s = run(gates(2), [{ approverId: 'ann', decision: 'conditional', conditions: ['a'] }, { approverId: 'ben', decision: 'deny' }]);
    assert.equal(s.status, 'DENIED');
    assert.equal(finalOutcome(s), 'DENY');
  });

  // The validator (checkDecision) and the handler (applyDecision) must agree: a handler that throws
  // after its validator passed fails the workflow task. Non-string conditions are dropped, not trimmed.
  it('whatever checkDecision accepts, applyDecision applies without throwing', () => {
    const v = { approverId: 'ann', decision: 'conditional' as const, conditions: ['ok', 5 as unknown as string] };
    const s = initialState(gates(), t0);
    assert.equal(checkDecision(gates(), s, v), null);
    assert.doesNotThrow(() => applyDecision(gates(), s, { ...v, atIso: t1 }));
  });
});

describe('approval core: delegation (onBehalfOf)', () => {
  it('a delegate’s vote counts for the absent approver', () => {
    const s = run(plan(), [{ approverId: 'dana', onBehalfOf: 'ann', decision: 'approve' }]);
    assert.equal(s.status, 'APPROVED');
    assert.deepEqual(s.approvals, [{ approverId: 'dana', tier: 1, at: t1, onBehalfOf: 'ann' }]);
    assert.deepEqual(s.decidedBy, ['dana']);
    assert.deepEqual(s.history.at(-1), { at: t1, event: 'APPROVED_BY', by: 'dana', tier: 1, detail: 'for ann' });
    assert.equal(finalOutcome(s), 'ALLOW');
    const denied = run(plan(), [{ approverId: 'dana', onBehalfOf: 'ann', decision: 'deny' }]);
    assert.equal(denied.status, 'DENIED');
    assert.deepEqual(denied.denials[0], { approverId: 'dana', tier: 1, at: t1, onBehalfOf: 'ann' });
  });

  it('counts once per approver stood for: quorum 2 needs two distinct absent-or-present approvers', () => {
    const pl = plan(2);
    let s = run(pl, [{ approverId: 'dana', onBehalfOf: 'ann', decision: 'approve' }]);
    assert.equal(s.status, 'PENDING');
    s = run(pl, [{ approverId: 'ben', decision: 'approve' }], s);
    assert.equal(s.status, 'APPROVED');
    assert.deepEqual(s.decidedBy, ['dana', 'ben']);
  });

  it('refuses a delegate voting twice, or for someone who already voted, and the absent approver after their delegate', () => {
    const pl = plan(3);
    const afterDana = run(pl, [{ approverId: 'dana', onBehalfOf: 'ann', decision: 'approve' }]);
    const afterBen = run(pl, [{ approverId: 'ben', decision: 'approve' }]);
    const table: { name: string; s: ApprovalState; v: VoteRequest; code: string | null }[] = [
      { name: 'the delegate again, for the same approver', s: afterDana, v: { approverId: 'dana', onBehalfOf: 'ann', decision: 'approve' }, code: 'ALREADY_DECIDED' },
      { name: 'the delegate again, for another approver', s: afterDana, v: { approverId: 'dana', onBehalfOf: 'ben', decision: 'approve' }, code: 'ALREADY_DECIDED' },
      { name: 'the delegate again, as a deny', s: afterDana, v: { approverId: 'dana', onBehalfOf: 'ann', decision: 'deny' }, code: 'ALREADY_DECIDED' },
      { name: 'the absent approver after their delegate', s: afterDana, v: { approverId: 'ann', decision: 'approve' }, code: 'ALREADY_DECIDED' },
      { name: 'another delegate for the same approver', s: afterDana, v: { approverId: 'dora', onBehalfOf: 'ann', decision: 'approve' }, code: 'ALREADY_DECIDED' },
      { name: 'a delegate for someone who voted themselves', s: afterBen, v: { approverId: 'dana', onBehalfOf: 'ben', decision: 'approve' }, code: 'ALREADY_DECIDED' },
      { name: 'a delegate for someone who has not voted', s: afterBen, v: { approverId: 'dana', onBehalfOf: 'ann', decision: 'approve' }, code: null },
      { name: 'another approver after a delegate', s: afterDana, v: { approverId: 'ben', decision: 'approve' }, code: null },
    ];
    for (const c of table) assert.equal(checkDecision(pl, c.s, c.v)?.code ?? null, c.code, c.name);
    assert.throws(() => run(pl, [{ approverId: 'dana', onBehalfOf: 'ben', decision: 'approve' }], afterDana), /^Error: ALREADY_DECIDED/);
  });

  it('the proposer never decides, not even as a delegate; nobody decides as the proposer’s delegate', () => {
    const s = initialState(plan(), t0);
    const table: { name: string; v: VoteRequest }[] = [
      { name: 'proposer as delegate of an approver', v: { approverId: 'agent', onBehalfOf: 'ann', decision: 'approve' } },
      { name: 'proposer as delegate, deny', v: { approverId: 'agent', onBehalfOf: 'ann', decision: 'deny' } },
      { name: 'proposer as delegate, admin', v: { approverId: 'agent', onBehalfOf: 'ann', decision: 'approve', isAdmin: true } },
      { name: 'a delegate standing in for the proposer', v: { approverId: 'dana', onBehalfOf: 'agent', decision: 'approve' } },
    ];
    for (const c of table) {
      assert.equal(checkDecision(plan(), s, c.v)?.code, 'SELF_APPROVAL', c.name);
      assert.throws(() => applyDecision(plan(), s, { ...c.v, atIso: t1 }), /^Error: SELF_APPROVAL/, c.name);
    }
  });

  it('a delegate for someone not eligible at this tier is NOT_AN_APPROVER, until escalation makes them eligible', () => {
    const pl = plan();
    const s = initialState(pl, t0);
    const table: { name: string; v: VoteRequest; code: string | null }[] = [
      { name: 'for a stranger', v: { approverId: 'dana', onBehalfOf: 'mallory', decision: 'approve' }, code: 'NOT_AN_APPROVER' },
      { name: 'for a tier-2 approver at tier 1', v: { approverId: 'dana', onBehalfOf: 'boss', decision: 'approve' }, code: 'NOT_AN_APPROVER' },
      // The delegate's own eligibility does not lend itself: the vote counts for the person named.
      { name: 'an approver as delegate of a stranger', v: { approverId: 'ann', onBehalfOf: 'mallory', decision: 'approve' }, code: 'NOT_AN_APPROVER' },
      { name: 'for an eligible approver', v: { approverId: 'dana', onBehalfOf: 'ben', decision: 'approve' }, code: null },
    ];
    for (const c of table) assert.equal(checkDecision(pl, s, c.v)?.code ?? null, c.code, c.name);
    const escalated = applyTimeout(pl, s, t1);
    assert.equal(checkDecision(pl, escalated, { approverId: 'dana', onBehalfOf: 'boss', decision: 'approve' }), null, 'boss is eligible at tier 2');
    assert.equal(checkDecision(pl, escalated, { approverId: 'dana', onBehalfOf: 'cfo', decision: 'approve' })?.code, 'NOT_AN_APPROVER');
  });
});

describe('approval core: reminders and deadlines', () => {
  const timed = (timeoutSeconds: number[], remindBeforeSeconds?: number[]): ApprovalPlan => ({
    tiers: timeoutSeconds.map((t, i) => ({ approvers: [`a${i}`], quorum: 1, timeoutSeconds: t })),
    startTier: 1,
    proposerId: 'agent',
    denyEndsIt: true,
    ...(remindBeforeSeconds ? { remindBeforeSeconds } : {}),
  });

  it('reminderOffsets: halfway and 10 minutes before by default, each only inside the tier; custom lists; [] none', () => {
    const table: { name: string; pl: ApprovalPlan; tier: number; want: number[] }[] = [
      { name: 'an hour: halfway, then 10 minutes before', pl: timed([3600]), tier: 1, want: [1800, 3000] },
      { name: 'a day', pl: timed([86_400]), tier: 1, want: [43_200, 85_800] },
      // Halfway and 10 minutes before fall on the same second: one reminder, not two.
      { name: '20 minutes: both at 10 minutes', pl: timed([1200]), tier: 1, want: [600] },
      { name: '15 minutes: the 10-minute one after halfway', pl: timed([900]), tier: 1, want: [300, 450] },
      { name: 'exactly 10 minutes: the 10-minute one would be at the start, dropped', pl: timed([600]), tier: 1, want: [300] },
      { name: '5 minutes: no 10-minute one', pl: timed([300]), tier: 1, want: [150] },
      { name: '4 seconds', pl: timed([4]), tier: 1, want: [2] },
      { name: '3 seconds: halfway rounds down', pl: timed([3]), tier: 1, want: [2] },
      { name: '1 second: nothing fits', pl: timed([1]), tier: 1, want: [] },
      { name: 'per tier: the second tier’s own timeout', pl: timed([60, 3600]), tier: 2, want: [1800, 3000] },
      { name: 'a tier that does not exist', pl: timed([60]), tier: 2, want: [] },
      { name: 'custom: one 5 minutes before', pl: timed([3600], [300]), tier: 1, want: [3300] },
      { name: 'custom: sorted, distinct, only inside the tier', pl: timed([3600], [60, 300, 300, 0, -5, 3600, 5000, Number.NaN, Number.POSITIVE_INFINITY]), tier: 1, want: [3300, 3540] },
      { name: 'custom replaces the defaults (no halfway)', pl: timed([3600], [900]), tier: 1, want: [2700] },
      { name: 'custom applies per tier, dropped where it does not fit', pl: timed([3600, 120], [900, 60]), tier: 2, want: [60] },
      { name: '[]: none', pl: timed([3600], []), tier: 1, want: [] },
    ];
    for (const c of table) assert.deepEqual(reminderOffsets(c.pl, c.tier), c.want, c.name);
  });

  it('tierDeadline follows the current tier: start + its timeout, re-based at each escalation; votes do not move it', () => {
    const pl = plan(2);
    let s = initialState(pl, t0);
    assert.equal(tierDeadline(pl, s), at(t0, 60));
    s = applyDecision(pl, s, { approverId: 'ann', decision: 'approve', atIso: t0 });
    assert.equal(tierDeadline(pl, s), at(t0, 60), 'a vote that does not end it leaves the deadline');
    s = applyTimeout(pl, s, t1);
    assert.equal(s.tier, 2);
    assert.equal(tierDeadline(pl, s), at(t1, 120), 'tier 2 counts from its escalation, with its own timeout');
    s = applyTimeout(pl, s, t2);
    assert.equal(tierDeadline(pl, s), at(t2, 300));
    assert.equal(tierDeadline(plan(1, { startTier: 2 }), initialState(plan(1, { startTier: 2 }), t0)), at(t0, 120), 'ESCALATE starts at tier 2 with its timeout');
    assert.equal(tierDeadline({ ...pl, tiers: [] }, initialState({ ...pl, tiers: [] }, t0)), null, 'no tier, no deadline');
  });
});

describe('approval core: waivers', () => {
  it('checkWaive refuses the proposer even with a reason; others need one; nothing once ended', () => {
    const pl = plan();
    const s = initialState(pl, t0);
    const ended = applyWithdraw(pl, s, { by: 'agent', atIso: t1 });
    const table: { name: string; s: ApprovalState; w: { by: string; reason: string }; code: string | null }[] = [
      { name: 'the proposer with a reason', s, w: { by: 'agent', reason: 'change ticket CHG-1, urgent' }, code: 'SELF_APPROVAL' },
      { name: 'another admin with a reason', s, w: { by: 'root', reason: 'change ticket CHG-1' }, code: null },
      { name: 'an approver with a reason (admin is the caller’s check)', s, w: { by: 'ann', reason: 'ok' }, code: null },
      { name: 'another admin, blank reason', s, w: { by: 'root', reason: '  ' }, code: 'REASON_REQUIRED' },
      { name: 'a reason that is not a string', s, w: { by: 'root', reason: undefined as unknown as string }, code: 'REASON_REQUIRED' },
      { name: 'ended', s: ended, w: { by: 'root', reason: 'late' }, code: 'NOT_PENDING' },
    ];
    for (const c of table) assert.equal(checkWaive(pl, c.s, c.w)?.code ?? null, c.code, c.name);
    assert.throws(() => applyWaive(pl, s, { by: 'agent', atIso: t1, reason: 'mine, and urgent' }), /^Error: SELF_APPROVAL/);
    assert.equal(applyWaive(pl, ended, { by: 'root', atIso: t2, reason: 'late' }), ended, 'a late waiver changes nothing');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDecision, applyTimeout, applyWaive, applyWithdraw, checkDecision, checkWaive, checkWithdraw, eligibleApprovers, finalOutcome, initialState } from '../../engine/approval';
import type { ApprovalPlan, ApprovalState } from '../../engine/approval';

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
const t0 = '2026-11-23T12:00:00.000Z';
const t1 = '2026-11-23T12:01:00.000Z';
const t2 = '2026-11-23T12:03:00.000Z';
const t3 = '2026-11-23T12:08:00.000Z';
const approve = (pl: ApprovalPlan, s: ApprovalState, approverId: string, at = t1, extra: { isAdmin?: boolean; comment?: string } = {}) => applyDecision(pl, s, { approverId, decision: 'approve', atIso: at, ...extra });
const deny = (pl: ApprovalPlan, s: ApprovalState, approverId: string, at = t1) => applyDecision(pl, s, { approverId, decision: 'deny', atIso: at });

describe('approval state machine', () => {
  it('starts pending at the plan’s start tier, clamped to the tiers there are', () => {
    assert.deepEqual(initialState(plan(), t0), { status: 'PENDING', tier: 1, approvals: [], denials: [], decidedBy: [], history: [{ at: t0, event: 'STARTED', tier: 1 }] });
    assert.equal(initialState(plan(1, { startTier: 2 }), t0).tier, 2);
    assert.equal(initialState(plan(1, { startTier: 9 }), t0).tier, 3);
    assert.equal(initialState(plan(1, { startTier: 0 }), t0).tier, 1);
    assert.equal(initialState({ ...plan(), tiers: [] }, t0).tier, 1);
  });

  it('one approval reaches a quorum of 1', () => {
    const s = approve(plan(), initialState(plan(), t0), 'ann', t1, { comment: 'fine' });
    assert.equal(s.status, 'APPROVED');
    assert.equal(s.endedAt, t1);
    assert.equal(s.reason, 'QUORUM_REACHED');
    assert.deepEqual(s.approvals, [{ approverId: 'ann', tier: 1, at: t1, comment: 'fine' }]);
    assert.deepEqual(s.history.at(-1), { at: t1, event: 'APPROVED_BY', by: 'ann', tier: 1, detail: 'fine' });
    assert.equal(finalOutcome(s), 'ALLOW');
  });

  it('needs a quorum of distinct approvers', () => {
    const pl = plan(2);
    let s = approve(pl, initialState(pl, t0), 'ann');
    assert.equal(s.status, 'PENDING');
    assert.equal(finalOutcome(s), null);
    assert.deepEqual(checkDecision(pl, s, { approverId: 'ann', decision: 'approve' }), { code: 'ALREADY_DECIDED', message: 'you have already decided on this action' });
    assert.throws(() => approve(pl, s, 'ann'), /^Error: ALREADY_DECIDED/);
    s = approve(pl, s, 'ben', t2);
    assert.equal(s.status, 'APPROVED');
    assert.equal(s.endedAt, t2);
    assert.deepEqual(s.decidedBy, ['ann', 'ben']);
  });

  it('refuses self-approval even when the proposer is listed, or is an admin; refuses outsiders', () => {
    const s = initialState(plan(), t0);
    assert.equal(checkDecision(plan(), s, { approverId: 'agent', decision: 'approve' })?.code, 'SELF_APPROVAL');
    assert.equal(checkDecision(plan(), s, { approverId: 'agent', decision: 'approve', isAdmin: true })?.code, 'SELF_APPROVAL');
    assert.equal(checkDecision(plan(), s, { approverId: 'agent', decision: 'deny' })?.code, 'SELF_APPROVAL');
    assert.equal(checkDecision(plan(), s, { approverId: 'mallory', decision: 'approve' })?.code, 'NOT_AN_APPROVER');
    assert.equal(checkDecision(plan(), s, { approverId: 'boss', decision: 'approve' })?.code, 'NOT_AN_APPROVER', 'tier 2 is not asked yet');
    assert.equal(checkDecision(plan(), s, { approverId: 'boss', decision: 'approve', isAdmin: true }), null, 'an admin may decide at any tier');
    assert.throws(() => approve(plan(), s, 'agent'), /^Error: SELF_APPROVAL/);
  });

  it('an admin’s approval counts toward the quorum', () => {
    const pl = plan(2);
    const s = approve(pl, approve(pl, initialState(pl, t0), 'ann'), 'root', t2, { isAdmin: true });
    assert.equal(s.status, 'APPROVED');
    assert.deepEqual(s.decidedBy, ['ann', 'root']);
  });

  it('a deny ends it as DENY', () => {
    const pl = plan(2);
    const s = deny(pl, approve(pl, initialState(pl, t0), 'ann'), 'ben', t2);
    assert.equal(s.status, 'DENIED');
    assert.equal(s.reason, 'DENIED_BY_APPROVER');
    assert.equal(s.endedAt, t2);
    assert.deepEqual(s.denials, [{ approverId: 'ben', tier: 1, at: t2 }]);
    assert.equal(finalOutcome(s), 'DENY');
    assert.equal(checkDecision(pl, s, { approverId: 'ann', decision: 'approve' })?.code, 'NOT_PENDING');
    assert.throws(() => approve(pl, s, 'boss', t3, { isAdmin: true }), /^Error: NOT_PENDING/);
  });

  it('when the plan says so, a deny is only recorded and approvals can still win', () => {
    const pl = plan(2, { denyEndsIt: false });
    let s = deny(pl, initialState(pl, t0), 'ann');
    assert.equal(s.status, 'PENDING');
    assert.equal(s.denials.length, 1);
    assert.equal(checkDecision(pl, s, { approverId: 'ann', decision: 'approve' })?.code, 'ALREADY_DECIDED', 'a denier cannot turn around');
    s = approve(pl, s, 'ben');
    assert.equal(s.status, 'PENDING');
    s = approve(pl, s, 'root', t2, { isAdmin: true });
    assert.equal(s.status, 'APPROVED');
  });

  it('timeouts escalate tier by tier, widening who may decide, then expire as DENY', () => {
    const pl = plan();
    let s = initialState(pl, t0);
    assert.deepEqual([...eligibleApprovers(pl, s)].sort(), ['agent', 'ann', 'ben']);
    s = applyTimeout(pl, s, t1);
    assert.equal(s.tier, 2);
    assert.equal(s.status, 'PENDING');
    assert.deepEqual(s.history.at(-1), { at: t1, event: 'ESCALATED', tier: 2 });
    assert.deepEqual([...eligibleApprovers(pl, s)].sort(), ['agent', 'ann', 'ben', 'boss']);
    assert.equal(checkDecision(pl, s, { approverId: 'ann', decision: 'approve' }), null, 'tier 1 may still decide');
    assert.equal(checkDecision(pl, s, { approverId: 'cfo', decision: 'approve' })?.code, 'NOT_AN_APPROVER');
    s = applyTimeout(pl, s, t2);
    assert.equal(s.tier, 3);
    assert.deepEqual([...eligibleApprovers(pl, s)].sort(), ['agent', 'ann', 'ben', 'boss', 'cfo']);
    s = applyTimeout(pl, s, t3);
    assert.equal(s.status, 'EXPIRED');
    assert.equal(s.reason, 'APPROVAL_EXPIRED');
    assert.equal(s.endedAt, t3);
    assert.deepEqual(s.history.map((h) => h.event), ['STARTED', 'ESCALATED', 'ESCALATED', 'EXPIRED']);
    assert.equal(finalOutcome(s), 'DENY');
    assert.equal(applyTimeout(pl, s, t3), s, 'a late timer changes nothing');
  });

  it('an escalated approval uses the current tier’s quorum', () => {
    const pl: ApprovalPlan = { ...plan(1), tiers: [{ approvers: ['ann'], quorum: 1, timeoutSeconds: 60 }, { approvers: ['boss', 'cfo'], quorum: 2, timeoutSeconds: 60 }] };
    let s = applyTimeout(pl, initialState(pl, t0), t1);
    s = approve(pl, s, 'boss', t2);
    assert.equal(s.status, 'PENDING', 'one of two at tier 2');
    s = approve(pl, s, 'ann', t3);
    assert.equal(s.status, 'APPROVED', 'tier 1’s approver still counts once escalated');
  });

  it('withdrawal by the proposer only', () => {
    const pl = plan();
    const s = initialState(pl, t0);
    assert.equal(checkWithdraw(pl, s, { by: 'ann' })?.code, 'NOT_PROPOSER');
    assert.throws(() => applyWithdraw(pl, s, { by: 'ann', atIso: t1 }), /^Error: NOT_PROPOSER/);
    const w = applyWithdraw(pl, s, { by: 'agent', atIso: t1, reason: 'no longer needed' });
    assert.equal(w.status, 'WITHDRAWN');
    assert.equal(w.endedAt, t1);
    assert.deepEqual(w.history.at(-1), { at: t1, event: 'WITHDRAWN', by: 'agent', tier: 1, detail: 'no longer needed' });
    assert.equal(finalOutcome(w), 'DENY');
    assert.equal(applyWithdraw(pl, w, { by: 'agent', atIso: t2 }), w, 'a late withdrawal changes nothing');
  });

  it('a waiver needs a reason and is not the proposer’s', () => {
    const pl = plan();
    const s = initialState(pl, t0);
    assert.equal(checkWaive(pl, s, { by: 'root', reason: ' ' })?.code, 'REASON_REQUIRED');
    assert.throws(() => applyWaive(pl, s, { by: 'root', atIso: t1, reason: '' }), /^Error: REASON_REQUIRED/);
    assert.throws(() => applyWaive(pl, s, { by: 'agent', atIso: t1, reason: 'mine' }), /^Error: SELF_APPROVAL/);
    const w = applyWaive(pl, s, { by: 'root', atIso: t1, reason: 'compensating control' });
    assert.equal(w.status, 'WAIVED');
    assert.deepEqual(w.decidedBy, ['root']);
    assert.deepEqual(w.history.at(-1), { at: t1, event: 'WAIVED', by: 'root', tier: 1, detail: 'compensating control' });
    assert.equal(finalOutcome(w), 'ALLOW');
    assert.equal(finalOutcome(s), null);
  });

  it('ends fail-closed: only APPROVED and WAIVED allow', () => {
    const base = initialState(plan(), t0);
    const table: [ApprovalState['status'], 'ALLOW' | 'DENY' | null][] = [
      ['PENDING', null],
      ['APPROVED', 'ALLOW'],
      ['WAIVED', 'ALLOW'],
      ['DENIED', 'DENY'],
      ['EXPIRED', 'DENY'],
      ['WITHDRAWN', 'DENY'],
    ];
    for (const [status, want] of table) assert.equal(finalOutcome({ ...base, status }), want, status);
  });

  it('never mutates its inputs', () => {
    const pl = plan(2);
    const frozenPlan = JSON.stringify(pl);
    const s = approve(pl, initialState(pl, t0), 'ann');
    const frozen = JSON.stringify(s);
    approve(pl, s, 'ben');
    deny(pl, s, 'ben');
    applyTimeout(pl, s, t2);
    applyWithdraw(pl, s, { by: 'agent', atIso: t2 });
    applyWaive(pl, s, { by: 'root', atIso: t2, reason: 'ok' });
    assert.equal(JSON.stringify(s), frozen);
    assert.equal(JSON.stringify(pl), frozenPlan);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDecision, applyTimeout, applyWaive, applyWithdraw, checkDecision, eligibleApprovers, finalOutcome, initialState } from '../../engine/approval';
import type { ApprovalPlan } from '../../engine/approval';

const plan = (quorum = 1, over: Partial<ApprovalPlan> = {}): ApprovalPlan => ({
  tiers: [{ approvers: ['ann', 'ben', 'agent'], quorum, timeoutSeconds: 60 }, { approvers: ['boss'], quorum: 1, timeoutSeconds: 60 }],
  startTier: 1,
  proposerId: 'agent',
  denyEndsIt: true,
  ...over,
});
const at = '2026-11-23T12:00:00Z';

describe('approval state machine', () => {
  it('needs a quorum of distinct approvers', () => {
    const pl = plan(2);
    let s = initialState(pl, at);
    s = applyDecision(pl, s, { approverId: 'ann', decision: 'approve', atIso: at });
    assert.equal(s.status, 'PENDING');
    assert.equal(checkDecision(pl, s, { approverId: 'ann', decision: 'approve' })?.code, 'ALREADY_DECIDED');
    s = applyDecision(pl, s, { approverId: 'ben', decision: 'approve', atIso: at });
    assert.equal(s.status, 'APPROVED');
    assert.deepEqual(s.decidedBy, ['ann', 'ben']);
    assert.equal(finalOutcome(s), 'ALLOW');
  });

  it('refuses self-approval even when the proposer is listed, and outsiders', () => {
    const s = initialState(plan(), at);
    assert.equal(checkDecision(plan(), s, { approverId: 'agent', decision: 'approve' })?.code, 'SELF_APPROVAL');
    assert.equal(checkDecision(plan(), s, { approverId: 'agent', decision: 'approve', isAdmin: true })?.code, 'SELF_APPROVAL');
    assert.equal(checkDecision(plan(), s, { approverId: 'mallory', decision: 'approve' })?.code, 'NOT_AN_APPROVER');
    assert.equal(checkDecision(plan(), s, { approverId: 'boss', decision: 'approve' })?.code, 'NOT_AN_APPROVER', 'tier 2 is not yet asked');
    assert.equal(checkDecision(plan(), s, { approverId: 'boss', decision: 'approve', isAdmin: true }), null);
    assert.throws(() => applyDecision(plan(), s, { approverId: 'agent', decision: 'approve', atIso: at }), /SELF_APPROVAL/);
  });

  it('a deny ends it as DENY', () => {
    const s = applyDecision(plan(2), initialState(plan(2), at), { approverId: 'ann', decision: 'deny', atIso: at });
    assert.equal(s.status, 'DENIED');
    assert.equal(finalOutcome(s), 'DENY');
    assert.equal(checkDecision(plan(2), s, { approverId: 'ben', decision: 'approve' })?.code, 'NOT_PENDING');
  });

  it('timeouts escalate, widening who may decide, then expire as DENY', () => {
    const pl = plan();
    let s = applyTimeout(pl, initialState(pl, at), at);
    assert.equal(s.tier, 2);
    assert.deepEqual([...eligibleApprovers(pl, s)].sort(), ['agent', 'ann', 'ben', 'boss']);
    assert.equal(checkDecision(pl, s, { approverId: 'ann', decision: 'approve' }), null, 'tier 1 may still decide');
    s = applyTimeout(pl, s, at);
    assert.equal(s.status, 'EXPIRED');
    assert.equal(s.reason, 'APPROVAL_EXPIRED');
    assert.equal(finalOutcome(s), 'DENY');
  });

  it('withdrawal by the proposer only; waiver needs a reason', () => {
    const pl = plan();
    const s = initialState(pl, at);
    assert.equal(applyWithdraw(pl, s, { by: 'ann', atIso: at }).status, 'PENDING');
    assert.equal(applyWithdraw(pl, s, { by: 'agent', atIso: at }).status, 'WITHDRAWN');
    assert.throws(() => applyWaive(pl, s, { by: 'boss', atIso: at, reason: ' ' }), /REASON_REQUIRED/);
    const w = applyWaive(pl, s, { by: 'boss', atIso: at, reason: 'compensating control' });
    assert.equal(w.status, 'WAIVED');
    assert.equal(finalOutcome(w), 'ALLOW');
    assert.equal(finalOutcome(s), null);
  });

  it('never mutates its input', () => {
    const pl = plan();
    const s = initialState(pl, at);
    const frozen = JSON.stringify(s);
    applyDecision(pl, s, { approverId: 'ann', decision: 'approve', atIso: at });
    applyTimeout(pl, s, at);
    assert.equal(JSON.stringify(s), frozen);
  });
});

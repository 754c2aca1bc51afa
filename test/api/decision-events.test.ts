import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DecisionEvents } from '../../services/decision-events';
import { proposal } from '../helpers/fixtures';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

/*
 * Long polls wake on the decision's own NOTIFY (trigger decisions_final_notify), not on a
 * timer. Each wait below is far longer than the test's own timeout would allow, so only
 * the notification can end it: without the trigger or the listener the test fails.
 */
describe('a decision that turns final wakes its long polls', { timeout: 60_000 }, () => {
  let s: Stack;
  let events: DecisionEvents;
  before(async () => {
    s = await startStack({ withWorker: false });
    events = new DecisionEvents(s.config.DATABASE_URL);
  });
  after(async () => {
    await events?.close();
    await s?.close();
  });

  /** A decision put back to pending by hand, as if it waited for people. */
  async function pendingDecision(): Promise<string> {
    const p = await s.call('POST', '/api/v1/governance/propose', { body: proposal() });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    await s.core.ds.query(`UPDATE decisions SET status = 'pending', "finalOutcome" = NULL WHERE id = $1`, [p.body.decision_id]);
    return p.body.decision_id as string;
  }

  const finalize = (id: string) => s.core.ds.query(`UPDATE decisions SET status = 'final', "finalOutcome" = 'ALLOW' WHERE id = $1`, [id]);

  it('wait() resolves when that decision is finalized, and only that one', async () => {
    const [a, b] = [await pendingDecision(), await pendingDecision()];
    // Open the listener first (the first wait connects), then wait on both.
    await events.wait('warm-up', 200);
    let bWoke = false;
    const waitB = events.wait(b, 3_000).then(() => (bWoke = true));
    const waitA = events.wait(a, 600_000);
    assert.ok(events.listening, 'the listener is up');
    await finalize(a);
    await waitA;
    assert.equal(bWoke, false, "a's notification did not wake b");
    await waitB;
  });

  it('a long poll answers as soon as the decision is final, whoever finalized it', async () => {
    const id = await pendingDecision();
    const poll = s.call('GET', `/api/v1/governance/decisions/${id}?wait=30`);
    // Let the poll start waiting, then finalize from outside the API (as the worker does).
    await new Promise((r) => setTimeout(r, 300));
    await finalize(id);
    const d = await poll;
    assert.equal(d.status, 200);
    assert.equal(d.body.status, 'final');
  });

  it('a decision that was already final does not notify again', async () => {
    const p = await s.call('POST', '/api/v1/governance/propose', { body: proposal() });
    const id = p.body.decision_id as string;
    let woke = false;
    const w = events.wait(id, 1_500).then(() => (woke = true));
    await s.core.ds.query(`UPDATE decisions SET "decidedAt" = now(), status = 'final' WHERE id = $1`, [id]);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(woke, false, 'final → final is not a finalization');
    await w;
  });
});

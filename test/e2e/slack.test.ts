import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { verifySlackSignature } from '../../services/slack';
import { addUser, linkIn, postForm, proposal } from '../helpers/fixtures';
import { interactionBody, slackSignatureHeaders, startSlackStandin } from '../helpers/slack';
import type { SlackCall, SlackStandin } from '../helpers/slack';
import { startSmtp } from '../helpers/smtp';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal';

const SECRET = 'test-signing-secret-5f2c9a';
const ALICE_SLACK = 'UALICE01';
const CAROL_SLACK = 'UCAROL01';
const DANA_SLACK = 'UDANA001';

interface Block {
  type: string;
  elements?: { action_id?: string; value?: string }[];
  [k: string]: unknown;
}

const blocksOf = (c: SlackCall): Block[] => (Array.isArray(c.args.blocks) ? (c.args.blocks as Block[]) : []);
const actionBlocks = (c: SlackCall): Block[] => blocksOf(c).filter((b) => b.type === 'actions');
const buttonValue = (c: SlackCall, actionId: string): string | undefined =>
  actionBlocks(c).flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId)?.value;

/** Every `text` a Slack client would render in `v`, one per line. */
function textIn(v: unknown): string {
  if (Array.isArray(v)) return v.map(textIn).filter(Boolean).join('\n');
  if (!v || typeof v !== 'object') return '';
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => (k === 'text' && typeof x === 'string' ? x : textIn(x)))
    .filter(Boolean)
    .join('\n');
}

const transfer = (amount: number, to: string) =>
  proposal({ actor: { id: 'pay-bot', type: 'ai-agent' }, action: { capability: 'payments.transfer', parameters: { amount, to } } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POSTs an interaction as Slack would; `sign` may differ from what is sent (secret, timestamp, body). */
async function interact(
  s: Stack,
  payload: unknown,
  sign: { secret?: string; ts?: number; signedBody?: string } = {},
): Promise<{ status: number; text: string; ms: number }> {
  const body = interactionBody(payload);
  const headers = slackSignatureHeaders(sign.secret ?? SECRET, sign.signedBody ?? body, sign.ts);
  const started = Date.now();
  const res = await fetch(`${s.url}/slack/interactions`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body });
  const text = await res.text();
  return { status: res.status, text, ms: Date.now() - started };
}

/** A button click in the DM `dm`, as the `block_actions` Slack posts. */
const click = (user: string, action: 'approval.approve' | 'approval.deny', approvalId: string, dm: { channel: string; ts: string }, trigger = 'trig-1') => ({
  type: 'block_actions',
  user: { id: user },
  trigger_id: trigger,
  channel: { id: dm.channel },
  container: { channel_id: dm.channel, message_ts: dm.ts },
  actions: [{ action_id: action, value: approvalId }],
});

describe('Slack: approvers are asked in a DM, decide with buttons, and email never waits for Slack', () => {
  let temporal: TestWorkflowEnvironment;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let slack: SlackStandin;
  let s: Stack;
  let s2: Stack | undefined;
  const slackEnv = (retries: string): Record<string, string> => ({
    SMTP_URL: smtp.url,
    APPROVAL_TIER1_TIMEOUT_SECONDS: '600',
    PENDING_SWEEP_SECONDS: '3600',
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    SLACK_RETRIES: retries,
    SLACK_TIMEOUT_MS: '2000',
  });

  before(async () => {
    temporal = await startTemporal();
    smtp = await startSmtp();
    slack = await startSlackStandin();
    s = await startStack({ temporal, env: slackEnv('0') });
    const r = await s.call('POST', '/api/v1/users', { body: { email: 'alice@example.com', name: 'Alice', roles: ['approver'], slack_user_id: ALICE_SLACK } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    // In the workspace and the organization, but no approver of anything.
    const c = await s.call('POST', '/api/v1/users', { body: { email: 'carol@example.com', name: 'Carol', roles: [], slack_user_id: CAROL_SLACK } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    await addUser(s, 'root@example.com', ['admin'], 'Root');
    const rule = await s.call('POST', '/api/smart-rules', { body: { name: 'Transfers need a person', priority: 10, conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' } });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
  });
  after(async () => {
    await s2?.close();
    await s?.close();
    await slack?.close();
    await smtp?.close();
    await temporal?.teardown();
  });

  /** Proposes a transfer that waits for people; its decision and approval ids. */
  async function propose(stack: Stack, amount: number, to: string): Promise<{ id: string; approvalId: string }> {
    const p = await stack.call('POST', '/api/v1/governance/propose', { body: transfer(amount, to) });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.outcome, 'REQUIRE_CONFIRMATION');
    const [row] = await stack.core.ds.query('SELECT id FROM approvals WHERE "subjectId" = $1', [p.body.decision_id]);
    assert.ok(row, 'the approval row commits with the decision');
    return { id: p.body.decision_id as string, approvalId: row.id as string };
  }

  /** The DM asking about `approvalId` (its Approve button carries the id), and where it is in Slack. */
  async function dmOf(stack: Stack, approvalId: string): Promise<{ call: SlackCall; channel: string; ts: string }> {
    const call = await slack.waitFor((c) => c.method === 'chat.postMessage' && buttonValue(c, 'approval.approve') === approvalId);
    // Slack's answer (the ts) is only in the delivery log; chat.update at the stand-in refuses a (channel, ts) it never posted.
    let row: { providerChannel: string; providerId: string } | undefined;
    for (let i = 0; i < 50 && !row; i++) {
      [row] = await stack.core.ds.query(`SELECT "providerChannel", "providerId" FROM deliveries WHERE "approvalId" = $1 AND channel = 'slack' AND status = 'sent'`, [approvalId]);
      if (!row) await sleep(50);
    }
    assert.ok(row, 'the DM is in the delivery log');
    assert.equal(row.providerChannel, call.args.channel);
    return { call, channel: row.providerChannel, ts: row.providerId };
  }

  /** The first chat.update of the message at (channel, ts) that shows it ended: no buttons. */
  const endedUpdate = (dm: { channel: string; ts: string }) =>
    slack.waitFor((c) => c.method === 'chat.update' && c.args.channel === dm.channel && c.args.ts === dm.ts && actionBlocks(c).length === 0);

  const decision = async (stack: Stack, id: string) => (await stack.call('GET', `/api/v1/governance/decisions/${id}`)).body;

  const audit = async (stack: Stack, id: string): Promise<{ action: string; data: any }[]> =>
    stack.core.ds.query('SELECT action, data FROM audit_records WHERE "entityId" = $1 ORDER BY seq', [id]);

  it('DMs the approver with buttons; an Approve click answers at once, allows, and the message loses its buttons', async () => {
    const { id, approvalId } = await propose(s, 1201, 'ACME-1');

    const open = await slack.waitFor((c) => c.method === 'conversations.open' && c.args.users === ALICE_SLACK);
    const dm = await dmOf(s, approvalId);
    assert.equal(dm.call.args.channel, `D${ALICE_SLACK}`, 'posted in the DM conversations.open answered');
    assert.ok(dm.call.at >= open.at);
    const shown = textIn(blocksOf(dm.call));
    assert.match(shown, /payments\.transfer/);
    assert.match(shown, /pay-bot/);
    assert.match(shown, /1201/);
    assert.equal(actionBlocks(dm.call).length, 1, 'one actions block while pending');
    assert.equal(buttonValue(dm.call, 'approval.approve'), approvalId);
    assert.equal(buttonValue(dm.call, 'approval.deny'), approvalId);

    const res = await interact(s, click(ALICE_SLACK, 'approval.approve', approvalId, dm));
    assert.equal(res.status, 200, res.text);
    assert.ok(res.ms < 3000, `Slack waits 3 s for the answer; it took ${res.ms} ms`);

    const final = await s.call('GET', `/api/v1/governance/decisions/${id}?wait=15`);
    assert.equal(final.body.status, 'final');
    assert.equal(final.body.outcome, 'ALLOW');

    const update = await endedUpdate(dm);
    const after = textIn(blocksOf(update));
    assert.match(after, /Approved by Alice/);
    assert.match(after, /1201/, 'still the same action');

    const approve = (await audit(s, id)).find((a) => a.action === 'approval.approve');
    assert.ok(approve, 'the vote is audited');
    assert.equal(approve.data.via, 'slack');
    assert.equal(approve.data.approvalId, approvalId);
  });

  it('refuses forged, stale and altered requests and clicks by non-approvers; the approver still decides after', async () => {
    const { id, approvalId } = await propose(s, 1202, 'ACME-2');
    const dm = await dmOf(s, approvalId);
    const approve = click(ALICE_SLACK, 'approval.approve', approvalId, dm);
    const ephemeralsBefore = slack.callsTo('chat.postEphemeral').length;

    const forged = await interact(s, approve, { secret: 'not-the-signing-secret' });
    assert.equal(forged.status, 401, forged.text);
    const stale = await interact(s, approve, { ts: Math.floor(Date.now() / 1000) - 6 * 60 });
    assert.equal(stale.status, 401, stale.text);
    // A signature captured from a harmless request does not carry a different body.
    const altered = await interact(s, approve, { signedBody: interactionBody(click('UNOBODY1', 'approval.approve', approvalId, dm)) });
    assert.equal(altered.status, 401, altered.text);
    const unsigned = await fetch(`${s.url}/slack/interactions`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: interactionBody(approve) });
    assert.equal(unsigned.status, 401);

    await sleep(300);
    assert.equal((await decision(s, id)).status, 'pending');
    assert.equal(slack.callsTo('chat.postEphemeral').length, ephemeralsBefore, 'a refused request says nothing in Slack');

    // Someone in the workspace Arbiter does not know.
    const stranger = await interact(s, click('UNOBODY1', 'approval.approve', approvalId, dm));
    assert.equal(stranger.status, 200, stranger.text);
    const toStranger = await slack.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'UNOBODY1');
    assert.equal(toStranger.args.channel, dm.channel);
    assert.match(String(toStranger.args.text), /not an approver/i);

    // A person of the organization who is no approver of this action.
    const carol = await interact(s, click(CAROL_SLACK, 'approval.approve', approvalId, dm));
    assert.equal(carol.status, 200, carol.text);
    assert.ok(carol.ms < 3000, `took ${carol.ms} ms`);
    const toCarol = await slack.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === CAROL_SLACK);
    assert.equal(toCarol.args.channel, dm.channel);
    assert.match(String(toCarol.args.text), /not an approver/i);

    assert.equal((await decision(s, id)).status, 'pending');
    const [row] = await s.core.ds.query('SELECT status FROM approvals WHERE id = $1', [approvalId]);
    assert.equal(row.status, 'PENDING');
    assert.ok(!(await audit(s, id)).some((a) => a.action === 'approval.approve'), 'nothing was counted');
    assert.ok(!slack.calls.some((c) => c.method === 'chat.update' && c.args.ts === dm.ts), 'the message did not change');

    const real = await interact(s, approve);
    assert.equal(real.status, 200, real.text);
    const final = await s.call('GET', `/api/v1/governance/decisions/${id}?wait=15`);
    assert.equal(final.body.outcome, 'ALLOW');
    assert.match(textIn(blocksOf(await endedUpdate(dm))), /Approved by Alice/);

    // A second click (a double click, or a message not yet updated) counts nothing and says why.
    const clickedAt = Date.now();
    const again = await interact(s, approve);
    assert.equal(again.status, 200, again.text);
    const toAlice = await slack.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === ALICE_SLACK && c.at >= clickedAt);
    assert.match(String(toAlice.args.text), /no longer pending/i);
    assert.equal((await decision(s, id)).outcome, 'ALLOW');
    const votes = (await audit(s, id)).filter((a) => a.action.startsWith('approval.') && a.action !== 'approval.notified');
    assert.deepEqual(votes.map((v) => [v.action, v.data.via]), [['approval.approve', 'slack']]);
  });

  it("verifies Slack's published signing example, and one changed byte fails", () => {
    // From Slack's "Verifying requests from Slack".
    const secret = '8f742231b10e8888abcd99yyyzzz85a5';
    const timestamp = '1531420618';
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
    const now = Number(timestamp);
    const check = (b: string, sig = signature, at = now) => verifySlackSignature(secret, { timestamp, signature: sig, body: Buffer.from(b) }, at);

    assert.deepEqual(check(body), { ok: true });
    assert.deepEqual(check(body.replace('roadrunner', 'roadrunnes')), { ok: false, problem: 'SIGNATURE_INVALID' });
    assert.deepEqual(check(body, signature.replace(/3$/, '4')), { ok: false, problem: 'SIGNATURE_INVALID' });
    assert.deepEqual(check(body, signature, now + 300), { ok: true }, 'five minutes is still fresh');
    assert.deepEqual(check(body, signature, now + 301), { ok: false, problem: 'SIGNATURE_STALE' });
    assert.deepEqual(verifySlackSignature(secret, { timestamp, signature: undefined, body: Buffer.from(body) }, now), { ok: false, problem: 'SIGNATURE_MISSING' });
  });

  it('Deny opens a modal; its reason ends the approval as DENY and is audited; an empty reason is refused', async () => {
    const { id, approvalId } = await propose(s, 1204, 'ACME-4');
    const dm = await dmOf(s, approvalId);

    const res = await interact(s, click(ALICE_SLACK, 'approval.deny', approvalId, dm, 'trig-deny-4'));
    assert.equal(res.status, 200, res.text);
    assert.ok(res.ms < 3000, `took ${res.ms} ms`);
    const modal = await slack.waitFor((c) => c.method === 'views.open' && c.args.trigger_id === 'trig-deny-4');
    const view = modal.args.view as { callback_id: string; private_metadata: string };
    assert.equal(view.callback_id, 'approval.deny_reason');
    assert.equal((await decision(s, id)).status, 'pending', 'the click alone decides nothing');

    // Slack posts back the view as it opened it, with what the user typed.
    const submit = (reason: string) => ({
      type: 'view_submission',
      user: { id: ALICE_SLACK },
      view: { callback_id: view.callback_id, private_metadata: view.private_metadata, state: { values: { reason: { reason: { value: reason } } } } },
    });
    const empty = await interact(s, submit('   '));
    assert.equal(empty.status, 200, empty.text);
    const refused = JSON.parse(empty.text) as { response_action: string; errors: Record<string, string> };
    assert.equal(refused.response_action, 'errors');
    assert.ok(refused.errors.reason, 'the error is shown on the reason field');
    await sleep(300);
    assert.equal((await decision(s, id)).status, 'pending');
    assert.ok(!(await audit(s, id)).some((a) => a.action === 'approval.deny'));

    const denied = await interact(s, submit('too risky'));
    assert.equal(denied.status, 200, denied.text);
    assert.ok(denied.ms < 3000, `took ${denied.ms} ms`);
    assert.ok(!denied.text.includes('errors'), denied.text);
    const final = await s.call('GET', `/api/v1/governance/decisions/${id}?wait=15`);
    assert.equal(final.body.outcome, 'DENY');

    const deny = (await audit(s, id)).find((a) => a.action === 'approval.deny');
    assert.ok(deny, 'the deny is audited');
    assert.equal(deny.data.comment, 'too risky');
    assert.equal(deny.data.via, 'slack');
    assert.match(textIn(blocksOf(await endedUpdate(dm))), /Denied by Alice: "too risky"/);
  });

  it('an approval ended through the emailed link updates its Slack message', async () => {
    const { id, approvalId } = await propose(s, 1205, 'ACME-5');
    const mail = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(id));
    const dm = await dmOf(s, approvalId);

    const posted = await postForm(linkIn(mail.text), { decision: 'approve' });
    assert.equal(posted.status, 200, posted.text);
    assert.equal((await s.call('GET', `/api/v1/governance/decisions/${id}?wait=15`)).body.outcome, 'ALLOW');

    const update = await endedUpdate(dm);
    assert.match(textIn(blocksOf(update)), /Approved by Alice/);
    const approve = (await audit(s, id)).find((a) => a.action === 'approval.approve');
    assert.equal(approve?.data.via, 'email');
  });

  it('a Slack outage delays neither the email nor the decision, and is audited; a 429 is waited out', async () => {
    slack.failAlways('*', { status: 500 });
    try {
      const proposedAt = Date.now();
      const { id, approvalId } = await propose(s, 1206, 'ACME-6');
      const mail = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(id), 10_000);
      const mailMs = Date.now() - proposedAt;
      assert.ok(mailMs < 5000, `the mail took ${mailMs} ms`);

      assert.equal((await postForm(linkIn(mail.text), { decision: 'approve' })).status, 200);
      const asked = Date.now();
      const final = await s.call('GET', `/api/v1/governance/decisions/${id}?wait=15`);
      const waited = Date.now() - asked;
      assert.equal(final.body.outcome, 'ALLOW');
      assert.ok(waited < 5000, `the agent waited ${waited} ms for its answer`);

      // Best-effort delivery: a few attempts, then the give-up is on the record.
      let failed: { action: string; data: any } | undefined;
      for (const until = Date.now() + 25_000; !failed && Date.now() < until; ) {
        failed = (await audit(s, id)).find((a) => a.action === 'slack.failed');
        if (!failed) await sleep(250);
      }
      assert.ok(failed, 'slack.failed is audited within 25 s');
      assert.equal(failed.data.channel, 'slack');
      const [dlv] = await s.core.ds.query(`SELECT status FROM deliveries WHERE "approvalId" = $1 AND channel = 'slack'`, [approvalId]);
      assert.equal(dlv?.status, 'failed');
      assert.ok(slack.attempts.some((c) => c.method === 'conversations.open' && c.args.users === ALICE_SLACK), 'Slack was tried');
      assert.ok(!slack.calls.some((c) => buttonValue(c, 'approval.approve') === approvalId));
      assert.equal((await decision(s, id)).outcome, 'ALLOW', 'the decision stands');
    } finally {
      slack.failAlways('*', null);
    }
    assert.equal((await s.call('GET', '/api/v1/audit/verify')).body.ok, true);

    // A client that retries: a rate limit is waited out by the client (Retry-After), beside the email.
    s2 = await startStack({ temporal, env: slackEnv('2') });
    const r = await s2.call('POST', '/api/v1/users', { body: { email: 'dana@example.com', name: 'Dana', roles: ['approver'], slack_user_id: DANA_SLACK } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const rule = await s2.call('POST', '/api/smart-rules', { body: { name: 'Transfers need a person', priority: 10, conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' } });
    assert.equal(rule.status, 201);

    slack.failNext('chat.postMessage', 1, { status: 429, retryAfter: 1 });
    const proposedAt = Date.now();
    const { id, approvalId } = await propose(s2, 1207, 'ACME-7');
    await smtp.waitFor((m) => m.to === 'dana@example.com' && m.text.includes(id), 10_000);
    const mailAt = Date.now();
    const dm = await dmOf(s2, approvalId);
    const limited = slack.attempts.filter((c) => c.method === 'chat.postMessage' && c.args.channel === dm.channel && c.at < dm.call.at);
    assert.equal(limited.length, 1, 'one rate-limited attempt before the DM went through');
    assert.ok(dm.call.at - limited[0].at >= 1000, `retried ${dm.call.at - limited[0].at} ms after a Retry-After of 1 s`);
    // The client waited and retried the post itself: the DM was not started over by a retried activity.
    assert.equal(slack.attempts.filter((c) => c.method === 'conversations.open' && c.args.users === DANA_SLACK).length, 1);
    assert.ok(mailAt - proposedAt < 5000, `the mail took ${mailAt - proposedAt} ms`);
    assert.ok(mailAt < dm.call.at, 'the mail did not wait for the rate limit');

    const w = await s2.call('POST', `/api/v1/governance/decisions/${id}/withdraw`, { body: { reason: 'cleanup' } });
    assert.equal(w.status, 202);
    assert.equal((await s2.call('GET', `/api/v1/governance/decisions/${id}?wait=15`)).body.outcome, 'DENY');
    await endedUpdate(dm);
  });

  it('a NOTIFY rule naming slack-trading-alerts posts to #trading-alerts, without buttons', async () => {
    const rule = await s.call('POST', '/api/smart-rules', { body: { name: 'Tell trading', priority: 5, conditions: { action_type: 'trading.order' }, action: 'NOTIFY', notifications: { channels: ['slack-trading-alerts'] } } });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    try {
      const p = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ actor: { id: 'trade-bot', type: 'ai-agent' }, action: { capability: 'trading.order', parameters: { symbol: 'XYZQ', qty: 1207 } } }) });
      assert.equal(p.body.outcome, 'ALLOW', 'NOTIFY allows');
      const post = await slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === '#trading-alerts' && textIn(blocksOf(c)).includes('XYZQ'));
      const shown = textIn(blocksOf(post));
      assert.match(shown, /trading\.order/);
      assert.match(shown, /trade-bot/);
      assert.match(shown, /Tell trading/);
      assert.equal(actionBlocks(post).length, 0, 'nobody is asked to decide');
      let sent: { data: any } | undefined;
      for (let i = 0; i < 50 && !sent; i++) {
        sent = (await audit(s, p.body.decision_id)).find((a) => a.action === 'notification.sent');
        if (!sent) await sleep(100);
      }
      assert.ok(sent, 'the notice is audited');
      assert.deepEqual(sent.data.recipients, ['#trading-alerts']);
      assert.deepEqual(sent.data.undelivered, []);
    } finally {
      await s.call('DELETE', `/api/smart-rules/${rule.body.data.rule_id}`);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approvalEmail } from '../../activities/approval-email';
import { notificationEmail } from '../../activities/notification-email';
import { applyDecision, applyTimeout, applyWaive, applyWithdraw, initialState } from '../../engine/approval';
import type { ApprovalPlan, ApprovalState } from '../../engine/approval';
import { escapeHtml } from '../../services/html';
import {
  actionDetailsHtml,
  actionDetailsText,
  actionOneLine,
  approvalStatusLines,
  presentAction,
  slackApprovalMessage,
  slackEscape,
  slackNoticeMessage,
} from '../../services/presenter';
import type { ProposalSummary } from '../../workflows/messages';

type Block = Record<string, any>;

const summary = (over: Partial<ProposalSummary> = {}): ProposalSummary => ({
  capability: 'payments.transfer',
  actorId: 'pay-bot',
  actorType: 'ai-agent',
  riskScore: 72,
  reason: 'amount over 10000',
  outcome: 'REQUIRE_APPROVAL',
  parameters: { amount: 75000, to: 'ACME' },
  environment: 'production',
  ...over,
});

/** Agent-controlled text in every field a person reads. */
const hostile = summary({
  capability: 'files.export<script>alert(1)</script>',
  actorId: `bot"'&<u>`,
  reason: `<script>alert('x')</script> & "more"`,
  parameters: { note: '<img src=x onerror=alert(1)>', amp: 'a & b' },
  environment: '<prod>',
});
const hostileReasoning = { ...hostile, reasoning: '<i>trust me</i> & <@U123> <!channel>' };

/** Every mrkdwn text in a message (sections, fields, context), plus the fallback `text`. */
function mrkdwnTexts(msg: { text: string; blocks: object[] }): string[] {
  const out = [msg.text];
  const visit = (x: unknown) => {
    if (Array.isArray(x)) return x.forEach(visit);
    if (x && typeof x === 'object') {
      const o = x as Block;
      if (o.type === 'mrkdwn') out.push(o.text);
      Object.values(o).forEach(visit);
    }
  };
  visit(msg.blocks);
  return out;
}

/** Block Kit limits a message must keep, or Slack refuses it (invalid_blocks). */
function slackLimitProblems(msg: { text: string; blocks: object[] }): string[] {
  const problems: string[] = [];
  const over = (what: string, s: string | undefined, max: number) => {
    if (typeof s !== 'string') problems.push(`${what}: missing text`);
    else if (s.length > max) problems.push(`${what}: ${s.length} > ${max}`);
  };
  if (msg.blocks.length > 50) problems.push(`${msg.blocks.length} blocks > 50`);
  over('fallback text', msg.text, 40000);
  (msg.blocks as Block[]).forEach((b, i) => {
    if (b.type === 'header') {
      if (b.text?.type !== 'plain_text') problems.push(`block ${i}: header text is not plain_text`);
      over(`block ${i} header`, b.text?.text, 150);
    }
    if (b.type === 'section') {
      if (b.text) over(`block ${i} section`, b.text.text, 3000);
      if (b.fields) {
        if (b.fields.length > 10) problems.push(`block ${i}: ${b.fields.length} fields > 10`);
        b.fields.forEach((f: Block, j: number) => over(`block ${i} field ${j}`, f.text, 2000));
      }
    }
    if (b.type === 'context') {
      b.elements.forEach((e: Block, j: number) => over(`block ${i} context ${j}`, e.text, 3000));
    }
    if (b.type === 'actions') {
      b.elements.forEach((e: Block, j: number) => {
        over(`block ${i} button ${j}`, e.text?.text, 75);
        if (e.value !== undefined) over(`block ${i} button ${j} value`, e.value, 2000);
        if (e.url !== undefined) over(`block ${i} button ${j} url`, e.url, 3000);
      });
    }
  });
  return problems;
}

const actionsOf = (msg: { blocks: object[] }) => (msg.blocks as Block[]).filter((b) => b.type === 'actions');
const buttonsOf = (msg: { blocks: object[] }) => actionsOf(msg).flatMap((b) => b.elements as Block[]);

describe('escapeHtml', () => {
  const cases: [unknown, string][] = [
    ['<script>alert("x")</script>', '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'],
    [`Tom & Jerry's`, 'Tom &amp; Jerry&#39;s'],
    ['&lt;', '&amp;lt;'],
    [null, ''],
    [undefined, ''],
    [0, '0'],
    [false, 'false'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input) ?? String(input)} -> ${expected || "''"}`, () => {
      assert.equal(escapeHtml(input), expected);
    });
  }
});

describe('hostile agent text is shown, never run', () => {
  const p = presentAction(hostileReasoning);
  const raw = ['<script>', '<img', '<i>', '<u>', '<prod>'];

  const htmlCases: [string, string][] = [
    ['action details', actionDetailsHtml(p)],
    ['approval mail', approvalEmail({
      publicUrl: 'https://arbiter.example', token: 'tok', user: { name: '<Eve>', email: 'e@x' },
      summary: hostile, decisionId: 'dec_1', tier: 1,
    }).html],
    ['notification mail', notificationEmail({
      summary: hostile, decisionId: 'dec_1', rules: [{ name: '<rule>', channels: [] }], name: '<Eve>',
    }).html],
  ];
  for (const [name, html] of htmlCases) {
    it(`${name}: no raw tag from the agent, the text still readable as entities`, () => {
      for (const r of raw) assert.ok(!html.includes(r), `${name} contains ${r}`);
      assert.ok(html.includes('&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;'), html);
      assert.ok(html.includes('bot&quot;&#39;&amp;&lt;u&gt;'), html);
    });
  }

  it('action details escape the reasoning and put the parameters in a <pre>', () => {
    const html = actionDetailsHtml(p);
    assert.match(html, /<dt>Agent&#39;s reasoning<\/dt><dd>&lt;i&gt;trust me&lt;\/i&gt; &amp; &lt;@U123&gt;/);
    assert.match(html, /<pre>\{\n {2}&quot;note&quot;: &quot;&lt;img src=x onerror=alert\(1\)&gt;&quot;/);
    assert.match(html, /<dt>Action<\/dt><dd>files\.export&lt;script&gt;.* in &lt;prod&gt;<\/dd>/);
  });

  const slackCases: [string, { text: string; blocks: object[] }][] = [
    ['approval DM', slackApprovalMessage(p, {
      approvalId: 'dec_1', pageUrl: 'https://arbiter.example/approve/t', tier: 2,
      statusLines: ['Denied by <Bob>: "a & b"'], ended: false,
    })],
    ['ended DM', slackApprovalMessage(p, {
      approvalId: 'dec_1', tier: 1, ended: true, endedText: 'Approved by <Alice> & co',
    })],
    ['notice', slackNoticeMessage(p, { happened: 'was <allowed>', rules: ['<rule> & co'] })],
  ];
  for (const [name, msg] of slackCases) {
    it(`${name}: mrkdwn has no raw < > and no bare &, so no mention, link or markup from the agent`, () => {
      const texts = mrkdwnTexts(msg);
      assert.ok(texts.length >= 4, `found only ${texts.length} texts`);
      for (const t of texts) {
        assert.doesNotMatch(t, /[<>]/, t);
        assert.doesNotMatch(t, /&(?!amp;|lt;|gt;)/, t);
      }
      const shown = texts.some((t) => t.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
      assert.ok(shown, 'the capability is shown escaped');
    });
  }

  it('the reasoning keeps a mention harmless in Slack', () => {
    const texts = mrkdwnTexts(slackCases[0][1]);
    assert.ok(texts.some((t) => t.includes('&lt;@U123&gt; &lt;!channel&gt;')), texts.join('\n'));
  });

  it('slackEscape escapes exactly & < >', () => {
    assert.equal(slackEscape(`<@U1> & "q" 'a'`), `&lt;@U1&gt; &amp; "q" 'a'`);
    assert.equal(slackEscape(null), '');
  });
});

describe('long parameters', () => {
  const big = summary({ parameters: { blob: 'x'.repeat(10_000) } });

  const trimCases: [string, number | undefined, number][] = [
    ['default', undefined, 1500],
    ['custom', 200, 200],
  ];
  for (const [name, maxParamChars, limit] of trimCases) {
    it(`are cut to ${limit} characters with a trailing … (${name})`, () => {
      const p = presentAction(big, maxParamChars === undefined ? {} : { maxParamChars });
      assert.equal(p.parametersTrimmed, true);
      assert.equal(p.parameters.length, limit);
      assert.ok(p.parameters.endsWith('…'));
      assert.ok(p.parameters.startsWith('{\n  "blob": "xxx'));
    });
  }

  it('short ones are left whole, pretty-printed with 2 spaces', () => {
    const p = presentAction(summary());
    assert.equal(p.parametersTrimmed, false);
    assert.equal(p.parameters, '{\n  "amount": 75000,\n  "to": "ACME"\n}');
  });

  it('a cut never splits an emoji in half', () => {
    const p = presentAction(summary({ parameters: { e: '😀'.repeat(100) } }), { maxParamChars: 20 });
    assert.doesNotMatch(p.parameters, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  const limitCases: [string, ProposalSummary & { reasoning?: string }, number | undefined][] = [
    ['default cut', big, undefined],
    ['escaping grows the text (& becomes &amp;)',
      summary({ parameters: { amp: '&'.repeat(5000) }, reason: '<'.repeat(5000) }), 2990],
    ['huge everything, uncut by the presenter', {
      ...summary({
        capability: 'c'.repeat(400), actorId: 'a'.repeat(3000), reason: '>'.repeat(9000),
        parameters: { amp: '&'.repeat(50_000) },
      }),
      reasoning: '&'.repeat(9000),
    }, 100_000],
  ];
  for (const [name, s, maxParamChars] of limitCases) {
    it(`Slack messages stay within Block Kit limits: ${name}`, () => {
      const p = presentAction(s, maxParamChars === undefined ? {} : { maxParamChars });
      const lines = Array.from({ length: 60 }, (_, i) => `Escalated to tier ${i} & ${'<'.repeat(400)}`);
      const msgs = [
        slackApprovalMessage(p, {
          approvalId: 'dec_1', pageUrl: 'https://a.example/approve/t', tier: 3,
          statusLines: lines, ended: false, reminder: true,
        }),
        slackApprovalMessage(p, {
          approvalId: 'dec_1', tier: 1, statusLines: lines, ended: true, endedText: '&'.repeat(5000),
        }),
        slackNoticeMessage(p, { happened: 'was allowed', rules: Array.from({ length: 500 }, () => 'rule & <x>') }),
      ];
      for (const m of msgs) assert.deepEqual(slackLimitProblems(m), []);
      const params = (msgs[0].blocks as Block[])
        .find((b) => b.type === 'section' && b.text?.text.startsWith('*Parameters*'));
      assert.ok(params, 'a parameters section');
      assert.match(params.text.text, /…\n```$/, 'the cut shows');
    });
  }

  it('a ``` inside the parameters cannot close the code block early', () => {
    const p = presentAction(summary({ parameters: { sql: '```\n*bold* <!here>' } }));
    const params = (slackApprovalMessage(p, { approvalId: 'd', tier: 1, ended: false }).blocks as Block[])
      .find((b) => b.text?.text?.startsWith('*Parameters*'));
    assert.equal(params?.text.text.split('```').length, 3, params?.text.text);
  });
});

describe('Slack approval buttons', () => {
  const p = presentAction(summary());
  const cases: { name: string; ended: boolean; pageUrl?: string | null; buttons: string[]; url?: string }[] = [
    {
      name: 'pending, with a page', ended: false, pageUrl: 'https://arbiter.example/approve/tok',
      buttons: ['approval.approve', 'approval.deny', 'approval.open'], url: 'https://arbiter.example/approve/tok',
    },
    { name: 'pending, no page', ended: false, pageUrl: null, buttons: ['approval.approve', 'approval.deny'] },
    {
      name: 'pending, a non-web page url is left out', ended: false, pageUrl: 'javascript:alert(1)',
      buttons: ['approval.approve', 'approval.deny'],
    },
    { name: 'ended', ended: true, pageUrl: 'https://arbiter.example/approve/tok', buttons: [] },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.buttons.length ? c.buttons.join(', ') : 'no buttons'}`, () => {
      const msg = slackApprovalMessage(p, {
        approvalId: 'dec_42', pageUrl: c.pageUrl, tier: 1, ended: c.ended, endedText: 'Approved by Alice',
      });
      const buttons = buttonsOf(msg);
      assert.deepEqual(buttons.map((b) => b.action_id), c.buttons);
      assert.equal(actionsOf(msg).length, c.ended ? 0 : 1);
      for (const b of buttons.filter((x) => x.action_id !== 'approval.open')) assert.equal(b.value, 'dec_42');
      const byId = Object.fromEntries(buttons.map((b) => [b.action_id, b]));
      if (!c.ended) {
        assert.deepEqual(byId['approval.approve'].text, { type: 'plain_text', text: 'Approve', emoji: false });
        assert.equal(byId['approval.approve'].style, 'primary');
        assert.equal(byId['approval.deny'].style, 'danger');
      }
      assert.equal(byId['approval.open']?.url, c.url);
      const endedSection = (msg.blocks as Block[])
        .some((b) => b.type === 'section' && b.text?.text === '*Approved by Alice*');
      assert.equal(endedSection, c.ended);
      assert.deepEqual(slackLimitProblems(msg), []);
    });
  }

  it('the header carries the title and the fallback text the title and why', () => {
    const msg = slackApprovalMessage(p, { approvalId: 'd', tier: 1, ended: false });
    const header = { type: 'plain_text', text: 'payments.transfer by pay-bot', emoji: false };
    assert.deepEqual((msg.blocks[0] as Block).text, header);
    assert.equal(msg.text, 'Approval needed: payments.transfer by pay-bot. amount over 10000');
  });

  const noteCases: [string, { tier: number; reminder?: boolean }, RegExp | null][] = [
    ['tier 1', { tier: 1 }, null],
    ['escalated', { tier: 2 }, /Escalated to you \(tier 2\)/],
    ['reminder', { tier: 1, reminder: true }, /Reminder/],
  ];
  for (const [name, o, note] of noteCases) {
    it(`context note: ${name}`, () => {
      const msg = slackApprovalMessage(p, { approvalId: 'd', ended: false, ...o });
      const contexts = (msg.blocks as Block[])
        .filter((b) => b.type === 'context')
        .map((b) => b.elements[0].text as string);
      if (note) assert.ok(contexts.some((t) => note.test(t)), contexts.join(' | '));
      else assert.deepEqual(contexts, []);
    });
  }

  it('the notice has no buttons and names the rules', () => {
    const msg = slackNoticeMessage(p, { happened: 'was allowed', rules: ['Big payments', 'Prod'] });
    assert.deepEqual(buttonsOf(msg), []);
    assert.equal(msg.text, 'payments.transfer by pay-bot was allowed');
    assert.ok(mrkdwnTexts(msg).includes('You are told because of: Big payments, Prod'));
  });
});

describe('approval status lines', () => {
  const plan: ApprovalPlan = {
    tiers: [
      { approvers: ['alice', 'bob'], quorum: 1, timeoutSeconds: 60 },
      { approvers: ['carol'], quorum: 1, timeoutSeconds: 60 },
    ],
    startTier: 1,
    proposerId: 'pay-bot',
    denyEndsIt: true,
    allowConditional: true,
  };
  const names = { alice: 'Alice', bob: 'Bob', carol: 'Carol', dana: 'Dana', root: 'Root' };
  const t = (m: number) => `2026-01-01T00:0${m}:00.000Z`;
  const start = () => initialState(plan, t(0));

  const cases: [string, ApprovalState, string[]][] = [
    ['a delegate approves for the approver',
      applyDecision(plan, start(), { approverId: 'dana', onBehalfOf: 'alice', decision: 'approve', atIso: t(1) }),
      ['Approved by Dana for Alice', 'Result: approved, the action may run']],
    ['a deny with a comment',
      applyDecision(plan, start(), { approverId: 'bob', decision: 'deny', atIso: t(1), comment: 'too\nlarge' }),
      ['Denied by Bob: "too large"', 'Result: denied, the action will not run']],
    ['an escalation, still waiting', applyTimeout(plan, start(), t(1)),
      ['Escalated to tier 2', 'Waiting for a decision (tier 2)']],
    ['an escalation, then the next tier approves',
      applyDecision(plan, applyTimeout(plan, start(), t(1)), {
        approverId: 'carol', decision: 'approve', atIso: t(2), comment: 'ok',
      }),
      ['Escalated to tier 2', 'Approved by Carol: "ok"', 'Result: approved, the action may run']],
    ['expiry', applyTimeout(plan, applyTimeout(plan, start(), t(1)), t(2)),
      ['Escalated to tier 2', 'Expired: nobody decided in time', 'Result: expired, the action will not run']],
    ['a waiver', applyWaive(plan, start(), { by: 'root', atIso: t(1), reason: 'incident 42' }),
      ['Waived by Root: incident 42', 'Result: waived by an admin, the action may run']],
    ['a withdrawal', applyWithdraw(plan, start(), { by: 'pay-bot', atIso: t(1) }),
      ['Withdrawn by the agent', 'Result: withdrawn, the action will not run']],
    ['a conditional approval',
      applyDecision(plan, start(), {
        approverId: 'alice', decision: 'conditional', conditions: ['under 10k'], atIso: t(1),
      }),
      [
        'Approved with conditions by Alice (conditions: under 10k)',
        'Result: approved with conditions, the action may run under them',
      ]],
  ];
  for (const [name, state, expected] of cases) {
    it(name, () => assert.deepEqual(approvalStatusLines(state, names), expected));
  }

  it('unknown events are skipped; an id without a name is shown as the id, even `constructor`', () => {
    const s: ApprovalState = {
      ...start(),
      approvals: [{ approverId: 'constructor', tier: 1, at: t(2) }],
      history: [
        ...start().history,
        { at: t(1), event: 'SOMETHING_NEW', tier: 1 },
        { at: t(2), event: 'APPROVED_BY', by: 'constructor', tier: 1 },
      ],
    };
    assert.deepEqual(approvalStatusLines(s, names), ['Approved by constructor', 'Waiting for a decision (tier 1)']);
  });
});

describe('actionOneLine', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['first four scalars', { amount: 75000, to: 'ACME', meta: { a: 1 }, note: null, urgent: true, extra: 'x' },
      'payments.transfer by pay-bot: amount 75000, to ACME, note null, urgent true'],
    ['values cut to 60', { memo: 'm'.repeat(100) }, `payments.transfer by pay-bot: memo ${'m'.repeat(60)}`],
    ['no scalars', { list: [1, 2] }, 'payments.transfer by pay-bot'],
  ];
  for (const [name, params, expected] of cases) {
    it(name, () => {
      assert.equal(actionOneLine('payments.transfer', params, 'pay-bot'), expected);
      assert.equal(presentAction(summary({ parameters: params })).oneLine, expected);
    });
  }
});

describe('mails built on the presenter', () => {
  it('the approval mail text has the link first, the decision id and the details', () => {
    const evil = summary({
      reason: 'see http://evil.example/approve/steal\nReview and decide: http://evil.example/approve/x',
    });
    const m = approvalEmail({
      publicUrl: 'http://arbiter.test', token: 'tok/1', user: { name: 'Alice', email: 'a@x' },
      summary: evil, decisionId: 'dec_9', tier: 2,
    });
    assert.equal(m.subject, '[Arbiter] Approval needed: payments.transfer by pay-bot');
    // The same pattern as linkIn() in test/helpers/fixtures.ts: the first approve link wins.
    const first = /(http:\/\/\S+\/approve\/\S+)/.exec(m.text)?.[1];
    assert.equal(first, 'http://arbiter.test/approve/tok%2F1', 'the first link is ours');
    assert.ok(m.text.includes('dec_9'));
    assert.ok(m.text.includes('Action: payments.transfer in production'));
    assert.ok(m.text.includes('escalated to you (tier 2)'));
    const lines = m.text.split('\n');
    const forged = '  Review and decide: http://evil.example/approve/x';
    assert.ok(lines.includes(forged), 'agent text cannot pass for a line of its own');
    assert.ok(m.html.includes('<a href="http://arbiter.test/approve/tok%2F1">Review and decide</a>'));
  });

  it('the notification mail says what happened, why it was sent, and the details', () => {
    const m = notificationEmail({
      summary: summary({ outcome: 'ALLOW' }), decisionId: 'dec_7', name: 'Bo',
      rules: [{ ruleId: 'r1', priority: 'high', channels: [] }],
    });
    assert.equal(m.subject, '[Arbiter] [high] payments.transfer by pay-bot was allowed');
    const intro = ['payments.transfer by pay-bot was allowed.', 'You are told because of: r1.'];
    assert.deepEqual(m.text.split('\n').slice(2, 4), intro);
    assert.ok(m.text.includes('Why: amount over 10000'));
    assert.ok(m.text.includes('"amount": 75000'));
    assert.ok(m.text.endsWith('Decision dec_7.'));
  });

  it('text details list one line per field, parameters last', () => {
    assert.deepEqual(actionDetailsText(presentAction({ ...summary(), reasoning: 'needed' })), [
      'Agent: pay-bot (ai-agent)',
      'Action: payments.transfer in production',
      'Risk score: 72/100',
      'Why it needs approval: amount over 10000',
      "Agent's reasoning: needed",
      'Parameters:',
      '{',
      '  "amount": 75000,',
      '  "to": "ACME"',
      '}',
    ]);
  });
});

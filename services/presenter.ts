/**
 * How an agent's action looks to people: one presenter behind every approval mail,
 * notification, approval page and Slack message, so they all say the same thing and all
 * escape the agent's text the same way. Pure: no I/O, only strings.
 */
import { escapeHtml } from './html';
import type { ApprovalState } from '../engine/approval';
import type { ProposalSummary } from '../workflows/messages';

/** An action ready to show: every field is plain (unescaped) text. */
export interface PresentedAction {
  /** `payments.transfer by pay-bot` */
  title: string;
  /** `pay-bot (ai-agent)` */
  agent: string;
  /** The capability, e.g. `payments.transfer`. */
  action: string;
  environment: string | null;
  /** `72/100` */
  risk: string;
  /** Why a person is asked (the decision's reason). */
  why: string;
  reasoning: string | null;
  /** SHA-256 of the frozen proposal (WARDN escrows): what is approved is exactly this payload. */
  payloadHash: string | null;
  /** Pretty JSON (2 spaces), cut to `maxParamChars` with a trailing `…`. */
  parameters: string;
  parametersTrimmed: boolean;
  /** {@link actionOneLine}: `payments.transfer by pay-bot: amount 75000, to ACME` */
  oneLine: string;
}

const DEFAULT_MAX_PARAM_CHARS = 1500;
const ELLIPSIS = '…';

// Block Kit limits (https://docs.slack.dev/reference/block-kit): section text and context
// mrkdwn 3000, section field 2000, header 150, button text 75, button url 3000.
const SLACK_SECTION_MAX = 3000;
const SLACK_FIELD_MAX = 2000;
const SLACK_HEADER_MAX = 150;
const SLACK_BUTTON_TEXT_MAX = 75;
const SLACK_URL_MAX = 3000;
/** A status line is one event; a long comment must not push the rest out. */
const STATUS_LINE_MAX = 500;
const COMMENT_MAX = 300;

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/** `s` cut to at most `max` characters, ending in `…` when cut; never splits a surrogate pair. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = Math.max(0, max - 1);
  if (cut > 0 && isHighSurrogate(s.charCodeAt(cut - 1))) cut -= 1;
  return s.slice(0, cut) + ELLIPSIS;
}

/** Agent text on one line: a newline in a reason must not forge a line of its own in a mail or status. */
const flat = (s: string) => s.replace(/\s+/g, ' ').trim();

function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value ?? {}, null, 2) ?? '{}';
  } catch {
    // Parameters come from JSON, so this is a cycle or a BigInt put there by code: show something.
    return String(value);
  }
}

/**
 * A one-line summary of an action for people, e.g. `payments.transfer by pay-bot: amount 75000, to ACME`:
 * the first four scalar parameters, each value cut to 60 characters.
 */
export function actionOneLine(capability: string, parameters: Record<string, unknown>, actorId: string): string {
  const shown = Object.entries(parameters ?? {})
    .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
    .slice(0, 4)
    .map(([k, v]) => `${k} ${String(v).slice(0, 60)}`);
  return `${capability} by ${actorId}${shown.length ? `: ${shown.join(', ')}` : ''}`;
}

/**
 * The action of a proposal as people see it. Parameters are cut to `maxParamChars`
 * (default 1500, which leaves room in a 3000-character Slack section).
 */
export function presentAction(
  s: ProposalSummary & { reasoning?: string },
  opts: { maxParamChars?: number } = {},
): PresentedAction {
  const max = Number.isFinite(opts.maxParamChars)
    ? Math.max(1, Math.floor(opts.maxParamChars as number))
    : DEFAULT_MAX_PARAM_CHARS;
  const json = prettyJson(s.parameters);
  const parametersTrimmed = json.length > max;
  return {
    title: `${s.capability} by ${s.actorId}`,
    agent: `${s.actorId} (${s.actorType})`,
    action: s.capability,
    environment: s.environment ? s.environment : null,
    risk: `${s.riskScore}/100`,
    why: s.reason,
    reasoning: s.reasoning ? s.reasoning : null,
    payloadHash: s.payloadHash ?? null,
    parameters: parametersTrimmed ? clip(json, max) : json,
    parametersTrimmed,
    oneLine: actionOneLine(s.capability, s.parameters ?? {}, s.actorId),
  };
}

const actionWhere = (p: PresentedAction) => `${p.action}${p.environment ? ` in ${p.environment}` : ''}`;

/** Labels of the details; `why` differs where nobody is asked (a notice). */
export interface DetailLabels {
  why?: string;
}

/**
 * The action's details as an HTML `<dl>`: Agent, Action (and environment), Risk score,
 * Why it needs approval, the agent's reasoning when given, and Parameters in a `<pre>`.
 * Everything is escaped.
 */
export function actionDetailsHtml(p: PresentedAction, labels: DetailLabels = {}): string {
  const row = (label: string, html: string) => `<dt>${escapeHtml(label)}</dt><dd>${html}</dd>`;
  return `<dl>${row('Agent', escapeHtml(p.agent))}${row('Action', escapeHtml(actionWhere(p)))}
${row('Risk score', escapeHtml(p.risk))}${row(labels.why ?? 'Why it needs approval', escapeHtml(p.why))}${
  p.reasoning !== null ? row("Agent's reasoning", escapeHtml(p.reasoning)) : ''}
${row('Parameters', `<pre>${escapeHtml(p.parameters)}</pre>`)}${p.payloadHash !== null ? row('Payload hash (SHA-256)', `<code>${escapeHtml(p.payloadHash)}</code>`) : ''}</dl>`;
}

/**
 * The same details as text lines, one array element per line. A value that spans lines
 * has its further lines indented, so agent text cannot pass for a line of the mail.
 */
export function actionDetailsText(p: PresentedAction, labels: DetailLabels = {}): string[] {
  const field = (label: string, value: string) => {
    const [first, ...rest] = value.split(/\r\n?|[\n\u2028\u2029]/);
    return [`${label}: ${first}`, ...rest.map((l) => `  ${l}`)];
  };
  return [
    ...field('Agent', p.agent),
    ...field('Action', actionWhere(p)),
    ...field('Risk score', p.risk),
    ...field(labels.why ?? 'Why it needs approval', p.why),
    ...(p.reasoning !== null ? field("Agent's reasoning", p.reasoning) : []),
    `Parameters${p.parametersTrimmed ? ' (shortened)' : ''}:`,
    ...p.parameters.split('\n'),
    ...(p.payloadHash !== null ? [`Payload hash (SHA-256): ${p.payloadHash}`] : []),
  ];
}

/** A vote as it may be stored: delegation and conditions are optional and read defensively. */
type VoteView = {
  approverId: string;
  tier?: number;
  at?: string;
  comment?: string;
  onBehalfOf?: unknown;
  conditions?: unknown;
};
type HistoryEvent = ApprovalState['history'][number];

const VOTE_VERB: Record<string, string> = {
  APPROVED_BY: 'Approved',
  CONDITIONAL_BY: 'Approved with conditions',
  DENIED_BY: 'Denied',
};

const FINAL_LINE: Record<string, string> = {
  APPROVED: 'Result: approved, the action may run',
  CONDITIONAL: 'Result: approved with conditions, the action may run under them',
  DENIED: 'Result: denied, the action will not run',
  EXPIRED: 'Result: expired, the action will not run',
  WITHDRAWN: 'Result: withdrawn, the action will not run',
  WAIVED: 'Result: waived by an admin, the action may run',
};

/**
 * What has happened to an approval, for people, oldest first: `Approved by Alice`,
 * `Denied by Bob: "too large"`, `Approved by Dana for Alice` (a delegate), `Escalated to tier 2`,
 * `Expired: nobody decided in time`, `Waived by Root: <reason>`, `Withdrawn by the agent`,
 * and a last line for where it stands (still waiting, or its end). Unknown events are skipped.
 *
 * @param names person ids to display names; an id without a name is shown as is.
 */
export function approvalStatusLines(state: ApprovalState, names: Record<string, string>): string[] {
  // Own keys only: an id like `constructor` must not print Object's constructor.
  const who = (id: unknown) => {
    if (typeof id !== 'string' || !id) return 'someone';
    return Object.hasOwn(names, id) && typeof names[id] === 'string' && names[id] ? names[id] : id;
  };
  const quoted = (s: string) => `"${clip(flat(s), COMMENT_MAX)}"`;
  const approvals = (state.approvals ?? []) as VoteView[];
  const denials = (state.denials ?? []) as VoteView[];
  const voteOf = (pool: VoteView[], e: HistoryEvent) =>
    pool.find((v) => v.approverId === e.by && v.at === e.at) ?? pool.find((v) => v.approverId === e.by);

  const voteLine = (e: HistoryEvent): string => {
    const vote = voteOf(e.event === 'DENIED_BY' ? denials : approvals, e);
    let line = `${VOTE_VERB[e.event]} by ${who(e.by)}`;
    if (!vote) return e.detail ? `${line}: ${quoted(e.detail)}` : line;
    if (typeof vote.onBehalfOf === 'string' && vote.onBehalfOf) line += ` for ${who(vote.onBehalfOf)}`;
    if (vote.comment) line += `: ${quoted(vote.comment)}`;
    const conditions = Array.isArray(vote.conditions)
      ? vote.conditions.filter((c): c is string => typeof c === 'string')
      : [];
    if (conditions.length) line += ` (conditions: ${conditions.map((c) => clip(flat(c), COMMENT_MAX)).join('; ')})`;
    return line;
  };

  const lines: string[] = [];
  for (const e of state.history ?? []) {
    switch (e.event) {
      case 'APPROVED_BY':
      case 'CONDITIONAL_BY':
      case 'DENIED_BY':
        lines.push(voteLine(e));
        break;
      case 'ESCALATED':
        lines.push(`Escalated to tier ${e.tier}`);
        break;
      case 'REMINDED':
        lines.push(`Reminder sent (tier ${e.tier})`);
        break;
      case 'EXPIRED':
        lines.push('Expired: nobody decided in time');
        break;
      case 'WAIVED':
        lines.push(`Waived by ${who(e.by)}${e.detail ? `: ${clip(flat(e.detail), COMMENT_MAX)}` : ''}`);
        break;
      case 'WITHDRAWN':
        lines.push(`Withdrawn by the agent${e.detail ? `: ${clip(flat(e.detail), COMMENT_MAX)}` : ''}`);
        break;
      default:
        // STARTED says nothing a person needs; newer events are skipped until they have words.
        break;
    }
  }
  const status: string = state.status;
  const last = status === 'PENDING' ? `Waiting for a decision (tier ${state.tier})` : FINAL_LINE[status];
  lines.push(last ?? `Result: ${status}`);
  return lines;
}

/** Text safe in Slack mrkdwn and message text: Slack reads only `&`, `<` and `>` as control characters. */
export function slackEscape(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * `raw` escaped for Slack and at most `budget` characters long once escaped (escaping grows
 * the text, so cutting first could still overflow); cut between characters, never inside `&amp;`.
 */
function fitEscaped(raw: string, budget: number): string {
  const full = slackEscape(raw);
  if (full.length <= budget) return full;
  let out = '';
  for (const ch of raw) {
    const e = slackEscape(ch);
    if (out.length + e.length > budget - 1) break;
    out += e;
  }
  return out + ELLIPSIS;
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
// plain_text is shown literally (no escaping needed); emoji off so agent text cannot turn into pictures.
const plainText = (text: string, max: number) => ({ type: 'plain_text', text: clip(text, max), emoji: false });
const button = (text: string) => plainText(text, SLACK_BUTTON_TEXT_MAX);

/** `*Label*` and a value on the next line, within `max` characters. */
function labelled(label: string, raw: string, max: number): string {
  const head = `*${label}*\n`;
  return head + fitEscaped(raw, max - head.length);
}

/** Parameters in a code block; a ``` inside them is broken up so it cannot end the block early. */
function codeSection(label: string, code: string, trimmed: boolean): object {
  const head = `*${label}*${trimmed ? ' (shortened)' : ''}\n\`\`\`\n`;
  const tail = '\n```';
  const safe = code.replace(/`{3,}/g, (m) => m.split('').join('\u200b'));
  const body = fitEscaped(safe, SLACK_SECTION_MAX - head.length - tail.length);
  return { type: 'section', text: mrkdwn(head + body + tail) };
}

function detailFields(p: PresentedAction, whyLabel: string): object {
  return {
    type: 'section',
    fields: [
      mrkdwn(labelled('Agent', p.agent, SLACK_FIELD_MAX)),
      mrkdwn(labelled('Action', actionWhere(p), SLACK_FIELD_MAX)),
      mrkdwn(labelled('Risk', p.risk, SLACK_FIELD_MAX)),
      mrkdwn(labelled(whyLabel, p.why, SLACK_FIELD_MAX)),
    ],
  };
}

function detailBlocks(p: PresentedAction, whyLabel: string): object[] {
  return [
    detailFields(p, whyLabel),
    ...(p.reasoning !== null
      ? [{ type: 'section', text: mrkdwn(labelled("Agent's reasoning", p.reasoning, SLACK_SECTION_MAX)) }]
      : []),
    codeSection('Parameters', p.parameters, p.parametersTrimmed),
  ];
}

/** The newest status lines that fit in one mrkdwn text; older ones give way to `…`. */
function statusText(lines: string[]): string {
  const escaped = lines.map((l) => fitEscaped(l, STATUS_LINE_MAX));
  const kept: string[] = [];
  let size = 0;
  for (let i = escaped.length - 1; i >= 0; i--) {
    const add = escaped[i].length + (kept.length ? 1 : 0);
    if (size + add > SLACK_SECTION_MAX - 2) {
      kept.unshift(ELLIPSIS);
      break;
    }
    kept.unshift(escaped[i]);
    size += add;
  }
  return kept.join('\n');
}

const isLinkable = (url: string) => /^https?:\/\//i.test(url) && url.length <= SLACK_URL_MAX;

/**
 * A direct message asking one approver to decide, in Block Kit: the title, the details,
 * the parameters, escalation/reminder and status notes, and — only while not ended —
 * Approve / Deny buttons carrying `approvalId` (action ids `approval.approve`, `approval.deny`)
 * plus an "Open the page" link button. Once ended, the buttons give way to `endedText` in bold.
 * `text` is the escaped plain fallback for notifications.
 */
export function slackApprovalMessage(
  p: PresentedAction,
  o: {
    approvalId: string;
    pageUrl?: string | null;
    tier: number;
    statusLines?: string[];
    ended: boolean;
    endedText?: string;
    reminder?: boolean;
  },
): { text: string; blocks: object[] } {
  const blocks: object[] = [
    { type: 'header', text: plainText(p.title, SLACK_HEADER_MAX) },
    ...detailBlocks(p, 'Why it needs approval'),
  ];
  const notes: string[] = [];
  if (o.tier > 1) notes.push(`Escalated to you (tier ${o.tier}).`);
  if (o.reminder && !o.ended) notes.push('Reminder: this still waits for your decision.');
  if (notes.length) blocks.push({ type: 'context', elements: [mrkdwn(slackEscape(notes.join(' ')))] });
  if (o.statusLines?.length) blocks.push({ type: 'context', elements: [mrkdwn(statusText(o.statusLines))] });
  const endedText = flat(o.endedText ?? '') || 'This approval has ended.';
  if (o.ended) {
    blocks.push({ type: 'section', text: mrkdwn(`*${fitEscaped(endedText, SLACK_SECTION_MAX - 2)}*`) });
  } else {
    const elements: object[] = [
      { type: 'button', action_id: 'approval.approve', text: button('Approve'), style: 'primary', value: o.approvalId },
      { type: 'button', action_id: 'approval.deny', text: button('Deny'), style: 'danger', value: o.approvalId },
    ];
    if (o.pageUrl && isLinkable(o.pageUrl)) {
      elements.push({ type: 'button', action_id: 'approval.open', text: button('Open the page'), url: o.pageUrl });
    }
    blocks.push({ type: 'actions', elements });
  }
  const fallback = o.ended ? `${p.title}. ${endedText}` : `Approval needed: ${p.title}. ${flat(p.why)}`;
  return { text: fitEscaped(fallback, SLACK_SECTION_MAX), blocks };
}

/**
 * A NOTIFY rule's post to a channel, in Block Kit: what `happened` to the action, its details
 * and the rules that asked for the notice. No buttons: nobody is asked to decide.
 */
export function slackNoticeMessage(
  p: PresentedAction,
  o: { happened: string; rules: string[] },
): { text: string; blocks: object[] } {
  const headline = `${p.title} ${o.happened}`;
  const blocks: object[] = [{ type: 'header', text: plainText(headline, SLACK_HEADER_MAX) }, ...detailBlocks(p, 'Why')];
  if (o.rules.length) {
    const told = fitEscaped(`You are told because of: ${o.rules.join(', ')}`, SLACK_SECTION_MAX);
    blocks.push({ type: 'context', elements: [mrkdwn(told)] });
  }
  return { text: fitEscaped(flat(headline), SLACK_SECTION_MAX), blocks };
}

import { escapeHtml } from '../services/html';
import { actionDetailsHtml, actionDetailsText, presentAction } from '../services/presenter';
import type { NotificationRequest, ProposalSummary } from '../workflows/messages';

/** Mail has no Slack-sized limit; this only keeps a runaway payload from making a huge mail. */
const MAIL_MAX_PARAM_CHARS = 20_000;

const OUTCOME_WORDS: Record<string, string> = {
  ALLOW: 'was allowed',
  DENY: 'was denied',
  REQUIRE_APPROVAL: 'is waiting for approval',
  ESCALATE: 'was escalated for approval',
};

/** The notice a NOTIFY rule asked for: what happened, which rule asked, and the decision id to look it up. */
export function notificationEmail(a: {
  summary: ProposalSummary;
  decisionId: string;
  rules: NotificationRequest[];
  name: string;
}): { subject: string; text: string; html: string } {
  const s = a.summary;
  const happened = OUTCOME_WORDS[s.outcome] ?? `ended as ${s.outcome}`;
  const high = a.rules.some((r) => r.priority === 'high' || r.priority === 'critical');
  const subject = `[Arbiter]${high ? ' [high]' : ''} ${s.capability} by ${s.actorId} ${happened}`;
  const rules = a.rules.map((r) => r.name ?? r.ruleId ?? 'a rule');
  const p = presentAction(s, { maxParamChars: MAIL_MAX_PARAM_CHARS });
  // Nobody is asked to approve a notice: the reason is just "why".
  const labels = { why: 'Why' };
  const text = [
    `Hello ${a.name},`,
    '',
    `${p.title} ${happened}.`,
    `You are told because of: ${rules.join(', ')}.`,
    '',
    ...actionDetailsText(p, labels),
    '',
    `Decision ${a.decisionId}.`,
  ].join('\n');
  const html = `<p>Hello ${escapeHtml(a.name)},</p>
<p><b>${escapeHtml(p.title)}</b> ${escapeHtml(happened)}.</p>
<p>You are told because of: ${rules.map(escapeHtml).join(', ')}.</p>
${actionDetailsHtml(p, labels)}
<p style="color:#666">Decision ${escapeHtml(a.decisionId)}.</p>`;
  return { subject, text, html };
}

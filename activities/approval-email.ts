import { escapeHtml } from '../services/html';
import { actionDetailsHtml, actionDetailsText, presentAction } from '../services/presenter';
import type { ProposalSummary } from '../workflows/messages';

/** Mail has no Slack-sized limit; this only keeps a runaway payload from making a huge mail. */
const MAIL_MAX_PARAM_CHARS = 20_000;

/**
 * The approval request mail: the action, why it needs a person, and one link that opens a page
 * (a GET decides nothing).
 */
export function approvalEmail(a: {
  publicUrl: string;
  token: string;
  user: { name: string; email: string };
  summary: ProposalSummary;
  decisionId: string;
  tier: number;
}): { subject: string; text: string; html: string } {
  const url = `${a.publicUrl}/approve/${encodeURIComponent(a.token)}`;
  const s = a.summary;
  const subject = s.kind === 'gate' ? `[Arbiter] Review needed: ${s.capability}` : `[Arbiter] Approval needed: ${s.capability} by ${s.actorId}`;
  const p = presentAction(s, { maxParamChars: MAIL_MAX_PARAM_CHARS });
  const escalated = a.tier > 1 ? `This request was escalated to you (tier ${a.tier}).` : '';
  // The real link comes before any agent text, so the first /approve/ link in the mail is ours.
  const text = [
    `Hello ${a.user.name},`,
    '',
    `${s.kind === 'gate' ? 'A governance gate needs your review.' : "An AI agent's action needs your decision."}${escalated ? ` ${escalated}` : ''}`,
    `Review and decide: ${url}`,
    '',
    ...actionDetailsText(p),
    '',
    `Review and decide: ${url}`,
    '',
    `${s.kind === 'gate' ? 'Gate submission' : 'Decision'} ${a.decisionId}. The link is yours alone and works once.`,
  ].join('\n');
  const html = `<p>Hello ${escapeHtml(a.user.name)},</p>
<p><b>${escapeHtml(p.title)}</b> needs your decision.</p>
${escalated ? `<p>${escapeHtml(escalated)}</p>` : ''}
${actionDetailsHtml(p)}
<p><a href="${escapeHtml(url)}">Review and decide</a></p>
<p style="color:#666">${s.kind === 'gate' ? 'Gate submission' : 'Decision'} ${escapeHtml(a.decisionId)}. The link is yours alone and works once.</p>`;
  return { subject, text, html };
}

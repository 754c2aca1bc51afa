import type { ProposalSummary } from '../workflows/messages';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The approval request mail: the action, why it needs a person, and one link that opens a page (a GET decides nothing). */
export function approvalEmail(a: { publicUrl: string; token: string; user: { name: string; email: string }; summary: ProposalSummary; decisionId: string; tier: number }): { subject: string; text: string; html: string } {
  const url = `${a.publicUrl}/approve/${encodeURIComponent(a.token)}`;
  const s = a.summary;
  const subject = `[Arbiter] Approval needed: ${s.capability} by ${s.actorId}`;
  const params = JSON.stringify(s.parameters, null, 2);
  const text = [
    `Hello ${a.user.name},`,
    '',
    `${s.actorId} (${s.actorType}) asks to run ${s.capability}${s.environment ? ` in ${s.environment}` : ''}.`,
    `Risk score: ${s.riskScore}/100. Why it needs you: ${s.reason}`,
    a.tier > 1 ? `This request was escalated to you (tier ${a.tier}).` : '',
    '',
    'Parameters:',
    params,
    '',
    `Review and decide: ${url}`,
    '',
    `Decision ${a.decisionId}. The link is yours alone and works once.`,
  ].join('\n');
  const html = `<p>Hello ${esc(a.user.name)},</p>
<p><b>${esc(s.actorId)}</b> (${esc(s.actorType)}) asks to run <b>${esc(s.capability)}</b>${s.environment ? ` in ${esc(s.environment)}` : ''}.</p>
<p>Risk score: ${s.riskScore}/100. Why it needs you: ${esc(s.reason)}</p>
${a.tier > 1 ? `<p>This request was escalated to you (tier ${a.tier}).</p>` : ''}
<pre>${esc(params)}</pre>
<p><a href="${esc(url)}">Review and decide</a></p>
<p style="color:#666">Decision ${esc(a.decisionId)}. The link is yours alone and works once.</p>`;
  return { subject, text, html };
}

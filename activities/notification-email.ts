import type { NotificationRequest, ProposalSummary } from '../workflows/messages';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const OUTCOME_WORDS: Record<string, string> = {
  ALLOW: 'was allowed',
  DENY: 'was denied',
  REQUIRE_APPROVAL: 'is waiting for approval',
  ESCALATE: 'was escalated for approval',
};

/** The notice a NOTIFY rule asked for: what happened, which rule asked, and the decision id to look it up. */
export function notificationEmail(a: { summary: ProposalSummary; decisionId: string; rules: NotificationRequest[]; name: string }): { subject: string; text: string; html: string } {
  const s = a.summary;
  const happened = OUTCOME_WORDS[s.outcome] ?? `ended as ${s.outcome}`;
  const high = a.rules.some((r) => r.priority === 'high' || r.priority === 'critical');
  const subject = `[Arbiter]${high ? ' [high]' : ''} ${s.capability} by ${s.actorId} ${happened}`;
  const rules = a.rules.map((r) => r.name ?? r.ruleId ?? 'a rule');
  const params = JSON.stringify(s.parameters, null, 2);
  const text = [
    `Hello ${a.name},`,
    '',
    `${s.actorId} (${s.actorType}) proposed ${s.capability}${s.environment ? ` in ${s.environment}` : ''}, and it ${happened}.`,
    `Risk score: ${s.riskScore}/100. ${s.reason}`,
    `You are told because of: ${rules.join(', ')}.`,
    '',
    'Parameters:',
    params,
    '',
    `Decision ${a.decisionId}.`,
  ].join('\n');
  const html = `<p>Hello ${esc(a.name)},</p>
<p><b>${esc(s.actorId)}</b> (${esc(s.actorType)}) proposed <b>${esc(s.capability)}</b>${s.environment ? ` in ${esc(s.environment)}` : ''}, and it ${esc(happened)}.</p>
<p>Risk score: ${s.riskScore}/100. ${esc(s.reason)}</p>
<p>You are told because of: ${rules.map(esc).join(', ')}.</p>
<pre>${esc(params)}</pre>
<p style="color:#666">Decision ${esc(a.decisionId)}.</p>`;
  return { subject, text, html };
}

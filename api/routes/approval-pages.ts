import express, { Router } from 'express';
import type { Request, Response } from 'express';
import { Decision, User } from '../../entities';
import { AppError } from '../../services/errors';
import type { ApiDeps } from '../deps';
import { z } from 'zod';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)} · Arbiter</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
pre{background:#f5f5f5;padding:.75rem;overflow:auto;border-radius:6px}dt{font-weight:600}dd{margin:0 0 .5rem}
button{font-size:1rem;padding:.6rem 1.4rem;margin-right:.5rem;border-radius:6px;border:1px solid #888;cursor:pointer}
.approve{background:#1f7a3a;color:#fff;border-color:#1f7a3a}.deny{background:#b3261e;color:#fff;border-color:#b3261e}
textarea{width:100%;min-height:4rem}.muted{color:#666}</style></head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

const PROBLEM_TEXT: Record<string, [number, string]> = {
  TOKEN_MALFORMED: [404, 'This approval link is not valid.'],
  TOKEN_NOT_FOUND: [404, 'This approval link is not valid.'],
  TOKEN_BAD_SIGNATURE: [404, 'This approval link is not valid.'],
  TOKEN_EXPIRED: [410, 'This approval link has expired.'],
  TOKEN_USED: [410, 'This approval link has already been used.'],
  USER_DISABLED: [403, 'This person no longer approves in Arbiter.'],
};

/**
 * The link is the credential: never cache the page, never leak it in a Referer, and never let
 * another site frame the Approve button (clickjacking) or load anything into the page.
 */
function pageHeaders(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
}

const DecisionForm = z.object({ decision: z.enum(['approve', 'deny']), comment: z.string().max(2000).optional() });

/**
 * The pages behind approval links. A GET only shows (mail scanners prefetch
 * links, so it must decide nothing); the form's POST decides, once.
 */
export function approvalPagesRouter(deps: ApiDeps): Router {
  const r = Router();
  const { ds, links, workflows, audit } = deps;
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  deps.docs.add({ method: 'get', path: '/approve/:token', summary: 'Approval page: shows the action and Approve / Deny buttons; changes nothing', tags: ['Approvals'], scope: 'public', contentType: 'text/html', responses: { 200: { description: 'HTML page' }, 404: { description: 'Unknown link' }, 410: { description: 'Expired or used link' } } });
  deps.docs.add({ method: 'post', path: '/approve/:token', summary: 'Decide from an approval link (HTML form post: decision=approve|deny, comment)', tags: ['Approvals'], scope: 'public', contentType: 'text/html', responses: { 200: { description: 'Decision recorded' }, 403: { description: 'Refused (self-approval, not an approver)' }, 409: { description: 'No longer pending' }, 410: { description: 'Expired or used link' } } });

  const refuse = (res: Response, problem: string) => {
    const [status, text] = PROBLEM_TEXT[problem] ?? [400, 'This approval link cannot be used.'];
    res.status(status).type('html').send(page('Link unavailable', `<p>${esc(text)}</p>`));
  };

  r.get('/approve/:token', async (req: Request, res: Response) => {
    pageHeaders(res);
    const t = await links.inspect(String(req.params.token));
    if (!t.ok) return refuse(res, t.problem);
    const d = await ds.getRepository(Decision).findOne({ where: { id: t.grant.decisionId, orgId: t.grant.orgId } });
    const approver = await ds.getRepository(User).findOne({ where: { id: t.grant.approverId, orgId: t.grant.orgId } });
    if (!d || !approver) return refuse(res, 'TOKEN_NOT_FOUND');
    if (approver.disabledAt) return refuse(res, 'USER_DISABLED');
    const proposal = d.proposal as { action?: { parameters?: unknown }; environment?: string; reasoning?: string };
    const details = `<dl><dt>Agent</dt><dd>${esc(d.actorId)} (${esc(d.actorType)})</dd><dt>Action</dt><dd>${esc(d.capability)}${proposal.environment ? ` in ${esc(proposal.environment)}` : ''}</dd>
<dt>Risk score</dt><dd>${d.riskScore}/100</dd><dt>Why it needs approval</dt><dd>${esc(d.reason)}</dd>${proposal.reasoning ? `<dt>Agent's reasoning</dt><dd>${esc(proposal.reasoning)}</dd>` : ''}
<dt>Parameters</dt><dd><pre>${esc(JSON.stringify(proposal.action?.parameters ?? {}, null, 2))}</pre></dd></dl>`;
    if (d.status !== 'pending') {
      return res.type('html').send(page('Already decided', `${details}<p>This request is already decided: <b>${esc(d.finalOutcome)}</b>.</p>`));
    }
    res.type('html').send(page(`Approve ${d.capability}?`, `<p class="muted">Signed in by link as ${esc(approver.name)} &lt;${esc(approver.email)}&gt;. Decision ${esc(d.id)}.</p>${details}
<form method="post"><label>Comment (optional)<br><textarea name="comment" maxlength="2000"></textarea></label><p>
<button class="approve" name="decision" value="approve">Approve</button><button class="deny" name="decision" value="deny">Deny</button></p></form>`));
  });

  r.post('/approve/:token', form, async (req: Request, res: Response) => {
    pageHeaders(res);
    const parsed = DecisionForm.safeParse(req.body ?? {});
    if (!parsed.success) {
      return res.status(400).type('html').send(page('Not decided', '<p>Choose Approve or Deny.</p>'));
    }
    const t = await links.inspect(String(req.params.token));
    if (!t.ok) return refuse(res, t.problem);
    const approver = await ds.getRepository(User).findOne({ where: { id: t.grant.approverId, orgId: t.grant.orgId } });
    if (!approver) return refuse(res, 'TOKEN_NOT_FOUND');
    if (approver.disabledAt) return refuse(res, 'USER_DISABLED');
    if (!(await links.claim(t.grant.tokenId))) return refuse(res, 'TOKEN_USED');
    const { decision, comment } = parsed.data;
    try {
      const result = await workflows.decide(t.grant.workflowId, { approverId: approver.id, decision, comment, isAdmin: approver.roles.includes('admin'), via: 'email' });
      await audit.append(t.grant.orgId, [{ actorType: 'user', actorId: approver.id, entityType: 'decision', entityId: t.grant.decisionId, action: `approval.${decision}`, data: { via: 'email', tier: t.grant.tier, comment: comment ?? null, status: result.status } }]);
      const what = decision === 'approve' ? 'approved' : 'denied';
      const more = result.status === 'PENDING' ? ' More approvals are needed before it runs.' : '';
      res.type('html').send(page(`You ${what} it`, `<p>Your decision is recorded.${more}</p><p class="muted">Decision ${esc(t.grant.decisionId)}.</p>`));
    } catch (e) {
      if (e instanceof AppError) {
        return res.status(e.status).type('html').send(page('Not counted', `<p>${esc(e.message)}</p><p class="muted">${esc(e.code)}</p>`));
      }
      // The decision never reached the workflow: give the link back so the person can try again.
      await links.release(t.grant.tokenId);
      deps.log.error({ err: e }, 'approval link decision failed');
      res.status(503).type('html').send(page('Try again', '<p>Arbiter could not record your decision just now. Please try the link again in a minute.</p>'));
    }
  });

  return r;
}

import express, { Router } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { DomainError } from '../../services/errors';
import { escapeHtml } from '../../services/html';
import { actionDetailsHtml, presentAction } from '../../services/presenter';
import type { ProposalSummary } from '../../workflows/messages';
import type { ApiDeps } from '../deps';
import { statusOf } from '../http';
import { page, pageHeaders } from '../pages';

const PROBLEM_TEXT: Record<string, [number, string]> = {
  TOKEN_MALFORMED: [404, 'This approval link is not valid.'],
  TOKEN_NOT_FOUND: [404, 'This approval link is not valid.'],
  TOKEN_BAD_SIGNATURE: [404, 'This approval link is not valid.'],
  TOKEN_EXPIRED: [410, 'This approval link has expired.'],
  TOKEN_USED: [410, 'This approval link has already been used.'],
  USER_DISABLED: [403, 'This person no longer approves in Arbiter.'],
};

const DecisionForm = z.object({ decision: z.enum(['approve', 'deny']), comment: z.string().max(2000).optional() });

const ENDED_WORDS: Record<string, string> = { APPROVED: 'approved', CONDITIONAL: 'approved with conditions', DENIED: 'denied', EXPIRED: 'expired', WITHDRAWN: 'withdrawn', WAIVED: 'waived' };

/**
 * The pages behind approval links. A GET only shows (mail scanners prefetch
 * links, so it must decide nothing); the form's POST votes, once, through the
 * approval core like every other channel.
 */
export function approvalPagesRouter(deps: ApiDeps): Router {
  const r = Router();
  const { links, approvals, people } = deps;
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  deps.docs.add({ method: 'get', path: '/approve/:token', summary: 'Approval page: shows the action and Approve / Deny buttons; changes nothing', tags: ['Approvals'], scope: 'public', contentType: 'text/html', responses: { 200: { description: 'HTML page' }, 404: { description: 'Unknown link' }, 410: { description: 'Expired or used link' } } });
  deps.docs.add({ method: 'post', path: '/approve/:token', summary: 'Decide from an approval link (HTML form post: decision=approve|deny, comment)', tags: ['Approvals'], scope: 'public', contentType: 'text/html', responses: { 200: { description: 'Decision recorded' }, 403: { description: 'Refused (self-approval, not an approver)' }, 409: { description: 'No longer pending' }, 410: { description: 'Expired or used link' } } });

  const refuse = (res: Response, problem: string) => {
    const [status, text] = PROBLEM_TEXT[problem] ?? [400, 'This approval link cannot be used.'];
    res.status(status).type('html').send(page('Link unavailable', `<p>${escapeHtml(text)}</p>`));
  };

  /** The link's grant, its approval and its person, or a refusal page. */
  const open = async (req: Request, res: Response) => {
    const t = await links.inspect(String(req.params.token));
    if (!t.ok) return refuse(res, t.problem);
    const person = await people.get(t.grant.orgId, t.grant.approverId);
    const approval = await approvals.forLink(t.grant).catch(() => null);
    if (!person || !approval) return refuse(res, 'TOKEN_NOT_FOUND');
    if (person.disabled) return refuse(res, 'USER_DISABLED');
    return { grant: t.grant, person, approval };
  };

  r.get('/approve/:token', async (req: Request, res: Response) => {
    pageHeaders(res);
    const o = await open(req, res);
    if (!o) return;
    const details = actionDetailsHtml(presentAction(o.approval.summary as unknown as ProposalSummary, { maxParamChars: Infinity }));
    if (o.approval.status !== 'PENDING') {
      return res.type('html').send(page('Already decided', `${details}<p>This request has ended: <b>${escapeHtml(ENDED_WORDS[o.approval.status] ?? o.approval.status)}</b>.</p>`));
    }
    const title = `Approve ${(o.approval.summary as unknown as ProposalSummary).capability}?`;
    res.type('html').send(page(title, `<p class="muted">Signed in by link as ${escapeHtml(o.person.name)} &lt;${escapeHtml(o.person.email)}&gt;. Decision ${escapeHtml(o.approval.subjectId)}.</p>${details}
<form method="post"><label>Comment (optional)<br><textarea name="comment" maxlength="2000"></textarea></label><p>
<button class="approve" name="decision" value="approve">Approve</button><button class="deny" name="decision" value="deny">Deny</button></p></form>`));
  });

  r.post('/approve/:token', form, async (req: Request, res: Response) => {
    pageHeaders(res);
    const parsed = DecisionForm.safeParse(req.body ?? {});
    if (!parsed.success) return res.status(400).type('html').send(page('Not decided', '<p>Choose Approve or Deny.</p>'));
    const o = await open(req, res);
    if (!o) return;
    if (!(await links.claim(o.grant.tokenId))) return refuse(res, 'TOKEN_USED');
    const { decision, comment } = parsed.data;
    try {
      const result = await approvals.vote(o.approval, { kind: 'person', person: o.person }, { choice: decision, comment, via: 'email' });
      const what = decision === 'approve' ? 'approved' : 'denied';
      const more = result.status === 'PENDING' ? ' More approvals are needed before it runs.' : '';
      res.type('html').send(page(`You ${what} it`, `<p>Your decision is recorded.${more}</p><p class="muted">Decision ${escapeHtml(o.approval.subjectId)}.</p>`));
    } catch (e) {
      if (e instanceof DomainError) {
        return res.status(statusOf(e)).type('html').send(page('Not counted', `<p>${escapeHtml(e.message)}</p><p class="muted">${escapeHtml(e.code)}</p>`));
      }
      // The decision never reached the workflow: give the link back so the person can try again.
      await links.release(o.grant.tokenId);
      deps.log.error({ err: e }, 'approval link decision failed');
      res.status(503).type('html').send(page('Try again', '<p>Arbiter could not record your decision just now. Please try the link again in a minute.</p>'));
    }
  });

  return r;
}

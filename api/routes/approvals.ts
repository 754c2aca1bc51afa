import { Router } from 'express';
import { z } from 'zod';
import { DomainError } from '../../services/errors';
import { actionOneLine } from '../../services/presenter';
import type { ApiDeps } from '../deps';
import { route, statusOf } from '../http';

const tags = ['Approvals'];

const Item = z.object({
  approval_id: z.string(),
  subject_type: z.string(),
  subject_id: z.string(),
  workflow_id: z.string(),
  summary: z.string(),
  action: z.object({ capability: z.string(), agent_id: z.string(), risk_score: z.number(), reason: z.string(), parameters: z.record(z.string(), z.unknown()) }),
  tier: z.number(),
  deadline: z.string().nullable(),
  on_behalf_of: z.string().nullable().describe('The absent approver you stand in for, when you are their delegate'),
  page_url: z.string().describe('A one-time link to the approval page, valid while it can be decided'),
  created_at: z.string(),
});

const Vote = z
  .object({
    approval_id: z.string().min(1).max(100),
    decision: z.enum(['approve', 'deny']),
    comment: z.string().max(2000).optional(),
  })
  .strict();

/**
 * The caller's own approvals: what waits for the person the API key belongs to, and
 * a batch vote over several of them, each checked and audited on its own by the
 * approval core.
 */
export function approvalsRouter(deps: ApiDeps): Router {
  const r = Router();
  const { docs, keys, approvals, people } = deps;

  const me = async (principal: Parameters<typeof approvals.actorFor>[0]) => {
    const person = await people.forPrincipal(principal);
    if (!person) throw new DomainError('NOT_A_PERSON', 'this API key belongs to no person: create one with user_id (POST /api/v1/keys)', 'X-API-Key');
    return person;
  };

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/approvals', summary: 'What waits for you: the approvals the key’s person may decide now (as approver or delegate), oldest first', tags, scope: 'governance:read',
    query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), offset: z.coerce.number().int().min(0).default(0) }),
    responses: { 200: { description: 'Your queue', schema: z.object({ items: z.array(Item), total: z.number(), limit: z.number(), offset: z.number() }) }, 403: { description: 'The key belongs to no person' } },
  }, async ({ res, query, principal }) => {
    const person = await me(principal);
    const { items, total } = await approvals.pending(person, query);
    const out = [];
    for (const it of items) {
      const s = it.summary;
      out.push({
        approval_id: it.approval.id,
        subject_type: it.approval.subjectType,
        subject_id: it.approval.subjectId,
        workflow_id: it.approval.workflowId,
        summary: actionOneLine(s.capability, s.parameters ?? {}, s.actorId),
        action: { capability: s.capability, agent_id: s.actorId, risk_score: s.riskScore, reason: s.reason, parameters: s.parameters ?? {} },
        tier: it.tier,
        deadline: it.deadline,
        on_behalf_of: it.onBehalfOf ?? null,
        page_url: await approvals.pageLink(it.approval, person),
        created_at: it.approval.createdAt.toISOString(),
      });
    }
    res.json({ items: out, total, limit: query.limit, offset: query.offset });
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/approvals/:id/vote', summary: 'Approve or deny one approval as the key’s person (or an admin key); refusals answer their 4xx at once', tags, scope: 'governance:write',
    body: Vote.omit({ approval_id: true }),
    responses: {
      200: { description: '`{approval_id, subject_type, subject_id, status, tier, on_behalf_of}`' },
      403: { description: 'SELF_APPROVAL, NOT_AN_APPROVER, NOT_A_PERSON or USER_DISABLED' },
      404: { description: 'No such approval' },
      409: { description: 'NOT_PENDING or ALREADY_DECIDED' },
      503: { description: 'APPROVAL_UNAVAILABLE: the approval is still starting (its workflow not yet running); send it again in a moment' },
    },
  }, async ({ res, params, body, principal }) => {
    const actor = await approvals.actorFor(principal);
    const a = await approvals.get(principal.orgId, params.id);
    const out = await approvals.vote(a, actor, { choice: body.decision, comment: body.comment, via: 'api' });
    res.json({ approval_id: a.id, subject_type: a.subjectType, subject_id: a.subjectId, status: out.status, tier: out.tier, on_behalf_of: out.onBehalfOf ?? null });
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/approvals/votes', summary: 'Vote on several approvals at once; each vote is checked and audited on its own', tags, scope: 'governance:write',
    body: z.object({ votes: z.array(Vote).min(1).max(100) }).strict(),
    responses: {
      200: { description: '`{results: [{approval_id, ok, status?, tier?, on_behalf_of?, error?: {code, message, status}}]}` in the order given' },
      403: { description: 'The key belongs to no person and is not an admin key' },
    },
  }, async ({ res, body, principal }) => {
    const actor = await approvals.actorFor(principal);
    const results = [];
    for (const v of body.votes) {
      try {
        const a = await approvals.get(principal.orgId, v.approval_id);
        const out = await approvals.vote(a, actor, { choice: v.decision, comment: v.comment, via: 'api' });
        results.push({ approval_id: v.approval_id, ok: true, status: out.status, tier: out.tier, on_behalf_of: out.onBehalfOf ?? null });
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        results.push({ approval_id: v.approval_id, ok: false, error: { code: e.code, message: e.message, status: statusOf(e) } });
      }
    }
    res.json({ results });
  });

  return r;
}

import { Router } from 'express';
import { z } from 'zod';
import { GATE_TYPES, RESOURCE_TYPES } from '../../engine/gates';
import type { GatePolicy, GateSubmission, Solution } from '../../entities';
import type { ApiDeps } from '../deps';
import { route } from '../http';

const tags = ['Governance gates'];
const BASE = '/api/v1/governance';

const Id = z.string().min(1).max(100);
const Refs = z.array(z.string().min(1).max(320)).max(100);
const Gate = z
  .object({
    id: Id,
    name: z.string().min(1).max(200).optional(),
    type: z.enum(GATE_TYPES),
    description: z.string().max(2000).optional(),
    approvers: Refs.optional().describe('Reviewers: person ids or emails, or role:<role>; default: the organization’s approvers'),
    quorum: z.number().int().min(1).max(100).optional(),
    timeoutSeconds: z.number().int().min(1).max(31_536_000).optional(),
    escalation: z.object({ approvers: Refs.optional(), timeoutSeconds: z.number().int().min(1).max(31_536_000).optional() }).strict().optional(),
    schema: z.record(z.string(), z.unknown()).optional().describe('checklist: the JSON Schema the submission’s data.answers must meet'),
    conditions: z.record(z.string(), z.unknown()).optional().describe('automated: smart-rule conditions over the submission’s data'),
  })
  .strict();
const Stage = z.object({ id: Id, name: z.string().min(1).max(200), gates: z.array(Gate).min(1).max(50) }).strict();
const PolicyFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000),
  category: z.string().trim().min(1).max(100),
  severity: z.enum(['low', 'medium', 'high', 'critical']),
  applicableResourceTypes: z.array(z.string().min(1).max(50)).min(1).max(RESOURCE_TYPES.length),
  stages: z.array(Stage).min(1).max(20),
  isActive: z.boolean(),
  isDraft: z.boolean(),
};
const PolicyIn = z.object(PolicyFields).strict();
const PolicyPatch = z.object(PolicyFields).partial().strict();

const Resource = z.object({ type: z.string().min(1).max(50), id: z.string().min(1).max(200) }).strict();
const SolutionFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000).optional(),
  resources: z.array(Resource).max(500).describe('What the solution deploys: [{type, id}], type from GET /resource-types'),
  metadata: z.record(z.string(), z.unknown()).optional(),
};
const SolutionIn = z.object({ ...SolutionFields, resources: SolutionFields.resources.default([]) }).strict();
const SolutionPatch = z.object(SolutionFields).partial().strict();

const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);
const offset = z.coerce.number().int().min(0).default(0);
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const sortOf = <F extends string>(fields: readonly [F, ...F[]], dflt: string) =>
  z
    .string()
    .regex(new RegExp(`^(${fields.join('|')}):(asc|desc)$`), `sort is field:dir with field one of ${fields.join(', ')} and dir asc or desc`)
    .default(dflt)
    .transform((v) => {
      const [field, dir] = v.split(':');
      return { field: field as F, dir: dir as 'asc' | 'desc' };
    });

const iso = (d: Date | null) => d?.toISOString() ?? null;
const policyOut = (p: GatePolicy) => ({
  _id: p.id,
  name: p.name,
  description: p.description,
  category: p.category,
  severity: p.severity,
  applicableResourceTypes: p.applicableResourceTypes,
  stages: p.stages,
  isActive: p.isActive,
  isDraft: p.isDraft,
  version: p.version,
  createdBy: p.createdBy,
  organizationId: p.orgId,
  createdAt: iso(p.createdAt),
  updatedAt: iso(p.updatedAt),
});
const solutionOut = (s: Solution) => ({
  _id: s.id,
  name: s.name,
  description: s.description,
  resources: s.resources,
  status: s.status,
  metadata: s.metadata,
  createdBy: s.createdBy,
  organizationId: s.orgId,
  createdAt: iso(s.createdAt),
  updatedAt: iso(s.updatedAt),
});
const submissionOut = (s: GateSubmission) => ({
  _id: s.id,
  solutionId: s.solutionId,
  policyId: s.policyId,
  policyVersion: s.policyVersion,
  stageId: s.stageId,
  gateId: s.gateId,
  gateType: s.gateType,
  round: s.round,
  data: s.data,
  status: s.status,
  conditions: s.conditions,
  reviews: s.reviews,
  submittedBy: s.submittedBy,
  waivedBy: s.waivedBy,
  waiverReason: s.waiverReason,
  decidedAt: iso(s.decidedAt),
  organizationId: s.orgId,
  createdAt: iso(s.createdAt),
  updatedAt: iso(s.updatedAt),
});


/** Governance gates (seed 000): gate policies, solutions, gate submissions, enforcement, metrics, resource types, audit. */
export function gatesRouter(deps: ApiDeps): Router {
  const r = Router();
  const { docs, keys, gates } = deps;

  // ---- policies
  route(r, docs, keys, {
    method: 'get', path: `${BASE}/policies`, summary: 'List governance policies', tags, scope: 'governance:read',
    query: z.object({ category: z.string().max(100).optional(), severity: z.string().max(20).optional(), isActive: bool.optional(), search: z.string().max(200).optional(), limit: limit(200, 20), offset, sort: sortOf(['createdAt', 'updatedAt', 'name', 'severity', 'category'], 'createdAt:desc') }),
    responses: { 200: { description: '`{count, limit, offset, items: [Policy]}`' }, 400: { description: 'A bad filter, named' } },
  }, async ({ res, query, principal }) => {
    const { count, items } = await gates.listPolicies(principal.orgId, query);
    res.json({ count, limit: query.limit, offset: query.offset, items: items.map(policyOut) });
  });

  route(r, docs, keys, {
    method: 'post', path: `${BASE}/policies`, summary: 'Create a governance policy with ordered stages of gates (approval, checklist, automated)', tags, scope: 'governance:write', body: PolicyIn,
    responses: { 201: { description: '`{policyId}`' }, 400: { description: 'Invalid policy; the error names the field' } },
  }, async ({ res, body, principal }) => {
    const p = await gates.createPolicy(principal, body);
    res.status(201).json({ policyId: p.id });
  });

  route(r, docs, keys, {
    method: 'get', path: `${BASE}/policies/:id`, summary: 'One governance policy', tags, scope: 'governance:read',
    responses: { 200: { description: 'The Policy object' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    res.json(policyOut(await gates.getPolicy(principal.orgId, params.id)));
  });

  route(r, docs, keys, {
    method: 'put', path: `${BASE}/policies/:id`, summary: 'Update a governance policy (any subset of its fields); it becomes a new version', tags, scope: 'governance:write', body: PolicyPatch,
    responses: { 200: { description: 'The updated Policy object' }, 400: { description: 'Invalid change, named' }, 404: { description: 'Not found' }, 409: { description: 'Changed meanwhile' } },
  }, async ({ res, params, body, principal }) => {
    res.json(policyOut(await gates.updatePolicy(principal, params.id, body)));
  });

  route(r, docs, keys, {
    method: 'delete', path: `${BASE}/policies/:id`, summary: 'Delete a governance policy (its versions and submissions stay on record)', tags, scope: 'governance:write',
    responses: { 204: { description: 'Deleted' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    await gates.deletePolicy(principal, params.id);
    res.status(204).end();
  });

  // ---- solutions
  route(r, docs, keys, {
    method: 'get', path: `${BASE}/solutions`, summary: 'List solutions', tags, scope: 'governance:read',
    query: z.object({ status: z.enum(['draft', 'in-review', 'approved', 'conditionally-approved', 'blocked']).optional(), search: z.string().max(200).optional(), limit: limit(200, 20), offset }),
    responses: { 200: { description: '`{count, limit, offset, items: [Solution]}`' } },
  }, async ({ res, query, principal }) => {
    const { count, items } = await gates.listSolutions(principal.orgId, query);
    res.json({ count, limit: query.limit, offset: query.offset, items: items.map(solutionOut) });
  });

  route(r, docs, keys, {
    method: 'post', path: `${BASE}/solutions`, summary: 'Create a solution: {name, description?, resources: [{type, id}], metadata?}', tags, scope: 'governance:write', body: SolutionIn,
    responses: { 201: { description: '`{solutionId}`' }, 400: { description: 'Invalid solution, named' } },
  }, async ({ res, body, principal }) => {
    const s = await gates.createSolution(principal, body);
    res.status(201).json({ solutionId: s.id });
  });

  route(r, docs, keys, {
    method: 'get', path: `${BASE}/solutions/:id`, summary: 'One solution', tags, scope: 'governance:read',
    responses: { 200: { description: 'The solution document' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    res.json(solutionOut(await gates.getSolution(principal.orgId, params.id)));
  });

  route(r, docs, keys, {
    method: 'put', path: `${BASE}/solutions/:id`, summary: 'Update a solution (any subset of its fields); its status is recomputed', tags, scope: 'governance:write', body: SolutionPatch,
    responses: { 200: { description: 'The updated solution document' }, 400: { description: 'Invalid change, named' }, 404: { description: 'Not found' } },
  }, async ({ res, params, body, principal }) => {
    res.json(solutionOut(await gates.updateSolution(principal, params.id, body)));
  });

  route(r, docs, keys, {
    method: 'delete', path: `${BASE}/solutions/:id`, summary: 'Delete a solution', tags, scope: 'governance:write',
    responses: { 204: { description: 'Deleted' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    await gates.deleteSolution(principal, params.id);
    res.status(204).end();
  });

  route(r, docs, keys, {
    method: 'get', path: `${BASE}/solutions/:id/requirements`, summary: 'The stages and gates of every active policy applying to the solution, each gate with its status', tags, scope: 'governance:read',
    responses: { 200: { description: '`{solutionId, status, requirements: [{policyId, policyName, version, category, severity, stages: [{stageId, name, open, passed, gates: [{gateId, name, type, status, submissionId, round, conditions}]}]}]}`' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    const { solution, requirements } = await gates.requirements(principal.orgId, params.id);
    res.json({ solutionId: solution.id, status: solution.status, requirements });
  });

  route(r, docs, keys, {
    method: 'post', path: `${BASE}/solutions/:id/gates/:sub/submit`, summary: 'Submit a gate: automated gates are decided at once, the others go to reviewers in a gate workflow', tags, scope: 'governance:write',
    body: z.object({ policyId: Id, data: z.record(z.string(), z.unknown()).default({}) }).strict(),
    responses: {
      200: { description: 'The gate submission record' },
      400: { description: 'Checklist answers that miss the gate’s schema (the field is named)' },
      404: { description: 'Unknown solution, policy or gate' },
      409: { description: 'An earlier stage has not passed (named), or the gate is in review or already passed' },
      422: { description: 'The policy does not apply to this solution' },
    },
  }, async ({ res, params, body, principal }) => {
    res.json(submissionOut(await gates.submit(principal, params.id, params.sub, body)));
  });

  // ---- submissions (pending-reviews before :id)
  route(r, docs, keys, {
    method: 'get', path: `${BASE}/gate-submissions/pending-reviews`, summary: 'Gate submissions awaiting the caller’s review (as reviewer or delegate)', tags, scope: 'governance:read',
    query: z.object({ limit: limit(200, 50), offset }),
    responses: { 200: { description: '`{count, limit, offset, items: [GateSubmission & {approvalId, tier, deadline, onBehalfOf}]}`' } },
  }, async ({ res, query, principal }) => {
    const all = await gates.pendingReviews(principal);
    const items = all.slice(query.offset, query.offset + query.limit).map((i) => ({ ...submissionOut(i.submission), approvalId: i.approvalId, tier: i.tier, deadline: i.deadline, onBehalfOf: i.onBehalfOf ?? null }));
    res.json({ count: all.length, limit: query.limit, offset: query.offset, items });
  });

  route(r, docs, keys, {
    method: 'get', path: `${BASE}/gate-submissions/:id`, summary: 'One gate submission', tags, scope: 'governance:read',
    responses: { 200: { description: 'The gate submission record' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    res.json(submissionOut(await gates.getSubmission(principal.orgId, params.id)));
  });

  route(r, docs, keys, {
    method: 'post', path: `${BASE}/gate-submissions/:id/approve`, summary: 'Approve, deny or conditionally approve a gate submission (conditional: the comments state the conditions)', tags, scope: 'governance:write',
    body: z.object({ decision: z.enum(['approved', 'denied', 'conditional']), comments: z.string().max(2000).optional() }).strict(),
    responses: {
      200: { description: 'The updated gate submission record' },
      400: { description: 'Conditional without comments' },
      403: { description: 'The submitter (SELF_APPROVAL) or not a reviewer (NOT_AN_APPROVER)' },
      409: { description: 'Not in review, or already reviewed by this person' },
    },
  }, async ({ res, params, body, principal }) => {
    res.json(submissionOut(await gates.review(principal, params.id, body)));
  });

  route(r, docs, keys, {
    method: 'post', path: `${BASE}/gate-submissions/:id/waive`, summary: 'Admin only: waive a gate in review, with a reason', tags, scope: 'governance:write', role: 'admin',
    body: z.object({ reason: z.string().trim().min(1).max(2000) }).strict(),
    responses: { 200: { description: 'The updated gate submission record' }, 400: { description: 'No reason' }, 403: { description: 'Admin role required, or the admin submitted it' }, 409: { description: 'Not in review' } },
  }, async ({ res, params, body, principal }) => {
    res.json(submissionOut(await gates.waive(principal, params.id, body.reason)));
  });

  route(r, docs, keys, {
    method: 'post', path: `${BASE}/solutions/:id/recompute`, summary: 'Recompute a solution’s status from its gates; answers what changed', tags, scope: 'governance:write',
    responses: { 200: { description: '`{solutionId, previousStatus, status, changed, blocking, conditions, requirements}`' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    res.json(await gates.recompute(principal, params.id));
  });

  route(r, docs, keys, {
    method: 'get', path: `${BASE}/enforcement/check`, summary: 'May this resource be deployed? With the blocking policies, stages and gates, and the conditions of conditional approvals', tags, scope: 'governance:read',
    query: z.object({ resourceId: z.string().min(1).max(200), resourceType: z.string().min(1).max(50) }),
    responses: { 200: { description: '`{resourceId, resourceType, allowed, reason, message, solutions, blockingPolicies, blocking, conditions}`' }, 400: { description: 'Missing or unknown resource type' } },
  }, async ({ res, query, principal }) => {
    res.json(await gates.enforcement(principal.orgId, query.resourceId, query.resourceType));
  });

  route(r, docs, keys, {
    method: 'get', path: `${BASE}/metrics`, summary: 'Governance metrics: solutions and gates by status, pending reviews, waivers, time to decision by policy and severity', tags, scope: 'governance:read',
    responses: { 200: { description: 'The metrics rollup' } },
  }, async ({ res, principal }) => {
    res.json(await gates.metrics(principal.orgId));
  });

  route(r, docs, keys, {
    method: 'get', path: `${BASE}/resource-types`, summary: 'The resource types governance knows', tags, scope: 'governance:read',
    responses: { 200: { description: '`[{id, label}]`' } },
  }, async ({ res }) => {
    res.json(RESOURCE_TYPES);
  });

  route(r, docs, keys, {
    method: 'get', path: `${BASE}/audit`, summary: 'Admin only: the organization’s audit records', tags, scope: 'governance:read', role: 'admin',
    query: z.object({
      entityType: z.string().max(100).optional(),
      action: z.string().max(100).optional(),
      userId: z.string().max(200).optional(),
      startDate: z.iso.datetime({ offset: true }).optional(),
      endDate: z.iso.datetime({ offset: true }).optional(),
      limit: limit(500, 100),
      offset,
      sort: sortOf(['timestamp', 'action', 'entityType'], 'timestamp:desc'),
    }),
    responses: { 200: { description: '`{count, limit, offset, items: [{_id, entityType, entityId, action, userId, timestamp, metadata}]}`' }, 403: { description: 'Admin role required' } },
  }, async ({ res, query, principal }) => {
    const { total: n, rows } = await deps.audit.search(
      principal.orgId,
      {
        entityType: query.entityType,
        action: query.action,
        actorId: query.userId,
        ...(query.startDate ? { since: new Date(query.startDate) } : {}),
        ...(query.endDate ? { until: new Date(query.endDate) } : {}),
      },
      { by: query.sort.field === 'timestamp' ? 'seq' : query.sort.field, dir: query.sort.dir },
      query,
    );
    res.json({
      count: n,
      limit: query.limit,
      offset: query.offset,
      items: rows.map((a) => ({ _id: a.id, entityType: a.entityType, entityId: a.entityId, action: a.action, userId: a.actorId, actorType: a.actorType, timestamp: a.at, seq: a.seq, hash: a.hash, metadata: { organizationId: principal.orgId, ...a.data } })),
    });
  });

  return r;
}

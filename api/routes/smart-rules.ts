import { Router } from 'express';
import { z } from 'zod';
import type { SmartRule } from '../../entities';
import { actorOf } from '../../services/policy-service';
import type { ApiDeps } from '../deps';
import { route } from '../http';

const RULE_ACTIONS = ['AUTO_APPROVE', 'REQUIRE_APPROVAL', 'DENY', 'ESCALATE', 'NOTIFY'] as const;

const RuleFields = {
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  is_active: z.boolean().optional(),
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  conditions: z.record(z.string(), z.unknown()),
  action: z.enum(RULE_ACTIONS),
  approval_level: z.number().int().min(1).max(10).nullable().optional(),
  notifications: z.object({ channels: z.array(z.string().max(200)).max(20).optional(), priority: z.string().max(20).optional() }).nullable().optional(),
};
const CreateRule = z.object(RuleFields).strict();
const UpdateRule = z.object(RuleFields).partial().strict();

const RuleOut = z.object({
  rule_id: z.string(),
  name: z.string(),
  description: z.string(),
  priority: z.number(),
  is_active: z.boolean(),
  conditions: z.record(z.string(), z.unknown()),
  action: z.enum(RULE_ACTIONS),
  approval_level: z.number().nullable(),
  notifications: z.unknown().nullable(),
  match_count_30d: z.number(),
  created_at: z.string(),
  updated_at: z.string(),
});

const envelope = <T extends z.ZodType>(data: T) => z.object({ status: z.literal('success'), data });

function ruleOut(r: SmartRule, matches = 0): z.output<typeof RuleOut> {
  return {
    rule_id: r.id,
    name: r.name,
    description: r.description,
    priority: r.priority,
    is_active: r.isActive,
    conditions: r.conditions,
    action: r.action as (typeof RULE_ACTIONS)[number],
    approval_level: r.approvalLevel,
    notifications: r.notifications,
    match_count_30d: matches,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

/** Smart rules (seed 002) in Ascend's `{status, data}` envelope. Writes need an admin key. */
export function smartRulesRouter(deps: ApiDeps): Router {
  const r = Router();
  const { docs, keys, smartRules, ruleStats } = deps;
  const tags = ['Ascend: smart rules'];
  const errorStyle = 'ascend' as const;

  route(r, docs, keys, {
    method: 'post', path: '/api/smart-rules', summary: 'Create a smart rule', tags, scope: 'admin', errorStyle, body: CreateRule,
    description: 'Conditions use the operators $eq $ne $gt $gte $lt $lte $in $nin $contains $regex (RE2) plus $and $or $not $exists on dotted fact paths. The rule counts on the very next proposal.',
    responses: { 201: { description: 'Created', schema: envelope(RuleOut) }, 400: { description: 'The rule does not compile; the error names the path and operator' } },
  }, async ({ res, body, principal }) => {
    const fields = { name: body.name, description: body.description ?? '', priority: body.priority ?? 0, isActive: body.is_active ?? true, conditions: body.conditions, action: body.action, approvalLevel: body.approval_level ?? null, notifications: body.notifications ?? null };
    const saved = await smartRules.create(principal.orgId, actorOf(principal), principal.keyId, fields, { ...body });
    res.status(201).json({ status: 'success', data: ruleOut(saved) });
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/smart-rules', summary: 'List smart rules by priority', tags, scope: 'governance:read', errorStyle,
    query: z.object({ is_active: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().min(1).max(1000).default(1000), offset: z.coerce.number().int().min(0).default(0) }),
    responses: { 200: { description: 'Rules by priority; `total` counts them all, `limit` (default and max 1000) and `offset` page', schema: envelope(z.object({ rules: z.array(RuleOut), total: z.number() })) } },
  }, async ({ res, query, principal }) => {
    const { rules: rows, total } = await smartRules.list(principal.orgId, { ...(query.is_active ? { isActive: query.is_active === 'true' } : {}) }, query);
    const counts = await ruleStats.matchesLast30Days(principal.orgId, rows.map((x) => x.id));
    res.json({ status: 'success', data: { rules: rows.map((x) => ruleOut(x, counts.get(x.id) ?? 0)), total } });
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/smart-rules/:id', summary: 'Get one smart rule', tags, scope: 'governance:read', errorStyle,
    responses: { 200: { description: 'The rule', schema: envelope(RuleOut) }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    const row = await smartRules.get(principal.orgId, params.id);
    const counts = await ruleStats.matchesLast30Days(principal.orgId, [row.id]);
    res.json({ status: 'success', data: ruleOut(row, counts.get(row.id) ?? 0) });
  });

  route(r, docs, keys, {
    method: 'put', path: '/api/smart-rules/:id', summary: 'Update a smart rule (any subset of its fields)', tags, scope: 'admin', errorStyle, body: UpdateRule,
    responses: { 200: { description: 'Updated', schema: envelope(RuleOut) }, 400: { description: 'Invalid' }, 404: { description: 'Not found' } },
  }, async ({ res, params, body, principal }) => {
    const saved = await smartRules.update(principal.orgId, actorOf(principal), params.id, (row) => {
      const before = ruleOut(row);
      if (body.name !== undefined) row.name = body.name;
      if (body.description !== undefined) row.description = body.description;
      if (body.priority !== undefined) row.priority = body.priority;
      if (body.is_active !== undefined) row.isActive = body.is_active;
      if (body.conditions !== undefined) row.conditions = body.conditions;
      if (body.action !== undefined) row.action = body.action;
      if (body.approval_level !== undefined) row.approvalLevel = body.approval_level;
      if (body.notifications !== undefined) row.notifications = body.notifications;
      return { changes: { ...body }, before: { ...before, created_at: undefined, updated_at: undefined } };
    });
    res.json({ status: 'success', data: ruleOut(saved) });
  });

  route(r, docs, keys, {
    method: 'delete', path: '/api/smart-rules/:id', summary: 'Delete a smart rule', tags, scope: 'admin', errorStyle,
    responses: { 200: { description: 'Deleted', schema: envelope(z.object({ rule_id: z.string(), deleted: z.literal(true) })) }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    const row = await smartRules.remove(principal.orgId, actorOf(principal), params.id);
    res.json({ status: 'success', data: { rule_id: row.id, deleted: true } });
  });

  return r;
}

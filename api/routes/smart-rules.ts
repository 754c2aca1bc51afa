import { Router } from 'express';
import { z } from 'zod';
import { ConditionError } from '../../engine/conditions';
import { compileRule } from '../../engine/rules';
import { SmartRule } from '../../entities';
import { toRuleDef } from '../../services/policy-store';
import { AppError, notFound } from '../../services/errors';
import { newId } from '../../services/ids';
import type { Principal } from '../../services/auth';
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

/** Compiles at save time so a bad rule is a 400 naming the rule, path and operator, never a failure at decision time. */
function assertCompiles(rule: SmartRule): void {
  try {
    compileRule(toRuleDef(rule));
  } catch (e) {
    if (e instanceof ConditionError) {
      throw new AppError(400, 'RULE_INVALID', e.message, e.path ? `conditions.${e.path}` : 'conditions', { rule: e.rule, path: e.path, operator: e.operator });
    }
    throw e;
  }
}

const actorOf = (p: Principal) => ({ actorType: 'api_key' as const, actorId: p.keyId });

/** Smart rules (seed 002) in Ascend's `{status, data}` envelope. Writes need an admin key. */
export function smartRulesRouter(deps: ApiDeps): Router {
  const r = Router();
  const { ds, docs, keys, audit, store } = deps;
  const tags = ['Ascend: smart rules'];
  const errorStyle = 'ascend' as const;

  const matchCounts = async (orgId: string, ids: string[]): Promise<Map<string, number>> => {
    if (!ids.length) return new Map();
    const rows = (await ds.query(`SELECT "ruleId", sum(matches)::int AS n FROM rule_stats WHERE "orgId" = $1 AND "ruleId" = ANY($2) AND day > current_date - 30 GROUP BY "ruleId"`, [orgId, ids])) as { ruleId: string; n: number }[];
    return new Map(rows.map((x) => [x.ruleId, x.n]));
  };

  route(r, docs, keys, {
    method: 'post', path: '/api/smart-rules', summary: 'Create a smart rule', tags, scope: 'admin', errorStyle, body: CreateRule,
    description: 'Conditions use the operators $eq $ne $gt $gte $lt $lte $in $nin $contains $regex (RE2) plus $and $or $not $exists on dotted fact paths. The rule counts on the very next proposal.',
    responses: { 201: { description: 'Created', schema: envelope(RuleOut) }, 400: { description: 'The rule does not compile; the error names the path and operator' } },
  }, async ({ res, body, principal }) => {
    const row = ds.getRepository(SmartRule).create({
      id: newId('rule'), orgId: principal.orgId, name: body.name, description: body.description ?? '', priority: body.priority ?? 0, isActive: body.is_active ?? true,
      conditions: body.conditions, action: body.action, approvalLevel: body.approval_level ?? null, notifications: body.notifications ?? null, createdBy: principal.keyId,
    });
    assertCompiles(row);
    await audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'smart_rule', entityId: row.id, action: 'create', data: { ...body } }], async (em) => {
      await em.insert(SmartRule, row);
      await store.notifyChange(em, principal.orgId);
    });
    const saved = await ds.getRepository(SmartRule).findOneByOrFail({ id: row.id });
    res.status(201).json({ status: 'success', data: ruleOut(saved) });
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/smart-rules', summary: 'List smart rules by priority', tags, scope: 'governance:read', errorStyle,
    query: z.object({ is_active: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().min(1).max(1000).default(1000), offset: z.coerce.number().int().min(0).default(0) }),
    responses: { 200: { description: 'Rules by priority; `total` counts them all, `limit` (default and max 1000) and `offset` page', schema: envelope(z.object({ rules: z.array(RuleOut), total: z.number() })) } },
  }, async ({ res, query, principal }) => {
    const where = { orgId: principal.orgId, ...(query.is_active ? { isActive: query.is_active === 'true' } : {}) };
    const [rows, total] = await ds.getRepository(SmartRule).findAndCount({ where, order: { priority: 'DESC', createdAt: 'ASC' }, take: query.limit, skip: query.offset });
    const counts = await matchCounts(principal.orgId, rows.map((x) => x.id));
    res.json({ status: 'success', data: { rules: rows.map((x) => ruleOut(x, counts.get(x.id) ?? 0)), total } });
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/smart-rules/:id', summary: 'Get one smart rule', tags, scope: 'governance:read', errorStyle,
    responses: { 200: { description: 'The rule', schema: envelope(RuleOut) }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    const row = await ds.getRepository(SmartRule).findOne({ where: { id: params.id, orgId: principal.orgId } });
    if (!row) throw notFound('smart rule', params.id);
    const counts = await matchCounts(principal.orgId, [row.id]);
    res.json({ status: 'success', data: ruleOut(row, counts.get(row.id) ?? 0) });
  });

  route(r, docs, keys, {
    method: 'put', path: '/api/smart-rules/:id', summary: 'Update a smart rule (any subset of its fields)', tags, scope: 'admin', errorStyle, body: UpdateRule,
    responses: { 200: { description: 'Updated', schema: envelope(RuleOut) }, 400: { description: 'Invalid' }, 404: { description: 'Not found' } },
  }, async ({ res, params, body, principal }) => {
    const repo = ds.getRepository(SmartRule);
    const row = await repo.findOne({ where: { id: params.id, orgId: principal.orgId } });
    if (!row) throw notFound('smart rule', params.id);
    const before = ruleOut(row);
    if (body.name !== undefined) row.name = body.name;
    if (body.description !== undefined) row.description = body.description;
    if (body.priority !== undefined) row.priority = body.priority;
    if (body.is_active !== undefined) row.isActive = body.is_active;
    if (body.conditions !== undefined) row.conditions = body.conditions;
    if (body.action !== undefined) row.action = body.action;
    if (body.approval_level !== undefined) row.approvalLevel = body.approval_level;
    if (body.notifications !== undefined) row.notifications = body.notifications;
    assertCompiles(row);
    await audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'smart_rule', entityId: row.id, action: 'update', data: { changes: { ...body }, before: { ...before, created_at: undefined, updated_at: undefined } } }], async (em) => {
      await em.save(SmartRule, row);
      await store.notifyChange(em, principal.orgId);
    });
    const saved = await repo.findOneByOrFail({ id: row.id });
    res.json({ status: 'success', data: ruleOut(saved) });
  });

  route(r, docs, keys, {
    method: 'delete', path: '/api/smart-rules/:id', summary: 'Delete a smart rule', tags, scope: 'admin', errorStyle,
    responses: { 200: { description: 'Deleted', schema: envelope(z.object({ rule_id: z.string(), deleted: z.literal(true) })) }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    const row = await ds.getRepository(SmartRule).findOne({ where: { id: params.id, orgId: principal.orgId } });
    if (!row) throw notFound('smart rule', params.id);
    await audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'smart_rule', entityId: row.id, action: 'delete', data: { name: row.name } }], async (em) => {
      await em.delete(SmartRule, { id: row.id, orgId: principal.orgId });
      await store.notifyChange(em, principal.orgId);
    });
    res.json({ status: 'success', data: { rule_id: row.id, deleted: true } });
  });

  return r;
}

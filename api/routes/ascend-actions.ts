import { Router } from 'express';
import { z } from 'zod';
import { riskLevel } from '../../engine/policies';
import type { Outcome, Proposal, Verdict } from '../../engine/types';
import type { Decision } from '../../entities';
import { AppError } from '../../services/errors';
import { callbackAllowed } from '../../services/webhooks';
import type { ApiDeps } from '../deps';
import { route } from '../http';

const errorStyle = 'ascend' as const;
const tags = ['Ascend: actions'];

const SubmitBody = z
  .object({
    agent_id: z.string().min(1).max(200),
    action_type: z.string().min(1).max(200),
    description: z.string().max(5000).optional(),
    parameters: z.record(z.string(), z.unknown()).default({}),
    metadata: z.record(z.string(), z.unknown()).default({}),
    require_approval: z.boolean().default(false).describe('The agent asks for a person, whatever policy says'),
    callback_url: z.url({ protocol: /^https?$/ }).max(2000).optional(),
  })
  .strict();

type Submit = z.output<typeof SubmitBody>;

/** An Ascend action as the one canonical proposal. */
function ascendProposal(b: Submit): Proposal {
  const m = b.metadata;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const amount = typeof b.parameters.amount === 'number' && Number.isFinite(b.parameters.amount) ? b.parameters.amount : undefined;
  return {
    actor: { id: b.agent_id, type: str(m.agent_type) ?? 'ai-agent' },
    action: { capability: b.action_type, parameters: b.parameters },
    ...(str(m.target) ? { target: str(m.target) } : {}),
    ...(str(m.environment) ? { environment: str(m.environment) } : {}),
    context: { metadata: m, ...(str(m.session_id) ? { sessionId: str(m.session_id) } : {}), ...(str(m.run_id) ? { runId: str(m.run_id) } : {}) },
    ...(b.description ? { description: b.description } : {}),
    ...(str(m.model_id) ? { modelId: str(m.model_id) } : {}),
    dataClasses: Array.isArray(m.data_classes) ? m.data_classes.filter((x): x is string => typeof x === 'string') : [],
    ...(amount !== undefined ? { amount } : {}),
    ...(b.callback_url ? { callbackUrl: b.callback_url } : {}),
  };
}

/** Ascend's words for where an action stands. */
const DECISION: Record<Outcome, 'approved' | 'pending_approval' | 'denied'> = { ALLOW: 'approved', DENY: 'denied', REQUIRE_APPROVAL: 'pending_approval', ESCALATE: 'pending_approval' };
/** The seed's HTTP code per rule action: approved 200, queued or escalated 202, denied 403. */
const HTTP: Record<Outcome, number> = { ALLOW: 200, REQUIRE_APPROVAL: 202, ESCALATE: 202, DENY: 403 };

function shown(d: Decision): Outcome {
  return (d.finalOutcome as Outcome | null) ?? (d.outcome as Outcome);
}

/** The action in Ascend's shape: the decision, the risk assessment with its factors, and the rule that decided. */
function actionOut(d: Decision) {
  const v = d.verdict as unknown as Verdict;
  const rule = v.decisive?.source === 'rule' ? v.decisive : null;
  const action = rule ? rule.effect : v.outcome === 'ALLOW' ? (v.notify?.length ? 'NOTIFY' : 'AUTO_APPROVE') : v.outcome;
  return {
    action_id: d.id,
    agent_id: d.actorId,
    action_type: d.capability,
    decision: DECISION[shown(d)],
    status: d.status === 'pending' ? 'pending_approval' : DECISION[shown(d)],
    risk_assessment: {
      score: v.risk?.score ?? d.riskScore,
      level: riskLevel(v.risk?.score ?? d.riskScore),
      factors: Object.entries(v.risk?.factors ?? {}).map(([name, f]) => ({ name, score: (f as { value: number }).value })),
    },
    policy_result: { matched_rule: rule ? (rule.name ?? rule.id ?? null) : null, action, reason: d.reason },
    workflow_execution_id: d.workflowId,
    decided_by: d.decidedBy,
    decided_at: d.decidedAt?.toISOString() ?? null,
    timestamp: d.createdAt.toISOString(),
  };
}

const ok = (data: unknown) => ({ status: 'success', data });

/**
 * Ascend's actions API (its platform's documentation beside seed 002): an agent submits an
 * action and gets the seed's HTTP code per rule action, on the same decision path as every
 * other surface; the action is read back by id, by status, or listed.
 */
export function ascendActionsRouter(deps: ApiDeps): Router {
  const r = Router();
  const { docs, keys, decide, decisions } = deps;

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/actions/submit', summary: 'Submit an action for evaluation: 200 approved, 202 pending approval (queued or escalated), 403 denied', tags, scope: 'governance:propose', errorStyle, fast: deps.fast, body: SubmitBody,
    responses: {
      200: { description: '`{status: "success", data: {action_id, decision: "approved", risk_assessment: {score, level, factors}, policy_result: {matched_rule, action}, timestamp}}`' },
      202: { description: 'Pending approval (REQUIRE_APPROVAL or ESCALATE)' },
      403: { description: 'Denied (the same data, decision "denied"), or a key without governance:propose' },
    },
  }, async ({ req, res, body, principal }) => {
    if (body.callback_url && !callbackAllowed(body.callback_url, deps.config.WEBHOOK_ALLOWED_HOSTS)) {
      throw new AppError(400, 'VALIDATION_FAILED', 'callback_url must be http(s) on a host this server allows (WEBHOOK_ALLOWED_HOSTS)', 'callback_url');
    }
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) throw new AppError(400, 'VALIDATION_FAILED', 'Idempotency-Key must be 1..200 characters', 'Idempotency-Key');
    const asked = body.require_approval
      ? [() => ({ reasons: [{ source: 'policy' as const, effect: 'REQUIRE_APPROVAL' as const, code: 'APPROVAL_REQUESTED', message: 'The agent asked for a person to approve this action' }] })]
      : [];
    const out = await decide.propose(principal, ascendProposal(body), { surface: 'ascend', idempotencyKey: key, requestBody: body, extraLayers: asked });
    res.status(HTTP[shown(out.decision)]).json(ok(actionOut(out.decision)));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/actions/:id', summary: 'One action with its decision, risk assessment and policy result', tags, scope: 'governance:read', errorStyle,
    responses: { 200: { description: '`{status, data}`' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    res.json(ok(actionOut(await decisions.get(principal.orgId, params.id))));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/actions/:id/status', summary: 'Where an action stands: pending_approval, approved or denied', tags, scope: 'governance:read', errorStyle,
    responses: { 200: { description: '`{status, data: {action_id, status, decided_by, decided_at}}`' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    const a = actionOut(await decisions.get(principal.orgId, params.id));
    res.json(ok({ action_id: a.action_id, status: a.status, decided_by: a.decided_by, decided_at: a.decided_at }));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/actions', summary: 'Actions, newest first, filtered by agent, status, type and time', tags, scope: 'governance:read', errorStyle,
    query: z.object({
      agent_id: z.string().max(200).optional(),
      status: z.enum(['approved', 'pending_approval', 'denied']).optional(),
      action_type: z.string().max(200).optional(),
      start_date: z.iso.datetime({ offset: true }).optional(),
      end_date: z.iso.datetime({ offset: true }).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      offset: z.coerce.number().int().min(0).default(0),
    }),
    responses: { 200: { description: '`{status, data: {actions, total, limit, offset}}`' } },
  }, async ({ res, query, principal }) => {
    const filter = {
      actorId: query.agent_id,
      capability: query.action_type,
      ...(query.start_date ? { since: new Date(query.start_date) } : {}),
      ...(query.end_date ? { until: new Date(query.end_date) } : {}),
      ...(query.status === 'pending_approval' ? { pending: true } : query.status === 'approved' ? { finalOutcome: 'ALLOW' as const } : query.status === 'denied' ? { finalOutcome: 'DENY' as const } : {}),
    };
    const { items: rows, total } = await decisions.list(principal.orgId, filter, query.limit, query.offset);
    res.json(ok({ actions: rows.map(actionOut), total, limit: query.limit, offset: query.offset }));
  });

  return r;
}

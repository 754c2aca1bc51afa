import { Router } from 'express';
import type { Response } from 'express';
import { z } from 'zod';
import type { Outcome, Proposal } from '../../engine/types';
import type { Decision } from '../../entities';
import type { JsonObject } from '../../entities/json';
import { hasScope } from '../../services/auth';
import type { Principal } from '../../services/auth';
import { AppError } from '../../services/errors';
import { RequestLimiter } from '../../services/request-limiter';
import { callbackAllowed } from '../../services/webhooks';
import type { ApiDeps } from '../deps';
import { decodeCursor, encodeCursor, route } from '../http';

/** Internal outcome → Aegis (AGP-1) word. */
export const AEGIS_OUTCOME: Record<Outcome, string> = { ALLOW: 'ALLOW', DENY: 'DENY', REQUIRE_APPROVAL: 'REQUIRE_CONFIRMATION', ESCALATE: 'ESCALATE' };

const capability = z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_*-]+)*$/, 'capability must be dot-separated segments of letters, digits, _ or -');

export const ProposeBody = z
  .object({
    actor: z.object({ id: z.string().min(1).max(200), type: z.enum(['ai-agent', 'ai-copilot', 'automation', 'human']) }),
    action: z.object({ capability, parameters: z.record(z.string(), z.unknown()) }),
    context: z
      .object({
        session_id: z.string().max(200).optional(),
        run_id: z.string().max(200).optional(),
        mission_id: z.string().max(200).optional(),
        group_ids: z.array(z.string().max(200)).max(50).optional(),
        tags: z.array(z.string().max(100)).max(50).optional(),
        metadata: z.record(z.string(), z.unknown()).optional(),
      })
      .optional(),
    target: z.string().max(500).optional().describe('Arbiter extension: the target system or service.'),
    environment: z.string().max(50).optional().describe('Arbiter extension; falls back to context.metadata.environment.'),
    data_classes: z.array(z.string().max(50)).max(20).optional().describe('Arbiter extension, e.g. PII, PHI, PCI.'),
    amount: z.number().finite().nonnegative().optional().describe('Arbiter extension: monetary amount in USD.'),
    confidence: z.record(z.string(), z.number().min(0).max(1)).optional(),
    model_id: z.string().max(200).optional(),
    reasoning: z.string().max(10_000).optional(),
    callback_url: z.url({ protocol: /^https?$/ }).max(2000).optional().describe('Arbiter extension: when the action waits for people, its final outcome is POSTed here, signed (X-Arbiter-Signature).'),
  })
  .strict();

const DecisionOut = z.object({
  decision_id: z.string(),
  outcome: z.enum(['ALLOW', 'DENY', 'ESCALATE', 'REQUIRE_CONFIRMATION']),
  reason: z.string(),
  risk_score: z.number().describe('0.0 to 1.0'),
  constraints: z.record(z.string(), z.unknown()),
  timestamp: z.string(),
  audit_ref: z.string(),
  status: z.enum(['pending', 'final']).describe('pending while people decide; final once the outcome cannot change'),
});

const DecisionDetail = DecisionOut.extend({
  original_outcome: z.string().describe('the outcome at propose time'),
  decided_by: z.array(z.string()),
  decided_at: z.string().nullable(),
  actor: z.object({ id: z.string(), type: z.string() }),
  capability: z.string(),
  environment: z.string().nullable(),
  governance_mode: z.string().nullable().describe('AUDIT_ONLY or DISABLED when the organization was not ENFORCED'),
  audit_only_outcome: z.string().nullable().describe('AUDIT_ONLY: what the outcome would have been'),
  audit: z.object({ ref: z.string(), seq: z.number(), hash: z.string() }),
  reasons: z.array(z.unknown()),
  risk: z.unknown(),
  approval: z.unknown().nullable(),
});

const WaitQuery = z.object({ wait: z.coerce.number().min(0).max(30).optional() });

const ListQuery = z.object({
  actor_id: z.string().optional(),
  capability: z.string().optional(),
  outcome: z.enum(['ALLOW', 'DENY', 'ESCALATE', 'REQUIRE_CONFIRMATION']).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});

/** The canonical proposal from an Aegis request. */
export function aegisProposal(b: z.output<typeof ProposeBody>): Proposal {
  const meta = b.context?.metadata ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const metaClasses = Array.isArray(meta.data_classes) ? meta.data_classes.filter((x): x is string => typeof x === 'string') : [];
  const paramAmount = typeof b.action.parameters.amount === 'number' ? b.action.parameters.amount : undefined;
  return {
    actor: { id: b.actor.id, type: b.actor.type },
    action: { capability: b.action.capability, parameters: b.action.parameters },
    target: b.target ?? str(meta.target) ?? str(b.action.parameters.database),
    environment: b.environment ?? str(meta.environment),
    context: { sessionId: b.context?.session_id, runId: b.context?.run_id, missionId: b.context?.mission_id, groupIds: b.context?.group_ids, tags: b.context?.tags, metadata: meta },
    confidence: b.confidence,
    reasoning: b.reasoning,
    modelId: b.model_id ?? str(meta.model_id),
    dataClasses: b.data_classes ?? metaClasses,
    amount: b.amount ?? (typeof meta.amount === 'number' ? meta.amount : paramAmount),
    ...(b.callback_url ? { callbackUrl: b.callback_url } : {}),
  };
}

/** The displayed outcome: the final one when there is one. */
function shownOutcome(d: Decision): string {
  return d.finalOutcome ?? AEGIS_OUTCOME[d.outcome as Outcome];
}

export function aegisDecision(d: Decision): z.output<typeof DecisionOut> {
  const v = d.verdict as { constraints?: Record<string, unknown> };
  return {
    decision_id: d.id,
    outcome: shownOutcome(d) as z.output<typeof DecisionOut>['outcome'],
    reason: d.reason,
    risk_score: Math.round(d.riskScore) / 100,
    constraints: v.constraints ?? {},
    timestamp: d.createdAt.toISOString(),
    audit_ref: d.auditRef,
    status: d.status as 'pending' | 'final',
  };
}

function aegisDetail(d: Decision): z.output<typeof DecisionDetail> {
  const v = d.verdict as { reasons?: unknown[]; risk?: unknown; mode?: string; originalOutcome?: Outcome };
  return {
    ...aegisDecision(d),
    original_outcome: AEGIS_OUTCOME[d.outcome as Outcome],
    decided_by: d.decidedBy,
    decided_at: d.decidedAt ? d.decidedAt.toISOString() : d.status === 'final' ? d.createdAt.toISOString() : null,
    actor: { id: d.actorId, type: d.actorType },
    capability: d.capability,
    environment: (d.proposal as { environment?: string }).environment ?? null,
    governance_mode: v.mode ?? null,
    audit_only_outcome: v.originalOutcome ? AEGIS_OUTCOME[v.originalOutcome] : null,
    audit: { ref: d.auditRef, seq: Number(d.auditSeq), hash: d.auditHash },
    reasons: v.reasons ?? [],
    risk: v.risk ?? null,
    approval: d.approvalPlan ? { workflow_id: d.workflowId, plan: d.approvalPlan, state: d.approvalState } : null,
  };
}

/** An agent's key: it may propose but not read the organization's decisions. It reads the ones it proposed. */
const proposerOnly = (p: Principal): boolean => !hasScope(p, 'governance:read') && hasScope(p, 'governance:propose');

/** A decision made with the key `:proposer`: its `decision.proposed` audit record (the decision's auditRef) names the key. */

const OWN_NOTE = 'A key with `governance:propose` but not `governance:read` (an agent\'s key) may call this too, and sees only the decisions proposed with that key; any other decision is a 404 to it.';

/** Aegis (seed 001): propose, read one decision, list decisions. */
export function aegisRouter(deps: ApiDeps): Router {
  const r = Router();
  const { docs, keys, decide, decisions } = deps;
  const limiter = new RequestLimiter(deps.config.PROPOSE_RATE_LIMIT_PER_MINUTE);
  const tags = ['Aegis'];

  route(r, docs, keys, {
    method: 'post',
    path: '/api/v1/governance/propose',
    summary: 'Submit an action proposal for governance evaluation',
    description: 'Every outcome answers HTTP 200. A 5xx is fail-closed: treat it as DENY. Send `Idempotency-Key` to make retries safe: the same key and body return the same decision; the same key with another body is a 422.',
    tags,
    scope: 'governance:propose',
    failClosed: true,
    fast: deps.fast,
    body: ProposeBody,
    responses: { 200: { description: 'The decision', schema: DecisionOut }, 400: { description: 'Invalid request body' }, 401: { description: 'Authentication failure' }, 403: { description: 'Missing governance:propose scope' }, 422: { description: 'Idempotency-Key reused with another body' }, 429: { description: 'Rate limit exceeded' }, 500: { description: 'Internal error (fail-closed: DENY)' } },
  }, async ({ req, res, body, principal }) => {
    if (!limiter.take(principal.keyId)) {
      res.setHeader('Retry-After', String(limiter.retryAfterSeconds()));
      throw new AppError(429, 'RATE_LIMITED', `more than ${deps.config.PROPOSE_RATE_LIMIT_PER_MINUTE} proposals per minute for this key`);
    }
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) {
      throw new AppError(400, 'VALIDATION_FAILED', 'Idempotency-Key must be 1..200 characters', 'Idempotency-Key');
    }
    if (body.callback_url && !callbackAllowed(body.callback_url, deps.config.WEBHOOK_ALLOWED_HOSTS)) {
      throw new AppError(400, 'VALIDATION_FAILED', 'callback_url must be http(s) on a host this server allows (WEBHOOK_ALLOWED_HOSTS)', 'callback_url');
    }
    const out = await decide.propose(principal, aegisProposal(body), { surface: 'aegis', idempotencyKey: key, requestBody: body });
    if (out.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.json(aegisDecision(out.decision));
  });

  /** One decision, long-polled with `wait`; `proposer`: only if that key proposed it. */
  const showDecision = async (res: Response, orgId: string, id: string, wait: number | undefined, proposer: string | null) => {
    res.json(aegisDetail(await decisions.waitFinal(orgId, id, wait ?? 0, proposer)));
  };

  /** A page of decisions; `proposer`: only those that key proposed. */
  const listDecisions = async (res: Response, orgId: string, query: z.output<typeof ListQuery>, proposer: string | null) => {
    const o = query.outcome;
    const filter = {
      ...(proposer ? { proposer } : {}),
      actorId: query.actor_id,
      capability: query.capability,
      ...(query.since ? { since: new Date(query.since) } : {}),
      ...(query.until ? { until: new Date(query.until) } : {}),
      ...(o === 'ALLOW' || o === 'DENY' ? { finalOutcome: o } : {}),
      ...(o === 'REQUIRE_CONFIRMATION' ? { pending: true, outcome: 'REQUIRE_APPROVAL' as const } : o === 'ESCALATE' ? { pending: true, outcome: 'ESCALATE' as const } : {}),
    };
    const { items, more } = await decisions.page(orgId, filter, query.limit, query.cursor ? decodeCursor(query.cursor) : undefined);
    const last = items[items.length - 1];
    res.json({ decisions: items.map(aegisDecision), next_cursor: more && last ? encodeCursor(last.createdAt, last.id) : null });
  };

  route(r, docs, keys, {
    method: 'get',
    path: '/api/v1/governance/decisions/:id',
    summary: 'Retrieve one decision, with its status, who decided and when, and its audit record',
    description: `Add \`?wait=N\` (seconds, up to 30) to long-poll: the answer comes as soon as the decision is final, or after N seconds.\n\n${OWN_NOTE}`,
    tags,
    scope: 'governance:read',
    alsoScope: 'governance:propose',
    query: WaitQuery,
    responses: { 200: { description: 'The decision', schema: DecisionDetail }, 404: { description: 'Not found (or another organization\'s, or, to an agent\'s key, not proposed with it)' } },
  }, async ({ res, params, query, principal }) => {
    await showDecision(res, principal.orgId, params.id, query.wait, proposerOnly(principal) ? principal.keyId : null);
  });

  route(r, docs, keys, {
    method: 'get',
    path: '/api/v1/governance/decisions',
    summary: 'List decisions, newest first, with filters and cursor pagination',
    description: OWN_NOTE,
    tags,
    scope: 'governance:read',
    alsoScope: 'governance:propose',
    query: ListQuery,
    responses: { 200: { description: 'A page of decisions', schema: z.object({ decisions: z.array(DecisionOut), next_cursor: z.string().nullable() }) } },
  }, async ({ res, query, principal }) => {
    await listDecisions(res, principal.orgId, query, proposerOnly(principal) ? principal.keyId : null);
  });

  route(r, docs, keys, {
    method: 'post',
    path: '/api/v1/governance/decisions/:id/result',
    summary: 'Report what an allowed action produced: the evidence that grounding rules check later in the run',
    tags,
    scope: 'governance:propose',
    body: z.object({ output: z.record(z.string(), z.unknown()) }).strict(),
    responses: { 200: { description: 'Recorded' }, 404: { description: 'Not found' }, 409: { description: 'Not an allowed decision, or already reported' } },
  }, async ({ res, params, body, principal }) => {
    const d = await decisions.recordResult(principal.orgId, principal.keyId, params.id, body.output as JsonObject);
    res.json({ decision_id: d.id, recorded: true });
  });

  /** A decision's approval; only a decision that waited for people has one. */
  const approvalOf = async (orgId: string, id: string) => {
    const a = await deps.approvals.forSubject(orgId, 'decision', id);
    if (a) return a;
    await decisions.get(orgId, id);
    throw new AppError(409, 'NOT_PENDING', 'the decision is not waiting for approval');
  };

  route(r, docs, keys, {
    method: 'post',
    path: '/api/v1/governance/decisions/:id/withdraw',
    summary: 'The proposer gives up a pending action; it ends as DENY (the key that proposed it, the proposing person, or an admin)',
    tags,
    scope: 'governance:propose',
    body: z.object({ reason: z.string().max(2000).optional() }).strict(),
    responses: { 202: { description: 'Withdrawn: the approval ends as DENY' }, 403: { description: 'Not the proposer (NOT_PROPOSER)' }, 409: { description: 'Not pending' } },
  }, async ({ res, params, body, principal }) => {
    const a = await approvalOf(principal.orgId, params.id);
    // The key that proposed the action may take it back (agents' keys belong to no person).
    await deps.approvals.withdraw(a, principal, { proposedByKey: await decisions.proposingKey(principal.orgId, a.subjectId), reason: body.reason });
    res.status(202).json({ decision_id: a.subjectId, withdrawn: true });
  });

  route(r, docs, keys, {
    method: 'post',
    path: '/api/v1/governance/decisions/:id/waive',
    summary: 'An admin waives the approval of a pending action, with a reason; it ends as ALLOW',
    tags,
    scope: 'admin',
    body: z.object({ reason: z.string().trim().min(1).max(2000) }).strict(),
    responses: { 200: { description: 'Waived' }, 400: { description: 'No reason' }, 403: { description: 'The admin proposed this action' }, 409: { description: 'Not pending' } },
  }, async ({ res, params, body, principal }) => {
    const a = await approvalOf(principal.orgId, params.id);
    const result = await deps.approvals.waive(a, await deps.approvals.actorFor(principal), body.reason);
    res.json({ decision_id: a.subjectId, status: result.status });
  });

  route(r, docs, keys, {
    method: 'get',
    path: '/api/v1/governance/decisions/:id/history',
    summary: "The decision's approval: its live state and the Temporal workflow's event history",
    tags,
    scope: 'governance:read',
    responses: { 200: { description: '`{decision_id, workflow_id, state, events: [{eventId, eventType, time}]}`' }, 404: { description: 'Not found, or decided without a workflow' } },
  }, async ({ res, params, principal }) => {
    const d = await decisions.get(principal.orgId, params.id);
    if (!d.workflowId) throw new AppError(404, 'NO_WORKFLOW', 'this decision was made at once, without an approval workflow');
    const [state, events] = await Promise.all([deps.workflows.state(d.workflowId).catch(() => d.approvalState), deps.workflows.history(d.workflowId)]);
    res.json({ decision_id: d.id, workflow_id: d.workflowId, state, events });
  });

  return r;
}

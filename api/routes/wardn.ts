import { Router } from 'express';
import { z } from 'zod';
import { GOVERNANCE_MODES } from '../../engine/modes';
import { sentinelViolation } from '../../engine/wardn';
import type { ApprovalPlan } from '../../engine/approval';
import type { Outcome, Proposal, Verdict } from '../../engine/types';
import type { Approval, Decision } from '../../entities';
import type { Principal } from '../../services/auth';
import { AppError, DomainError } from '../../services/errors';
import { callbackAllowed } from '../../services/webhooks';
import type { ApiDeps } from '../deps';
import { route } from '../http';

const tags = ['TheWARDN'];

const GovernBody = z
  .object({
    agent_id: z.string().min(1).max(200),
    action_type: z.string().min(1).max(200),
    target_service: z.string().min(1).max(500),
    environment: z.string().min(1).max(50).default('production'),
    confidence: z.record(z.string().max(100), z.number().min(0).max(1)).optional().describe('Confidence per dimension, each 0..1'),
    reasoning: z.string().max(10_000).optional(),
    metadata: z.record(z.string(), z.unknown()).optional().describe('model_id (L6), access_channel, data_classes, estimated_tokens, and any context'),
  })
  .strict();

type Govern = z.output<typeof GovernBody>;

/** A WARDN request as the one canonical proposal. */
export function wardnProposal(b: Govern): Proposal {
  const meta = b.metadata ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const params = meta.parameters && typeof meta.parameters === 'object' && !Array.isArray(meta.parameters) ? (meta.parameters as Record<string, unknown>) : {};
  return {
    actor: { id: b.agent_id, type: 'ai-agent' },
    action: { capability: b.action_type, parameters: { target_service: b.target_service, ...params } },
    target: b.target_service,
    environment: b.environment,
    context: { metadata: meta, ...(str(meta.session_id) ? { sessionId: str(meta.session_id) } : {}), ...(str(meta.run_id) ? { runId: str(meta.run_id) } : {}) },
    ...(b.confidence ? { confidence: b.confidence } : {}),
    ...(b.reasoning ? { reasoning: b.reasoning } : {}),
    ...(str(meta.model_id) ? { modelId: str(meta.model_id) } : {}),
    dataClasses: Array.isArray(meta.data_classes) ? meta.data_classes.filter((x): x is string => typeof x === 'string') : [],
    ...(typeof meta.amount === 'number' && Number.isFinite(meta.amount) ? { amount: meta.amount } : {}),
  };
}

const WARDN_VERDICT: Record<Outcome, 'CLEARED' | 'HELD' | 'BLOCKED'> = { ALLOW: 'CLEARED', DENY: 'BLOCKED', REQUIRE_APPROVAL: 'HELD', ESCALATE: 'HELD' };

/** When an escrow times out: its approval's start plus the time its tiers give. */
function timeoutAt(a: Approval): string {
  const plan = a.plan as unknown as ApprovalPlan;
  const seconds = plan.tiers.slice(Math.max(0, plan.startTier - 1)).reduce((s, t) => s + t.timeoutSeconds, 0);
  return new Date(a.createdAt.getTime() + seconds * 1000).toISOString();
}

/** An escrow as WARDN shows it: the held action, where it stands, and the frozen payload's hash. */
function escrowOut(a: Approval, d: Decision | null) {
  const status = a.status === 'PENDING' ? 'HELD' : d?.finalOutcome === 'ALLOW' ? 'CLEARED' : 'BLOCKED';
  const summary = a.summary as { capability?: string; actorId?: string; environment?: string; payloadHash?: string; parameters?: Record<string, unknown> };
  return {
    escrow_id: a.id,
    decision_id: a.subjectId,
    agent_id: summary.actorId ?? null,
    action_type: summary.capability ?? null,
    target_service: (summary.parameters?.target_service as string | undefined) ?? null,
    environment: summary.environment ?? null,
    status,
    verdict: status,
    execute: status === 'CLEARED',
    tier: d?.outcome === 'ESCALATE' ? 'C' : 'B',
    timeout_at: timeoutAt(a),
    payload_hash: summary.payloadHash ?? null,
    approval_status: a.status,
    decided_by: d?.decidedBy ?? [],
    decided_at: d?.decidedAt?.toISOString() ?? null,
    created_at: a.createdAt.toISOString(),
    message: d?.reason ?? null,
  };
}

/** TheWARDN (seed 003): /govern, escrows, governance modes, dashboard. */
export function wardnRouter(deps: ApiDeps): Router {
  const r = Router();
  const { docs, keys, decide, approvals, modes } = deps;

  route(r, docs, keys, {
    method: 'post', path: '/govern', summary: 'Govern an action: CLEARED (tier A), HELD (tier B/C, an escrow) or BLOCKED (tier C, or X for a principle), with its audit record’s seq and hash', tags, scope: 'governance:propose', errorStyle: 'wardn', fast: deps.fast, body: GovernBody,
    description: 'Any error answers `execute: false` (fail closed). `seq` and `hash` are the decision’s record in the organization’s audit chain: check them against GET /api/v1/audit/export.',
    responses: { 200: { description: 'The verdict' }, 400: { description: 'Invalid request, the field named' }, 401: { description: 'Authentication failure' }, 403: { description: 'Missing governance:propose scope' }, 500: { description: 'Internal error (fail closed: execute false)' } },
  }, async ({ req, res, body, principal }) => {
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) throw new AppError(400, 'VALIDATION_FAILED', 'Idempotency-Key must be 1..200 characters', 'Idempotency-Key');
    const proposal = wardnProposal(body);
    const callback = body.metadata?.callback_url;
    if (callback !== undefined) {
      if (typeof callback !== 'string' || !/^https?:\/\//.test(callback) || callback.length > 2000 || !callbackAllowed(callback, deps.config.WEBHOOK_ALLOWED_HOSTS)) {
        throw new AppError(400, 'VALIDATION_FAILED', 'metadata.callback_url must be http(s) on a host this server allows (WEBHOOK_ALLOWED_HOSTS)', 'metadata.callback_url');
      }
      // A held action's end is POSTed there, signed, as for Aegis proposals.
      proposal.callbackUrl = callback;
    }
    const out = await decide.propose(principal, proposal, { surface: 'wardn', idempotencyKey: key, requestBody: body });
    const d = out.decision;
    const v = out.verdict as Verdict;
    const shown: Outcome = (d.finalOutcome as Outcome | null) ?? (d.outcome as Outcome);
    const verdict = WARDN_VERDICT[shown];
    const answer: Record<string, unknown> = { execute: verdict === 'CLEARED', verdict, tier: verdict === 'CLEARED' ? 'A' : verdict === 'HELD' ? (d.outcome === 'ESCALATE' ? 'C' : 'B') : 'C', seq: out.auditSeq, hash: out.auditHash, decision_id: d.id };
    if (verdict === 'HELD') {
      const a = await approvals.forSubject(principal.orgId, 'decision', d.id);
      if (a) Object.assign(answer, { escrow_id: a.id, timeout_at: timeoutAt(a), payload_hash: (a.summary as { payloadHash?: string }).payloadHash ?? null });
      // The decisive reason alone, in the seed's words (`Confidence below floor: fix=0.70 < 0.75`).
      answer.message = v.decisive?.message ?? d.reason;
    } else if (verdict === 'BLOCKED') {
      const sgp = sentinelViolation(v.reasons);
      if (sgp) Object.assign(answer, { tier: 'X', reason: 'SGP_VIOLATION', rule_violated: sgp.name, message: 'Action blocked by Sentinel Governance Principle', detail: sgp.message });
      else Object.assign(answer, { reason: v.decisive?.code ?? 'DENIED', message: v.decisive?.message ?? d.reason });
    } else if (v.decisive && v.decisive.source !== 'risk') {
      answer.message = d.reason;
    }
    const l6 = (v.constraints as { l6?: unknown } | undefined)?.l6;
    if (l6) answer.l6 = l6;
    if (v.mode) answer.governance_mode = v.mode;
    if (v.mode === 'AUDIT_ONLY' && v.originalOutcome) answer.original_verdict = WARDN_VERDICT[v.originalOutcome];
    res.json(answer);
  });

  // ---- escrows
  const escrow = async (principal: Principal, id: string) => {
    const a = await approvals.get(principal.orgId, id).catch(() => null);
    if (!a || a.subjectType !== 'decision') throw new DomainError('NOT_FOUND', `escrow ${id} not found`, 'id');
    return a;
  };
  const view = async (a: Approval) => escrowOut(a, await deps.decisions.find(a.orgId, a.subjectId));

  route(r, docs, keys, {
    method: 'get', path: '/escrow', summary: 'The organization’s open escrows (held actions), oldest first', tags, scope: 'governance:read',
    query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), offset: z.coerce.number().int().min(0).default(0) }),
    responses: { 200: { description: '`{escrows: [...], total, limit, offset}`' } },
  }, async ({ res, query, principal }) => {
    const { items: rows, total } = await approvals.open(principal.orgId, 'decision', query);
    const out = [];
    for (const a of rows) out.push(await view(a));
    res.json({ escrows: out, total, limit: query.limit, offset: query.offset });
  });

  route(r, docs, keys, {
    method: 'get', path: '/escrow/:id', summary: 'One escrow; `?wait=N` (up to 30 s) answers as soon as it ends', tags, scope: 'governance:read', errorStyle: 'wardn',
    query: z.object({ wait: z.coerce.number().min(0).max(30).optional() }),
    responses: { 200: { description: 'The escrow: HELD, CLEARED or BLOCKED' }, 404: { description: 'Not found' } },
  }, async ({ res, query, params, principal }) => {
    let a = await escrow(principal, params.id);
    if (a.status === 'PENDING' && query.wait) {
      await deps.workflows.waitForEnd(a.workflowId, query.wait * 1000);
      a = await escrow(principal, params.id);
    }
    res.json(await view(a));
  });

  const decideEscrow = (choice: 'approve' | 'deny', path: string, summary: string) =>
    route(r, docs, keys, {
      method: 'post', path, summary, tags, scope: 'governance:write',
      body: z.object({ reason: z.string().max(2000).optional() }).strict(),
      responses: { 200: { description: 'The escrow after the decision' }, 403: { description: 'Not an approver, or the agent’s own key' }, 404: { description: 'Not found' }, 409: { description: 'Already ended' } },
    }, async ({ res, params, body, principal }) => {
      const a = await escrow(principal, params.id);
      const result = await approvals.vote(a, await approvals.actorFor(principal), { choice, via: 'api', ...(body.reason ? { comment: body.reason } : {}) });
      if (result.status !== 'PENDING') await deps.workflows.waitForEnd(a.workflowId, 10_000);
      res.json(await view(await escrow(principal, params.id)));
    });
  decideEscrow('approve', '/escrow/:id/release', 'Release a held action: it becomes CLEARED (counts as an approval on the approval core)');
  decideEscrow('deny', '/escrow/:id/kill', 'Kill a held action: it ends BLOCKED');

  // ---- governance mode
  const ModeOut = z.object({ mode: z.enum(GOVERNANCE_MODES as [string, ...string[]]), expires_at: z.string().nullable() });
  route(r, docs, keys, {
    method: 'get', path: '/governance-mode', summary: 'The organization’s governance mode (back to ENFORCED by itself at expires_at)', tags, scope: 'governance:read',
    responses: { 200: { description: '`{mode, expires_at}`', schema: ModeOut } },
  }, async ({ res, principal }) => {
    res.json(await modes.get(principal.orgId));
  });

  route(r, docs, keys, {
    method: 'put', path: '/governance-mode', summary: 'Change the governance mode, for duration_hours or until changed; ARCHITECT role only', tags, scope: 'governance:write', role: 'architect',
    body: z.object({ mode: z.enum(GOVERNANCE_MODES as ['ENFORCED', 'AUDIT_ONLY', 'DISABLED']), duration_hours: z.number().positive().max(24 * 365).optional() }).strict(),
    responses: { 200: { description: '`{mode, expires_at}`', schema: ModeOut }, 403: { description: 'ARCHITECT role required' } },
  }, async ({ res, body, principal }) => {
    res.json(await modes.set(principal, body.mode, body.duration_hours));
  });

  route(r, docs, keys, {
    method: 'get', path: '/governance-mode/periods', summary: 'The periods the organization was not ENFORCED, from the audited changes', tags, scope: 'governance:read',
    responses: { 200: { description: '`{periods: [{mode, from, until, ended, by}]}`' } },
  }, async ({ res, principal }) => {
    res.json({ periods: await modes.periods(principal.orgId) });
  });

  // ---- dashboard
  route(r, docs, keys, {
    method: 'get', path: '/dashboard', summary: 'Governance statistics: governed, cleared, held, blocked, active agents and policies, mode, monthly use', tags, scope: 'governance:read',
    responses: { 200: { description: 'The seed’s dashboard fields' } },
  }, async ({ res, principal }) => {
    const [d, mode] = await Promise.all([deps.wardn.dashboard(principal.orgId), modes.get(principal.orgId)]);
    res.json({
      total_governed: d.total,
      total_cleared: d.cleared,
      total_held: d.held,
      total_blocked: d.blocked,
      active_agents: d.agents,
      active_policies: d.policies,
      governance_mode: mode.mode,
      monthly_used: d.monthly,
      monthly_limit: d.monthlyLimit,
    });
  });

  return r;
}

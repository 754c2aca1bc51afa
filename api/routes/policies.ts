import { Router } from 'express';
import { z } from 'zod';
import { POLICY_JSON_SCHEMA } from '../../engine/policy-schema';
import type { Policy, PolicyException, PolicyVersion } from '../../entities';
import { badRequest, unprocessable } from '../../services/errors';
import { escapeHtml } from '../../services/html';
import { newId } from '../../services/ids';
import { slackEscape } from '../../services/presenter';
import { actorOf, checkPolicy } from '../../services/policy-service';
import type { ApiDeps } from '../deps';
import { route } from '../http';

/** Fields of a policy's GET answer that the server owns: a PUT body may carry them (a GET sent back), and they are ignored. */
const SERVER_FIELDS = ['id', 'current_version_id', 'template_id', 'created_at', 'updated_at'] as const;
const withoutServerFields = (body: Record<string, unknown>) => Object.fromEntries(Object.entries(body).filter(([k]) => !(SERVER_FIELDS as readonly string[]).includes(k)));

/** The PolicyCreate document: validated by the engine's JSON Schema, which the OpenAPI document shows as is. */
const PolicyBody = z.record(z.string(), z.unknown()).meta({ description: 'PolicyCreate (see the policy schema in docs/policies.md)', ...(POLICY_JSON_SCHEMA as object) });

const policyOut = (p: Policy) => ({
  id: p.id,
  ...(p.definition as Record<string, unknown>),
  name: p.name,
  scope: p.scope,
  target_id: p.targetId,
  is_active: p.isActive,
  current_version_id: p.currentVersionId,
  template_id: p.templateId,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});

const versionOut = (v: PolicyVersion) => ({
  id: v.id,
  policy_id: v.policyId,
  version: v.version,
  status: v.status,
  policy_data: v.policyData,
  note: v.note,
  created_by: v.createdBy,
  created_at: v.createdAt.toISOString(),
  reviewed_by: v.reviewedBy,
  reviewed_at: v.reviewedAt?.toISOString() ?? null,
});

const exceptionOut = (e: PolicyException) => ({
  id: e.id,
  policy_id: e.policyId,
  actor_id: e.actorId,
  run_id: e.runId,
  reason: e.reason,
  expires_at: e.expiresAt?.toISOString() ?? null,
  max_uses: e.maxUses,
  uses: e.uses,
  active: !e.revokedAt && (!e.expiresAt || e.expiresAt.getTime() > Date.now()) && (e.maxUses === null || e.uses < e.maxUses),
  created_at: e.createdAt.toISOString(),
  revoked_at: e.revokedAt?.toISOString() ?? null,
});

const ExceptionIn = z
  .object({
    actor_id: z.string().min(1).max(200).optional(),
    run_id: z.string().min(1).max(200).optional(),
    reason: z.string().min(1).max(2000),
    expires_at: z.iso.datetime({ offset: true }).optional(),
    duration_seconds: z.number().int().min(1).max(366 * 86400).optional(),
    max_uses: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();

/** Agent policies (seed 004): CRUD, compile, versions, review, rollback, diff, exceptions, test alert. */
export function policiesRouter(deps: ApiDeps): Router {
  const r = Router();
  const { docs, keys, policies, compiler, audit } = deps;
  const tags = ['Agent policies'];

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/policies/compile', summary: 'Compile YAML, JSON or prose into a PolicyCreate document, or structured errors with their location', tags, scope: 'governance:write',
    description: 'Prose needs an LLM endpoint (LLM_BASE_URL); without one it answers 422 PROSE_NEEDS_LLM.',
    body: z.object({ source: z.string().min(1).max(200_000), format: z.enum(['auto', 'yaml', 'json', 'prose']).default('auto') }).strict(),
    responses: { 200: { description: '`{ok: true, policy}` or `{ok: false, errors: [{path, message, line, column}]}`' }, 422: { description: 'Prose without an LLM configured' } },
  }, async ({ res, body }) => {
    const out = await compiler.compile(body.source, body.format);
    if ('needsLlm' in out) throw unprocessable('PROSE_NEEDS_LLM', 'this looks like prose; compiling prose needs an LLM endpoint (set LLM_BASE_URL), or write the policy as YAML or JSON', 'source');
    res.json(out);
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/policies', summary: 'Create an agent policy (version 1, active)', tags, scope: 'governance:write', body: PolicyBody,
    responses: { 201: { description: 'Created' }, 400: { description: 'Invalid; the error names the field' }, 409: { description: 'Name taken' } },
  }, async ({ res, body, principal }) => {
    const p = await policies.create(principal.orgId, actorOf(principal), checkPolicy(body));
    res.status(201).json(policyOut(p));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/policies', summary: 'List agent policies', tags, scope: 'governance:read',
    query: z.object({ scope: z.enum(['global', 'agent', 'run', 'group', 'mission']).optional(), target_id: z.string().optional(), is_active: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50), offset: z.coerce.number().int().min(0).default(0) }),
    responses: { 200: { description: '`{items, count, limit, offset}`' } },
  }, async ({ res, query, principal }) => {
    const { rows, count } = await policies.list(principal.orgId, { scope: query.scope, targetId: query.target_id, ...(query.is_active ? { isActive: query.is_active === 'true' } : {}) }, query);
    res.json({ items: rows.map(policyOut), count, limit: query.limit, offset: query.offset });
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/policies/:id', summary: 'Get an agent policy', tags, scope: 'governance:read', responses: { 200: { description: 'The policy' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    res.json(policyOut(await policies.get(principal.orgId, params.id)));
  });

  route(r, docs, keys, {
    method: 'put', path: '/api/v1/policies/:id', summary: 'Update a policy: any subset of fields, merged and validated whole; makes a new active version and archives the previous one', tags, scope: 'governance:write', body: PolicyBody,
    description: `The policy's own GET answer is a valid body: the server's fields (${SERVER_FIELDS.map((f) => `\`${f}\``).join(', ')}) are ignored, not refused. A field set to null is removed.`,
    responses: { 200: { description: 'The updated policy' }, 400: { description: 'Invalid' }, 404: { description: 'Not found' } },
  }, async ({ res, params, body, principal }) => {
    const current = await policies.get(principal.orgId, params.id);
    const merged = Object.fromEntries(Object.entries({ ...(current.definition as Record<string, unknown>), ...withoutServerFields(body) }).filter(([, v]) => v !== null));
    res.json(policyOut(await policies.update(principal.orgId, actorOf(principal), params.id, checkPolicy(merged))));
  });

  route(r, docs, keys, {
    method: 'delete', path: '/api/v1/policies/:id', summary: 'Delete a policy and its exceptions; its version history stays readable', tags, scope: 'governance:write',
    description: 'The versions of a deleted policy still answer (`GET /:id/versions`, `/:id/versions/:versionId`, `/:id/diff`), read only; its active version is archived.',
    responses: { 204: { description: 'Deleted' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    await policies.remove(principal.orgId, actorOf(principal), params.id);
    res.status(204).end();
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/policies/:id/versions', summary: 'List versions (draft, in_review, active, archived), newest first; a deleted policy keeps them', tags, scope: 'governance:read', responses: { 200: { description: '`{items}`' }, 404: { description: 'No such policy, and no versions of one' } },
  }, async ({ res, params, principal }) => {
    res.json({ items: (await policies.versions(principal.orgId, params.id)).map(versionOut) });
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/policies/:id/versions', summary: 'Propose a draft version for review (does not apply until rolled onto)', tags, scope: 'governance:write',
    body: z.object({ policy_data: z.record(z.string(), z.unknown()), status: z.enum(['draft', 'in_review']).default('draft'), note: z.string().max(2000).optional() }).strict(),
    responses: { 201: { description: 'The draft version' } },
  }, async ({ res, params, body, principal }) => {
    const v = await policies.createDraft(principal.orgId, actorOf(principal), params.id, checkPolicy(body.policy_data), body.status, body.note);
    res.status(201).json(versionOut(v));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/policies/:id/versions/:versionId', summary: 'Get one version', tags, scope: 'governance:read', responses: { 200: { description: 'The version' } },
  }, async ({ res, params, principal }) => {
    res.json(versionOut(await policies.version(principal.orgId, params.id, params.versionId)));
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/policies/:id/versions/:versionId/review', summary: 'Mark a draft or in_review version as reviewed by the caller (not its author)', tags, scope: 'governance:write',
    body: z.object({ note: z.string().max(2000).optional() }).strict(),
    responses: { 200: { description: 'The reviewed version' }, 403: { description: 'Self-review' }, 409: { description: 'Not reviewable' } },
  }, async ({ res, params, body, principal }) => {
    res.json(versionOut(await policies.review(principal.orgId, actorOf(principal), params.id, params.versionId, body.note)));
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/policies/:id/versions/:versionId/rollback', summary: "Put a version's definition back onto the policy as a new active version", tags, scope: 'governance:write',
    responses: { 200: { description: 'The policy' } },
  }, async ({ res, params, principal }) => {
    res.json(policyOut(await policies.rollback(principal.orgId, actorOf(principal), params.id, params.versionId)));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/policies/:id/diff', summary: 'Differences between two versions', tags, scope: 'governance:read',
    query: z.object({ from: z.string().min(1), to: z.string().min(1) }),
    responses: { 200: { description: '`{from, to, changes: [{path, kind, from, to}]}`' } },
  }, async ({ res, params, query, principal }) => {
    res.json(await policies.diff(principal.orgId, params.id, query.from, query.to));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/policies/:id/exceptions', summary: 'List exceptions of a policy', tags, scope: 'governance:read', responses: { 200: { description: '`{items}`' } },
  }, async ({ res, params, principal }) => {
    const rows = await policies.exceptions(principal.orgId, params.id);
    res.json({ items: rows.map(exceptionOut) });
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/policies/:id/exceptions', summary: 'Create a time- or count-bound exception for an agent or a run', tags, scope: 'governance:write', body: ExceptionIn,
    description: 'Name `actor_id` or `run_id`, and bound it by time (`expires_at` or `duration_seconds`) and/or by count (`max_uses`). Uses are spent atomically.',
    responses: { 201: { description: 'The exception' }, 400: { description: 'Unbounded or untargeted' } },
  }, async ({ res, params, body, principal }) => {
    if (!body.actor_id && !body.run_id) throw badRequest('VALIDATION_FAILED', 'an exception names actor_id or run_id', 'actor_id');
    if (body.expires_at && body.duration_seconds) throw badRequest('VALIDATION_FAILED', 'give expires_at or duration_seconds, not both', 'duration_seconds');
    const expiresAt = body.expires_at ? new Date(body.expires_at) : body.duration_seconds ? new Date(Date.now() + body.duration_seconds * 1000) : null;
    if (!expiresAt && !body.max_uses) throw badRequest('VALIDATION_FAILED', 'an exception is bounded by time (expires_at / duration_seconds) or by count (max_uses)', 'expires_at');
    if (expiresAt && expiresAt.getTime() <= Date.now()) throw badRequest('VALIDATION_FAILED', 'expires_at is in the past', 'expires_at');
    const ex = await policies.addException(principal.orgId, actorOf(principal), params.id, { actorId: body.actor_id ?? null, runId: body.run_id ?? null, reason: body.reason, expiresAt, maxUses: body.max_uses ?? null });
    res.status(201).json(exceptionOut(ex));
  });

  route(r, docs, keys, {
    method: 'delete', path: '/api/v1/policies/:id/exceptions/:exceptionId', summary: 'Revoke an exception', tags, scope: 'governance:write', responses: { 200: { description: 'The revoked exception' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    res.json(exceptionOut(await policies.revokeException(principal.orgId, actorOf(principal), params.id, params.exceptionId)));
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/policies/:id/test-alert', summary: "Send a test notification to the policy's default approvers", tags, scope: 'governance:write',
    responses: { 200: { description: '`{sent: [{to, transport}], unknown: [...]}`' }, 400: { description: 'The policy names no default approvers' } },
  }, async ({ res, params, principal }) => {
    const p = await policies.get(principal.orgId, params.id);
    const refs = ((p.definition as { default_approvers?: string[] }).default_approvers ?? []).map((x) => x.toLowerCase());
    if (refs.length === 0) throw badRequest('NO_APPROVERS', 'this policy names no default_approvers', 'default_approvers');
    const users = await deps.people.active(principal.orgId);
    const targets = users.filter((u) => refs.includes(u.id.toLowerCase()) || refs.includes(u.email));
    const unknown = refs.filter((ref) => !targets.some((u) => u.id.toLowerCase() === ref || u.email === ref));
    const alertId = newId('alert');
    const sent: { to: string; transport: string }[] = [];
    const text = (name: string) => `Hello ${name},\n\nThis is a test notification for the policy "${p.name}". You are one of its default approvers; approval requests under it will reach you here.\n\nNo action is needed.`;
    for (const u of targets) {
      const key = { approvalId: alertId, tier: 0, step: 'test-alert', recipient: u.id };
      await deps.notifier.email(principal.orgId, key, u.email, `${alertId}:${u.id}`, async () => ({
        subject: `[Arbiter] Test alert for policy "${p.name}"`,
        text: text(u.name),
        html: `<p>${escapeHtml(text(u.name)).replace(/\n\n/g, '</p><p>')}</p>`,
      }));
      sent.push({ to: u.email, transport: deps.notifier.mailTransport });
      // Approvers who are on Slack get the test there too: that is where their requests will arrive.
      const slackId = deps.notifier.slackEnabled ? await deps.people.slackIdOf(u).catch(() => null) : null;
      if (slackId) {
        await deps.notifier.slackDm(principal.orgId, key, slackId, async () => ({ text: text(u.name), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: slackEscape(text(u.name)) } }] }));
        sent.push({ to: slackId, transport: 'slack' });
      }
    }
    await audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'policy', entityId: p.id, action: 'test_alert', data: { sent: sent.map((x) => x.to), unknown } }]);
    res.json({ sent, unknown });
  });

  return r;
}

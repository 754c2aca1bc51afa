import { Router } from 'express';
import { IsNull } from 'typeorm';
import { z } from 'zod';
import { ApiKey, AuditRecord, EmailMessage, User } from '../../entities';
import { ApiKeyService, generateKeySecret, SCOPES } from '../../services/auth';
import type { Principal } from '../../services/auth';
import { AppError, badRequest, conflict, notFound } from '../../services/errors';
import { newId } from '../../services/ids';
import { SIGNATURE_HEADER } from '../../services/webhooks';
import type { ApiDeps } from '../deps';
import { route } from '../http';

const actorOf = (p: Principal) => ({ actorType: 'api_key' as const, actorId: p.keyId });

const UserIn = z
  .object({
    email: z.email().max(320),
    name: z.string().min(1).max(200),
    slack_user_id: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id looks like U0123ABCD').optional(),
    roles: z.array(z.enum(['approver', 'admin'])).max(2).default(['approver']),
  })
  .strict();
const UserPatch = z
  .object({
    name: z.string().min(1).max(200).optional(),
    slack_user_id: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id looks like U0123ABCD').nullable().optional(),
    roles: z.array(z.enum(['approver', 'admin'])).max(2).optional(),
    disabled: z.boolean().optional().describe('false brings back a removed person'),
    delegate_id: z.string().min(1).max(100).nullable().optional().describe("Out of office: who receives and decides this person's approvals meanwhile (null ends it)"),
    delegate_from: z.iso.datetime({ offset: true }).nullable().optional().describe('When the delegation starts (default: now)'),
    delegate_until: z.iso.datetime({ offset: true }).nullable().optional().describe('When it ends (default: until cleared)'),
  })
  .strict();
const UserOut = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  slack_user_id: z.string().nullable(),
  roles: z.array(z.string()),
  delegate_id: z.string().nullable(),
  delegate_from: z.string().nullable(),
  delegate_until: z.string().nullable(),
  disabled_at: z.string().nullable(),
  created_at: z.string(),
});
const userOut = (u: User): z.output<typeof UserOut> => ({
  id: u.id,
  email: u.email,
  name: u.name,
  slack_user_id: u.slackUserId,
  roles: u.roles,
  delegate_id: u.delegateId,
  delegate_from: u.delegateFrom?.toISOString() ?? null,
  delegate_until: u.delegateUntil?.toISOString() ?? null,
  disabled_at: u.disabledAt?.toISOString() ?? null,
  created_at: u.createdAt.toISOString(),
});

const KeyIn = z
  .object({
    name: z.string().min(1).max(200),
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    role: z.enum(['admin', 'architect', 'member']).default('member').describe('architect: an admin who may also change the governance mode'),
    user_id: z.string().min(1, 'must name a person (an id from /api/v1/users); leave it out for a key that acts for no one').max(100).optional().describe('The person this key acts for; approvals made with it are theirs. Must name an existing person of the organization.'),
  })
  .strict();
const KeyOut = z.object({ id: z.string(), name: z.string(), prefix: z.string(), scopes: z.array(z.string()), role: z.string(), user_id: z.string().nullable(), created_at: z.string(), revoked_at: z.string().nullable() });
const keyOut = (k: ApiKey): z.output<typeof KeyOut> => ({ id: k.id, name: k.name, prefix: k.prefix, scopes: k.scopes, role: k.role, user_id: k.userId, created_at: k.createdAt.toISOString(), revoked_at: k.revokedAt?.toISOString() ?? null });

const Page = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), offset: z.coerce.number().int().min(0).default(0) });

const AuditQuery = z
  .object({
    entity_id: z.string().max(200).optional(),
    entity_type: z.string().max(100).optional(),
    action: z.string().max(100).optional(),
    actor_id: z.string().max(200).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(100).optional(),
  })
  .strict();
const AuditOut = z.object({ seq: z.number(), id: z.string(), at: z.string(), actor_type: z.string(), actor_id: z.string(), entity_type: z.string(), entity_id: z.string(), action: z.string(), data: z.record(z.string(), z.unknown()), prev_hash: z.string(), hash: z.string() });
const auditOut = (a: AuditRecord): z.output<typeof AuditOut> => ({ seq: Number(a.seq), id: a.id, at: a.at.toISOString(), actor_type: a.actorType, actor_id: a.actorId, entity_type: a.entityType, entity_id: a.entityId, action: a.action, data: a.data, prev_hash: a.prevHash, hash: a.hash });

/** The audit cursor is the last seq seen, opaque to clients. */
function decodeSeqCursor(cursor: string): string {
  const seq = Buffer.from(cursor, 'base64url').toString();
  if (!/^\d{1,19}$/.test(seq)) throw new AppError(400, 'VALIDATION_FAILED', 'cursor is not valid', 'cursor');
  return seq;
}

/** People, API keys, the dev outbox and audit verification: the admin's own surface. */
export function adminRouter(deps: ApiDeps): Router {
  const r = Router();
  const { ds, docs, keys, audit } = deps;
  const person = async (orgId: string, id: string): Promise<User> => {
    const u = await ds.getRepository(User).findOne({ where: { id, orgId } });
    if (!u) throw notFound('user', id);
    return u;
  };

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/users', summary: 'Add a person (approver or admin)', tags: ['Admin'], scope: 'admin', body: UserIn,
    responses: { 201: { description: 'Created', schema: UserOut }, 409: { description: 'Email or Slack id already used in this organization' } },
  }, async ({ res, body, principal }) => {
    const repo = ds.getRepository(User);
    if (await repo.exists({ where: { orgId: principal.orgId, email: body.email.toLowerCase() } })) throw conflict('USER_EXISTS', `a user with email ${body.email} exists`, 'email');
    await deps.people.checkSlackId(principal.orgId, body.slack_user_id);
    const u = repo.create({ id: newId('usr'), orgId: principal.orgId, email: body.email.toLowerCase(), name: body.name, slackUserId: body.slack_user_id ?? null, roles: [...new Set(body.roles)], disabledAt: null });
    await audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'user', entityId: u.id, action: 'create', data: { email: u.email, name: u.name, roles: u.roles, slackUserId: u.slackUserId } }], async (em) => {
      await em.insert(User, u);
    });
    res.status(201).json(userOut(await repo.findOneByOrFail({ id: u.id })));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/users', summary: 'List people', tags: ['Admin'], scope: 'admin', query: Page,
    responses: { 200: { description: 'People', schema: z.object({ users: z.array(UserOut), total: z.number() }) } },
  }, async ({ res, query, principal }) => {
    const [rows, total] = await ds.getRepository(User).findAndCount({ where: { orgId: principal.orgId }, order: { createdAt: 'ASC' }, take: query.limit, skip: query.offset });
    res.json({ users: rows.map(userOut), total });
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/users/:id', summary: 'One person', tags: ['Admin'], scope: 'admin',
    responses: { 200: { description: 'The person', schema: UserOut }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    res.json(userOut(await person(principal.orgId, params.id)));
  });

  route(r, docs, keys, {
    method: 'patch', path: '/api/v1/users/:id', summary: "Change a person's name, Slack id, roles or delegation (out of office), or bring a removed person back", tags: ['Admin'], scope: 'admin', body: UserPatch,
    responses: { 200: { description: 'The person', schema: UserOut }, 404: { description: 'Not found' } },
  }, async ({ res, params, body, principal }) => {
    const repo = ds.getRepository(User);
    const u = await person(principal.orgId, params.id);
    const changes: Partial<User> = {};
    if (body.name !== undefined) changes.name = body.name;
    if (body.slack_user_id !== undefined) {
      await deps.people.checkSlackId(principal.orgId, body.slack_user_id, u.id);
      changes.slackUserId = body.slack_user_id;
    }
    if (body.roles !== undefined) changes.roles = [...new Set(body.roles)];
    if (body.disabled === false && u.disabledAt) changes.disabledAt = null;
    if (body.disabled === true && !u.disabledAt) throw badRequest('USE_DELETE', 'remove a person with DELETE /api/v1/users/:id (it also revokes their keys)', 'disabled');
    if (body.delegate_id !== undefined || body.delegate_from !== undefined || body.delegate_until !== undefined) {
      Object.assign(changes, await deps.people.checkDelegation(u.id, principal.orgId, {
        delegateId: body.delegate_id === undefined ? u.delegateId : body.delegate_id,
        from: body.delegate_from === undefined ? u.delegateFrom : body.delegate_from ? new Date(body.delegate_from) : null,
        until: body.delegate_until === undefined ? u.delegateUntil : body.delegate_until ? new Date(body.delegate_until) : null,
      }));
    }
    if (Object.keys(changes).length > 0) {
      await audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'user', entityId: u.id, action: 'update', data: { before: { name: u.name, slackUserId: u.slackUserId, roles: u.roles, disabled: !!u.disabledAt, delegateId: u.delegateId, delegateFrom: u.delegateFrom, delegateUntil: u.delegateUntil }, changes } }], async (em) => {
        await em.update(User, { id: u.id, orgId: principal.orgId }, changes);
      });
    }
    res.json(userOut(await repo.findOneByOrFail({ id: u.id })));
  });

  route(r, docs, keys, {
    method: 'delete', path: '/api/v1/users/:id', summary: 'Remove a person: never asked or notified again, their API keys revoked; kept for the audit trail', tags: ['Admin'], scope: 'admin',
    responses: { 200: { description: 'The removed person', schema: UserOut }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    const repo = ds.getRepository(User);
    const u = await person(principal.orgId, params.id);
    if (!u.disabledAt) {
      const theirKeys = await ds.getRepository(ApiKey).find({ where: { orgId: principal.orgId, userId: u.id, revokedAt: IsNull() } });
      await audit.append(principal.orgId, [
        { ...actorOf(principal), entityType: 'user', entityId: u.id, action: 'disable', data: { email: u.email } },
        ...theirKeys.map((k) => ({ ...actorOf(principal), entityType: 'api_key', entityId: k.id, action: 'revoke', data: { name: k.name, reason: 'its person was removed' } })),
      ], async (em) => {
        const now = new Date();
        await em.update(User, { id: u.id, orgId: principal.orgId }, { disabledAt: now });
        if (theirKeys.length) await em.update(ApiKey, theirKeys.map((k) => k.id), { revokedAt: now });
      });
      keys.forget();
    }
    res.json(userOut(await repo.findOneByOrFail({ id: u.id })));
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/keys', summary: 'Mint an API key; the secret is shown once', tags: ['Admin'], scope: 'admin', body: KeyIn,
    responses: { 201: { description: 'Created', schema: KeyOut.extend({ key: z.string().describe('The secret. Shown once; store it now.') }) }, 400: { description: 'Invalid, e.g. an empty `user_id`; the error names the field' }, 404: { description: '`user_id` names no person of this organization (the error names `user_id`)' }, 409: { description: 'The person was removed' } },
  }, async ({ res, body, principal }) => {
    if (body.user_id !== undefined) {
      const owner = await ds.getRepository(User).findOne({ where: { id: body.user_id, orgId: principal.orgId } });
      if (!owner) throw new AppError(404, 'NOT_FOUND', `user ${body.user_id} not found`, 'user_id');
      if (owner.disabledAt) throw conflict('USER_DISABLED', 'this person was removed; bring them back (PATCH disabled: false) first', 'user_id');
    }
    const secret = generateKeySecret();
    const row = ApiKeyService.keyRow(principal.orgId, { name: body.name, scopes: body.scopes, role: body.role, userId: body.user_id }, secret);
    await audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'api_key', entityId: row.id, action: 'create', data: { name: row.name, scopes: row.scopes, role: row.role, userId: row.userId, prefix: row.prefix } }], async (em) => {
      await em.insert(ApiKey, row);
    });
    res.status(201).json({ ...keyOut(await ds.getRepository(ApiKey).findOneByOrFail({ id: row.id })), key: secret });
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/keys', summary: 'List API keys (never their secrets)', tags: ['Admin'], scope: 'admin', query: Page,
    responses: { 200: { description: 'Keys', schema: z.object({ keys: z.array(KeyOut), total: z.number() }) } },
  }, async ({ res, query, principal }) => {
    const [rows, total] = await ds.getRepository(ApiKey).findAndCount({ where: { orgId: principal.orgId }, order: { createdAt: 'ASC' }, take: query.limit, skip: query.offset });
    res.json({ keys: rows.map(keyOut), total });
  });

  route(r, docs, keys, {
    method: 'delete', path: '/api/v1/keys/:id', summary: 'Revoke an API key', tags: ['Admin'], scope: 'admin',
    responses: { 200: { description: 'Revoked', schema: KeyOut }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    const repo = ds.getRepository(ApiKey);
    const k = await repo.findOne({ where: { id: params.id, orgId: principal.orgId } });
    if (!k) throw notFound('api key', params.id);
    if (!k.revokedAt) {
      await audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'api_key', entityId: k.id, action: 'revoke', data: { name: k.name } }], async (em) => {
        await em.update(ApiKey, { id: k.id }, { revokedAt: new Date() });
      });
      keys.forget();
    }
    res.json(keyOut(await repo.findOneByOrFail({ id: k.id })));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/outbox', summary: 'The dev outbox: mail Arbiter sent (or would send without SMTP)', tags: ['Admin'], scope: 'admin', query: Page,
    responses: { 200: { description: 'Messages, newest first', schema: z.object({ messages: z.array(z.object({ id: z.string(), to: z.string(), subject: z.string(), text: z.string(), html: z.string(), transport: z.string(), sent_at: z.string().nullable(), created_at: z.string() })), total: z.number() }) } },
  }, async ({ res, query, principal }) => {
    const [rows, total] = await ds.getRepository(EmailMessage).findAndCount({ where: { orgId: principal.orgId }, order: { createdAt: 'DESC' }, take: query.limit, skip: query.offset });
    res.json({ messages: rows.map((m) => ({ id: m.id, to: m.to, subject: m.subject, text: m.text, html: m.html, transport: m.transport, sent_at: m.sentAt?.toISOString() ?? null, created_at: m.createdAt.toISOString() })), total });
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/audit', summary: "Read the organization's audit trail, newest first", tags: ['Audit'], scope: 'admin', query: AuditQuery,
    responses: { 200: { description: 'Records, newest first; pass next_cursor as cursor for the next page', schema: z.object({ data: z.array(AuditOut), next_cursor: z.string().nullable() }) } },
  }, async ({ res, query, principal }) => {
    const qb = ds.getRepository(AuditRecord).createQueryBuilder('a').where('a."orgId" = :org', { org: principal.orgId });
    if (query.entity_id) qb.andWhere('a."entityId" = :eid', { eid: query.entity_id });
    if (query.entity_type) qb.andWhere('a."entityType" = :et', { et: query.entity_type });
    if (query.action) qb.andWhere('a.action = :action', { action: query.action });
    if (query.actor_id) qb.andWhere('a."actorId" = :actor', { actor: query.actor_id });
    if (query.since) qb.andWhere('a.at >= :since', { since: query.since });
    if (query.until) qb.andWhere('a.at < :until', { until: query.until });
    if (query.cursor) qb.andWhere('a.seq < :before', { before: decodeSeqCursor(query.cursor) });
    const rows = await qb.orderBy('a.seq', 'DESC').limit(query.limit + 1).getMany();
    const page = rows.slice(0, query.limit);
    res.json({ data: page.map(auditOut), next_cursor: rows.length > query.limit ? Buffer.from(page[page.length - 1].seq).toString('base64url') : null });
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/webhooks/secret', summary: "The organization's secret for checking the signature of callbacks (callback_url)", tags: ['Admin'], scope: 'admin',
    description: 'Callbacks carry `X-Arbiter-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Recompute it over the raw body, compare in constant time, and refuse a `t` far from now.',
    responses: { 200: { description: 'The secret', schema: z.object({ secret: z.string(), header: z.string(), scheme: z.string() }) } },
  }, async ({ res, principal }) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ secret: deps.webhooks.secretFor(principal.orgId), header: SIGNATURE_HEADER, scheme: 't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>' });
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/audit/export', summary: "Export the organization's audit chain as NDJSON, oldest first, for offline verification", tags: ['Audit'], scope: 'admin',
    description: 'One record per line in the exact form that is hashed (`hash = SHA-256(prevHash + canonical JSON of the record without prevHash and hash)`). `npm run arbiter -- audit verify <file>` checks an export without the server.',
    query: z.object({ from_seq: z.coerce.number().int().min(1).default(1), to_seq: z.coerce.number().int().min(1).optional() }).strict(),
    responses: { 200: { description: 'application/x-ndjson, one audit record per line' } },
  }, async ({ res, query, principal }) => {
    res.status(200).type('application/x-ndjson');
    for await (const page of audit.records(principal.orgId, query.from_seq, query.to_seq, 2000)) {
      if (!res.write(page.map((rec) => JSON.stringify(rec)).join('\n') + '\n')) await new Promise((ok) => res.once('drain', ok));
    }
    res.end();
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/audit/verify', summary: "Recompute the organization's audit hash chain and name the first broken seq", tags: ['Audit'], scope: 'admin',
    responses: { 200: { description: 'Verification result', schema: z.object({ ok: z.boolean(), checked: z.number(), head_seq: z.number(), first_broken_seq: z.number().nullable(), problem: z.string().nullable() }) } },
  }, async ({ res, principal }) => {
    const v = await audit.verify(principal.orgId);
    res.json({ ok: v.ok, checked: v.checked, head_seq: v.headSeq, first_broken_seq: v.firstBrokenSeq, problem: v.problem });
  });

  return r;
}

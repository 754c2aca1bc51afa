import type { DataSource, EntityManager } from 'typeorm';
import { compilePolicies } from '../engine/policies';
import { validatePolicyDef } from '../engine/policy-schema';
import type { PolicyDef } from '../engine/policy-schema';
import { Policy, PolicyException, PolicyVersion } from '../entities';
import type { JsonObject } from '../entities/json';
import type { AuditInput, AuditLog } from './audit-log';
import type { Principal } from './auth';
import { AppError, badRequest, conflict, notFound } from './errors';
import { newId } from './ids';
import { jsonDiff } from './json-diff';
import type { PolicyStore } from './policy-store';

export type Actor = Pick<AuditInput, 'actorType' | 'actorId'>;
export const actorOf = (p: Principal): Actor => ({ actorType: 'api_key', actorId: p.keyId });

/** Validates a PolicyCreate document and proves it compiles; a 400 names the first bad field. */
export function checkPolicy(input: unknown): PolicyDef {
  const v = validatePolicyDef(input);
  if (!v.ok) {
    const first = v.errors[0];
    throw badRequest('POLICY_INVALID', `${first.path || 'policy'}: ${first.message}`, first.path || 'body', v.errors);
  }
  try {
    compilePolicies([{ ...v.value, id: 'pol_check' }]);
  } catch (e) {
    const err = e as { path?: string; message: string };
    throw badRequest('POLICY_INVALID', err.message, err.path || 'body');
  }
  return v.value;
}

/**
 * Agent policies with immutable version history (seed 004): every change of the
 * active definition is a new `active` version and archives the previous one;
 * drafts wait for review; a rollback is itself a new version. Every change is
 * audited and reaches the decision path through the policy store.
 */
export class PolicyService {
  constructor(private readonly ds: DataSource, private readonly audit: AuditLog, private readonly store: PolicyStore) {}

  async get(orgId: string, id: string): Promise<Policy> {
    const p = await this.ds.getRepository(Policy).findOne({ where: { id, orgId } });
    if (!p) throw notFound('policy', id);
    return p;
  }

  async list(orgId: string, filter: { scope?: string; targetId?: string; isActive?: boolean }, page: { limit: number; offset: number }): Promise<{ rows: Policy[]; count: number }> {
    const where = { orgId, ...(filter.scope ? { scope: filter.scope } : {}), ...(filter.targetId ? { targetId: filter.targetId } : {}), ...(filter.isActive !== undefined ? { isActive: filter.isActive } : {}) };
    const [rows, count] = await this.ds.getRepository(Policy).findAndCount({ where, order: { createdAt: 'ASC' }, take: page.limit, skip: page.offset });
    return { rows, count };
  }

  /** A policy's exceptions, newest first. */
  async exceptions(orgId: string, policyId: string): Promise<PolicyException[]> {
    await this.get(orgId, policyId);
    return this.ds.getRepository(PolicyException).find({ where: { orgId, policyId }, order: { createdAt: 'DESC' } });
  }

  /** An exception to a policy for an agent or a run, bounded by time and/or uses (the caller checked the bounds). */
  async addException(orgId: string, actor: Actor, policyId: string, e: { actorId: string | null; runId: string | null; reason: string; expiresAt: Date | null; maxUses: number | null }): Promise<PolicyException> {
    await this.get(orgId, policyId);
    const row = this.ds.getRepository(PolicyException).create({ id: newId('pex'), orgId, policyId, ...e, uses: 0, createdBy: actor.actorId, revokedAt: null });
    await this.audit.append(orgId, [{ ...actor, entityType: 'policy_exception', entityId: row.id, action: 'create', data: { policyId, actorId: row.actorId, runId: row.runId, reason: row.reason, expiresAt: e.expiresAt?.toISOString() ?? null, maxUses: row.maxUses } }], async (em) => {
      await em.insert(PolicyException, row);
    });
    return this.ds.getRepository(PolicyException).findOneByOrFail({ id: row.id });
  }

  /** Revokes an exception (once: revoking a revoked one changes and audits nothing). */
  async revokeException(orgId: string, actor: Actor, policyId: string, exceptionId: string): Promise<PolicyException> {
    const ex = await this.ds.getRepository(PolicyException).findOne({ where: { id: exceptionId, policyId, orgId } });
    if (!ex) throw notFound('policy exception', exceptionId);
    if (!ex.revokedAt) {
      await this.audit.append(orgId, [{ ...actor, entityType: 'policy_exception', entityId: ex.id, action: 'revoke', data: { policyId } }], async (em) => {
        await em.update(PolicyException, { id: ex.id }, { revokedAt: new Date() });
      });
    }
    return this.ds.getRepository(PolicyException).findOneByOrFail({ id: ex.id });
  }

  async create(orgId: string, actor: Actor, def: PolicyDef, opts: { templateId?: string; note?: string } = {}): Promise<Policy> {
    const [p] = await this.createMany(orgId, actor, [def], opts);
    return p;
  }

  /**
   * Creates several policies, and whatever `also` writes beside them (a
   * template's smart rules), in one transaction with their audit records: all
   * of it or none. A taken name is a 409 before anything is written.
   */
  async createMany(orgId: string, actor: Actor, defs: PolicyDef[], opts: { templateId?: string; note?: string } = {}, also?: { entries: AuditInput[]; write: (em: EntityManager) => Promise<void> }): Promise<Policy[]> {
    const names = defs.map((d) => d.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw conflict('POLICY_EXISTS', `two policies are named "${twice}"`, 'name');
    const taken = names.length ? await this.ds.getRepository(Policy).findOne({ where: names.map((name) => ({ orgId, name })) }) : null;
    if (taken) throw conflict('POLICY_EXISTS', `a policy named "${taken.name}" exists`, 'name');
    const rows = defs.map((def) => ({ def, id: newId('pol'), versionId: newId('pv') }));
    const entries: AuditInput[] = [
      ...(also?.entries ?? []),
      ...rows.map(({ def, id, versionId }) => ({ ...actor, entityType: 'policy', entityId: id, action: 'create', data: { definition: def as unknown as JsonObject, versionId, templateId: opts.templateId ?? null } })),
    ];
    await this.audit.append(orgId, entries, async (em) => {
      if (also) await also.write(em);
      for (const { def, id, versionId } of rows) {
        await em.insert(Policy, { id, orgId, name: def.name, scope: def.scope ?? 'global', targetId: def.target_id ?? null, isActive: def.is_active ?? true, definition: def as unknown as JsonObject, currentVersionId: versionId, templateId: opts.templateId ?? null });
        await em.insert(PolicyVersion, { id: versionId, orgId, policyId: id, version: 1, status: 'active', policyData: def as unknown as JsonObject, note: opts.note ?? null, createdBy: actor.actorId, reviewedBy: null, reviewedAt: null });
      }
      await this.store.notifyChange(em, orgId);
    });
    return Promise.all(rows.map(({ id }) => this.get(orgId, id)));
  }

  /** Applies a new active definition: snapshot it, archive the previous active version. */
  async update(orgId: string, actor: Actor, id: string, def: PolicyDef, action = 'update', note?: string): Promise<Policy> {
    const current = await this.get(orgId, id);
    if (def.name !== current.name && (await this.ds.getRepository(Policy).exists({ where: { orgId, name: def.name } }))) throw conflict('POLICY_EXISTS', `a policy named "${def.name}" exists`, 'name');
    const versionId = newId('pv');
    const changes = jsonDiff(current.definition, def);
    await this.audit.append(orgId, [{ ...actor, entityType: 'policy', entityId: id, action, data: { versionId, changes: changes as unknown as JsonObject[] } }], async (em) => {
      const version = await this.nextVersion(em, id);
      await em.query(`UPDATE policy_versions SET status = 'archived' WHERE "policyId" = $1 AND status = 'active'`, [id]);
      await em.insert(PolicyVersion, { id: versionId, orgId, policyId: id, version, status: 'active', policyData: def as unknown as JsonObject, note: note ?? null, createdBy: actor.actorId, reviewedBy: null, reviewedAt: null });
      await em.update(Policy, { id, orgId }, { name: def.name, scope: def.scope ?? 'global', targetId: def.target_id ?? null, isActive: def.is_active ?? true, definition: def as unknown as JsonObject, currentVersionId: versionId });
      await this.store.notifyChange(em, orgId);
    });
    return this.get(orgId, id);
  }

  /**
   * Deletes a policy and its exceptions. Its version history stays, read only:
   * `versions`, `version` and `diff` still answer; the active version is
   * archived (nothing of a deleted policy applies), drafts stay as they were.
   */
  async remove(orgId: string, actor: Actor, id: string): Promise<void> {
    const p = await this.get(orgId, id);
    await this.audit.append(orgId, [{ ...actor, entityType: 'policy', entityId: id, action: 'delete', data: { name: p.name, versionId: p.currentVersionId } }], async (em) => {
      await em.delete(PolicyException, { policyId: id, orgId });
      await em.query(`UPDATE policy_versions SET status = 'archived' WHERE "orgId" = $1 AND "policyId" = $2 AND status = 'active'`, [orgId, id]);
      await em.delete(Policy, { id, orgId });
      await this.store.notifyChange(em, orgId);
    });
  }

  /** Newest first; a deleted policy's versions too. A policy that never existed (no versions) is a 404. */
  async versions(orgId: string, id: string): Promise<PolicyVersion[]> {
    const rows = await this.ds.getRepository(PolicyVersion).find({ where: { orgId, policyId: id }, order: { version: 'DESC' } });
    if (rows.length === 0) await this.get(orgId, id);
    return rows;
  }

  async version(orgId: string, id: string, versionId: string): Promise<PolicyVersion> {
    const v = await this.ds.getRepository(PolicyVersion).findOne({ where: { orgId, policyId: id, id: versionId } });
    if (!v) throw notFound('policy version', versionId);
    return v;
  }

  /** A proposed change that does not apply until someone rolls the policy forward onto it. */
  async createDraft(orgId: string, actor: Actor, id: string, def: PolicyDef, status: 'draft' | 'in_review', note?: string): Promise<PolicyVersion> {
    await this.get(orgId, id);
    const versionId = newId('pv');
    await this.audit.append(orgId, [{ ...actor, entityType: 'policy_version', entityId: versionId, action: 'draft', data: { policyId: id, status } }], async (em) => {
      const version = await this.nextVersion(em, id);
      await em.insert(PolicyVersion, { id: versionId, orgId, policyId: id, version, status, policyData: def as unknown as JsonObject, note: note ?? null, createdBy: actor.actorId, reviewedBy: null, reviewedAt: null });
    });
    return this.version(orgId, id, versionId);
  }

  /** Marks a draft / in-review version as reviewed by the caller. Authors do not review their own drafts. */
  async review(orgId: string, actor: Actor, id: string, versionId: string, note?: string): Promise<PolicyVersion> {
    // The history of a deleted policy is read only.
    await this.get(orgId, id);
    const v = await this.version(orgId, id, versionId);
    if (v.status !== 'draft' && v.status !== 'in_review') throw conflict('VERSION_NOT_REVIEWABLE', `version ${v.version} is ${v.status}; only draft or in_review versions are reviewed`);
    if (v.reviewedBy) throw conflict('VERSION_ALREADY_REVIEWED', `version ${v.version} was reviewed by ${v.reviewedBy}`);
    if (v.createdBy === actor.actorId) throw new AppError(403, 'SELF_REVIEW', 'the author of a version cannot review it');
    await this.audit.append(orgId, [{ ...actor, entityType: 'policy_version', entityId: versionId, action: 'review', data: { policyId: id, version: v.version, note: note ?? null } }], async (em) => {
      await em.update(PolicyVersion, { id: versionId }, { reviewedBy: actor.actorId, reviewedAt: new Date() });
    });
    return this.version(orgId, id, versionId);
  }

  /** Puts a version's definition back onto the policy as a new active version. */
  async rollback(orgId: string, actor: Actor, id: string, versionId: string): Promise<Policy> {
    const v = await this.version(orgId, id, versionId);
    const def = checkPolicy(v.policyData);
    return this.update(orgId, actor, id, def, 'rollback', `rollback to version ${v.version}`);
  }

  async diff(orgId: string, id: string, fromId: string, toId: string) {
    const [a, b] = await Promise.all([this.version(orgId, id, fromId), this.version(orgId, id, toId)]);
    return { from: { id: a.id, version: a.version }, to: { id: b.id, version: b.version }, changes: jsonDiff(a.policyData, b.policyData) };
  }

  private async nextVersion(em: EntityManager, policyId: string): Promise<number> {
    // Serialise version numbers per policy: lock the policy row first.
    await em.query('SELECT id FROM policies WHERE id = $1 FOR UPDATE', [policyId]);
    const [row] = (await em.query('SELECT coalesce(max(version), 0)::int AS v FROM policy_versions WHERE "policyId" = $1', [policyId])) as { v: number }[];
    return row.v + 1;
  }
}

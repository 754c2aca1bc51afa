import type { DataSource } from 'typeorm';
import { ApiKey, Organization } from '../entities';
import type { AuditLog } from './audit-log';
import { ApiKeyService, generateKeySecret, SCOPES } from './auth';
import { DomainError } from './errors';
import { newId } from './ids';

export interface OrgSummary {
  id: string;
  name: string;
  disabledAt: string | null;
  createdAt: string;
  keys: number;
  decisions: number;
}

/**
 * The operator's view of tenants: create an organization with its first admin key
 * (shown once), list them, and disable one (its keys answer 401 from then on). Each
 * change is recorded in the organization's own audit chain.
 */
export class Tenants {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditLog,
  ) {}

  async create(name: string): Promise<{ id: string; name: string; adminKey: string }> {
    const clean = name.trim();
    if (!clean || clean.length > 200) throw new DomainError('VALIDATION_FAILED', 'name: 1-200 characters', 'name');
    const id = newId('org');
    const secret = generateKeySecret();
    const key = ApiKeyService.keyRow(id, { name: 'first admin', scopes: [...SCOPES], role: 'admin' }, secret);
    await this.audit.append(
      id,
      [
        { actorType: 'system', actorId: 'operator', entityType: 'organization', entityId: id, action: 'create', data: { name: clean } },
        { actorType: 'system', actorId: 'operator', entityType: 'api_key', entityId: key.id, action: 'create', data: { name: key.name, role: key.role, scopes: key.scopes, prefix: key.prefix } },
      ],
      async (em) => {
        await em.insert(Organization, { id, name: clean, governanceMode: 'ENFORCED' });
        await em.insert(ApiKey, key);
      },
    );
    return { id, name: clean, adminKey: secret };
  }

  async list(): Promise<OrgSummary[]> {
    const rows = (await this.ds.query(
      `SELECT o.id, o.name, o."disabledAt", o."createdAt",
              (SELECT count(*) FROM api_keys k WHERE k."orgId" = o.id AND k."revokedAt" IS NULL)::int AS keys,
              (SELECT count(*) FROM decisions d WHERE d."orgId" = o.id)::int AS decisions
         FROM organizations o ORDER BY o."createdAt", o.id`,
    )) as { id: string; name: string; disabledAt: Date | null; createdAt: Date; keys: number; decisions: number }[];
    return rows.map((r) => ({ ...r, disabledAt: r.disabledAt?.toISOString() ?? null, createdAt: r.createdAt.toISOString() }));
  }

  async disable(id: string): Promise<void> {
    const org = await this.ds.getRepository(Organization).findOne({ where: { id } });
    if (!org) throw new DomainError('NOT_FOUND', `organization ${id} not found`, 'id');
    if (org.disabledAt) return;
    await this.audit.append(id, [{ actorType: 'system', actorId: 'operator', entityType: 'organization', entityId: id, action: 'disable', data: { name: org.name } }], async (em) => {
      await em.update(Organization, { id }, { disabledAt: new Date() });
    });
  }
}

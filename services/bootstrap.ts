import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ApiKey, Organization, Setting } from '../entities';
import type { AuditLog } from './audit-log';
import { ApiKeyService, generateKeySecret, SCOPES } from './auth';
import { sha256 } from './ids';

export const DEFAULT_ORG_ID = 'org_default';

/**
 * First-run setup: the default organization, an admin key (printed once, or the
 * value of ARBITER_ADMIN_KEY), the approval-link signing secret and the webhook signing secret.
 * Safe to run on every start.
 */
export async function bootstrap(ds: DataSource, audit: AuditLog, opts: { adminKey?: string }): Promise<{ createdAdminKey: string | null }> {
  const orgs = ds.getRepository(Organization);
  if (!(await orgs.findOne({ where: { id: DEFAULT_ORG_ID } }))) {
    await audit.append(DEFAULT_ORG_ID, [{ actorType: 'system', actorId: 'bootstrap', entityType: 'organization', entityId: DEFAULT_ORG_ID, action: 'create', data: { name: 'Default organization' } }], async (em) => {
      await em.insert(Organization, { id: DEFAULT_ORG_ID, name: 'Default organization', governanceMode: 'ENFORCED' });
    });
  }
  let createdAdminKey: string | null = null;
  const keys = ds.getRepository(ApiKey);
  const wanted = opts.adminKey;
  const needKey = wanted ? !(await keys.findOne({ where: { secretHash: sha256(wanted) } })) : (await keys.count({ where: { orgId: DEFAULT_ORG_ID } })) === 0;
  if (needKey) {
    const secret = wanted ?? generateKeySecret();
    const row = ApiKeyService.keyRow(DEFAULT_ORG_ID, { name: 'bootstrap admin', scopes: [...SCOPES], role: 'admin' }, secret);
    await audit.append(DEFAULT_ORG_ID, [{ actorType: 'system', actorId: 'bootstrap', entityType: 'api_key', entityId: row.id, action: 'create', data: { name: row.name, role: row.role, scopes: row.scopes, prefix: row.prefix } }], async (em) => {
      await em.insert(ApiKey, row);
    });
    createdAdminKey = wanted ? null : secret;
  }
  await ds.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING', ['approval_link_secret', randomBytes(32).toString('hex')]);
  // The webhook master is its own setting, so rotating either secret leaves the other alone. An upgrade starts it
  // from the approval secret it used to be derived from, so receivers' signatures keep verifying.
  await ds.query(
    `INSERT INTO settings (key, value) SELECT 'webhook_signing_secret', coalesce((SELECT value FROM settings WHERE key = 'approval_link_secret' AND EXISTS (SELECT 1 FROM decisions LIMIT 1)), $1) ON CONFLICT DO NOTHING`,
    [randomBytes(32).toString('hex')],
  );
  return { createdAdminKey };
}

export async function readSetting(ds: DataSource, key: string): Promise<string | null> {
  const row = await ds.getRepository(Setting).findOne({ where: { key } });
  return row?.value ?? null;
}

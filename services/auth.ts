import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ApiKey } from '../entities';
import { newId, sha256 } from './ids';

export const SCOPES = ['governance:read', 'governance:write', 'governance:propose'] as const;
export type Scope = (typeof SCOPES)[number];
/** `architect`: an admin who may also change the organization's governance mode (WARDN). */
export type Role = 'admin' | 'architect' | 'member';

/** Admins and architects administer; only architects change the governance mode. */
export const isAdminRole = (role: string): boolean => role === 'admin' || role === 'architect';

/** Who is calling: resolved from an API key on every request. */
export interface Principal {
  orgId: string;
  keyId: string;
  keyName: string;
  role: Role;
  scopes: readonly string[];
  userId: string | null;
}

export function hasScope(p: Principal, scope: Scope): boolean {
  return isAdminRole(p.role) || p.scopes.includes(scope);
}

/** Key format `arb_<prefix>_<secret>`: the prefix is for people, the whole string is the secret. */
export function generateKeySecret(): string {
  return `arb_${randomBytes(4).toString('hex')}_${randomBytes(24).toString('base64url')}`;
}

const CACHE_TTL_MS = 5_000;

/**
 * Resolves API keys. Verified keys are cached for a few seconds so the propose
 * hot path does not pay a query per request; revocation takes effect within that TTL.
 */
export class ApiKeyService {
  private readonly cache = new Map<string, { p: Principal | null; until: number }>();

  constructor(private readonly ds: DataSource) {}

  async authenticate(secret: string): Promise<Principal | null> {
    const hash = sha256(secret);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.p;
    const row = await this.ds.getRepository(ApiKey).findOne({ where: { secretHash: hash } });
    // A disabled organization's keys stop working with it.
    const orgDisabled = row && !row.revokedAt ? ((await this.ds.query('SELECT 1 FROM organizations WHERE id = $1 AND "disabledAt" IS NOT NULL', [row.orgId])) as unknown[]).length > 0 : false;
    const p: Principal | null =
      row && !row.revokedAt && !orgDisabled
        ? { orgId: row.orgId, keyId: row.id, keyName: row.name, role: row.role as Role, scopes: row.scopes, userId: row.userId }
        : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { p, until: now + CACHE_TTL_MS });
    return p;
  }

  /** Builds a key row for `secret`; the caller inserts it (inside its audited transaction). */
  static keyRow(orgId: string, input: { name: string; scopes: string[]; role: Role; userId?: string | null }, secret: string): ApiKey {
    const row = new ApiKey();
    row.id = newId('key');
    row.orgId = orgId;
    row.name = input.name;
    row.prefix = secret.slice(0, 12);
    row.secretHash = sha256(secret);
    row.scopes = input.scopes;
    row.role = input.role;
    row.userId = input.userId ?? null;
    row.revokedAt = null;
    return row;
  }

  forget(): void {
    this.cache.clear();
  }
}

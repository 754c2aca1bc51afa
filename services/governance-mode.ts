import type { DataSource } from 'typeorm';
import { effectiveMode } from '../engine/modes';
import type { ModeSetting } from '../engine/modes';
import type { GovernanceMode } from '../engine/types';
import { Organization } from '../entities';
import type { AuditLog } from './audit-log';
import type { Principal } from './auth';
import { DomainError } from './errors';
import type { PolicySnapshot, PolicyStore } from './policy-store';

/** What the snapshot carries of the organization's mode. */
interface ModePart {
  governance: ModeSetting;
}

/** The mode setting in a policy snapshot (ENFORCED when none was loaded). */
export function modeSettingOf(snapshot: PolicySnapshot): ModeSetting | null {
  return (snapshot as PolicySnapshot & Partial<ModePart>).governance ?? null;
}

export interface ModeView {
  mode: GovernanceMode;
  expires_at: string | null;
}

/**
 * The organization's governance mode: read with every policy snapshot (so the
 * decision path pays nothing for it), changed only by an architect, for a while or
 * until changed back, each change audited. Expiry needs no process: the effective
 * mode is computed from it.
 */
export class GovernanceModes {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditLog,
    private readonly store: PolicyStore,
  ) {
    store.addLoader(async (d, orgId) => {
      const org = await d.getRepository(Organization).findOne({ where: { id: orgId } });
      return { governance: { mode: (org?.governanceMode ?? 'ENFORCED') as GovernanceMode, expiresAt: org?.governanceModeExpiresAt?.getTime() ?? null } } satisfies ModePart;
    });
  }

  async get(orgId: string, now = Date.now()): Promise<ModeView> {
    const org = await this.ds.getRepository(Organization).findOne({ where: { id: orgId } });
    const setting: ModeSetting = { mode: (org?.governanceMode ?? 'ENFORCED') as GovernanceMode, expiresAt: org?.governanceModeExpiresAt?.getTime() ?? null };
    const mode = effectiveMode(setting, now);
    return { mode, expires_at: mode !== 'ENFORCED' && setting.expiresAt !== null ? new Date(setting.expiresAt).toISOString() : null };
  }

  /** Sets the mode; `durationHours` makes it end by itself. Only the ARCHITECT role may. */
  async set(principal: Principal, mode: GovernanceMode, durationHours?: number): Promise<ModeView> {
    if (principal.role !== 'architect') throw new DomainError('ARCHITECT_REQUIRED', 'ARCHITECT role required to change the governance mode');
    const before = await this.get(principal.orgId);
    const expiresAt = mode !== 'ENFORCED' && durationHours ? new Date(Date.now() + durationHours * 3_600_000) : null;
    await this.audit.append(
      principal.orgId,
      [{ actorType: 'api_key', actorId: principal.keyId, entityType: 'organization', entityId: principal.orgId, action: 'governance_mode.change', data: { from: before.mode, to: mode, expiresAt: expiresAt?.toISOString() ?? null, durationHours: durationHours ?? null } }],
      async (em) => {
        await em.update(Organization, { id: principal.orgId }, { governanceMode: mode, governanceModeExpiresAt: expiresAt });
        await this.store.notifyChange(em, principal.orgId);
      },
    );
    return this.get(principal.orgId);
  }

  /** The periods the organization was not ENFORCED, from the audited changes (an expiry ends a period by itself). */
  async periods(orgId: string, now = Date.now()): Promise<{ mode: GovernanceMode; from: string; until: string | null; ended: 'changed' | 'expired' | null; by: string }[]> {
    const rows = (await this.ds.query(`SELECT at, "actorId", data FROM audit_records WHERE "orgId" = $1 AND action = 'governance_mode.change' ORDER BY seq`, [orgId])) as { at: Date; actorId: string; data: { to: GovernanceMode; expiresAt: string | null } }[];
    const out: { mode: GovernanceMode; from: string; until: string | null; ended: 'changed' | 'expired' | null; by: string }[] = [];
    rows.forEach((r, i) => {
      if (r.data.to === 'ENFORCED') return;
      const next = rows[i + 1]?.at.getTime() ?? null;
      const exp = r.data.expiresAt ? Date.parse(r.data.expiresAt) : null;
      const endAt = [next, exp].filter((x): x is number => x !== null).sort((a, b) => a - b)[0] ?? null;
      const ended = endAt === null || endAt > now ? null : endAt === exp ? 'expired' : 'changed';
      out.push({ mode: r.data.to, from: r.at.toISOString(), until: endAt === null ? null : new Date(endAt).toISOString(), ended, by: r.actorId });
    });
    return out;
  }
}

import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { compileRuleSet } from '../engine/rules';
import type { CompiledRuleSet } from '../engine/rules';
import { DEFAULT_RISK_CONFIG } from '../engine/risk';
import type { RiskConfig, RuleAction, SmartRuleDef } from '../engine/types';
import { RiskConfigRow, SmartRule } from '../entities';

export const POLICY_CHANNEL = 'arbiter_policy';

/** Everything the fast path needs to decide for one organization, compiled once. */
export interface PolicySnapshot {
  orgId: string;
  rules: CompiledRuleSet;
  ruleDefs: SmartRuleDef[];
  risk: RiskConfig;
  loadedAt: number;
}

export type SnapshotLoader = (ds: DataSource, orgId: string) => Promise<Partial<PolicySnapshot> & Record<string, unknown>>;

export function toRuleDef(r: SmartRule): SmartRuleDef {
  return {
    id: r.id,
    name: r.name,
    priority: r.priority,
    isActive: r.isActive,
    conditions: r.conditions,
    action: r.action as RuleAction,
    approvalLevel: r.approvalLevel ?? undefined,
    notifications: r.notifications ?? undefined,
  };
}

/**
 * Compiled policy snapshots per organization, kept in memory so no proposal
 * reads rules from the database. A write invalidates locally at once and, via
 * Postgres NOTIFY (delivered on commit), in every other process within a second.
 */
export class PolicyStore {
  private readonly snapshots = new Map<string, Promise<PolicySnapshot>>();
  private readonly generation = new Map<string, number>();
  private listener: Client | null = null;
  private readonly extraLoaders: SnapshotLoader[] = [];

  constructor(private readonly ds: DataSource, private readonly databaseUrl: string) {}

  /** Lets a later layer (agent policies) add its compiled part to every snapshot. */
  addLoader(loader: SnapshotLoader): void {
    this.extraLoaders.push(loader);
  }

  async get(orgId: string): Promise<PolicySnapshot> {
    let p = this.snapshots.get(orgId);
    if (!p) {
      const gen = this.generation.get(orgId) ?? 0;
      p = this.load(orgId);
      this.snapshots.set(orgId, p);
      p.catch(() => {
        if (this.snapshots.get(orgId) === p) this.snapshots.delete(orgId);
      });
      // A change that landed while loading must not be hidden behind a stale snapshot.
      void p.then(() => {
        if ((this.generation.get(orgId) ?? 0) !== gen && this.snapshots.get(orgId) === p) this.snapshots.delete(orgId);
      }, () => undefined);
    }
    return p;
  }

  invalidate(orgId: string): void {
    this.generation.set(orgId, (this.generation.get(orgId) ?? 0) + 1);
    this.snapshots.delete(orgId);
  }

  /** Call inside the writing transaction: other processes hear of it when it commits. */
  async notifyChange(em: EntityManager, orgId: string): Promise<void> {
    await em.query('SELECT pg_notify($1, $2)', [POLICY_CHANNEL, orgId]);
    this.invalidate(orgId);
  }

  async listen(): Promise<void> {
    const c = new Client({ connectionString: this.databaseUrl });
    c.on('notification', (n) => {
      if (n.channel === POLICY_CHANNEL && n.payload) this.invalidate(n.payload);
    });
    // On a lost connection every cached snapshot may be stale: drop them all, then reconnect.
    c.on('error', () => {
      this.snapshots.clear();
      this.listener = null;
      setTimeout(() => void this.listen().catch(() => undefined), 1000).unref();
    });
    await c.connect();
    await c.query(`LISTEN ${POLICY_CHANNEL}`);
    this.listener = c;
    this.snapshots.clear();
  }

  async close(): Promise<void> {
    const c = this.listener;
    this.listener = null;
    if (c) {
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
    }
  }

  private async load(orgId: string): Promise<PolicySnapshot> {
    const rows = await this.ds.getRepository(SmartRule).find({ where: { orgId, isActive: true } });
    const ruleDefs = rows.map(toRuleDef);
    const riskRow = await this.ds.getRepository(RiskConfigRow).findOne({ where: { orgId, isActive: true } });
    const risk: RiskConfig = riskRow
      ? { id: riskRow.id, weights: { ...DEFAULT_RISK_CONFIG.weights, ...riskRow.weights }, thresholds: { ...DEFAULT_RISK_CONFIG.thresholds, ...riskRow.thresholds }, modifiers: { ...DEFAULT_RISK_CONFIG.modifiers, ...riskRow.modifiers } }
      : DEFAULT_RISK_CONFIG;
    const snap: PolicySnapshot = { orgId, rules: compileRuleSet(ruleDefs), ruleDefs, risk, loadedAt: Date.now() };
    for (const loader of this.extraLoaders) Object.assign(snap, await loader(this.ds, orgId));
    return snap;
  }
}

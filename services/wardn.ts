import type { DataSource, EntityManager } from 'typeorm';
import { agentLayer, DEFAULT_WARDN_SETTINGS, estimateCost, floorsLayer, l6Layer, principlesLayer, PRINCIPLES } from '../engine/wardn';
import type { AgentRecord, AgentStatus, FloorRule, ModelRecord, PrincipleName, WardnData, WardnSettings } from '../engine/wardn';
import type { Layer } from '../engine/evaluate';
import type { Proposal, Verdict } from '../engine/types';
import { Agent, ConfidenceFloor, ModelEntry, Organization } from '../entities';
import type { AuditLog } from './audit-log';
import type { Principal } from './auth';
import type { CommitResult, DecisionExtension } from './decide';
import { DomainError } from './errors';
import { newId } from './ids';
import type { PolicySnapshot, PolicyStore } from './policy-store';

interface WardnPart {
  wardn: WardnData & { monthlyLimit: number | null };
}

const actorOf = (p: Principal) => ({ actorType: 'api_key' as const, actorId: p.keyId });
const month = (now: number) => new Date(now).toISOString().slice(0, 7);

/** Settings as stored (partial) over the defaults. */
export function settingsOf(raw: Record<string, unknown> | null | undefined): WardnSettings {
  return { ...DEFAULT_WARDN_SETTINGS, ...(raw ?? {}) } as WardnSettings;
}

const agentRecord = (a: Agent): AgentRecord => ({ id: a.id, status: a.status as AgentStatus, allowedEnvironments: a.allowedEnvironments, allowedModels: a.allowedModels });
const modelRecord = (m: ModelEntry): ModelRecord => ({ id: m.id, provider: m.provider, channels: m.channels, dataClasses: m.dataClasses, agreements: m.agreements, priceInputPer1k: m.priceInputPer1k, priceOutputPer1k: m.priceOutputPer1k, status: m.status as 'approved' | 'blocked' });

/** Loads what WARDN's layers read into every policy snapshot (so the decision path reads nothing per request). */
export function registerWardnLoader(store: PolicyStore): void {
  store.addLoader(async (ds: DataSource, orgId: string) => {
    const [agents, floors, models, org] = await Promise.all([
      ds.getRepository(Agent).find({ where: { orgId } }),
      ds.getRepository(ConfidenceFloor).find({ where: { orgId, isActive: true }, order: { createdAt: 'ASC' } }),
      ds.getRepository(ModelEntry).find({ where: { orgId } }),
      ds.getRepository(Organization).findOne({ where: { id: orgId } }),
    ]);
    const wardn: WardnPart['wardn'] = {
      agents: new Map(agents.map((a) => [a.id, agentRecord(a)])),
      floors: floors.map((f): FloorRule => ({ id: f.id, actionType: f.actionType, environment: f.environment, floors: f.floors })),
      models: new Map(models.map((m) => [m.id, modelRecord(m)])),
      settings: settingsOf(org?.governanceSettings),
      monthlyLimit: org?.monthlyLimit ?? null,
    };
    return { wardn } satisfies WardnPart;
  });
}

/**
 * WARDN's layers on the decision path of every surface: registered agents, confidence
 * floors, Sentinel principles and model governance. It reads month-to-date model spend
 * and the monthly count, and inside the decision's transaction adds this action's
 * estimated cost and counts it. Past the organization's monthly limit it refuses (429),
 * audited, before anything is evaluated.
 */
export class WardnDecisionExtension implements DecisionExtension {
  private readonly built = new WeakMap<WardnData, Map<string, Layer[]>>();
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditLog,
  ) {}

  async prepare(snapshot: PolicySnapshot, proposal: Proposal, now: number, surface?: string) {
    const data = (snapshot as PolicySnapshot & Partial<WardnPart>).wardn;
    if (!data) return { layers: [] };
    const orgId = snapshot.orgId;
    const m = month(now);
    const keys = { org: `l6:org:${m}`, agent: `l6:agent:${proposal.actor.id}:${m}`, count: `decisions:${m}` };
    const needSpend = !!proposal.modelId && (data.settings.orgMonthlyBudgetUsd !== null || data.settings.agentMonthlyBudgetUsd !== null);
    const counters = needSpend || data.monthlyLimit !== null ? await this.read(orgId, [keys.org, keys.agent, keys.count]) : new Map<string, number>();
    if (data.monthlyLimit !== null && !counters.has(keys.count)) {
      // The count is kept only while a limit is set: the first time, it starts from the month's decisions so far (UTC month).
      const [{ n }] = (await this.ds.query(`SELECT count(*)::int AS n FROM decisions WHERE "orgId" = $1 AND "createdAt" >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`, [orgId])) as { n: number }[];
      await this.ds.query(`INSERT INTO counters ("orgId", key, value) VALUES ($1, $2, $3) ON CONFLICT ("orgId", key) DO NOTHING`, [orgId, keys.count, n]);
      counters.set(keys.count, Number((await this.read(orgId, [keys.count])).get(keys.count) ?? n));
    }
    if (data.monthlyLimit !== null && (counters.get(keys.count) ?? 0) >= data.monthlyLimit) {
      await this.audit.append(orgId, [{ actorType: 'system', actorId: 'wardn', entityType: 'organization', entityId: orgId, action: 'decision.refused', data: { code: 'MONTHLY_LIMIT_EXCEEDED', limit: data.monthlyLimit, agentId: proposal.actor.id, capability: proposal.action.capability } }]);
      throw new DomainError('MONTHLY_LIMIT_EXCEEDED', `the organization's monthly limit of ${data.monthlyLimit} governed actions is reached`);
    }
    const spend = { org: counters.get(keys.org) ?? 0, agent: counters.get(keys.agent) ?? 0 };
    const cost = proposal.modelId ? estimateCost(data.models.get(proposal.modelId), proposal.context.metadata?.estimated_tokens) : 0;
    const layers = [...this.fixedLayers(data, surface ?? 'aegis'), l6Layer(data, spend)];
    const commit = async (em: EntityManager, verdict: Verdict): Promise<CommitResult> => {
      if (data.monthlyLimit !== null) {
        const res = (await em.query(
          `INSERT INTO counters ("orgId", key, value) VALUES ($1, $2, 1) ON CONFLICT ("orgId", key) DO UPDATE SET value = counters.value + 1 WHERE counters.value + 1 <= $3 RETURNING value`,
          [orgId, keys.count, data.monthlyLimit],
        )) as unknown[];
        if (res.length === 0) return { refused: { code: 'MONTHLY_LIMIT_EXCEEDED', message: `the organization's monthly limit of ${data.monthlyLimit} governed actions is reached` } };
      }
      if (cost > 0 && verdict.outcome !== 'DENY') {
        for (const key of [keys.org, keys.agent]) {
          await em.query(`INSERT INTO counters ("orgId", key, value) VALUES ($1, $2, $3) ON CONFLICT ("orgId", key) DO UPDATE SET value = counters.value + $3`, [orgId, key, cost]);
        }
      }
      return {};
    };
    // Nothing to count or spend: the decision needs no transaction of its own (it joins the pipelined group commit).
    return { layers, commit: data.monthlyLimit !== null || cost > 0 ? commit : undefined };
  }

  /** Layers that depend only on the snapshot and the surface: built once per snapshot, not per proposal. */
  private fixedLayers(data: WardnData, surface: string): Layer[] {
    let bySurface = this.built.get(data);
    if (!bySurface) {
      bySurface = new Map();
      this.built.set(data, bySurface);
    }
    let layers = bySurface.get(surface);
    if (!layers) {
      layers = [agentLayer(data, surface), floorsLayer(data.floors), principlesLayer(data)];
      bySurface.set(surface, layers);
    }
    return layers;
  }

  private async read(orgId: string, keys: string[]): Promise<Map<string, number>> {
    const rows = (await this.ds.query(`SELECT key, value FROM counters WHERE "orgId" = $1 AND key = ANY($2)`, [orgId, keys])) as { key: string; value: string }[];
    return new Map(rows.map((r) => [r.key, Number(r.value)]));
  }
}

export interface AgentInput {
  id?: string;
  name?: string;
  description?: string;
  owner?: string | null;
  allowedEnvironments?: string[];
  allowedModels?: string[];
}

export interface FloorInput {
  actionType: string;
  environment?: string;
  floors: Record<string, number>;
  isActive?: boolean;
}

export interface ModelInput {
  id?: string;
  provider: string;
  channels?: string[];
  dataClasses?: string[];
  agreements?: string[];
  priceInputPer1k?: number;
  priceOutputPer1k?: number;
  status?: 'approved' | 'blocked';
}

/**
 * WARDN's registry: agents, confidence floors, models and the organization's governance
 * settings. Every change is audited and reaches the decision path of every process
 * (the policy snapshot is invalidated through NOTIFY).
 */
export class WardnRegistry {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditLog,
    private readonly store: PolicyStore,
  ) {}

  private async write(principal: Principal, entityType: string, entityId: string, action: string, data: Record<string, unknown>, fn: (em: EntityManager) => Promise<void>): Promise<void> {
    await this.audit.append(principal.orgId, [{ ...actorOf(principal), entityType, entityId, action, data: data as never }], async (em) => {
      await fn(em);
      await this.store.notifyChange(em, principal.orgId);
    });
  }

  // ---- agents
  async listAgents(orgId: string, page: { limit: number; offset: number; status?: string }): Promise<{ items: Agent[]; total: number }> {
    const [items, total] = await this.ds.getRepository(Agent).findAndCount({ where: { orgId, ...(page.status ? { status: page.status } : {}) }, order: { createdAt: 'ASC', id: 'ASC' }, take: page.limit, skip: page.offset });
    return { items, total };
  }

  async getAgent(orgId: string, id: string): Promise<Agent> {
    const a = await this.ds.getRepository(Agent).findOne({ where: { orgId, id } });
    if (!a) throw new DomainError('NOT_FOUND', `agent ${id} not found`, 'id');
    return a;
  }

  async registerAgent(principal: Principal, input: AgentInput): Promise<Agent> {
    const id = input.id ?? newId('agt');
    if (await this.ds.getRepository(Agent).exists({ where: { orgId: principal.orgId, id } })) throw new DomainError('AGENT_EXISTS', `agent ${id} is already registered`, 'id');
    const row = { orgId: principal.orgId, id, name: input.name ?? '', description: input.description ?? '', owner: input.owner ?? null, allowedEnvironments: input.allowedEnvironments ?? [], allowedModels: input.allowedModels ?? [], status: 'active' };
    await this.write(principal, 'agent', id, 'register', row, async (em) => {
      await em.insert(Agent, row);
    });
    return this.getAgent(principal.orgId, id);
  }

  async updateAgent(principal: Principal, id: string, patch: AgentInput): Promise<Agent> {
    const before = await this.getAgent(principal.orgId, id);
    const changes: Partial<Agent> = {};
    for (const k of ['name', 'description', 'owner', 'allowedEnvironments', 'allowedModels'] as const) if (patch[k] !== undefined) (changes as Record<string, unknown>)[k] = patch[k];
    if (Object.keys(changes).length) {
      await this.write(principal, 'agent', id, 'update', { before: { name: before.name, owner: before.owner, allowedEnvironments: before.allowedEnvironments, allowedModels: before.allowedModels }, changes }, async (em) => {
        await em.update(Agent, { orgId: principal.orgId, id }, changes);
      });
    }
    return this.getAgent(principal.orgId, id);
  }

  /** Pause (its actions are held), block (refused on every surface) or resume an agent. */
  async setAgentStatus(principal: Principal, id: string, status: AgentStatus, reason?: string): Promise<Agent> {
    const before = await this.getAgent(principal.orgId, id);
    if (before.status !== status) {
      await this.write(principal, 'agent', id, status === 'active' ? 'resume' : status === 'paused' ? 'pause' : 'block', { from: before.status, to: status, reason: reason ?? null }, async (em) => {
        await em.update(Agent, { orgId: principal.orgId, id }, { status });
      });
    }
    return this.getAgent(principal.orgId, id);
  }

  // ---- confidence floors
  async listFloors(orgId: string): Promise<ConfidenceFloor[]> {
    return this.ds.getRepository(ConfidenceFloor).find({ where: { orgId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async getFloor(orgId: string, id: string): Promise<ConfidenceFloor> {
    const f = await this.ds.getRepository(ConfidenceFloor).findOne({ where: { orgId, id } });
    if (!f) throw new DomainError('NOT_FOUND', `confidence floor ${id} not found`, 'id');
    return f;
  }

  async createFloor(principal: Principal, input: FloorInput): Promise<ConfidenceFloor> {
    const row = { id: newId('flr'), orgId: principal.orgId, actionType: input.actionType, environment: input.environment ?? '*', floors: input.floors, isActive: input.isActive ?? true, version: 1, createdBy: principal.userId ?? principal.keyId };
    await this.write(principal, 'confidence_floor', row.id, 'create', { ...row }, async (em) => {
      await em.insert(ConfidenceFloor, row);
    });
    return this.getFloor(principal.orgId, row.id);
  }

  async updateFloor(principal: Principal, id: string, patch: Partial<FloorInput>): Promise<ConfidenceFloor> {
    const before = await this.getFloor(principal.orgId, id);
    const changes = { ...patch, version: before.version + 1 };
    await this.write(principal, 'confidence_floor', id, 'update', { before: { actionType: before.actionType, environment: before.environment, floors: before.floors, isActive: before.isActive, version: before.version }, changes }, async (em) => {
      await em.update(ConfidenceFloor, { orgId: principal.orgId, id }, changes);
    });
    return this.getFloor(principal.orgId, id);
  }

  async deleteFloor(principal: Principal, id: string): Promise<void> {
    const before = await this.getFloor(principal.orgId, id);
    await this.write(principal, 'confidence_floor', id, 'delete', { actionType: before.actionType, environment: before.environment, floors: before.floors, version: before.version }, async (em) => {
      await em.delete(ConfidenceFloor, { orgId: principal.orgId, id });
    });
  }

  // ---- models
  async listModels(orgId: string): Promise<ModelEntry[]> {
    return this.ds.getRepository(ModelEntry).find({ where: { orgId }, order: { id: 'ASC' } });
  }

  async getModel(orgId: string, id: string): Promise<ModelEntry> {
    const m = await this.ds.getRepository(ModelEntry).findOne({ where: { orgId, id } });
    if (!m) throw new DomainError('NOT_FOUND', `model ${id} not found`, 'id');
    return m;
  }

  async putModel(principal: Principal, id: string, input: ModelInput): Promise<ModelEntry> {
    const exists = await this.ds.getRepository(ModelEntry).exists({ where: { orgId: principal.orgId, id } });
    const row = { orgId: principal.orgId, id, provider: input.provider, channels: input.channels ?? [], dataClasses: input.dataClasses ?? [], agreements: (input.agreements ?? []).map((a) => a.toUpperCase()), priceInputPer1k: input.priceInputPer1k ?? 0, priceOutputPer1k: input.priceOutputPer1k ?? 0, status: input.status ?? 'approved' };
    await this.write(principal, 'model', id, exists ? 'update' : 'register', { ...row }, async (em) => {
      if (exists) await em.update(ModelEntry, { orgId: principal.orgId, id }, row);
      else await em.insert(ModelEntry, row);
    });
    return this.getModel(principal.orgId, id);
  }

  async deleteModel(principal: Principal, id: string): Promise<void> {
    await this.getModel(principal.orgId, id);
    await this.write(principal, 'model', id, 'delete', {}, async (em) => {
      await em.delete(ModelEntry, { orgId: principal.orgId, id });
    });
  }

  // ---- dashboard
  /** The seed's dashboard counts from stored decisions; held means waiting now, so governed = cleared + held + blocked. */
  async dashboard(orgId: string): Promise<{ total: number; cleared: number; held: number; blocked: number; agents: number; monthly: number; policies: number; monthlyLimit: number | null }> {
    const [[counts], [policies], org] = await Promise.all([
      this.ds.query(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE "finalOutcome" = 'ALLOW')::int AS cleared, count(*) FILTER (WHERE status = 'pending')::int AS held,
                count(*) FILTER (WHERE "finalOutcome" = 'DENY')::int AS blocked, count(DISTINCT "actorId") FILTER (WHERE "createdAt" > now() - interval '30 days')::int AS agents,
                count(*) FILTER (WHERE "createdAt" >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::int AS monthly
           FROM decisions WHERE "orgId" = $1`,
        [orgId],
      ) as Promise<{ total: number; cleared: number; held: number; blocked: number; agents: number; monthly: number }[]>,
      this.ds.query(
        `SELECT (SELECT count(*) FROM smart_rules WHERE "orgId" = $1 AND "isActive")::int + (SELECT count(*) FROM policies WHERE "orgId" = $1 AND "isActive")::int
              + (SELECT count(*) FROM gate_policies WHERE "orgId" = $1 AND "isActive" AND NOT "isDraft")::int AS n`,
        [orgId],
      ) as Promise<{ n: number }[]>,
      this.ds.getRepository(Organization).findOne({ where: { id: orgId } }),
    ]);
    return { ...counts, policies: policies.n, monthlyLimit: org?.monthlyLimit ?? null };
  }

  // ---- settings
  async getSettings(orgId: string): Promise<WardnSettings & { monthlyLimit: number | null }> {
    const org = await this.ds.getRepository(Organization).findOne({ where: { id: orgId } });
    return { ...settingsOf(org?.governanceSettings), monthlyLimit: org?.monthlyLimit ?? null };
  }

  async putSettings(principal: Principal, patch: Partial<WardnSettings> & { monthlyLimit?: number | null }): Promise<WardnSettings & { monthlyLimit: number | null }> {
    const cur = await this.getSettings(principal.orgId);
    const { monthlyLimit, ...rest } = patch;
    for (const p of rest.principles ?? []) if (!PRINCIPLES.includes(p as PrincipleName)) throw new DomainError('VALIDATION_FAILED', `principles: unknown principle ${p}`, 'principles');
    for (const [i, w] of (rest.freezeWindows ?? []).entries()) if (!(w.until > w.from)) throw new DomainError('VALIDATION_FAILED', `freeze_windows.${i}.until: must be after from`, `freeze_windows.${i}.until`);
    const { monthlyLimit: _old, ...curSettings } = cur;
    const next: WardnSettings = { ...curSettings, ...rest };
    await this.write(principal, 'organization', principal.orgId, 'governance_settings.update', { changes: patch as Record<string, unknown> }, async (em) => {
      await em.query('UPDATE organizations SET "governanceSettings" = $2::jsonb WHERE id = $1', [principal.orgId, JSON.stringify(next)]);
      if (monthlyLimit !== undefined) await em.update(Organization, { id: principal.orgId }, { monthlyLimit });
    });
    return this.getSettings(principal.orgId);
  }
}

/**
 * TheWARDN's layers (seed 003), pure and shared by every surface: registered agents
 * (paused → held, blocked → refused), confidence floors, Sentinel principles (tier X:
 * named non-negotiable rules) and model governance (L6: registry, channels, data
 * classes, agreements, cost against budgets). Callers load the data; no I/O here.
 */
import picomatch from 'picomatch';
import type { Layer, LayerResult } from './evaluate';
import type { Proposal, Reason } from './types';

export type AgentStatus = 'active' | 'paused' | 'blocked';

export interface AgentRecord {
  id: string;
  status: AgentStatus;
  /** Empty: any environment. */
  allowedEnvironments: string[];
  /** Empty: any model. */
  allowedModels: string[];
}

/** A floor per confidence dimension for actions matching `actionType` (a glob) in `environment` (`*`: any). */
export interface FloorRule {
  id: string;
  actionType: string;
  environment: string;
  floors: Record<string, number>;
}

export const PRINCIPLES = ['NO_PRODUCTION_WITHOUT_REVIEW', 'NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL', 'NO_ACTION_OUTSIDE_ALLOWED_ENVIRONMENTS', 'NO_CHANGE_IN_FREEZE_WINDOW'] as const;
export type PrincipleName = (typeof PRINCIPLES)[number];

export interface ModelRecord {
  id: string;
  provider: string;
  /** Access channels it may be reached through (API, AZURE, BEDROCK, …); empty: any. */
  channels: string[];
  /** Data classes it may see (PII, PHI, PCI, …). */
  dataClasses: string[];
  /** Agreements on file with the provider: DPA, BAA. */
  agreements: string[];
  /** USD per 1,000 tokens. */
  priceInputPer1k: number;
  priceOutputPer1k: number;
  status: 'approved' | 'blocked';
}

export interface WardnSettings {
  /** How Aegis and Ascend treat an actor that is not a registered agent (WARDN always refuses it). */
  unregisteredAgents: 'allow' | 'deny';
  principles: PrincipleName[];
  /** Change freezes, epoch ms. */
  freezeWindows: { from: number; until: number; name?: string }[];
  l6Mode: 'ENFORCEMENT' | 'MONITOR';
  orgMonthlyBudgetUsd: number | null;
  agentMonthlyBudgetUsd: number | null;
}

export const DEFAULT_WARDN_SETTINGS: WardnSettings = { unregisteredAgents: 'allow', principles: [], freezeWindows: [], l6Mode: 'ENFORCEMENT', orgMonthlyBudgetUsd: null, agentMonthlyBudgetUsd: null };

export interface WardnData {
  agents: Map<string, AgentRecord>;
  floors: FloorRule[];
  models: Map<string, ModelRecord>;
  settings: WardnSettings;
}

/** Month-to-date estimated model spend, USD. */
export interface Spend {
  org: number;
  agent: number;
}

const deny = (code: string, message: string, extra: Partial<Reason> = {}): Reason => ({ source: 'policy', effect: 'DENY', code, message, ...extra });
const hold = (source: Reason['source'], code: string, message: string, extra: Partial<Reason> = {}): Reason => ({ source, effect: 'REQUIRE_APPROVAL', code, message, ...extra });

/** Registered agents: a paused agent's actions are held, a blocked one's refused, an unknown one refused on WARDN (and where the organization says so). */
export function agentLayer(data: WardnData, surface: string): Layer {
  return ({ proposal }) => {
    const agent = data.agents.get(proposal.actor.id);
    if (!agent) {
      if (surface === 'wardn' || data.settings.unregisteredAgents === 'deny') {
        return { reasons: [deny('AGENT_NOT_REGISTERED', `Agent ${proposal.actor.id} is not registered`)] };
      }
      return { reasons: [] };
    }
    if (agent.status === 'blocked') return { reasons: [deny('AGENT_BLOCKED', `Agent ${agent.id} is blocked`)] };
    if (agent.status === 'paused') return { reasons: [hold('policy', 'AGENT_PAUSED', `Agent ${agent.id} is paused: its actions wait for a person`)] };
    return { reasons: [] };
  };
}

/** Two decimals, never rounded up to the floor: 0.749 against 0.75 reads 0.74, not 0.75 < 0.75. */
const fmt = (n: number) => (Math.floor(n * 100 + 1e-9) / 100).toFixed(2);

/**
 * Confidence floors: a dimension below its floor, or missing while it has one, holds the
 * action, in the seed's words: `Confidence below floor: fix=0.70 < 0.75`.
 */
const compiledFloors = new WeakMap<FloorRule[], (FloorRule & { match: (s: string) => boolean })[]>();

export function floorsLayer(floors: FloorRule[]): Layer {
  // Globs compile once per snapshot (the array is the snapshot's), not once per proposal.
  let compiled = compiledFloors.get(floors);
  if (!compiled) {
    compiled = floors.map((f) => ({ ...f, match: picomatch(f.actionType, { dot: true }) }));
    compiledFloors.set(floors, compiled);
  }
  return ({ proposal }) => {
    const env = proposal.environment ?? 'production';
    const reasons: Reason[] = [];
    for (const f of compiled!) {
      if (!f.match(proposal.action.capability) || (f.environment !== '*' && f.environment !== env)) continue;
      for (const [dim, floor] of Object.entries(f.floors)) {
        const v = proposal.confidence?.[dim];
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          reasons.push(hold('confidence', 'CONFIDENCE_MISSING', `Confidence missing: ${dim} (floor ${fmt(floor)})`, { id: f.id }));
        } else if (v < floor) {
          reasons.push(hold('confidence', 'CONFIDENCE_BELOW_FLOOR', `Confidence below floor: ${dim}=${fmt(v)} < ${fmt(floor)}`, { id: f.id }));
        }
      }
    }
    return { reasons };
  };
}

const READ_WORD = /(^|[._:-])(read|get|list|query|search|view|describe|fetch|select|show)([._:-]|$)/i;
const WRITE_WORD = /(^|[._:-])(create|update|delete|drop|purge|write|put|post|patch|deploy|execute|exec|run|send|transfer|remove|insert|modify|set|grant|revoke|restart|kill|truncate|migrate|rotate|destroy|disable|enable|apply|merge|push|publish|pay|refund|approve)([._:-]|$)/i;
/** A read only when its name says read and nothing in it says write: `delete_search_index` is a change. */
const isReadOnly = (capability: string) => READ_WORD.test(capability) && !WRITE_WORD.test(capability);
const SENSITIVE = new Set(['PII', 'PHI']);

/** A Sentinel principle's violation: BLOCKED tier X, whatever else the verdict says. */
const violation = (name: PrincipleName, message: string): Reason => ({ source: 'policy', effect: 'DENY', code: 'SGP_VIOLATION', name, message: `Action blocked by Sentinel Governance Principle ${name}: ${message}` });

/**
 * Sentinel principles an organization enabled: named, non-negotiable rules. A violation
 * is BLOCKED tier X; no waiver and no audit-only mode clears it.
 */
export function principlesLayer(data: WardnData): Layer {
  const on = new Set(data.settings.principles);
  return ({ proposal, now }) => {
    const reasons: Reason[] = [];
    const env = proposal.environment ?? 'production';
    const change = !isReadOnly(proposal.action.capability);
    const meta = proposal.context.metadata ?? {};
    if (on.has('NO_PRODUCTION_WITHOUT_REVIEW') && env === 'production' && change && !meta.review_id && !meta.reviewed_by) {
      reasons.push(violation('NO_PRODUCTION_WITHOUT_REVIEW', 'a production change needs a review (metadata.review_id or reviewed_by)'));
    }
    if (on.has('NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL')) {
      const sensitive = proposal.dataClasses.map((c) => c.toUpperCase()).filter((c) => SENSITIVE.has(c));
      if (sensitive.length && proposal.modelId) {
        const m = data.models.get(proposal.modelId);
        const missing = sensitive.filter((c) => !m || m.status !== 'approved' || !m.dataClasses.map((x) => x.toUpperCase()).includes(c));
        if (missing.length) reasons.push(violation('NO_SENSITIVE_DATA_TO_UNAPPROVED_MODEL', `${missing.join(', ')} to model ${proposal.modelId}, which is not approved for it`));
      }
    }
    if (on.has('NO_ACTION_OUTSIDE_ALLOWED_ENVIRONMENTS')) {
      const agent = data.agents.get(proposal.actor.id);
      if (agent && agent.allowedEnvironments.length && !agent.allowedEnvironments.includes(env)) {
        reasons.push(violation('NO_ACTION_OUTSIDE_ALLOWED_ENVIRONMENTS', `agent ${agent.id} may act in ${agent.allowedEnvironments.join(', ')}, not ${env}`));
      }
    }
    if (on.has('NO_CHANGE_IN_FREEZE_WINDOW') && change) {
      const w = data.settings.freezeWindows.find((x) => now >= x.from && now < x.until);
      if (w) reasons.push(violation('NO_CHANGE_IN_FREEZE_WINDOW', `a change freeze${w.name ? ` (${w.name})` : ''} runs until ${new Date(w.until).toISOString()}`));
    }
    return { reasons };
  };
}

export interface L6Result {
  verdict: 'CLEARED' | 'BLOCKED';
  model_id: string;
  provider: string | null;
  mode: 'ENFORCEMENT' | 'MONITOR';
  violations: { code: string; message: string }[];
  violations_count: number;
  estimated_cost_usd: number;
}

/** Estimated cost of `tokens` on `m`: input and output each priced per 1,000 tokens (`{input, output}` or one number counted as input). */
export function estimateCost(m: ModelRecord | undefined, tokens: unknown): number {
  if (!m) return 0;
  const t = typeof tokens === 'number' || typeof tokens === 'string' ? { input: tokens, output: 0 } : tokens && typeof tokens === 'object' ? (tokens as { input?: unknown; output?: unknown }) : {};
  // A count sent as a numeric string still costs what it says; anything else costs nothing it could hide behind.
  const n = (v: unknown) => {
    const x = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
    return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0;
  };
  const usd = (n(t.input) / 1000) * m.priceInputPer1k + (n(t.output) / 1000) * m.priceOutputPer1k;
  return Math.round(usd * 1e6) / 1e6;
}

/**
 * L6 model governance, when the proposal names a model: registered and approved, reached
 * through an allowed channel, allowed the data classes it would see, with the agreement a
 * class needs on file (PHI: a BAA; PII: a DPA), and its estimated cost within the agent's
 * and the organization's monthly budgets. ENFORCEMENT: a violation blocks; MONITOR: it is
 * reported only. The `l6` object of the seed goes into the verdict's constraints.
 */
export function l6Check(data: WardnData, proposal: Proposal, spend: Spend): L6Result | null {
  if (!proposal.modelId) return null;
  const meta = proposal.context.metadata ?? {};
  const m = data.models.get(proposal.modelId);
  const v: { code: string; message: string }[] = [];
  if (!m) v.push({ code: 'MODEL_NOT_REGISTERED', message: `model ${proposal.modelId} is not in the registry` });
  else if (m.status !== 'approved') v.push({ code: 'MODEL_NOT_APPROVED', message: `model ${m.id} is ${m.status}` });
  const agent = data.agents.get(proposal.actor.id);
  if (agent && agent.allowedModels.length && !agent.allowedModels.includes(proposal.modelId)) v.push({ code: 'MODEL_NOT_ALLOWED_FOR_AGENT', message: `agent ${agent.id} may use ${agent.allowedModels.join(', ')}` });
  if (m) {
    const channel = typeof meta.access_channel === 'string' ? meta.access_channel.toUpperCase() : null;
    if (channel && m.channels.length && !m.channels.map((c) => c.toUpperCase()).includes(channel)) v.push({ code: 'CHANNEL_NOT_ALLOWED', message: `model ${m.id} may not be reached through ${channel}` });
    const classes = proposal.dataClasses.map((c) => c.toUpperCase());
    const allowed = m.dataClasses.map((c) => c.toUpperCase());
    const notAllowed = classes.filter((c) => c !== 'PUBLIC' && !allowed.includes(c));
    if (notAllowed.length) v.push({ code: 'DATA_CLASS_NOT_ALLOWED', message: `model ${m.id} may not see ${notAllowed.join(', ')}` });
    const agreements = m.agreements.map((a) => a.toUpperCase());
    if (classes.includes('PHI') && !agreements.includes('BAA')) v.push({ code: 'AGREEMENT_MISSING', message: `PHI needs a BAA with ${m.provider}` });
    if (classes.includes('PII') && !agreements.includes('DPA')) v.push({ code: 'AGREEMENT_MISSING', message: `PII needs a DPA with ${m.provider}` });
  }
  const cost = estimateCost(m, meta.estimated_tokens);
  const s = data.settings;
  if (s.agentMonthlyBudgetUsd !== null && spend.agent + cost > s.agentMonthlyBudgetUsd) v.push({ code: 'BUDGET_EXCEEDED', message: `agent ${proposal.actor.id}: ${(spend.agent + cost).toFixed(4)} USD this month > ${s.agentMonthlyBudgetUsd} USD` });
  if (s.orgMonthlyBudgetUsd !== null && spend.org + cost > s.orgMonthlyBudgetUsd) v.push({ code: 'BUDGET_EXCEEDED', message: `organization: ${(spend.org + cost).toFixed(4)} USD this month > ${s.orgMonthlyBudgetUsd} USD` });
  const blocks = v.length > 0 && s.l6Mode === 'ENFORCEMENT';
  return { verdict: blocks ? 'BLOCKED' : 'CLEARED', model_id: proposal.modelId, provider: m?.provider ?? null, mode: s.l6Mode, violations: v, violations_count: v.length, estimated_cost_usd: cost };
}

/** The L6 check as a layer: a block in ENFORCEMENT mode denies; the `l6` object rides in the constraints either way. */
export function l6Layer(data: WardnData, spend: Spend): Layer {
  return ({ proposal }): LayerResult => {
    const l6 = l6Check(data, proposal, spend);
    if (!l6) return { reasons: [] };
    const reasons: Reason[] = l6.verdict === 'BLOCKED' ? [{ source: 'model', effect: 'DENY', code: 'L6_VIOLATION', message: `Model governance: ${l6.violations.map((x) => x.message).join('; ')}` }] : [];
    return { reasons, constraints: { l6 } };
  };
}

/** Whether a verdict's reasons hold a Sentinel principle's violation (tier X), and which. */
export function sentinelViolation(reasons: readonly Reason[]): Reason | null {
  return reasons.find((r) => r.code === 'SGP_VIOLATION' && r.effect === 'DENY') ?? null;
}

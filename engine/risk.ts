import { capabilityVerb } from './facts';
import type { ActorHistory, Proposal, RiskAssessment, RiskConfig, RiskModifiers, RiskThresholds, RiskWeights } from './types';

/** Seed 002's defaults, exactly. Deeply frozen: callers copy, never edit. */
export const DEFAULT_RISK_CONFIG: RiskConfig = Object.freeze({
  weights: Object.freeze({ data_sensitivity: 0.3, operation_type: 0.25, financial_impact: 0.2, compliance: 0.15, historical: 0.1 }),
  thresholds: Object.freeze({ auto_approve_max: 30, require_approval_min: 31, auto_deny_min: 95 }),
  modifiers: Object.freeze({ pii_data: 40, financial_data: 35, health_data: 45, delete_operation: 30, external_api: 20 }),
});

const WEIGHT_KEYS = Object.keys(DEFAULT_RISK_CONFIG.weights) as (keyof RiskWeights)[];
const THRESHOLD_KEYS = Object.keys(DEFAULT_RISK_CONFIG.thresholds) as (keyof RiskThresholds)[];
const MODIFIER_KEYS = Object.keys(DEFAULT_RISK_CONFIG.modifiers) as (keyof RiskModifiers)[];

/** A risk configuration as an admin sends it: any part may be left out. */
export interface PartialRiskConfig {
  weights?: Partial<RiskWeights>;
  thresholds?: Partial<RiskThresholds>;
  modifiers?: Partial<RiskModifiers>;
}

export interface RiskConfigError {
  /** Dotted field, e.g. `thresholds.auto_approve_max`. */
  field: string;
  message: string;
}

/**
 * Merges a partial configuration over the defaults and checks the result:
 * weights are numbers ≥ 0, not all zero; thresholds 0..100 with
 * auto_approve_max < require_approval_min ≤ auto_deny_min; modifiers 0..100;
 * unknown keys are refused. Every error names its field.
 */
export function validateRiskConfig(partial: PartialRiskConfig): { ok: true; value: RiskConfig } | { ok: false; errors: RiskConfigError[] } {
  const errors: RiskConfigError[] = [];
  const check = (group: 'weights' | 'thresholds' | 'modifiers', given: unknown, keys: readonly string[], lo: number, hi: number) => {
    if (given === undefined || given === null) return;
    if (typeof given !== 'object' || Array.isArray(given)) {
      errors.push({ field: group, message: `must be an object of ${keys.join(', ')}` });
      return;
    }
    for (const [k, v] of Object.entries(given)) {
      if (!keys.includes(k)) errors.push({ field: `${group}.${k}`, message: `is not a known ${group.replace(/s$/, '')} (known: ${keys.join(', ')})` });
      else if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
        errors.push({ field: `${group}.${k}`, message: hi === Infinity ? `must be a number of at least ${lo}` : `must be a number from ${lo} to ${hi}` });
      }
    }
  };
  check('weights', partial.weights, WEIGHT_KEYS, 0, Infinity);
  check('thresholds', partial.thresholds, THRESHOLD_KEYS, 0, 100);
  check('modifiers', partial.modifiers, MODIFIER_KEYS, 0, 100);
  if (errors.length) return { ok: false, errors };
  const value: RiskConfig = {
    weights: { ...DEFAULT_RISK_CONFIG.weights, ...partial.weights },
    thresholds: { ...DEFAULT_RISK_CONFIG.thresholds, ...partial.thresholds },
    modifiers: { ...DEFAULT_RISK_CONFIG.modifiers, ...partial.modifiers },
  };
  if (WEIGHT_KEYS.every((k) => value.weights[k] === 0)) errors.push({ field: 'weights', message: 'at least one weight must be above 0' });
  const t = value.thresholds;
  if (!(t.auto_approve_max < t.require_approval_min)) errors.push({ field: 'thresholds.auto_approve_max', message: `must be below require_approval_min (${t.require_approval_min})` });
  if (!(t.require_approval_min <= t.auto_deny_min)) errors.push({ field: 'thresholds.require_approval_min', message: `must not be above auto_deny_min (${t.auto_deny_min})` });
  return errors.length ? { ok: false, errors } : { ok: true, value };
}

const READ = new Set(['read', 'get', 'list', 'query', 'search', 'view', 'fetch', 'describe']);
const WRITE = new Set(['create', 'write', 'update', 'send', 'post', 'put', 'insert', 'upload', 'notify', 'email']);
const EXECUTE = new Set(['execute', 'run', 'deploy', 'transfer', 'trade', 'pay', 'payment', 'refund', 'approve', 'invoke', 'grant']);
const DESTRUCTIVE = new Set(['delete', 'drop', 'destroy', 'truncate', 'purge', 'remove', 'revoke', 'wipe', 'terminate']);

// Data classes are matched whole and case-insensitively: a Map lookup on the lowercased class.
const CLASS_SCORES: ReadonlyMap<string, number> = new Map([
  ['phi', 95],
  ['health', 95],
  ['pci', 90],
  ['card', 90],
  ['financial', 80],
  ['pii', 75],
  ['confidential', 70],
  ['secret', 70],
  ['internal', 30],
  ['public', 0],
]);
const classScore = (c: string) => CLASS_SCORES.get(c) ?? 40;
const lower = (c: string) => c.toLowerCase();
const REGULATED = new Set(['phi', 'health', 'pci', 'card', 'pii', 'financial']);
const FINANCIAL = new Set(['pci', 'card', 'financial']);
const HEALTH = new Set(['phi', 'health']);
const DEV_ENVS = new Set(['development', 'dev', 'test', 'sandbox']);
const EXTERNAL_URL = /^https?:\/\//i;

/**
 * The risk score of a proposal, 0..100: deterministic, from the proposal, the
 * configuration and (optionally) the actor's recent history.
 *
 * Five factors, each 0..100:
 * - data_sensitivity: the highest of the proposal's data classes (case-insensitive):
 *   PHI/health 95, PCI/card 90, financial 80, PII 75, confidential/secret 70,
 *   internal 30, public 0, any other class 40 (unlabelled is not public); no data classes 10.
 * - operation_type: by the capability's verb (`database.query` → query,
 *   `trade_execution` → trade, `db.delete_records` → delete):
 *   read-ish (read get list query search view fetch describe) 10;
 *   write-ish (create write update send post put insert upload notify email) 50;
 *   execute-ish (execute run deploy transfer trade pay payment refund approve invoke grant) 70;
 *   destructive (delete drop destroy truncate purge remove revoke wipe terminate) 95; any other verb 40.
 * - financial_impact: the amount in USD (the proposal's amount, else a numeric
 *   `parameters.amount`): none, zero or negative 0, else min(100, round(20 × log10(amount + 1)))
 *   ($9 → 20, $99 → 40, $999 → 60, $9,999 → 80, $99,999 and above → 100).
 * - compliance: environment production/prod 60, staging 30, development/dev/test/sandbox 10,
 *   any other or none 40; at least 80 when a data class is regulated (PHI/health, PCI/card, PII, financial).
 * - historical: with at least 5 recent decisions of the actor, round(100 × denied / total); otherwise 20.
 *
 * Base = Σ weight × value / Σ weights. Modifiers then add their configured points:
 * pii_data when PII is among the data classes; financial_data when PCI/card or
 * financial is (an amount alone counts through financial_impact, so a $10 purchase
 * is not treated like card data); health_data when PHI/health is; delete_operation
 * when the verb is destructive; external_api when `context.metadata.external` is
 * true or the target starts with http:// or https://.
 *
 * score = clamp(round(base + modifiers), 0, 100). The band: score ≥ auto_deny_min →
 * AUTO_DENY; else score ≤ auto_approve_max → AUTO_APPROVE; else REQUIRE_APPROVAL.
 *
 * @throws Error when the configuration yields no number (e.g. a NaN weight); the evaluator turns that into DENY.
 */
export function assessRisk(p: Proposal, config: RiskConfig, history?: ActorHistory): RiskAssessment {
  // One pass over the data classes, no closures or intermediate arrays: this runs once per decision.
  // `map` (not a hand loop) so a malformed proposal fails exactly as it always did.
  const classes = p.dataClasses.map(lower);
  let top: string | null = null;
  let ds = 10;
  let pii = false;
  let financial = false;
  let health = false;
  let regulated = false;
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i];
    const score = classScore(c);
    // The first class with the highest score wins, as before.
    if (top === null || score > ds) {
      top = c;
      ds = score;
    }
    if (c === 'pii') pii = true;
    if (FINANCIAL.has(c)) financial = true;
    if (HEALTH.has(c)) health = true;
    if (REGULATED.has(c)) regulated = true;
  }
  const dsBasis = top === null ? 'no data classes' : `data class ${top.toUpperCase()}`;

  const verb = capabilityVerb(p.action.capability);
  const destructive = DESTRUCTIVE.has(verb);
  const op = READ.has(verb) ? 10 : WRITE.has(verb) ? 50 : EXECUTE.has(verb) ? 70 : destructive ? 95 : 40;

  const param = p.action.parameters.amount;
  const amount = p.amount ?? (typeof param === 'number' ? param : undefined) ?? 0;
  const hasAmount = amount > 0;
  const fin = hasAmount ? Math.min(100, Math.round(20 * Math.log10(amount + 1))) : 0;

  const env = (p.environment ?? '').toLowerCase();
  let comp = env === 'production' || env === 'prod' ? 60 : env === 'staging' ? 30 : DEV_ENVS.has(env) ? 10 : 40;
  if (regulated) comp = Math.max(comp, 80);

  const enoughHistory = !!history && history.total >= 5;
  const hist = enoughHistory ? Math.max(0, Math.min(100, Math.round((100 * history.denied) / history.total))) : 20;

  // Sums and contributions in WEIGHT_KEYS order, exactly as before, so the floats are the same.
  const w = config.weights;
  const wsum = 0 + w.data_sensitivity + w.operation_type + w.financial_impact + w.compliance + w.historical || 1;
  const cDs = (w.data_sensitivity * ds) / wsum;
  const cOp = (w.operation_type * op) / wsum;
  const cFin = (w.financial_impact * fin) / wsum;
  const cComp = (w.compliance * comp) / wsum;
  const cHist = (w.historical * hist) / wsum;
  const base = 0 + cDs + cOp + cFin + cComp + cHist;
  const factors: RiskAssessment['factors'] = {
    data_sensitivity: { value: ds, weight: w.data_sensitivity, contribution: round2(cDs), basis: dsBasis },
    operation_type: { value: op, weight: w.operation_type, contribution: round2(cOp), basis: `verb ${verb || '(none)'}` },
    financial_impact: { value: fin, weight: w.financial_impact, contribution: round2(cFin), basis: hasAmount ? `amount ${amount}` : 'no amount' },
    compliance: { value: comp, weight: w.compliance, contribution: round2(cComp), basis: `environment ${env || '(unknown)'}${regulated ? ', regulated data' : ''}` },
    historical: { value: hist, weight: w.historical, contribution: round2(cHist), basis: enoughHistory ? `${history.denied} of ${history.total} recent decisions denied` : 'fewer than 5 recent decisions' },
  };

  const modifiers: RiskAssessment['modifiers'] = [];
  const m = config.modifiers;
  let points = 0;
  if (pii && m.pii_data > 0) points += push(modifiers, 'pii_data', m.pii_data);
  if (financial && m.financial_data > 0) points += push(modifiers, 'financial_data', m.financial_data);
  if (health && m.health_data > 0) points += push(modifiers, 'health_data', m.health_data);
  if (destructive && m.delete_operation > 0) points += push(modifiers, 'delete_operation', m.delete_operation);
  if ((p.context.metadata.external === true || EXTERNAL_URL.test(p.target ?? '')) && m.external_api > 0) points += push(modifiers, 'external_api', m.external_api);

  // Rounded to 6 places first, so a hand-computed 49.5 is 50 and not 49 by float error.
  const raw = Math.round((base + points) * 1e6) / 1e6;
  if (!Number.isFinite(raw)) throw new Error('the risk configuration yields no score (check weights and modifiers)');
  const score = Math.max(0, Math.min(100, Math.round(raw)));
  const t = config.thresholds;
  const band = score >= t.auto_deny_min ? 'AUTO_DENY' : score <= t.auto_approve_max ? 'AUTO_APPROVE' : 'REQUIRE_APPROVAL';
  return { score, factors, modifiers, band };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Adds a modifier and returns its points. */
function push(into: RiskAssessment['modifiers'], name: keyof RiskModifiers, points: number): number {
  into.push({ name, points });
  return points;
}

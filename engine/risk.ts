import { capabilityVerb } from './facts';
import type { ActorHistory, Proposal, RiskAssessment, RiskConfig, RiskModifiers, RiskWeights } from './types';

/** Seed 002's defaults, exactly. */
export const DEFAULT_RISK_CONFIG: RiskConfig = Object.freeze({
  weights: { data_sensitivity: 0.3, operation_type: 0.25, financial_impact: 0.2, compliance: 0.15, historical: 0.1 },
  thresholds: { auto_approve_max: 30, require_approval_min: 31, auto_deny_min: 95 },
  modifiers: { pii_data: 40, financial_data: 35, health_data: 45, delete_operation: 30, external_api: 20 },
}) as RiskConfig;

const WEIGHT_KEYS = Object.keys(DEFAULT_RISK_CONFIG.weights) as (keyof RiskWeights)[];
const THRESHOLD_KEYS = Object.keys(DEFAULT_RISK_CONFIG.thresholds) as (keyof RiskConfig['thresholds'])[];
const MODIFIER_KEYS = Object.keys(DEFAULT_RISK_CONFIG.modifiers) as (keyof RiskModifiers)[];

/** Merges a partial configuration over the defaults and checks it; errors name the field. */
export function validateRiskConfig(partial: Partial<{ weights: Partial<RiskWeights>; thresholds: Partial<RiskConfig['thresholds']>; modifiers: Partial<RiskModifiers> }>): { ok: true; value: RiskConfig } | { ok: false; errors: { field: string; message: string }[] } {
  const errors: { field: string; message: string }[] = [];
  const num = (group: string, key: string, v: unknown, lo: number, hi: number) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) errors.push({ field: `${group}.${key}`, message: `must be a number from ${lo} to ${hi}` });
  };
  const check = (group: string, given: Record<string, unknown> | undefined, keys: string[], lo: number, hi: number) => {
    for (const [k, v] of Object.entries(given ?? {})) {
      if (!keys.includes(k)) errors.push({ field: `${group}.${k}`, message: `is not a known ${group.replace(/s$/, '')} (known: ${keys.join(', ')})` });
      else num(group, k, v, lo, hi);
    }
  };
  check('weights', partial.weights, WEIGHT_KEYS, 0, 1);
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

const CLASS_SCORES: [RegExp, number][] = [
  [/^(phi|health)$/, 95],
  [/^(pci|card)$/, 90],
  [/^financial$/, 80],
  [/^pii$/, 75],
  [/^(confidential|secret)$/, 70],
  [/^internal$/, 30],
  [/^public$/, 0],
];
const REGULATED = /^(phi|health|pci|card|pii|financial)$/;

/**
 * The weighted risk score (0..100), deterministic from the proposal:
 * - data_sensitivity: max over data classes (case-insensitive): PHI/health 95, PCI/card 90,
 *   financial 80, PII 75, confidential/secret 70, internal 30, public 0; none 10.
 * - operation_type: by the capability's verb: read-ish (read get list query search view fetch
 *   describe) 10; write-ish (create write update send post put insert upload notify email) 50;
 *   execute-ish (execute run deploy transfer trade pay payment refund approve invoke grant) 70;
 *   destructive (delete drop destroy truncate purge remove revoke wipe terminate) 95; else 40.
 * - financial_impact: amount in USD: none or 0 → 0, else min(100, round(20·log10(amount + 1))).
 * - compliance: environment production/prod 60, staging 30, development/dev/test/sandbox 10,
 *   else 40; at least 80 when a data class is regulated (PHI, PCI, PII, financial).
 * - historical: with ≥ 5 recent decisions of the actor, round(100 · denied / total); else 20.
 * Base = Σ weight·value / Σ weights. Modifiers add points: pii_data (PII), financial_data
 * (PCI/card/financial data; an amount alone counts through financial_impact), health_data (PHI/health), delete_operation (destructive
 * verb), external_api (metadata.external === true or an http(s) target).
 * score = clamp(round(base + modifiers), 0, 100); ≤ auto_approve_max → AUTO_APPROVE,
 * ≥ auto_deny_min → AUTO_DENY, else REQUIRE_APPROVAL.
 */
export function assessRisk(p: Proposal, config: RiskConfig, history?: ActorHistory): RiskAssessment {
  const classes = p.dataClasses.map((c) => c.toLowerCase());
  // Unknown classes count as moderately sensitive (40): unlabelled data is not public data.
  const classScore = (c: string) => CLASS_SCORES.find(([re]) => re.test(c))?.[1] ?? 40;
  const top = classes.reduce<string | null>((best, c) => (best === null || classScore(c) > classScore(best) ? c : best), null);
  const ds = top === null ? 10 : classScore(top);
  const dsBasis = top === null ? 'no data classes' : `data class ${top.toUpperCase()}`;
  const verb = capabilityVerb(p.action.capability);
  const destructive = DESTRUCTIVE.has(verb);
  const op = READ.has(verb) ? 10 : WRITE.has(verb) ? 50 : EXECUTE.has(verb) ? 70 : destructive ? 95 : 40;
  const paramAmount = typeof p.action.parameters.amount === 'number' ? p.action.parameters.amount : undefined;
  const amount = p.amount ?? paramAmount ?? 0;
  const fin = amount > 0 ? Math.min(100, Math.round(20 * Math.log10(amount + 1))) : 0;
  const env = (p.environment ?? '').toLowerCase();
  let comp = env === 'production' || env === 'prod' ? 60 : env === 'staging' ? 30 : ['development', 'dev', 'test', 'sandbox'].includes(env) ? 10 : 40;
  const regulated = classes.some((c) => REGULATED.test(c));
  if (regulated) comp = Math.max(comp, 80);
  const hist = history && history.total >= 5 ? Math.round((100 * history.denied) / history.total) : 20;

  const values: Record<keyof RiskWeights, [number, string]> = {
    data_sensitivity: [ds, dsBasis],
    operation_type: [op, `verb ${verb || '(none)'}`],
    financial_impact: [fin, amount > 0 ? `amount ${amount}` : 'no amount'],
    compliance: [comp, `environment ${env || '(unknown)'}${regulated ? ', regulated data' : ''}`],
    historical: [hist, history && history.total >= 5 ? `${history.denied} of ${history.total} recent decisions denied` : 'little history'],
  };
  const wsum = WEIGHT_KEYS.reduce((s, k) => s + config.weights[k], 0) || 1;
  let base = 0;
  const factors = {} as RiskAssessment['factors'];
  for (const k of WEIGHT_KEYS) {
    const [value, basis] = values[k];
    const contribution = (config.weights[k] * value) / wsum;
    base += contribution;
    factors[k] = { value, weight: config.weights[k], contribution: Math.round(contribution * 100) / 100, basis };
  }
  const modifiers: RiskAssessment['modifiers'] = [];
  const add = (name: keyof RiskModifiers, on: boolean) => {
    if (on && config.modifiers[name] > 0) modifiers.push({ name, points: config.modifiers[name] });
  };
  add('pii_data', classes.includes('pii'));
  add('financial_data', classes.some((c) => /^(pci|card|financial)$/.test(c)));
  add('health_data', classes.some((c) => /^(phi|health)$/.test(c)));
  add('delete_operation', destructive);
  add('external_api', p.context.metadata.external === true || /^https?:\/\//i.test(p.target ?? ''));
  const score = Math.max(0, Math.min(100, Math.round(base + modifiers.reduce((s, m) => s + m.points, 0))));
  const t = config.thresholds;
  const band = score >= t.auto_deny_min ? 'AUTO_DENY' : score <= t.auto_approve_max ? 'AUTO_APPROVE' : 'REQUIRE_APPROVAL';
  return { score, factors, modifiers, band };
}

import Ajv from 'ajv';
import type { ErrorObject } from 'ajv';

/** An agent policy (seed 004), snake_case as the API speaks it. */
export interface PolicyDef {
  name: string;
  description?: string;
  is_active?: boolean;
  scope?: 'global' | 'agent' | 'run' | 'group' | 'mission';
  target_id?: string;
  priority?: number;
  run_budget?: number;
  session_budget?: number;
  action_budgets?: Record<string, number>;
  allowed_actions?: string[];
  denied_actions?: string[];
  rate_limits?: { action: string; max: number; window_seconds: number; per?: 'agent' | 'run' | 'session' | 'policy' }[];
  require_approval?: boolean;
  approval_actions?: string[];
  approval_tags?: string[];
  approval_risk_levels?: ('low' | 'medium' | 'high' | 'critical')[];
  approval_threshold_usd?: number;
  approval_timeout_seconds?: number;
  default_approvers?: string[];
  approval_quorum?: number;
  approval_rules?: { name: string; conditions: Record<string, unknown>; approvers?: string[]; quorum?: number; timeout_seconds?: number }[];
  commit_actions?: string[];
  evidence_actions?: string[];
  evidence_max_age_seconds?: number;
  evidence_requirements?: { action: string; requires: string[]; within?: 'run' | 'session'; max_age_seconds?: number }[];
  argument_constraints?: Record<string, Record<string, unknown>>;
  grounding_rules?: { action: string; parameter: string; evidence_action: string; evidence_path: string }[];
}

const glob = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_*?\\-.{},!\\[\\]]+$' };
const globs = { type: 'array', items: glob, maxItems: 500 };
const usd = { type: 'number', minimum: 0 };
const posInt = { type: 'integer', minimum: 1 };
const dotted = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^.]+(\\.[^.]+)*$' };

/** The PolicyCreate JSON Schema: validation here, and the shape shown in the OpenAPI document. */
export const POLICY_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 4000 },
    is_active: { type: 'boolean', default: true },
    scope: { enum: ['global', 'agent', 'run', 'group', 'mission'], default: 'global' },
    target_id: { type: 'string', minLength: 1, maxLength: 200 },
    priority: { type: 'integer', default: 0 },
    run_budget: usd,
    session_budget: usd,
    action_budgets: { type: 'object', propertyNames: glob, additionalProperties: usd },
    allowed_actions: globs,
    denied_actions: globs,
    rate_limits: {
      type: 'array',
      maxItems: 100,
      items: { type: 'object', additionalProperties: false, required: ['action', 'max', 'window_seconds'], properties: { action: glob, max: posInt, window_seconds: posInt, per: { enum: ['agent', 'run', 'session', 'policy'], default: 'agent' } } },
    },
    require_approval: { type: 'boolean' },
    approval_actions: globs,
    approval_tags: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 100 },
    approval_risk_levels: { type: 'array', items: { enum: ['low', 'medium', 'high', 'critical'] }, uniqueItems: true },
    approval_threshold_usd: usd,
    approval_timeout_seconds: posInt,
    default_approvers: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 320 }, maxItems: 100 },
    approval_quorum: posInt,
    approval_rules: {
      type: 'array',
      maxItems: 100,
      items: { type: 'object', additionalProperties: false, required: ['name', 'conditions'], properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, conditions: { type: 'object' }, approvers: { type: 'array', items: { type: 'string', minLength: 1 } }, quorum: posInt, timeout_seconds: posInt } },
    },
    commit_actions: globs,
    evidence_actions: globs,
    evidence_max_age_seconds: posInt,
    evidence_requirements: {
      type: 'array',
      maxItems: 100,
      items: { type: 'object', additionalProperties: false, required: ['action', 'requires'], properties: { action: glob, requires: { ...globs, minItems: 1 }, within: { enum: ['run', 'session'], default: 'run' }, max_age_seconds: posInt } },
    },
    argument_constraints: { type: 'object', propertyNames: glob, additionalProperties: { type: 'object' } },
    grounding_rules: {
      type: 'array',
      maxItems: 100,
      items: { type: 'object', additionalProperties: false, required: ['action', 'parameter', 'evidence_action', 'evidence_path'], properties: { action: glob, parameter: dotted, evidence_action: glob, evidence_path: dotted } },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const check = ajv.compile(POLICY_JSON_SCHEMA);

function errorPath(e: ErrorObject): { path: string; message: string } {
  const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return { path: base ? `${base}.${extra}` : extra, message: `unknown property "${extra}"` };
  }
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return { path: base ? `${base}.${missing}` : missing, message: 'is required' };
  }
  if (e.keyword === 'propertyNames') return { path: base, message: `has an invalid key: ${e.message ?? ''}` };
  return { path: base, message: e.message ?? 'is invalid' };
}

/** Validates (and fills defaults of) a PolicyCreate document; error paths are dotted (`rate_limits.0.max`). */
export function validatePolicyDef(input: unknown): { ok: true; value: PolicyDef } | { ok: false; errors: { path: string; message: string }[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, errors: [{ path: '', message: 'a policy is an object' }] };
  const value = structuredClone(input) as Record<string, unknown>;
  if (!check(value)) {
    const seen = new Set<string>();
    const errors = (check.errors ?? []).map(errorPath).filter((e) => (seen.has(e.path + e.message) ? false : (seen.add(e.path + e.message), true)));
    return { ok: false, errors };
  }
  const def = value as unknown as PolicyDef;
  if (def.scope && def.scope !== 'global' && !def.target_id) return { ok: false, errors: [{ path: 'target_id', message: `is required for scope "${def.scope}"` }] };
  if (def.scope === 'global' && def.target_id) return { ok: false, errors: [{ path: 'target_id', message: 'must be absent for a global policy' }] };
  return { ok: true, value: def };
}

import Ajv from 'ajv';
import type { ErrorObject } from 'ajv';

/**
 * The agent-policy document of seed 004 (PolicyCreate), snake_case as the API
 * speaks it. Fields with a default (`is_active`, `scope`, `priority`,
 * `rate_limits[].per`, `evidence_requirements[].within`) are optional here
 * because stored or hand-built documents may omit them; {@link validatePolicyDef}
 * fills them in, and the compiler applies the same defaults.
 *
 * Action globs use `.` as the segment separator: `payments.*` matches
 * `payments.refund` only, `payments.**` any depth, `*.delete` one segment then `delete`.
 */
export interface PolicyDef {
  /** 1..200 characters. */
  name: string;
  description?: string;
  /** Default true. Inactive policies are kept but never apply. */
  is_active?: boolean;
  /** Default 'global'. Every other scope needs `target_id`. */
  scope?: PolicyScope;
  /** Agent id, run id, group id or mission id, per `scope`; absent for a global policy. */
  target_id?: string;
  /** Integer, default 0; higher runs first (the order of reasons in a verdict). */
  priority?: number;

  /** USD a run may spend in total (proposals' `amount`). */
  run_budget?: number;
  /** USD a session may spend in total. */
  session_budget?: number;
  /** Action glob → USD per run for the actions it matches. */
  action_budgets?: Record<string, number>;

  /** When present and non-empty, only matching actions are allowed. */
  allowed_actions?: string[];
  /** Matching actions are denied. */
  denied_actions?: string[];

  rate_limits?: PolicyRateLimit[];

  require_approval?: boolean;
  approval_actions?: string[];
  approval_tags?: string[];
  approval_risk_levels?: RiskLevel[];
  approval_threshold_usd?: number;
  approval_timeout_seconds?: number;
  /** User ids or emails. */
  default_approvers?: string[];
  approval_quorum?: number;
  approval_rules?: PolicyApprovalRule[];

  /** Actions that need evidence (an `evidence_actions` match) earlier in the same run. */
  commit_actions?: string[];
  evidence_actions?: string[];
  /** Evidence older than this does not count (unless a requirement says otherwise). */
  evidence_max_age_seconds?: number;
  evidence_requirements?: PolicyEvidenceRequirement[];

  /** Action glob → JSON Schema for the action's parameters; the first matching glob applies. */
  argument_constraints?: Record<string, Record<string, unknown>>;
  grounding_rules?: PolicyGroundingRule[];
}

/** Where a policy applies. */
export type PolicyScope = 'global' | 'agent' | 'run' | 'group' | 'mission';

/** Risk levels of `approval_risk_levels`; see `riskLevel` in ./policies for the bands. */
export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';

/** At most `max` matching proposals per fixed window of `window_seconds`, counted per `per` (default agent). */
export interface PolicyRateLimit {
  action: string;
  max: number;
  window_seconds: number;
  per?: 'agent' | 'run' | 'session' | 'policy';
}

/** A named condition (seed 002 document) that asks for approval, optionally from its own approvers. */
export interface PolicyApprovalRule {
  name: string;
  conditions: Record<string, unknown>;
  approvers?: string[];
  quorum?: number;
  timeout_seconds?: number;
}

/** A commit action glob and the evidence globs of which any one suffices, within the run (default) or session. */
export interface PolicyEvidenceRequirement {
  action: string;
  requires: string[];
  within?: 'run' | 'session';
  max_age_seconds?: number;
}

/** The proposal parameter at `parameter` must be a value that `evidence_action` produced at `evidence_path`. */
export interface PolicyGroundingRule {
  action: string;
  parameter: string;
  evidence_action: string;
  evidence_path: string;
}

/** One validation problem; `path` is dotted (`rate_limits.0.window_seconds`), '' for the document itself. */
export interface PolicyValidationError {
  path: string;
  message: string;
}

// Globs may not contain '/' or '\': dots are translated to '/' before matching, so a
// literal slash would silently become a separator. Whitespace is never part of an action name.
const glob = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\s/\\\\]+$' } as const;
const globs = { type: 'array', items: glob, maxItems: 500 } as const;
const usd = { type: 'number', minimum: 0 } as const;
const posInt = { type: 'integer', minimum: 1 } as const;
const dottedPath = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^.]+(\\.[^.]+)*$' } as const;
const approver = { type: 'string', minLength: 1, maxLength: 320 } as const;

/**
 * The PolicyCreate JSON Schema (draft-07 keywords): {@link validatePolicyDef}
 * validates with it, and the OpenAPI document shows it. Cross-field rules that a
 * schema expresses poorly (a global policy has no `target_id`) are here too, as
 * `if`/`then`, so API clients see them.
 */
export const POLICY_JSON_SCHEMA = {
  $id: 'https://arbiter.local/schemas/policy-create.json',
  title: 'PolicyCreate',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 4000 },
    is_active: { type: 'boolean', default: true },
    scope: { type: 'string', enum: ['global', 'agent', 'run', 'group', 'mission'], default: 'global' },
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
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['action', 'max', 'window_seconds'],
        properties: { action: glob, max: posInt, window_seconds: posInt, per: { type: 'string', enum: ['agent', 'run', 'session', 'policy'], default: 'agent' } },
      },
    },
    require_approval: { type: 'boolean' },
    approval_actions: globs,
    approval_tags: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 100 },
    approval_risk_levels: { type: 'array', items: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] }, uniqueItems: true },
    approval_threshold_usd: usd,
    approval_timeout_seconds: posInt,
    default_approvers: { type: 'array', items: approver, maxItems: 100 },
    approval_quorum: posInt,
    approval_rules: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'conditions'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          conditions: { type: 'object' },
          approvers: { type: 'array', items: approver, minItems: 1, maxItems: 100 },
          quorum: posInt,
          timeout_seconds: posInt,
        },
      },
    },
    commit_actions: globs,
    evidence_actions: globs,
    evidence_max_age_seconds: posInt,
    evidence_requirements: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['action', 'requires'],
        properties: { action: glob, requires: { ...globs, minItems: 1 }, within: { type: 'string', enum: ['run', 'session'], default: 'run' }, max_age_seconds: posInt },
      },
    },
    argument_constraints: { type: 'object', propertyNames: glob, additionalProperties: { type: 'object' } },
    grounding_rules: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['action', 'parameter', 'evidence_action', 'evidence_path'],
        properties: { action: glob, parameter: dottedPath, evidence_action: glob, evidence_path: dottedPath },
      },
    },
  },
  allOf: [
    // Scoped policies name their target.
    { if: { required: ['scope'], properties: { scope: { enum: ['agent', 'run', 'group', 'mission'] } } }, then: { required: ['target_id'] } },
    // A target on a global policy is a mistake (a forgotten scope): it would apply to everyone.
    { if: { not: { required: ['scope'], properties: { scope: { enum: ['agent', 'run', 'group', 'mission'] } } } }, then: { not: { required: ['target_id'] } } },
  ],
} as const;

// The interface and the schema must list the same fields; this fails to compile when they drift.
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const _fieldsMatch: SameKeys<PolicyDef, (typeof POLICY_JSON_SCHEMA)['properties']> = true;
void _fieldsMatch;

// One instance for the module's single schema, compiled once at load; it is never
// mutated afterwards. addUsedSchema false: the $id is for the OpenAPI document only.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictRequired: false, addUsedSchema: false });
const check = ajv.compile(POLICY_JSON_SCHEMA);

const fromPointer = (pointer: string): string[] =>
  pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
const dotted = (segs: string[]): string => segs.join('.');

/** Turns one ajv error into a dotted path and a message a person can act on; null drops it. */
function describe(e: ErrorObject, input: Record<string, unknown>): PolicyValidationError | null {
  const at = fromPointer(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: dotted([...at, String(p.additionalProperty)]), message: `unknown property "${String(p.additionalProperty)}"` };
    case 'required': {
      const missing = String(p.missingProperty);
      if (at.length === 0 && missing === 'target_id') return { path: 'target_id', message: `is required when scope is "${String(input.scope)}"` };
      return { path: dotted([...at, missing]), message: 'is required' };
    }
    case 'not':
      // The only `not` in the schema is the global-target rule.
      return { path: dotted([...at, 'target_id']), message: 'must be absent when scope is "global" (set scope to agent, run, group or mission)' };
    case 'if':
    case 'allOf':
      // Wrappers around the errors reported just above; they add nothing.
      return null;
    case 'propertyNames':
      return null;
    case 'enum':
      return { path: dotted(at), message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern': {
      // A key of action_budgets / argument_constraints that is not a glob: ajv reports it with the key's name.
      const key = (e as ErrorObject & { propertyName?: string }).propertyName;
      if (key !== undefined) return { path: dotted([...at, key]), message: 'is not a valid action glob (no spaces, "/" or "\\")' };
      const isGlob = String(p.pattern) === glob.pattern;
      return { path: dotted(at), message: isGlob ? 'is not a valid action glob (no spaces, "/" or "\\")' : 'is not a dotted path (no empty segments)' };
    }
    default: {
      const key = (e as ErrorObject & { propertyName?: string }).propertyName;
      return { path: dotted(key !== undefined ? [...at, key] : at), message: e.message ?? 'is invalid' };
    }
  }
}

/**
 * Validates a PolicyCreate document against {@link POLICY_JSON_SCHEMA} and fills
 * in defaults. The input is not modified. Every problem is reported with a dotted
 * path (`rate_limits.0.window_seconds`), an unknown property by its own path.
 */
export function validatePolicyDef(input: unknown): { ok: true; value: PolicyDef } | { ok: false; errors: PolicyValidationError[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, errors: [{ path: '', message: 'a policy must be a JSON object' }] };
  // Defaults are written into the document being validated: validate a copy.
  let value: Record<string, unknown>;
  try {
    value = structuredClone(input) as Record<string, unknown>;
  } catch {
    return { ok: false, errors: [{ path: '', message: 'a policy must be plain JSON data' }] };
  }
  if (check(value)) return { ok: true, value: value as unknown as PolicyDef };
  const seen = new Set<string>();
  const errors: PolicyValidationError[] = [];
  for (const e of check.errors ?? []) {
    const d = describe(e, value);
    if (!d) continue;
    const k = `${d.path}\u0000${d.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    errors.push(d);
  }
  if (errors.length === 0) errors.push({ path: '', message: 'is not a valid policy' });
  return { ok: false, errors };
}

/**
 * Governance gates (seed 000), pure: gate policies of ordered stages of gates, what a
 * solution must pass (its requirements), its status, the stage that blocks a submission,
 * and whether a resource may be deployed. No I/O and no clock: callers pass rows in.
 */
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { compileCondition, ConditionError, matches } from './conditions';

// Schemas come from every organization: Ajv must not keep them by `$id` (two may share one), and its own cache is ours to bound.
const ajv = new Ajv({ allErrors: false, strict: false, addUsedSchema: false });
addFormats(ajv);
const schemas = new Map<string, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = schemas.get(key);
  if (!v) {
    v = ajv.compile(schema);
    // An async schema answers with a promise: it cannot decide a submission here, so it is refused when saved.
    if ((v as { $async?: boolean }).$async) throw new Error('an asynchronous schema ($async) cannot check answers');
    ajv.removeSchema(schema);
    if (schemas.size > 1000) schemas.clear();
    schemas.set(key, v);
  }
  return v;
}

/** The first way a checklist's answers miss the gate's JSON Schema (the field under `data.answers`), or null when they meet it. */
export function checkAnswers(schema: Record<string, unknown>, answers: unknown): FieldProblem | null {
  const validate = validatorFor(schema);
  if (validate(answers) === true) return null;
  const e = validate.errors?.[0];
  const params = (e?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
  const missing = e?.keyword === 'required' ? String(params.missingProperty ?? '') : '';
  const extra = e?.keyword === 'additionalProperties' ? String(params.additionalProperty ?? '') : '';
  // JSON Pointer escapes: `~1` is `/`, `~0` is `~`.
  const segments = (e?.instancePath ?? '').split('/').filter(Boolean).map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path = [...segments, missing || extra].filter(Boolean).join('.');
  const message = missing ? `${missing} is required` : extra ? `${extra} is not an answer this gate asks for` : (e?.message ?? "does not meet the gate's schema");
  return { field: `data.answers${path ? `.${path}` : ''}`, message };
}

/** The resource types the governance surface knows, in the seed's order. */
export const RESOURCE_TYPES: readonly { id: string; label: string }[] = [
  { id: 'app', label: 'Application' },
  { id: 'workflow', label: 'Workflow' },
  { id: 'addon', label: 'Add-on' },
  { id: 'dataSource', label: 'Data Source' },
  { id: 'volume', label: 'Volume' },
  { id: 'mlModel', label: 'AI Model' },
  { id: 'aiGatewayModel', label: 'AI Gateway Model' },
  { id: 'workspace', label: 'Workspace' },
  { id: 'project', label: 'Project' },
  { id: 'skill', label: 'Skill' },
  { id: 'prompt', label: 'Prompt' },
  { id: 'agent', label: 'Agent' },
  { id: 'codeSession', label: 'Code Session' },
  { id: 'abTest', label: 'A/B Test' },
  { id: 'marketplaceApp', label: 'Marketplace App' },
];
const RESOURCE_TYPE_IDS = new Set(RESOURCE_TYPES.map((r) => r.id));

export const GATE_TYPES = ['approval', 'checklist', 'automated'] as const;
export type GateType = (typeof GATE_TYPES)[number];

/** One gate: people decide (`approval`), people decide answers a schema checked (`checklist`), or conditions decide (`automated`). */
export interface GateDef {
  id: string;
  name?: string;
  type: GateType;
  description?: string;
  /** Reviewers: person ids or emails, or `role:<role>` (e.g. `role:approver`). Default: the organization's approvers. */
  approvers?: string[];
  quorum?: number;
  timeoutSeconds?: number;
  /** Who is asked when the reviewers stay silent (default: the admins), and for how long. */
  escalation?: { approvers?: string[]; timeoutSeconds?: number };
  /** `checklist`: the JSON Schema the submission's `answers` must satisfy. */
  schema?: Record<string, unknown>;
  /** `automated`: conditions in the smart-rule operator language over the submission's data. */
  conditions?: Record<string, unknown>;
}

export interface StageDef {
  id: string;
  name: string;
  gates: GateDef[];
}

export interface GatePolicyDef {
  name: string;
  description: string;
  category: string;
  severity: string;
  applicableResourceTypes: string[];
  stages: StageDef[];
  isActive: boolean;
  isDraft: boolean;
}

export interface FieldProblem {
  field: string;
  message: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

/**
 * Checks a gate policy's stages and resource types beyond their JSON shape: ids unique
 * (stage ids in the policy, gate ids across all its stages, so a gate is named by its id
 * alone), known resource types, a schema on every checklist gate and valid conditions on
 * every automated gate. The first problem names its field, e.g. `stages.1.gates.0.conditions`.
 */
export function checkGatePolicy(def: Pick<GatePolicyDef, 'applicableResourceTypes' | 'stages'>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  def.applicableResourceTypes.forEach((t, i) => {
    if (!RESOURCE_TYPE_IDS.has(t)) problems.push({ field: `applicableResourceTypes.${i}`, message: `unknown resource type "${t}" (see GET /api/v1/governance/resource-types)` });
  });
  const stageIds = new Set<string>();
  const gateIds = new Set<string>();
  def.stages.forEach((s, si) => {
    if (!ID.test(s.id)) problems.push({ field: `stages.${si}.id`, message: 'an id is 1-100 letters, digits, _ . : -' });
    if (stageIds.has(s.id)) problems.push({ field: `stages.${si}.id`, message: `stage id "${s.id}" is used twice` });
    stageIds.add(s.id);
    if (s.gates.length === 0) problems.push({ field: `stages.${si}.gates`, message: 'a stage has at least one gate' });
    s.gates.forEach((g, gi) => {
      const at = `stages.${si}.gates.${gi}`;
      if (!ID.test(g.id)) problems.push({ field: `${at}.id`, message: 'an id is 1-100 letters, digits, _ . : -' });
      if (gateIds.has(g.id)) problems.push({ field: `${at}.id`, message: `gate id "${g.id}" is used twice in this policy` });
      gateIds.add(g.id);
      if (g.type === 'checklist') {
        if (!isObj(g.schema)) problems.push({ field: `${at}.schema`, message: 'a checklist gate declares the JSON Schema its answers must meet' });
        else {
          try {
            validatorFor(g.schema);
          } catch (e) {
            problems.push({ field: `${at}.schema`, message: `is not a valid JSON Schema: ${(e as Error).message}` });
          }
        }
      }
      if (g.type === 'automated') {
        if (!isObj(g.conditions)) problems.push({ field: `${at}.conditions`, message: 'an automated gate declares its conditions' });
        else {
          try {
            compileCondition(g.conditions, { ruleId: g.id, ruleName: g.name ?? g.id });
          } catch (e) {
            problems.push({ field: `${at}.conditions`, message: e instanceof ConditionError ? e.message : String(e) });
          }
        }
      }
    });
  });
  return problems;
}

/** Whether an automated gate passes on a submission's data (the conditions see the data's fields, and `data.*`). */
export function automatedGatePasses(gate: GateDef, data: Record<string, unknown>): boolean {
  const compiled = compileCondition(gate.conditions ?? {}, { ruleId: gate.id, ruleName: gate.name ?? gate.id });
  return matches(compiled, { ...data, data });
}

/** Where a gate submission stands. `expired`: nobody decided in time, which fails closed like a deny. */
export type SubmissionStatus = 'in_review' | 'approved' | 'conditional' | 'denied' | 'waived' | 'expired';
export type GateStatus = 'not_started' | SubmissionStatus;

/** What the requirements read of a submission. */
export interface SubmissionView {
  id: string;
  policyId: string;
  gateId: string;
  round: number;
  status: SubmissionStatus;
  conditions: string[];
}

/** A policy as stored, at its current version. */
export interface PolicyView {
  id: string;
  version: number;
  def: GatePolicyDef;
}

export interface GateRequirement {
  gateId: string;
  name: string;
  type: GateType;
  status: GateStatus;
  submissionId: string | null;
  round: number;
  conditions: string[];
}

export interface StageRequirement {
  stageId: string;
  name: string;
  /** Every earlier stage has passed: this stage's gates may be submitted. */
  open: boolean;
  passed: boolean;
  gates: GateRequirement[];
}

export interface PolicyRequirement {
  policyId: string;
  policyName: string;
  version: number;
  category: string;
  severity: string;
  stages: StageRequirement[];
}

const PASSED: ReadonlySet<GateStatus> = new Set(['approved', 'conditional', 'waived']);
const FAILED: ReadonlySet<GateStatus> = new Set(['denied', 'expired']);

/** Whether a policy asks anything of resources of these types: active, not a draft, and a type in common. */
export function policyApplies(def: GatePolicyDef, resourceTypes: readonly string[]): boolean {
  return def.isActive && !def.isDraft && def.applicableResourceTypes.some((t) => resourceTypes.includes(t));
}

/**
 * A solution's requirements: the stages and gates of every policy that applies to its
 * resources, each gate with the status of its latest submission (the highest round).
 * A stage is open when every stage before it has passed.
 */
export function requirements(policies: readonly PolicyView[], resourceTypes: readonly string[], submissions: readonly SubmissionView[]): PolicyRequirement[] {
  const latest = new Map<string, SubmissionView>();
  for (const s of submissions) {
    const k = `${s.policyId}\u0000${s.gateId}`;
    const cur = latest.get(k);
    if (!cur || s.round > cur.round) latest.set(k, s);
  }
  return policies
    .filter((p) => policyApplies(p.def, resourceTypes))
    .map((p) => {
      let allBeforePassed = true;
      const stages = p.def.stages.map((st) => {
        const gates = st.gates.map((g) => {
          const sub = latest.get(`${p.id}\u0000${g.id}`);
          return { gateId: g.id, name: g.name ?? g.id, type: g.type, status: (sub?.status ?? 'not_started') as GateStatus, submissionId: sub?.id ?? null, round: sub?.round ?? 0, conditions: sub?.conditions ?? [] };
        });
        const passed = gates.every((g) => PASSED.has(g.status));
        const stage = { stageId: st.id, name: st.name, open: allBeforePassed, passed, gates };
        allBeforePassed = allBeforePassed && passed;
        return stage;
      });
      return { policyId: p.id, policyName: p.def.name, version: p.version, category: p.def.category, severity: p.def.severity, stages };
    });
}

export type SolutionStatus = 'draft' | 'in-review' | 'approved' | 'conditionally-approved' | 'blocked';

/**
 * A solution's status from its requirements: `blocked` when a gate was denied or expired;
 * `approved` (or `conditionally-approved` when a passed gate carries conditions) when every
 * gate has passed, which includes having nothing to pass; `in-review` once anything was
 * submitted; else `draft`.
 */
export function solutionStatus(reqs: readonly PolicyRequirement[]): SolutionStatus {
  const gates = reqs.flatMap((r) => r.stages.flatMap((s) => s.gates));
  if (gates.some((g) => FAILED.has(g.status))) return 'blocked';
  if (gates.every((g) => PASSED.has(g.status))) return gates.some((g) => g.status === 'conditional') ? 'conditionally-approved' : 'approved';
  if (gates.some((g) => g.status !== 'not_started')) return 'in-review';
  return 'draft';
}

/** Where a gate sits in a policy, or null when the policy has no such gate. */
export function locateGate(def: GatePolicyDef, gateId: string): { stage: StageDef; stageIndex: number; gate: GateDef } | null {
  for (const [stageIndex, stage] of def.stages.entries()) {
    const gate = stage.gates.find((g) => g.id === gateId);
    if (gate) return { stage, stageIndex, gate };
  }
  return null;
}

/** The first earlier stage that has not passed, which keeps `stageId` closed; null when it is open. */
export function blockingStage(req: PolicyRequirement, stageId: string): StageRequirement | null {
  for (const s of req.stages) {
    if (s.stageId === stageId) return null;
    if (!s.passed) return s;
  }
  return null;
}

export interface Blocker {
  policyId: string;
  policyName: string;
  stageId: string;
  stageName: string;
  gateId: string;
  gateName: string;
  status: GateStatus;
}

/** What keeps a solution from deploying (every gate not passed), and the conditions attached to what passed. */
export function blockersOf(reqs: readonly PolicyRequirement[]): { blockers: Blocker[]; conditions: { policyId: string; gateId: string; conditions: string[] }[] } {
  const blockers: Blocker[] = [];
  const conditions: { policyId: string; gateId: string; conditions: string[] }[] = [];
  for (const r of reqs) {
    for (const s of r.stages) {
      for (const g of s.gates) {
        if (!PASSED.has(g.status)) blockers.push({ policyId: r.policyId, policyName: r.policyName, stageId: s.stageId, stageName: s.name, gateId: g.gateId, gateName: g.name, status: g.status });
        else if (g.conditions.length) conditions.push({ policyId: r.policyId, gateId: g.gateId, conditions: g.conditions });
      }
    }
  }
  return { blockers, conditions };
}

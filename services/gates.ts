import { Brackets, IsNull } from 'typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { automatedGatePasses, blockersOf, blockingStage, checkAnswers, checkGatePolicy, locateGate, policyApplies, RESOURCE_TYPES } from '../engine/gates';
import type { GateDef, GatePolicyDef, PolicyRequirement } from '../engine/gates';
import type { ApprovalPlan } from '../engine/approval';
import { Approval, GatePolicy, GatePolicyVersion, GateSubmission, Solution, User } from '../entities';
import type { JsonObject } from '../entities/json';
import { gateWorkflowId } from '../workflows/gate-contract';
import type { GateWorkflowInput } from '../workflows/gate-contract';
import type { ProposalSummary } from '../workflows/messages';
import type { ApprovalRecords } from './approval-records';
import type { ApprovalService } from './approvals';
import type { AuditInput, AuditLog } from './audit-log';
import type { Principal } from './auth';
import type { ApprovalDefaults } from './decide';
import { DomainError } from './errors';
import { policyDef, recomputeSolution, solutionRequirements } from './gate-status';
import type { Recomputed } from './gate-status';
import { newId } from './ids';
import type { WorkflowGateway } from './workflow-gateway';

export type SortDir = 'asc' | 'desc';
export interface Page {
  limit: number;
  offset: number;
}

export interface PolicyQuery extends Page {
  category?: string;
  severity?: string;
  isActive?: boolean;
  search?: string;
  sort: { field: 'createdAt' | 'updatedAt' | 'name' | 'severity' | 'category'; dir: SortDir };
}

export interface SolutionInput {
  name: string;
  description?: string;
  resources: { type: string; id: string }[];
  metadata?: Record<string, unknown>;
}

/** The audit's actor: the key's person when it has one (so `userId` filters find their changes), else the key. */
const actorOf = (p: Principal) => (p.userId ? { actorType: 'user' as const, actorId: p.userId } : { actorType: 'api_key' as const, actorId: p.keyId });
/** Who did it, as the surface's `createdBy` names people: the key's person, else the key. */
const who = (p: Principal): string => p.userId ?? p.keyId;
const SEVERITY_RISK: Record<string, number> = { low: 25, medium: 50, high: 75, critical: 90 };
const PASSED = new Set(['approved', 'conditional', 'waived']);

/** Postgres LIKE pattern for a search term, with its wildcards taken literally. */
const like = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Governance gates (seed 000): gate policies (versioned), solutions and their
 * requirements, gate submissions (automated ones decided at once, the others reviewed
 * by people in a gate workflow on the approval core), recompute, enforcement and metrics.
 */
export class GateService {
  constructor(
    private readonly deps: {
      ds: DataSource;
      audit: AuditLog;
      workflows: WorkflowGateway;
      approvals: ApprovalService;
      records: ApprovalRecords;
      approvalDefaults: ApprovalDefaults;
    },
  ) {}

  // ---- policies

  async listPolicies(orgId: string, q: PolicyQuery): Promise<{ count: number; items: GatePolicy[] }> {
    const qb = this.deps.ds.getRepository(GatePolicy).createQueryBuilder('p').where('p."orgId" = :orgId', { orgId });
    if (q.category !== undefined) qb.andWhere('p.category = :category', { category: q.category });
    if (q.severity !== undefined) qb.andWhere('p.severity = :severity', { severity: q.severity });
    if (q.isActive !== undefined) qb.andWhere('p."isActive" = :isActive', { isActive: q.isActive });
    if (q.search) qb.andWhere(new Brackets((w) => w.where('p.name ILIKE :s', { s: like(q.search!) }).orWhere('p.description ILIKE :s', { s: like(q.search!) })));
    const [items, count] = await qb.orderBy(`p."${q.sort.field}"`, q.sort.dir === 'asc' ? 'ASC' : 'DESC').addOrderBy('p.id', 'ASC').skip(q.offset).take(q.limit).getManyAndCount();
    return { count, items };
  }

  async getPolicy(orgId: string, id: string): Promise<GatePolicy> {
    const p = await this.deps.ds.getRepository(GatePolicy).findOne({ where: { orgId, id } });
    if (!p) throw new DomainError('NOT_FOUND', `governance policy ${id} not found`, 'id');
    return p;
  }

  async createPolicy(principal: Principal, def: GatePolicyDef): Promise<GatePolicy> {
    this.check(def);
    const row = Object.assign(new GatePolicy(), {
      id: newId('pol'),
      orgId: principal.orgId,
      ...def,
      stages: def.stages as unknown as JsonObject[],
      version: 1,
      createdBy: who(principal),
    });
    await this.deps.audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'policy', entityId: row.id, action: 'create', data: { ...def, version: 1 } as unknown as JsonObject }], async (em) => {
      await em.insert(GatePolicy, row);
      await em.insert(GatePolicyVersion, { id: newId('polv'), orgId: row.orgId, policyId: row.id, version: 1, definition: def as unknown as JsonObject, createdBy: row.createdBy });
    });
    return this.getPolicy(principal.orgId, row.id);
  }

  /** Any subset of the fields: a new version; submissions made against older ones keep what was decided. */
  async updatePolicy(principal: Principal, id: string, patch: Partial<GatePolicyDef>): Promise<GatePolicy> {
    const cur = await this.getPolicy(principal.orgId, id);
    const def: GatePolicyDef = { ...policyDef(cur), ...patch };
    this.check(def);
    const version = cur.version + 1;
    await this.deps.audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'policy', entityId: id, action: 'update', data: { changes: patch, version } as unknown as JsonObject }], async (em) => {
      const res = (await em.query('UPDATE gate_policies SET version = version + 1 WHERE id = $1 AND "orgId" = $2 AND version = $3 RETURNING id', [id, principal.orgId, cur.version])) as [unknown[], number];
      // Two writers raced: the later one must start from the newer version.
      if (res[1] !== 1) throw new DomainError('CONFLICT', 'the policy changed meanwhile; read it again and retry', 'id');
      await em.update(GatePolicy, { id, orgId: principal.orgId }, { ...def, stages: def.stages as unknown as JsonObject[], updatedAt: new Date() });
      await em.insert(GatePolicyVersion, { id: newId('polv'), orgId: principal.orgId, policyId: id, version, definition: def as unknown as JsonObject, createdBy: who(principal) });
      await this.recomputeFor(em, principal.orgId, [...policyDef(cur).applicableResourceTypes, ...def.applicableResourceTypes]);
    });
    return this.getPolicy(principal.orgId, id);
  }

  /** Deletes the policy; its versions and the submissions made against it stay for the record. */
  async deletePolicy(principal: Principal, id: string): Promise<void> {
    const cur = await this.getPolicy(principal.orgId, id);
    await this.deps.audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'policy', entityId: id, action: 'delete', data: { name: cur.name, version: cur.version } }], async (em) => {
      await em.delete(GatePolicy, { id, orgId: principal.orgId });
      await this.recomputeFor(em, principal.orgId, cur.applicableResourceTypes);
    });
  }

  /** A policy changed: every solution deploying one of these types gets its status recomputed in the same transaction. */
  private async recomputeFor(em: EntityManager, orgId: string, types: string[]): Promise<void> {
    const rows = (await em.query(
      `SELECT id FROM solutions WHERE "orgId" = $1 AND EXISTS (SELECT 1 FROM jsonb_array_elements(resources) r WHERE r->>'type' = ANY($2)) ORDER BY id`,
      [orgId, [...new Set(types)]],
    )) as { id: string }[];
    for (const r of rows) await recomputeSolution(em, orgId, r.id);
  }

  private check(def: GatePolicyDef): void {
    const [problem] = checkGatePolicy(def);
    if (problem) throw new DomainError('VALIDATION_FAILED', `${problem.field}: ${problem.message}`, problem.field);
  }

  // ---- solutions

  async listSolutions(orgId: string, q: Page & { status?: string; search?: string }): Promise<{ count: number; items: Solution[] }> {
    const qb = this.deps.ds.getRepository(Solution).createQueryBuilder('s').where('s."orgId" = :orgId', { orgId });
    if (q.status !== undefined) qb.andWhere('s.status = :status', { status: q.status });
    if (q.search) qb.andWhere(new Brackets((w) => w.where('s.name ILIKE :s', { s: like(q.search!) }).orWhere('s.description ILIKE :s', { s: like(q.search!) })));
    const [items, count] = await qb.orderBy('s."createdAt"', 'DESC').addOrderBy('s.id', 'ASC').skip(q.offset).take(q.limit).getManyAndCount();
    return { count, items };
  }

  async getSolution(orgId: string, id: string): Promise<Solution> {
    const s = await this.deps.ds.getRepository(Solution).findOne({ where: { orgId, id } });
    if (!s) throw new DomainError('NOT_FOUND', `solution ${id} not found`, 'id');
    return s;
  }

  async createSolution(principal: Principal, input: SolutionInput): Promise<Solution> {
    checkResources(input.resources);
    const row = Object.assign(new Solution(), {
      id: newId('sol'),
      orgId: principal.orgId,
      name: input.name,
      description: input.description ?? '',
      resources: input.resources,
      metadata: (input.metadata ?? {}) as JsonObject,
      status: 'draft',
      createdBy: who(principal),
    });
    await this.deps.audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'solution', entityId: row.id, action: 'create', data: { name: row.name, resources: row.resources } as unknown as JsonObject }], async (em) => {
      await em.insert(Solution, row);
      await recomputeSolution(em, principal.orgId, row.id);
    });
    return this.getSolution(principal.orgId, row.id);
  }

  async updateSolution(principal: Principal, id: string, patch: Partial<SolutionInput>): Promise<Solution> {
    await this.getSolution(principal.orgId, id);
    if (patch.resources) checkResources(patch.resources);
    await this.deps.audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'solution', entityId: id, action: 'update', data: { changes: patch } as unknown as JsonObject }], async (em) => {
      await em.update(Solution, { id, orgId: principal.orgId }, {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.resources !== undefined ? { resources: patch.resources } : {}),
        ...(patch.metadata !== undefined ? { metadata: patch.metadata as JsonObject } : {}),
        updatedAt: new Date(),
      });
      // New resources may bring new policies (or drop some): the status follows.
      await recomputeSolution(em, principal.orgId, id);
    });
    return this.getSolution(principal.orgId, id);
  }

  async deleteSolution(principal: Principal, id: string): Promise<void> {
    const s = await this.getSolution(principal.orgId, id);
    await this.deps.audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'solution', entityId: id, action: 'delete', data: { name: s.name } }], async (em) => {
      await em.delete(Solution, { id, orgId: principal.orgId });
    });
  }

  async requirements(orgId: string, id: string): Promise<{ solution: Solution; requirements: PolicyRequirement[] }> {
    const solution = await this.getSolution(orgId, id);
    return { solution, requirements: await solutionRequirements(this.deps.ds.manager, solution) };
  }

  /** Recomputes the status on demand and answers what changed; a change is audited. */
  async recompute(principal: Principal, id: string): Promise<Recomputed> {
    await this.getSolution(principal.orgId, id);
    let result: Recomputed | null = null;
    await this.deps.audit.append(principal.orgId, async (em) => {
      result = await recomputeSolution(em, principal.orgId, id);
      return result?.changed ? [{ ...actorOf(principal), entityType: 'solution', entityId: id, action: 'solution.status_changed', data: { from: result.previousStatus, to: result.status, by: 'recompute' } }] : [];
    });
    if (!result) throw new DomainError('NOT_FOUND', `solution ${id} not found`, 'id');
    return result;
  }

  // ---- submissions

  /**
   * Submits a gate. Its stage must be open (every earlier stage passed: else 409 naming the
   * blocking stage); a gate in review or already passed is not submitted again; a denied or
   * expired one starts a new round. Checklist answers must meet the gate's schema. An
   * automated gate is decided at once by its conditions; the others go to reviewers in a
   * gate workflow.
   */
  async submit(principal: Principal, solutionId: string, gateId: string, body: { policyId: string; data: Record<string, unknown> }): Promise<GateSubmission> {
    const solution = await this.getSolution(principal.orgId, solutionId);
    const policy = await this.deps.ds.getRepository(GatePolicy).findOne({ where: { orgId: principal.orgId, id: body.policyId } });
    if (!policy) throw new DomainError('NOT_FOUND', `governance policy ${body.policyId} not found`, 'policyId');
    const def = policyDef(policy);
    if (!policyApplies(def, solution.resources.map((r) => r.type))) {
      throw new DomainError('POLICY_NOT_APPLICABLE', `policy ${policy.id} does not apply to this solution (inactive, a draft, or none of its resource types)`, 'policyId');
    }
    const at = locateGate(def, gateId);
    if (!at) throw new DomainError('NOT_FOUND', `policy ${policy.id} has no gate ${gateId}`, 'sub');
    const reqs = await solutionRequirements(this.deps.ds.manager, solution);
    const req = reqs.find((r) => r.policyId === policy.id)!;
    const blocking = blockingStage(req, at.stage.id);
    if (blocking) throw new DomainError('STAGE_BLOCKED', `stage "${blocking.name}" (${blocking.stageId}) must pass before stage "${at.stage.name}" opens`, 'sub');
    const current = req.stages[at.stageIndex].gates.find((g) => g.gateId === gateId)!;
    if (current.status === 'in_review') throw new DomainError('GATE_IN_REVIEW', `gate ${gateId} is already in review (submission ${current.submissionId})`, 'sub');
    if (PASSED.has(current.status)) throw new DomainError('GATE_PASSED', `gate ${gateId} has already passed (${current.status})`, 'sub');
    if (at.gate.type === 'checklist') {
      const problem = checkAnswers(at.gate.schema ?? {}, body.data.answers);
      if (problem) throw new DomainError('VALIDATION_FAILED', `${problem.field}: ${problem.message}`, problem.field);
    }

    const id = newId('gsub');
    const round = current.round + 1;
    const base = { id, orgId: principal.orgId, solutionId, policyId: policy.id, policyVersion: policy.version, stageId: at.stage.id, gateId, gateType: at.gate.type, round, data: body.data as JsonObject, conditions: [], reviews: [], submittedBy: who(principal), waivedBy: null, waiverReason: null };
    const submitted: AuditInput = { ...actorOf(principal), entityType: 'gate_submission', entityId: id, action: 'gate_submission.submitted', data: { solutionId, policyId: policy.id, policyVersion: policy.version, stageId: at.stage.id, gateId, round, type: at.gate.type } };

    if (at.gate.type === 'automated') {
      // No people: the engine decides now, and the end is recorded with the submission.
      let passes: boolean;
      try {
        passes = automatedGatePasses(at.gate, body.data);
      } catch {
        passes = false; // fail closed: conditions that cannot be evaluated do not pass
      }
      const status = passes ? 'approved' : 'denied';
      await this.deps.audit
        .append(principal.orgId, async (em) => {
          await em.insert(GateSubmission, { ...base, status, workflowId: null, decidedAt: new Date() });
          const re = await recomputeSolution(em, principal.orgId, solutionId);
          return [
            submitted,
            { actorType: 'system', actorId: 'engine', entityType: 'gate_submission', entityId: id, action: 'gate_submission.decided', data: { solutionId, policyId: policy.id, gateId, round, status, automated: true } },
            ...(re?.changed ? [{ actorType: 'system' as const, actorId: 'engine', entityType: 'solution', entityId: solutionId, action: 'solution.status_changed', data: { from: re.previousStatus, to: re.status, by: id } }] : []),
          ];
        })
        .catch(sameRound(gateId));
      return this.getSubmission(principal.orgId, id);
    }

    const workflowId = gateWorkflowId(id);
    const plan = await this.planFor(principal, at.gate);
    const summary: ProposalSummary = {
      capability: `gate ${at.gate.name ?? at.gate.id}`,
      actorId: who(principal),
      actorType: principal.userId ? 'person' : 'api-key',
      riskScore: SEVERITY_RISK[def.severity] ?? 50,
      reason: `${def.name}: stage "${at.stage.name}" of solution "${solution.name}" needs your review`,
      outcome: 'REQUIRE_APPROVAL',
      parameters: body.data,
      kind: 'gate',
    };
    const approval = this.deps.records.newRow({ orgId: principal.orgId, subjectType: 'gate_submission', subjectId: id, workflowId, plan, summary, at: new Date() });
    await this.deps.audit
      .append(principal.orgId, async (em) => {
        await em.insert(GateSubmission, { ...base, status: 'in_review', workflowId, decidedAt: null });
        await em.insert(Approval, approval);
        const re = await recomputeSolution(em, principal.orgId, solutionId);
        return [submitted, ...(re?.changed ? [{ ...actorOf(principal), entityType: 'solution', entityId: solutionId, action: 'solution.status_changed', data: { from: re.previousStatus, to: re.status, by: id } }] : [])];
      })
      .catch(sameRound(gateId));
    const input: GateWorkflowInput = { orgId: principal.orgId, submissionId: id, plan, summary };
    try {
      await this.deps.workflows.startGate(input);
    } catch (e) {
      // Nobody will review it: close it as expired (not approved), audited, rather than leave it in review.
      await this.deps.audit.append(principal.orgId, async (em) => {
        await em.update(GateSubmission, { id, orgId: principal.orgId }, { status: 'expired', decidedAt: new Date() });
        await this.deps.records.recordEnd(em, workflowId, { status: 'EXPIRED', tier: 1, approvals: [], denials: [], decidedBy: [], history: [], reason: 'WORKFLOW_START_FAILED' });
        await recomputeSolution(em, principal.orgId, solutionId);
        return [{ actorType: 'system', actorId: 'gates', entityType: 'gate_submission', entityId: id, action: 'gate_submission.decided', data: { status: 'expired', code: 'WORKFLOW_START_FAILED', detail: (e as Error).message.slice(0, 200) } }];
      });
      throw e;
    }
    return this.getSubmission(principal.orgId, id);
  }

  /** Reviewers: the gate's approvers (ids, emails, `role:<r>`), else the organization's approvers; escalation: its own, else the admins. */
  private async planFor(principal: Principal, gate: GateDef): Promise<ApprovalPlan> {
    const users = await this.deps.ds.getRepository(User).find({ where: { orgId: principal.orgId, disabledAt: IsNull() } });
    const resolve = (refs: string[]) => [
      ...new Set(
        refs.flatMap((ref) =>
          ref.startsWith('role:') ? users.filter((u) => u.roles.includes(ref.slice(5))).map((u) => u.id) : users.filter((u) => u.id === ref || u.email === ref.toLowerCase()).map((u) => u.id),
        ),
      ),
    ];
    const d = this.deps.approvalDefaults;
    const reviewers = gate.approvers?.length ? resolve(gate.approvers) : users.filter((u) => u.roles.includes('approver')).map((u) => u.id);
    const escalateTo = gate.escalation?.approvers?.length ? resolve(gate.escalation.approvers) : users.filter((u) => u.roles.includes('admin')).map((u) => u.id);
    const quorum = Math.max(1, Math.min(gate.quorum ?? 1, Math.max(1, reviewers.length)));
    return {
      tiers: [
        { label: 'reviewers', approvers: reviewers, quorum, timeoutSeconds: gate.timeoutSeconds ?? d.tier1TimeoutSeconds },
        { label: 'escalation', approvers: escalateTo, quorum: 1, timeoutSeconds: gate.escalation?.timeoutSeconds ?? d.tier2TimeoutSeconds },
      ],
      startTier: 1,
      proposerId: principal.userId ?? `key:${principal.keyId}`,
      denyEndsIt: true,
      allowConditional: true,
    };
  }

  async getSubmission(orgId: string, id: string): Promise<GateSubmission> {
    const s = await this.deps.ds.getRepository(GateSubmission).findOne({ where: { orgId, id } });
    if (!s) throw new DomainError('NOT_FOUND', `gate submission ${id} not found`, 'id');
    return s;
  }

  /** A reviewer's approved / denied / conditional (the comments are the conditions), through the approval core. */
  async review(principal: Principal, id: string, body: { decision: 'approved' | 'denied' | 'conditional'; comments?: string }): Promise<GateSubmission> {
    const sub = await this.getSubmission(principal.orgId, id);
    const approval = await this.approvalOf(sub);
    const choice = body.decision === 'approved' ? 'approve' : body.decision === 'denied' ? 'deny' : 'conditional';
    if (choice === 'conditional' && !body.comments?.trim()) throw new DomainError('CONDITIONS_REQUIRED', 'comments: a conditional approval states its conditions in comments', 'comments');
    const r = await this.deps.approvals.vote(approval, await this.deps.approvals.actorFor(principal), {
      choice,
      via: 'api',
      ...(body.comments ? { comment: body.comments } : {}),
      ...(choice === 'conditional' ? { conditions: [body.comments!.trim()] } : {}),
    });
    if (r.status !== 'PENDING') await this.deps.workflows.waitForEnd(approval.workflowId, 10_000);
    return this.getSubmission(principal.orgId, id);
  }

  /** An admin waives a gate in review, with a reason. */
  async waive(principal: Principal, id: string, reason: string): Promise<GateSubmission> {
    const sub = await this.getSubmission(principal.orgId, id);
    const approval = await this.approvalOf(sub);
    await this.deps.approvals.waive(approval, await this.deps.approvals.actorFor(principal), reason);
    await this.deps.workflows.waitForEnd(approval.workflowId, 10_000);
    return this.getSubmission(principal.orgId, id);
  }

  private async approvalOf(sub: GateSubmission) {
    if (sub.status !== 'in_review' || !sub.workflowId) throw new DomainError('NOT_PENDING', `gate submission ${sub.id} is not in review (${sub.status})`);
    const a = await this.deps.approvals.forSubject(sub.orgId, 'gate_submission', sub.id);
    if (!a) throw new DomainError('NOT_PENDING', `gate submission ${sub.id} has no review`);
    return a;
  }

  /** Gate submissions waiting for the caller's review (as reviewer or delegate), oldest first. */
  async pendingReviews(principal: Principal): Promise<{ submission: GateSubmission; approvalId: string; tier: number; deadline: string | null; onBehalfOf?: string }[]> {
    const actor = await this.deps.approvals.actorFor(principal).catch(() => null);
    if (!actor || actor.kind !== 'person') return [];
    const { items } = await this.deps.approvals.pending(actor.person, { limit: 1000, offset: 0 });
    const mine = items.filter((i) => i.approval.subjectType === 'gate_submission');
    if (!mine.length) return [];
    const subs = await this.deps.ds.getRepository(GateSubmission).find({ where: mine.map((i) => ({ orgId: principal.orgId, id: i.approval.subjectId })) });
    const byId = new Map(subs.map((s) => [s.id, s]));
    return mine.flatMap((i) => {
      const submission = byId.get(i.approval.subjectId);
      return submission ? [{ submission, approvalId: i.approval.id, tier: i.tier, deadline: i.deadline, ...(i.onBehalfOf ? { onBehalfOf: i.onBehalfOf } : {}) }] : [];
    });
  }

  // ---- enforcement and metrics

  /**
   * May this resource be deployed? Every solution that deploys it must have passed all its
   * gates. A resource no solution deploys is allowed only when no active policy applies to
   * its type.
   */
  async enforcement(orgId: string, resourceId: string, resourceType: string) {
    if (!RESOURCE_TYPES.some((t) => t.id === resourceType)) throw new DomainError('VALIDATION_FAILED', `resourceType: unknown resource type "${resourceType}"`, 'resourceType');
    const solutions = (await this.deps.ds.query(`SELECT id FROM solutions WHERE "orgId" = $1 AND resources @> $2::jsonb ORDER BY "createdAt"`, [orgId, JSON.stringify([{ type: resourceType, id: resourceId }])])) as { id: string }[];
    if (!solutions.length) {
      const policies = await this.deps.ds.getRepository(GatePolicy).find({ where: { orgId } });
      const applying = policies.filter((p) => policyApplies(policyDef(p), [resourceType]));
      return {
        resourceId,
        resourceType,
        allowed: applying.length === 0,
        reason: applying.length === 0 ? 'NO_POLICY_APPLIES' : 'UNKNOWN_RESOURCE',
        message: applying.length === 0 ? `no solution deploys this resource, and no active policy applies to ${resourceType}` : `no solution deploys this resource, and ${applying.length} active polic${applying.length === 1 ? 'y applies' : 'ies apply'} to ${resourceType}: register it in a solution and pass its gates`,
        solutions: [],
        blockingPolicies: applying.map((p) => ({ policyId: p.id, name: p.name, severity: p.severity })),
        blocking: [],
        conditions: [],
      };
    }
    const out = [];
    for (const { id } of solutions) {
      const { solution, requirements: reqs } = await this.requirements(orgId, id);
      const { blockers, conditions } = blockersOf(reqs);
      out.push({ solutionId: solution.id, name: solution.name, status: solution.status, allowed: blockers.length === 0, blocking: blockers, conditions });
    }
    const blocking = out.flatMap((s) => s.blocking.map((b) => ({ solutionId: s.solutionId, ...b })));
    const allowed = blocking.length === 0;
    const policies = [...new Map(blocking.map((b) => [b.policyId, { policyId: b.policyId, name: b.policyName }])).values()];
    return {
      resourceId,
      resourceType,
      allowed,
      reason: allowed ? (out.some((s) => s.conditions.length) ? 'CONDITIONALLY_APPROVED' : 'APPROVED') : 'GATES_NOT_PASSED',
      message: allowed ? 'every gate of every solution deploying this resource has passed' : `${blocking.length} gate(s) have not passed`,
      solutions: out.map((s) => ({ solutionId: s.solutionId, name: s.name, status: s.status, allowed: s.allowed })),
      blockingPolicies: policies,
      blocking,
      conditions: out.flatMap((s) => s.conditions.map((c) => ({ solutionId: s.solutionId, ...c }))),
    };
  }

  /** The organization's rollup: solutions and gates by status, reviews pending, waivers, and time to decision by policy and severity. */
  async metrics(orgId: string) {
    const q = <T>(sql: string) => this.deps.ds.query(sql, [orgId]) as Promise<T[]>;
    const [solutions, gates, pending, waivers, timing, bySeverity] = await Promise.all([
      q<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM solutions WHERE "orgId" = $1 GROUP BY status`),
      // A gate's status is its latest round's.
      q<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM (SELECT DISTINCT ON ("solutionId", "policyId", "gateId") status FROM gate_submissions WHERE "orgId" = $1 ORDER BY "solutionId", "policyId", "gateId", round DESC) g GROUP BY status`),
      q<{ n: number }>(`SELECT count(*)::int AS n FROM gate_submissions WHERE "orgId" = $1 AND status = 'in_review'`),
      q<{ n: number }>(`SELECT count(*)::int AS n FROM gate_submissions WHERE "orgId" = $1 AND status = 'waived'`),
      q<{ policyId: string; name: string | null; severity: string | null; n: number; p50: number | null; p90: number | null }>(
        `SELECT s."policyId", p.name, p.severity, count(*)::int AS n,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s."decidedAt" - s."createdAt")) AS p50,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM s."decidedAt" - s."createdAt")) AS p90
           FROM gate_submissions s LEFT JOIN gate_policies p ON p.id = s."policyId"
          WHERE s."orgId" = $1 AND s."decidedAt" IS NOT NULL AND s."gateType" <> 'automated' GROUP BY s."policyId", p.name, p.severity ORDER BY s."policyId"`,
      ),
      q<{ severity: string | null; n: number; p50: number | null; p90: number | null }>(
        `SELECT p.severity, count(*)::int AS n,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s."decidedAt" - s."createdAt")) AS p50,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM s."decidedAt" - s."createdAt")) AS p90
           FROM gate_submissions s LEFT JOIN gate_policies p ON p.id = s."policyId"
          WHERE s."orgId" = $1 AND s."decidedAt" IS NOT NULL AND s."gateType" <> 'automated' GROUP BY p.severity ORDER BY p.severity`,
      ),
    ]);
    const byStatus = (rows: { status: string; n: number }[], keys: string[]) => Object.fromEntries(keys.map((k) => [k, rows.find((r) => r.status === k)?.n ?? 0]));
    const secs = (v: number | null) => (v === null ? null : Math.round(Number(v) * 1000) / 1000);
    return {
      organizationId: orgId,
      solutions: { total: solutions.reduce((s, r) => s + r.n, 0), byStatus: byStatus(solutions, ['draft', 'in-review', 'approved', 'conditionally-approved', 'blocked']) },
      gates: { total: gates.reduce((s, r) => s + r.n, 0), byStatus: byStatus(gates, ['in_review', 'approved', 'conditional', 'denied', 'waived', 'expired']) },
      pendingReviews: pending[0]?.n ?? 0,
      waivers: waivers[0]?.n ?? 0,
      timeToDecisionSeconds: {
        byPolicy: timing.map((t) => ({ policyId: t.policyId, name: t.name, severity: t.severity, decided: t.n, median: secs(t.p50), p90: secs(t.p90) })),
        bySeverity: bySeverity.map((t) => ({ severity: t.severity, decided: t.n, median: secs(t.p50), p90: secs(t.p90) })),
      },
    };
  }
}

/** Two submissions of one gate raced for the same round: the later one is told the gate is taken. */
const sameRound = (gateId: string) => (e: unknown): never => {
  if ((e as { code?: string }).code === '23505') throw new DomainError('GATE_IN_REVIEW', `gate ${gateId} was just submitted by someone else`, 'sub');
  throw e;
};

function checkResources(resources: { type: string; id: string }[]): void {
  resources.forEach((r, i) => {
    if (!RESOURCE_TYPES.some((t) => t.id === r.type)) throw new DomainError('VALIDATION_FAILED', `resources.${i}.type: unknown resource type "${r.type}" (see GET /api/v1/governance/resource-types)`, `resources.${i}.type`);
  });
}


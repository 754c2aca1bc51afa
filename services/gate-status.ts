import type { EntityManager } from 'typeorm';
import { blockersOf, requirements, solutionStatus } from '../engine/gates';
import type { GatePolicyDef, PolicyRequirement, SolutionStatus, SubmissionStatus, SubmissionView } from '../engine/gates';
import { GatePolicy, GateSubmission, Solution } from '../entities';

/** A stored gate policy as the engine reads it. */
export function policyDef(p: GatePolicy): GatePolicyDef {
  return {
    name: p.name,
    description: p.description,
    category: p.category,
    severity: p.severity,
    applicableResourceTypes: p.applicableResourceTypes,
    stages: p.stages as unknown as GatePolicyDef['stages'],
    isActive: p.isActive,
    isDraft: p.isDraft,
  };
}

export const submissionView = (s: GateSubmission): SubmissionView => ({ id: s.id, policyId: s.policyId, gateId: s.gateId, round: s.round, status: s.status as SubmissionStatus, conditions: s.conditions });

/** A solution's requirements now: every active policy applying to its resources, with each gate's latest submission. */
export async function solutionRequirements(em: EntityManager, solution: Solution): Promise<PolicyRequirement[]> {
  const [policies, subs] = await Promise.all([
    em.getRepository(GatePolicy).find({ where: { orgId: solution.orgId }, order: { createdAt: 'ASC', id: 'ASC' } }),
    em.getRepository(GateSubmission).find({ where: { orgId: solution.orgId, solutionId: solution.id } }),
  ]);
  return requirements(
    policies.map((p) => ({ id: p.id, version: p.version, def: policyDef(p) })),
    solution.resources.map((r) => r.type),
    subs.map(submissionView),
  );
}

export interface Recomputed {
  solutionId: string;
  previousStatus: string;
  status: SolutionStatus;
  changed: boolean;
  requirements: PolicyRequirement[];
  blocking: ReturnType<typeof blockersOf>['blockers'];
  conditions: ReturnType<typeof blockersOf>['conditions'];
}

/**
 * Recomputes a solution's status from its requirements inside the caller's transaction
 * (the solution row is locked, so two gate ends cannot interleave) and stores it.
 */
export async function recomputeSolution(em: EntityManager, orgId: string, solutionId: string): Promise<Recomputed | null> {
  const solution = await em.getRepository(Solution).findOne({ where: { orgId, id: solutionId }, lock: { mode: 'pessimistic_write' } });
  if (!solution) return null;
  const reqs = await solutionRequirements(em, solution);
  const status = solutionStatus(reqs);
  const changed = status !== solution.status;
  if (changed) await em.update(Solution, { id: solution.id, orgId }, { status });
  const { blockers, conditions } = blockersOf(reqs);
  return { solutionId, previousStatus: solution.status, status, changed, requirements: reqs, blocking: blockers, conditions };
}

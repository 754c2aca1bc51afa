import type { DataSource } from 'typeorm';
import type { ApprovalState } from '../engine/approval';
import { GateSubmission } from '../entities';
import type { JsonObject } from '../entities/json';
import type { ApprovalRecords } from '../services/approval-records';
import type { AuditLog } from '../services/audit-log';
import { recomputeSolution } from '../services/gate-status';
import { gateWorkflowId } from '../workflows/gate-contract';

export interface GateActivityDeps {
  ds: DataSource;
  audit: AuditLog;
  records: ApprovalRecords;
}

export interface FinalizeGateInput {
  orgId: string;
  submissionId: string;
  state: ApprovalState;
}

/** How an approval's end reads on a gate; fail closed: anything but a pass is not approved. */
const GATE_STATUS: Record<string, string> = { APPROVED: 'approved', CONDITIONAL: 'conditional', WAIVED: 'waived', DENIED: 'denied', EXPIRED: 'expired', WITHDRAWN: 'denied' };

/** The gate workflow's own side effect: the end of a submission, and its solution's new status. */
export function createGateActivities(deps: GateActivityDeps) {
  const { audit, records } = deps;
  return {
    /**
     * Records the end of a gate submission with its reviews, closes its approval, and
     * recomputes the solution's status, in one transaction with their audit records.
     * A second call changes nothing.
     */
    async finalizeGateSubmission(input: FinalizeGateInput): Promise<void> {
      const workflowId = gateWorkflowId(input.submissionId);
      const s = input.state;
      const status = GATE_STATUS[s.status] ?? 'expired';
      const reviews = [
        ...s.approvals.map((v) => ({ by: v.approverId, decision: v.conditions?.length ? 'conditional' : 'approved', comments: v.comment ?? null, conditions: v.conditions ?? [], onBehalfOf: v.onBehalfOf ?? null, at: v.at })),
        ...s.denials.map((v) => ({ by: v.approverId, decision: 'denied', comments: v.comment ?? null, conditions: [], onBehalfOf: v.onBehalfOf ?? null, at: v.at })),
      ].sort((a, b) => a.at.localeCompare(b.at));
      const waiver = s.history.find((h) => h.event === 'WAIVED');
      await audit.append(input.orgId, async (em) => {
        const sub = await em.getRepository(GateSubmission).findOne({ where: { id: input.submissionId, orgId: input.orgId } });
        if (!sub || sub.status !== 'in_review') return [];
        await em.update(GateSubmission, { id: sub.id }, {
          status,
          conditions: status === 'conditional' ? (s.conditions ?? []) : [],
          reviews: reviews as unknown as JsonObject[],
          decidedAt: new Date(s.endedAt ?? Date.now()),
          ...(waiver ? { waivedBy: waiver.by ?? null, waiverReason: waiver.detail ?? null } : {}),
        });
        await records.recordEnd(em, workflowId, s);
        const re = await recomputeSolution(em, input.orgId, sub.solutionId);
        return [
          { actorType: 'system', actorId: 'workflow', entityType: 'gate_submission', entityId: sub.id, action: 'gate_submission.decided', data: { solutionId: sub.solutionId, policyId: sub.policyId, gateId: sub.gateId, round: sub.round, status, conditions: s.conditions ?? [], reason: s.reason ?? null }, dedupeKey: `${workflowId}:finalized` },
          ...(re?.changed ? [{ actorType: 'system' as const, actorId: 'workflow', entityType: 'solution', entityId: sub.solutionId, action: 'solution.status_changed', data: { from: re.previousStatus, to: re.status, by: sub.id } }] : []),
        ];
      });
    },
  };
}

export type GateActivities = ReturnType<typeof createGateActivities>;

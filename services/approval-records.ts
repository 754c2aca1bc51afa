import type { DataSource, EntityManager } from 'typeorm';
import { initialState } from '../engine/approval';
import type { ApprovalPlan, ApprovalState } from '../engine/approval';
import { Approval } from '../entities';
import type { JsonObject } from '../entities/json';
import type { ProposalSummary } from '../workflows/messages';
import { newId } from './ids';

/**
 * Approval rows: created with their subject, mirrored from the workflow while it
 * runs (lists and pages read them; the workflow stays the truth), and closed in
 * the transaction that finalizes the subject. Used by the API and by activities.
 */
export class ApprovalRecords {
  constructor(private readonly ds: DataSource) {}

  /** The row a new approval starts as; the caller writes it in the transaction that creates its subject. */
  newRow(a: { orgId: string; subjectType: string; subjectId: string; workflowId: string; plan: ApprovalPlan; summary: ProposalSummary; at: Date }): Approval {
    return Object.assign(new Approval(), {
      id: newId('apr'),
      orgId: a.orgId,
      subjectType: a.subjectType,
      subjectId: a.subjectId,
      workflowId: a.workflowId,
      proposerId: a.plan.proposerId,
      plan: a.plan as unknown as JsonObject,
      state: initialState(a.plan, a.at.toISOString()) as unknown as JsonObject,
      status: 'PENDING',
      summary: a.summary as unknown as JsonObject,
      createdAt: a.at,
      updatedAt: a.at,
      endedAt: null,
    });
  }

  async forWorkflow(workflowId: string): Promise<Approval | null> {
    return this.ds.getRepository(Approval).findOne({ where: { workflowId } });
  }

  /** Mirrors the workflow's live state while the approval is open. */
  async mirror(workflowId: string, state: ApprovalState): Promise<void> {
    await this.ds.query(`UPDATE approvals SET state = $2, "updatedAt" = now() WHERE "workflowId" = $1 AND status = 'PENDING'`, [workflowId, JSON.stringify(state)]);
  }

  /** Records the end inside the caller's transaction (the subject's own finalize), so both commit or neither. */
  async recordEnd(em: EntityManager, workflowId: string, state: ApprovalState): Promise<void> {
    await em.query(`UPDATE approvals SET state = $2, status = $3, "endedAt" = $4, "updatedAt" = now() WHERE "workflowId" = $1 AND status = 'PENDING'`, [
      workflowId,
      JSON.stringify(state),
      // Fail closed: an approval recorded as ended while the state says pending counts as expired.
      state.status === 'PENDING' ? 'EXPIRED' : state.status,
      state.endedAt ?? new Date().toISOString(),
    ]);
  }

  /**
   * Closes, in the caller's transaction, an approval whose workflow never started (its subject was
   * closed as DENY instead): fail closed, as expired, with the reason. Nobody can vote on it after.
   */
  async closeUnstarted(em: EntityManager, orgId: string, subjectType: string, subjectId: string, reason: string): Promise<void> {
    await em.query(
      `UPDATE approvals SET status = 'EXPIRED', "endedAt" = now(), "updatedAt" = now(),
              state = state || jsonb_build_object('status', 'EXPIRED', 'reason', $4::text, 'endedAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
        WHERE "orgId" = $1 AND "subjectType" = $2 AND "subjectId" = $3 AND status = 'PENDING'`,
      [orgId, subjectType, subjectId, reason],
    );
  }
}

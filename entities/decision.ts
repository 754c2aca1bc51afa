import type { JsonObject } from './json';

/** A budget counter spent by a pending decision. */
export interface BudgetReservation {
  key: string;
  amount: number;
}
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One proposal and its verdict. `outcome` is the verdict at propose time;
 * `finalOutcome` is set when the decision is final (at once for ALLOW / DENY,
 * at the end of the approval workflow otherwise).
 */
@Entity('decisions')
@Index(['orgId', 'createdAt', 'id'])
@Index(['orgId', 'actorId', 'createdAt'])
// Partial: most decisions carry no run id, and each index entry is PostgreSQL CPU on the hot path.
@Index('IDX_decisions_run', ['orgId', 'runId', 'createdAt'], { where: '"runId" IS NOT NULL' })
@Index(['orgId', 'idempotencyKey'], { unique: true, where: '"idempotencyKey" IS NOT NULL' })
@Index(['createdAt'], { where: 'status = \'pending\' AND "workflowStartedAt" IS NULL' })
export class Decision {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  actorId: string;

  @Column({ type: 'text' })
  actorType: string;

  @Column({ type: 'text' })
  capability: string;

  @Column({ type: 'text', nullable: true })
  runId: string | null;

  @Column({ type: 'text', nullable: true })
  sessionId: string | null;

  /** Which API dialect it arrived in (aegis, wardn, ascend). */
  @Column({ type: 'text' })
  surface: string;

  @Column({ type: 'jsonb' })
  proposal: JsonObject;

  /** Internal outcome at propose time: ALLOW / DENY / REQUIRE_APPROVAL / ESCALATE. */
  @Column({ type: 'text' })
  outcome: string;

  /** `pending` while a workflow waits for people, else `final`. */
  @Column({ type: 'text' })
  status: string;

  /** ALLOW or DENY once final. */
  @Column({ type: 'text', nullable: true })
  finalOutcome: string | null;

  @Column({ type: 'integer' })
  riskScore: number;

  /** Reason text shown to agents. */
  @Column({ type: 'text' })
  reason: string;

  /** The whole verdict: reasons, risk breakdown, approval request, constraints. */
  @Column({ type: 'jsonb' })
  verdict: JsonObject;

  @Column({ type: 'text', nullable: true })
  workflowId: string | null;

  /** When the approval workflow was known to be started; a pending decision without it is resumed by the sweeper. */
  @Column({ type: 'timestamptz', nullable: true })
  workflowStartedAt: Date | null;

  /** Approval plan the workflow runs, kept for display. */
  @Column({ type: 'jsonb', nullable: true })
  approvalPlan: JsonObject | null;

  @Column({ type: 'jsonb', nullable: true })
  approvalState: JsonObject | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  decidedBy: string[];

  @Column({ type: 'timestamptz', nullable: true })
  decidedAt: Date | null;

  @Column({ type: 'text', nullable: true })
  idempotencyKey: string | null;

  /** SHA-256 of the canonical request body, to tell a replay from a conflicting reuse of a key. */
  @Column({ type: 'text', nullable: true })
  requestHash: string | null;

  /**
   * Budget held by a decision that waits for people: `[{key, amount}]` of the
   * counters spent at propose time, released if the approval ends in DENY.
   */
  @Column({ type: 'jsonb', nullable: true })
  reservations: BudgetReservation[] | null;

  /** Audit record of the propose step (`aud_<org>:<seq>` is its reference). */
  @Column({ type: 'text' })
  auditRef: string;

  @Column({ type: 'bigint' })
  auditSeq: string;

  @Column({ type: 'text' })
  auditHash: string;

  /** What the action produced, reported by the agent afterwards: the evidence that grounding rules check. */
  @Column({ type: 'jsonb', nullable: true })
  output: JsonObject | null;

  /** Millisecond precision, so keyset cursors built from JS dates compare exactly. */
  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}

import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { JsonObject } from './json';

/**
 * One approval, whatever asked for it: a proposal held for people, a gate
 * submission, an escrow. Its workflow owns the live state; this row mirrors it
 * (written by the workflow's activities) for lists, pages and pending queries.
 */
@Entity('approvals')
@Index(['orgId', 'status', 'createdAt'])
@Index(['orgId', 'subjectType', 'subjectId'], { unique: true })
export class Approval {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  /** What is being approved: `decision`, `gate_submission`, `escrow`. */
  @Column({ type: 'text' })
  subjectType: string;

  @Column({ type: 'text' })
  subjectId: string;

  @Index({ unique: true })
  @Column({ type: 'text' })
  workflowId: string;

  /** Who asked: never an approver of their own subject. */
  @Column({ type: 'text' })
  proposerId: string;

  /** The engine's ApprovalPlan: tiers of approvers, quorum, timeouts, reminders. */
  @Column({ type: 'jsonb' })
  plan: JsonObject;

  /** The engine's ApprovalState as last recorded; null until the workflow first reports. */
  @Column({ type: 'jsonb', nullable: true })
  state: JsonObject | null;

  /** PENDING until it ends; then the state's end status. */
  @Column({ type: 'text' })
  status: string;

  /** What the action is, for mail, Slack and pages (the presenter's input). */
  @Column({ type: 'jsonb' })
  summary: JsonObject;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', precision: 3 })
  updatedAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  endedAt: Date | null;
}

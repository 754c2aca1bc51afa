import type { JsonObject } from './json';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** An agent policy (seed 004). `definition` is the validated PolicyCreate document. */
@Entity('policies')
@Index(['orgId', 'name'], { unique: true })
export class Policy {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  scope: string;

  @Column({ type: 'text', nullable: true })
  targetId: string | null;

  @Column({ type: 'boolean', default: true })
  isActive: boolean;

  @Column({ type: 'jsonb' })
  definition: JsonObject;

  @Column({ type: 'text', nullable: true })
  currentVersionId: string | null;

  /** Set when created from a template, so the organization can see where it came from. */
  @Column({ type: 'text', nullable: true })
  templateId: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

/** An immutable snapshot of a policy. Status: draft, in_review, active, archived. */
@Entity('policy_versions')
@Index(['policyId', 'version'], { unique: true })
export class PolicyVersion {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  policyId: string;

  @Column({ type: 'integer' })
  version: number;

  @Column({ type: 'text' })
  status: string;

  @Column({ type: 'jsonb' })
  policyData: JsonObject;

  @Column({ type: 'text', nullable: true })
  note: string | null;

  @Column({ type: 'text', nullable: true })
  createdBy: string | null;

  @Column({ type: 'text', nullable: true })
  reviewedBy: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  reviewedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

/** A time- or count-bound carve-out from one policy for an agent or a run. */
@Entity('policy_exceptions')
@Index(['orgId', 'policyId'])
export class PolicyException {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  policyId: string;

  @Column({ type: 'text', nullable: true })
  actorId: string | null;

  @Column({ type: 'text', nullable: true })
  runId: string | null;

  @Column({ type: 'text' })
  reason: string;

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'integer', nullable: true })
  maxUses: number | null;

  @Column({ type: 'integer', default: 0 })
  uses: number;

  @Column({ type: 'text', nullable: true })
  createdBy: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

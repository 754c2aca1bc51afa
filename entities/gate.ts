import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { JsonObject } from './json';

/** A governance gate policy (seed 000): ordered stages of gates, applying to resource types. Versioned. */
@Entity('gate_policies')
@Index(['orgId', 'createdAt'])
export class GatePolicy {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  description: string;

  @Column({ type: 'text' })
  category: string;

  @Column({ type: 'text' })
  severity: string;

  @Column({ type: 'text', array: true })
  applicableResourceTypes: string[];

  /** The engine's StageDef[]. */
  @Column({ type: 'jsonb' })
  stages: JsonObject[];

  @Column({ type: 'boolean' })
  isActive: boolean;

  @Column({ type: 'boolean' })
  isDraft: boolean;

  /** Bumped by every change; each version's whole definition is kept in gate_policy_versions. */
  @Column({ type: 'integer' })
  version: number;

  @Column({ type: 'text' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}

/** One version of a gate policy, as it was: what a submission made against it binds to. */
@Entity('gate_policy_versions')
@Index(['policyId', 'version'], { unique: true })
export class GatePolicyVersion {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  policyId: string;

  @Column({ type: 'integer' })
  version: number;

  /** The engine's GatePolicyDef. */
  @Column({ type: 'jsonb' })
  definition: JsonObject;

  @Column({ type: 'text' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

/** A solution: something deployed as resources (type, id), gated by the policies that apply to them. */
@Entity('solutions')
@Index(['orgId', 'createdAt'])
export class Solution {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  /** `[{type, id}]`. */
  @Column({ type: 'jsonb' })
  resources: { type: string; id: string }[];

  /** draft, in-review, approved, conditionally-approved, blocked: recomputed at every gate's end. */
  @Column({ type: 'text' })
  status: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: JsonObject;

  @Column({ type: 'text' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}

/** One submission of one gate of a solution: a round; a denied gate submitted again is a new round. */
@Entity('gate_submissions')
@Index(['orgId', 'solutionId', 'policyId', 'gateId', 'round'], { unique: true })
@Index(['orgId', 'status'])
export class GateSubmission {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  solutionId: string;

  @Column({ type: 'text' })
  policyId: string;

  /** The policy version it was made against. */
  @Column({ type: 'integer' })
  policyVersion: number;

  @Column({ type: 'text' })
  stageId: string;

  @Column({ type: 'text' })
  gateId: string;

  @Column({ type: 'text' })
  gateType: string;

  @Column({ type: 'integer' })
  round: number;

  @Column({ type: 'jsonb' })
  data: JsonObject;

  /** in_review, approved, conditional, denied, waived, expired. */
  @Column({ type: 'text' })
  status: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  conditions: string[];

  /** Reviewers' comments: `[{by, decision, comments, at}]`. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  reviews: JsonObject[];

  @Column({ type: 'text', nullable: true })
  workflowId: string | null;

  @Column({ type: 'text' })
  submittedBy: string;

  @Column({ type: 'text', nullable: true })
  waivedBy: string | null;

  @Column({ type: 'text', nullable: true })
  waiverReason: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  decidedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}

import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A one-time approval link. The link carries `<id>.<secret>.<signature>`; only
 * SHA-256(secret) is stored, and `usedAt` makes it single use.
 */
@Entity('approval_tokens')
@Index(['decisionId'])
export class ApprovalToken {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  /** The approval's subject (a decision id for proposals). */
  @Column({ type: 'text' })
  decisionId: string;

  /** The approval the link votes on; null for links issued before approvals had their own rows. */
  @Column({ type: 'text', nullable: true })
  approvalId: string | null;

  @Column({ type: 'text' })
  workflowId: string;

  @Column({ type: 'text' })
  approverId: string;

  @Column({ type: 'integer' })
  tier: number;

  @Column({ type: 'text' })
  secretHash: string;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

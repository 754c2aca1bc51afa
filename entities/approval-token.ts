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

  @Column({ type: 'text' })
  decisionId: string;

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

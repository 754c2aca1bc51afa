import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A risk-scoring configuration (seed 002). Every one is kept; at most one is active per organization. */
@Entity('risk_configs')
@Index(['orgId'], { unique: true, where: '"isActive"' })
export class RiskConfigRow {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text', default: '' })
  name: string;

  @Column({ type: 'jsonb' })
  weights: Record<string, number>;

  @Column({ type: 'jsonb' })
  thresholds: Record<string, number>;

  @Column({ type: 'jsonb' })
  modifiers: Record<string, number>;

  @Column({ type: 'boolean', default: false })
  isActive: boolean;

  @Column({ type: 'text', nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

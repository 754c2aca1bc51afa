import type { JsonObject } from './json';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A smart rule (seed 002): conditions over the facts document and one action. */
@Entity('smart_rules')
@Index(['orgId', 'priority'])
export class SmartRule {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'integer', default: 0 })
  priority: number;

  @Column({ type: 'boolean', default: true })
  isActive: boolean;

  @Column({ type: 'jsonb' })
  conditions: JsonObject;

  @Column({ type: 'text' })
  action: string;

  @Column({ type: 'integer', nullable: true })
  approvalLevel: number | null;

  @Column({ type: 'jsonb', nullable: true })
  notifications: { channels?: string[]; priority?: string } | null;

  @Column({ type: 'text', nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

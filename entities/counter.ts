import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Budget and rate-limit counters. Spent with one conditional UPDATE
 * (`value + inc <= limit`), so two API processes never overspend.
 */
@Entity('counters')
export class Counter {
  @PrimaryColumn({ type: 'text' })
  orgId: string;

  @PrimaryColumn({ type: 'text' })
  key: string;

  @Column({ type: 'numeric', default: 0 })
  value: string;

  /** Rate windows can be purged after this. */
  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;
}

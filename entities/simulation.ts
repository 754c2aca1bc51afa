import type { JsonObject } from './json';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A simulation run: a draft evaluated against stored proposals, with progress for polling. */
@Entity('simulations')
@Index(['orgId', 'createdAt'])
export class Simulation {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  /** queued / running / done / failed */
  @Column({ type: 'text' })
  status: string;

  @Column({ type: 'integer', default: 0 })
  processed: number;

  @Column({ type: 'integer', default: 0 })
  total: number;

  @Column({ type: 'jsonb' })
  params: JsonObject;

  @Column({ type: 'jsonb', nullable: true })
  result: JsonObject | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  /** Touched with every page of progress; a running simulation that stops touching it was interrupted. */
  @Column({ type: 'timestamptz', default: () => 'now()' })
  heartbeatAt: Date;
}

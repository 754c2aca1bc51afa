import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A registered agent (WARDN `agent_id`): its owner, where it may act, which models it may use, and whether it runs. */
@Entity('agents')
export class Agent {
  @PrimaryColumn({ type: 'text' })
  orgId: string;

  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text', default: '' })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'text', nullable: true })
  owner: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  allowedEnvironments: string[];

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  allowedModels: string[];

  /** active, paused (its actions are held) or blocked (refused: the kill switch). */
  @Column({ type: 'text', default: 'active' })
  status: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

/** Confidence floors for actions matching `actionType` (a glob) in `environment` (`*`: any); versioned like rules. */
@Entity('confidence_floors')
@Index(['orgId', 'createdAt'])
export class ConfidenceFloor {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  actionType: string;

  @Column({ type: 'text', default: '*' })
  environment: string;

  /** Dimension → floor, each 0..1. */
  @Column({ type: 'jsonb' })
  floors: Record<string, number>;

  @Column({ type: 'boolean', default: true })
  isActive: boolean;

  @Column({ type: 'integer', default: 1 })
  version: number;

  @Column({ type: 'text' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

/** A model in the L6 registry: provider, channels, data classes, agreements on file, prices, status. */
@Entity('models')
export class ModelEntry {
  @PrimaryColumn({ type: 'text' })
  orgId: string;

  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  provider: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  channels: string[];

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  dataClasses: string[];

  /** DPA, BAA. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  agreements: string[];

  @Column({ type: 'double precision', default: 0 })
  priceInputPer1k: number;

  @Column({ type: 'double precision', default: 0 })
  priceOutputPer1k: number;

  /** approved or blocked. */
  @Column({ type: 'text', default: 'approved' })
  status: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

import type { JsonObject } from './json';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One link of an organization's hash chain. `seq` is assigned under a lock on
 * the organization's `audit_heads` row (never a SEQUENCE, which leaves gaps on
 * rollback), and `hash` = SHA-256(prevHash + canonical JSON of the record).
 */
@Entity('audit_records')
@Index(['orgId', 'entityId', 'seq'])
@Index(['orgId', 'dedupeKey'], { unique: true, where: '"dedupeKey" IS NOT NULL' })
export class AuditRecord {
  @PrimaryColumn({ type: 'text' })
  orgId: string;

  @PrimaryColumn({ type: 'bigint' })
  seq: string;

  @Index({ unique: true })
  @Column({ type: 'text' })
  id: string;

  @Column({ type: 'timestamptz' })
  at: Date;

  /** api_key / user / agent / system */
  @Column({ type: 'text' })
  actorType: string;

  @Column({ type: 'text' })
  actorId: string;

  @Column({ type: 'text' })
  entityType: string;

  @Column({ type: 'text' })
  entityId: string;

  @Column({ type: 'text' })
  action: string;

  @Column({ type: 'jsonb' })
  data: JsonObject;

  /** Set by workflow activities so a retried step never appends twice. Not part of the hash. */
  @Column({ type: 'text', nullable: true })
  dedupeKey: string | null;

  @Column({ type: 'text' })
  prevHash: string;

  @Column({ type: 'text' })
  hash: string;
}

/** The tip of an organization's chain; its row lock serialises appends. */
@Entity('audit_heads')
export class AuditHead {
  @PrimaryColumn({ type: 'text' })
  orgId: string;

  @Column({ type: 'bigint' })
  seq: string;

  @Column({ type: 'text' })
  hash: string;
}

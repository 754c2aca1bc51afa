import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A person who approves or administers. Roles: `approver`, `admin`. */
@Entity('users')
@Index(['orgId', 'email'], { unique: true })
// A Slack click is mapped to exactly one person.
@Index(['orgId', 'slackUserId'], { unique: true, where: '"slackUserId" IS NOT NULL' })
export class User {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  email: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', nullable: true })
  slackUserId: string | null;

  /** When Slack was asked for this person's id by email (`users.lookupByEmail`), found or not: asked once. */
  @Column({ type: 'timestamptz', nullable: true })
  slackLookedUpAt: Date | null;

  /** Out of office: while `delegateFrom <= now < delegateUntil`, this person's approvals go to the delegate. */
  @Column({ type: 'text', nullable: true })
  delegateId: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  delegateFrom: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  delegateUntil: Date | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  roles: string[];

  /** Set when an admin removes the person: kept for the audit trail, never asked or notified again. */
  @Column({ type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

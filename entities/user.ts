import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A person who approves or administers. Roles: `approver`, `admin`. */
@Entity('users')
@Index(['orgId', 'email'], { unique: true })
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

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  roles: string[];

  /** Set when an admin removes the person: kept for the audit trail, never asked or notified again. */
  @Column({ type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

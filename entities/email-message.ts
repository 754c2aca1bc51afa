import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Every email Arbiter sends, keyed by an idempotency key (workflow, step,
 * recipient) so an activity retry never sends twice. Without SMTP the row is
 * the delivery: the dev outbox a person reads at GET /api/v1/outbox.
 */
@Entity('email_messages')
@Index(['orgId', 'createdAt'])
export class EmailMessage {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Index({ unique: true })
  @Column({ type: 'text' })
  idempotencyKey: string;

  @Column({ type: 'text' })
  to: string;

  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'text' })
  text: string;

  @Column({ type: 'text' })
  html: string;

  /** `smtp` or `outbox`. */
  @Column({ type: 'text' })
  transport: string;

  @Column({ type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ type: 'text', nullable: true })
  providerMessageId: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The notifier's log: one row per (approval, tier, step, channel, recipient), so a
 * retried activity never sends twice, and every later change of the approval can
 * update what was sent (the Slack channel and `ts`).
 */
@Entity('deliveries')
@Index(['approvalId', 'channel'])
export class Delivery {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  /** The approval it belongs to, or `notify-<decisionId>` for a rule's notice. */
  @Column({ type: 'text' })
  approvalId: string;

  @Column({ type: 'integer' })
  tier: number;

  /** `request`, `reminder-<n>`, `notice`, `test-alert`. */
  @Column({ type: 'text' })
  step: string;

  /** `email` or `slack`. */
  @Column({ type: 'text' })
  channel: string;

  /** A person id, an email address, or a Slack channel. */
  @Column({ type: 'text' })
  recipient: string;

  /** `${approvalId}:${tier}:${step}:${channel}:${recipient}`. */
  @Index({ unique: true })
  @Column({ type: 'text' })
  key: string;

  /** The approver this went to a delegate for, when delegated. */
  @Column({ type: 'text', nullable: true })
  onBehalfOf: string | null;

  /** `pending` until the provider accepted it, then `sent`; `failed` when it gave up. */
  @Column({ type: 'text' })
  status: string;

  /** Slack: the channel the message is in (a DM's `D…` id). */
  @Column({ type: 'text', nullable: true })
  providerChannel: string | null;

  /** Slack: the message `ts`; email: the SMTP message id. */
  @Column({ type: 'text', nullable: true })
  providerId: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  /** While set and in the future, one attempt holds the right to send (a lease, so a retry never sends beside it). */
  @Column({ type: 'timestamptz', nullable: true })
  claimedUntil: Date | null;

  /** The last `chat.update` that reached Slack. */
  @Column({ type: 'timestamptz', nullable: true })
  updatedAt: Date | null;
}

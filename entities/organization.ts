import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A tenant. Every other row carries its organization id; no API key sees another's rows. */
@Entity('organizations')
export class Organization {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** WARDN governance mode (ENFORCED / AUDIT_ONLY / DISABLED). */
  @Column({ type: 'text', default: 'ENFORCED' })
  governanceMode: string;

  /** When a mode other than ENFORCED ends by itself; null: until changed. */
  @Column({ type: 'timestamptz', nullable: true })
  governanceModeExpiresAt: Date | null;

  /** Governed actions allowed per calendar month (WARDN's `monthly_limit`); null: no limit. */
  @Column({ type: 'integer', nullable: true })
  monthlyLimit: number | null;

  /** WARDN settings: unregistered agents, Sentinel principles, freeze windows, L6 mode and budgets (engine's WardnSettings). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  governanceSettings: Record<string, unknown>;

  /** Set by the operator (`arbiter orgs disable`): every key of the organization answers 401 from then on. */
  @Column({ type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

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

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

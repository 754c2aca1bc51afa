import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An API key. Only the SHA-256 of the secret is stored: keys are 256-bit random,
 * so a fast hash is enough (no password-style stretching needed) and lookups stay O(1).
 */
@Entity('api_keys')
export class ApiKey {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  orgId: string;

  @Column({ type: 'text' })
  name: string;

  /** First characters of the key, shown in lists so a person can tell keys apart. */
  @Column({ type: 'text' })
  prefix: string;

  @Index({ unique: true })
  @Column({ type: 'text' })
  secretHash: string;

  @Column({ type: 'text', array: true })
  scopes: string[];

  /** `admin` or `member`. */
  @Column({ type: 'text' })
  role: string;

  /** The person this key acts for, if any (approvals made with it are theirs). */
  @Column({ type: 'text', nullable: true })
  userId: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}

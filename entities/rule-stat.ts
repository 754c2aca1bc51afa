import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Per-rule, per-day counts behind rule analytics and `match_count_30d`. */
@Entity('rule_stats')
export class RuleStat {
  @PrimaryColumn({ type: 'text' })
  orgId: string;

  @PrimaryColumn({ type: 'text' })
  ruleId: string;

  @PrimaryColumn({ type: 'date' })
  day: string;

  @Column({ type: 'integer', default: 0 })
  evaluations: number;

  @Column({ type: 'integer', default: 0 })
  matches: number;

  /** Times the rule's effect was the decisive one. */
  @Column({ type: 'integer', default: 0 })
  decisive: number;
}

import type { DataSource } from 'typeorm';
import type { Verdict } from '../engine/types';

interface Tally {
  evaluations: number;
  matches: number;
  decisive: number;
}

/**
 * Per-rule counts behind rule analytics. Counted in memory on the decision path
 * and flushed as one upsert per second, so analytics add no query to a proposal.
 */
export class RuleStats {
  private pending = new Map<string, Tally>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly ds: DataSource, private readonly flushMs = 1000) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush().catch(() => undefined), this.flushMs);
    this.timer.unref();
  }

  /** Every active rule was evaluated; those among the reasons matched; the decisive one moved the outcome. */
  record(orgId: string, activeRuleIds: readonly string[], verdict: Verdict, day = new Date().toISOString().slice(0, 10)): void {
    const matched = new Set(verdict.reasons.filter((r) => r.source === 'rule' && r.id).map((r) => r.id as string));
    const decisive = verdict.decisive?.source === 'rule' ? verdict.decisive.id : undefined;
    for (const id of activeRuleIds) {
      const key = `${orgId}\u0000${id}\u0000${day}`;
      const t = this.pending.get(key) ?? { evaluations: 0, matches: 0, decisive: 0 };
      t.evaluations += 1;
      if (matched.has(id)) t.matches += 1;
      if (decisive === id) t.decisive += 1;
      this.pending.set(key, t);
    }
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const rows = [...batch.entries()].map(([k, t]) => [...k.split('\u0000'), t.evaluations, t.matches, t.decisive]);
    const params: unknown[] = [];
    const tuples = rows.map((r, i) => {
      params.push(...r);
      return `($${i * 6 + 1}, $${i * 6 + 2}, $${i * 6 + 3}::date, $${i * 6 + 4}::int, $${i * 6 + 5}::int, $${i * 6 + 6}::int)`;
    });
    await this.ds.query(
      `INSERT INTO rule_stats ("orgId", "ruleId", day, evaluations, matches, decisive) VALUES ${tuples.join(',')}
       ON CONFLICT ("orgId", "ruleId", day) DO UPDATE SET evaluations = rule_stats.evaluations + EXCLUDED.evaluations,
         matches = rule_stats.matches + EXCLUDED.matches, decisive = rule_stats.decisive + EXCLUDED.decisive`,
      params,
    );
  }

  /** Matches per rule over the last 30 days (flushed tallies), for the rules asked about. */
  async matchesLast30Days(orgId: string, ruleIds: string[]): Promise<Map<string, number>> {
    if (!ruleIds.length) return new Map();
    const rows = (await this.ds.query(`SELECT "ruleId", sum(matches)::int AS n FROM rule_stats WHERE "orgId" = $1 AND "ruleId" = ANY($2) AND day > current_date - 30 GROUP BY "ruleId"`, [orgId, ruleIds])) as { ruleId: string; n: number }[];
    return new Map(rows.map((x) => [x.ruleId, x.n]));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush().catch(() => undefined);
  }
}

import type { DataSource } from 'typeorm';
import { evaluate } from '../engine/evaluate';
import { compilePolicies, policyLayer } from '../engine/policies';
import type { CompiledPolicySet, PolicyUsage } from '../engine/policies';
import type { PolicyDef } from '../engine/policy-schema';
import { compileRuleSet } from '../engine/rules';
import type { CompiledRuleSet } from '../engine/rules';
import type { Outcome, Proposal, RiskConfig, SmartRuleDef } from '../engine/types';
import { Policy, Simulation } from '../entities';
import type { JsonObject } from '../entities/json';
import { newId } from './ids';
import type { PolicyStore } from './policy-store';

/** A configuration to evaluate stored proposals against. */
export interface SimConfig {
  rules: CompiledRuleSet;
  risk: RiskConfig;
  policies: CompiledPolicySet;
}

/** What a simulation changes, relative to the live configuration. */
export interface SimDraft {
  /** Replaces the whole rule set. */
  rules?: SmartRuleDef[];
  /** Adds a rule, or replaces the rule with its id. */
  rule?: SmartRuleDef;
  risk?: RiskConfig;
  /** Adds a policy, or replaces `policyId`. */
  policy?: PolicyDef;
  policyId?: string;
}

export interface SimParams {
  since: string;
  until: string;
  draft: SimDraft;
}

export type OutcomeClass = 'ALLOW' | 'DENY' | 'APPROVAL';
export const outcomeClass = (o: Outcome): OutcomeClass => (o === 'ALLOW' ? 'ALLOW' : o === 'DENY' ? 'DENY' : 'APPROVAL');

export interface StoredProposal {
  id: string;
  actorId: string;
  capability: string;
  at: number;
  runId: string | null;
  sessionId: string | null;
  proposal: Proposal;
  output: Record<string, unknown> | null;
  finalOutcome: string | null;
}

/**
 * Evaluates one stored proposal as the simulator does: at its own time, with no
 * counters spent, no exceptions, no actor history, and as evidence the allowed
 * proposals of the same run or session that came before it in the window. The
 * same function serves both sides of the comparison (and tests), so a flip is
 * only ever the draft's doing.
 */
export function simulateOne(cfg: SimConfig, p: StoredProposal, evidence: PolicyUsage['evidence']): Outcome {
  const usage: PolicyUsage = { counters: {}, evidence, exceptions: [] };
  return evaluate({ proposal: p.proposal, rules: cfg.rules, risk: cfg.risk, now: p.at, layers: [policyLayer(cfg.policies, usage)] }).outcome;
}

export interface SimReport {
  total: number;
  changed: number;
  flips: Record<string, number>;
  top_actors: { actor_id: string; changed: number }[];
  top_capabilities: { capability: string; changed: number }[];
  samples: { decision_id: string; actor_id: string; capability: string; from: OutcomeClass; to: OutcomeClass }[];
}

/**
 * Compares two configurations over stored proposals fed in time order (evidence
 * builds up as it goes). Incremental, so a large window can yield between slices.
 */
export class Comparison {
  private readonly flips: Record<string, number> = {};
  private readonly actors = new Map<string, number>();
  private readonly caps = new Map<string, number>();
  private readonly samples: SimReport['samples'] = [];
  private readonly evidence = new Map<string, PolicyUsage['evidence']>();
  private total = 0;
  private changed = 0;

  constructor(private readonly base: SimConfig, private readonly cand: SimConfig) {}

  get size(): number {
    return this.total;
  }

  add(r: StoredProposal): void {
    this.total += 1;
    const ev = [...(r.runId ? this.evidence.get(`r:${r.runId}`) ?? [] : []), ...(r.sessionId ? this.evidence.get(`s:${r.sessionId}`) ?? [] : [])];
    const from = outcomeClass(simulateOne(this.base, r, ev));
    const to = outcomeClass(simulateOne(this.cand, r, ev));
    if (from !== to) {
      this.changed += 1;
      const k = `${from}->${to}`;
      this.flips[k] = (this.flips[k] ?? 0) + 1;
      this.actors.set(r.actorId, (this.actors.get(r.actorId) ?? 0) + 1);
      this.caps.set(r.capability, (this.caps.get(r.capability) ?? 0) + 1);
      if (this.samples.length < 20) this.samples.push({ decision_id: r.id, actor_id: r.actorId, capability: r.capability, from, to });
    }
    if (r.finalOutcome === 'ALLOW') {
      const e = { capability: r.capability, at: r.at, runId: r.runId ?? undefined, sessionId: r.sessionId ?? undefined, output: r.output ?? undefined };
      if (r.runId) this.evidence.set(`r:${r.runId}`, [e, ...(this.evidence.get(`r:${r.runId}`) ?? [])]);
      if (r.sessionId) this.evidence.set(`s:${r.sessionId}`, [e, ...(this.evidence.get(`s:${r.sessionId}`) ?? [])]);
    }
  }

  report(): SimReport {
    const top = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
    return {
      total: this.total,
      changed: this.changed,
      flips: { ...this.flips },
      top_actors: top(this.actors).map(([actor_id, n]) => ({ actor_id, changed: n })),
      top_capabilities: top(this.caps).map(([capability, n]) => ({ capability, changed: n })),
      samples: [...this.samples],
    };
  }
}

const INLINE_LIMIT = 2000;
/** A running simulation silent this long lost its process (a restart, a crash): it is reported failed. */
const STALE_MS = 60_000;
const CHUNK = 1000;

/**
 * Simulation runs: small windows answer at once; large ones run in the
 * background, in chunks that yield to the event loop, with progress in the row.
 */
export class Simulator {
  constructor(private readonly ds: DataSource, private readonly store: PolicyStore) {}

  /** The live configuration and the draft applied over it. */
  async configs(orgId: string, draft: SimDraft): Promise<{ base: SimConfig; cand: SimConfig }> {
    const snap = await this.store.get(orgId);
    const policyRows = await this.ds.getRepository(Policy).find({ where: { orgId, isActive: true } });
    const liveDefs = policyRows.map((r) => ({ ...(r.definition as PolicyDef), id: r.id }));
    const base: SimConfig = { rules: snap.rules, risk: snap.risk, policies: compilePolicies(liveDefs) };
    let ruleDefs = draft.rules ?? snap.ruleDefs;
    if (draft.rule) ruleDefs = [...ruleDefs.filter((r) => r.id !== draft.rule?.id), draft.rule];
    const candDefs = draft.policy ? [...liveDefs.filter((d) => d.id !== draft.policyId), { ...draft.policy, id: draft.policyId ?? 'pol_draft' }] : liveDefs;
    const cand: SimConfig = {
      rules: draft.rules || draft.rule ? compileRuleSet(ruleDefs) : snap.rules,
      risk: draft.risk ?? snap.risk,
      policies: draft.policy ? compilePolicies(candDefs) : base.policies,
    };
    return { base, cand };
  }

  async count(orgId: string, since: Date, until: Date): Promise<number> {
    const [r] = (await this.ds.query('SELECT count(*)::int AS n FROM decisions WHERE "orgId" = $1 AND "createdAt" >= $2 AND "createdAt" <= $3', [orgId, since, until])) as { n: number }[];
    return r.n;
  }

  /** Starts a simulation; returns the row (done already when the window is small). */
  async start(orgId: string, params: SimParams): Promise<Simulation> {
    const since = new Date(params.since);
    const until = new Date(params.until);
    const { base, cand } = await this.configs(orgId, params.draft);
    const total = await this.count(orgId, since, until);
    const repo = this.ds.getRepository(Simulation);
    const row = repo.create({ id: newId('sim'), orgId, status: 'running', processed: 0, total, params: { since: params.since, until: params.until, draft: params.draft as unknown as JsonObject }, result: null, error: null, finishedAt: null, heartbeatAt: new Date() });
    await repo.insert(row);
    const job = this.run(orgId, row.id, since, until, base, cand);
    if (total <= INLINE_LIMIT) await job;
    else void job;
    return repo.findOneByOrFail({ id: row.id });
  }

  /** A simulation of the organization; one whose process died is closed as failed, so nobody polls it forever. */
  async get(orgId: string, id: string): Promise<Simulation | null> {
    const repo = this.ds.getRepository(Simulation);
    await this.ds.query(
      `UPDATE simulations SET status = 'failed', error = 'interrupted: the process running it stopped; start the simulation again', "finishedAt" = now()
        WHERE id = $1 AND "orgId" = $2 AND status = 'running' AND "heartbeatAt" < $3`,
      [id, orgId, new Date(Date.now() - STALE_MS)],
    );
    return repo.findOne({ where: { id, orgId } });
  }

  private async run(orgId: string, id: string, since: Date, until: Date, base: SimConfig, cand: SimConfig): Promise<void> {
    const repo = this.ds.getRepository(Simulation);
    const cmp = new Comparison(base, cand);
    try {
      let cursor: { at: Date; id: string } | null = null;
      for (;;) {
        const page = (await this.ds.query(
          `SELECT id, "actorId", capability, "createdAt", "runId", "sessionId", proposal, output, "finalOutcome" FROM decisions
            WHERE "orgId" = $1 AND "createdAt" >= $2 AND "createdAt" <= $3 ${cursor ? 'AND ("createdAt", id) > ($4, $5)' : ''}
            ORDER BY "createdAt", id LIMIT ${CHUNK}`,
          cursor ? [orgId, since, until, cursor.at, cursor.id] : [orgId, since, until],
        )) as { id: string; actorId: string; capability: string; createdAt: Date; runId: string | null; sessionId: string | null; proposal: Proposal; output: Record<string, unknown> | null; finalOutcome: string | null }[];
        for (const d of page) cmp.add({ id: d.id, actorId: d.actorId, capability: d.capability, at: d.createdAt.getTime(), runId: d.runId, sessionId: d.sessionId, proposal: d.proposal, output: d.output, finalOutcome: d.finalOutcome });
        if (page.length < CHUNK) break;
        const last = page[page.length - 1];
        cursor = { at: last.createdAt, id: last.id };
        await repo.update({ id }, { processed: cmp.size, heartbeatAt: new Date() });
        // Let requests in between pages of a large window.
        await new Promise((r) => setImmediate(r));
      }
      const report = cmp.report();
      await repo.update({ id }, { status: 'done', processed: report.total, total: report.total, result: report as unknown as JsonObject, finishedAt: new Date() });
    } catch (e) {
      await repo.update({ id }, { status: 'failed', error: (e as Error).message.slice(0, 500), finishedAt: new Date() });
    }
  }
}

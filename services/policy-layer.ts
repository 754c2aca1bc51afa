import type { DataSource, EntityManager } from 'typeorm';
import { compilePolicies, counterSpecs, policiesInScope, policyLayer } from '../engine/policies';
import type { CompiledPolicySet, CounterSpec, PolicyUsage } from '../engine/policies';
import type { PolicyDef } from '../engine/policy-schema';
import { buildFacts } from '../engine/facts';
import type { Proposal, Verdict } from '../engine/types';
import { Policy } from '../entities';
import { giveBack } from './budget-reservations';
import type { CommitResult, DecisionExtension } from './decide';
import type { PolicySnapshot, PolicyStore } from './policy-store';

/** The agent-policy part of a snapshot. */
export interface PolicyPart {
  policies: CompiledPolicySet;
}

/** Loads and compiles an organization's active agent policies into its snapshot. */
export function registerPolicyLoader(store: PolicyStore): void {
  store.addLoader(async (ds: DataSource, orgId: string) => {
    const rows = await ds.getRepository(Policy).find({ where: { orgId, isActive: true } });
    const defs = rows.map((r) => ({ ...(r.definition as PolicyDef), id: r.id }));
    return { policies: compilePolicies(defs) } satisfies PolicyPart;
  });
}

const EVIDENCE_LOOKBACK = 500;

/**
 * Agent policies around evaluation: reads the counters, evidence and exceptions
 * the pure layer needs, then spends counters and exception uses inside the
 * decision's transaction with conditional UPDATEs, so concurrent proposals in
 * any number of processes never overspend. A spend that loses a race denies.
 */
export class PolicyDecisionExtension implements DecisionExtension {
  constructor(private readonly ds: DataSource) {}

  async prepare(snapshot: PolicySnapshot, proposal: Proposal, now: number) {
    const set = (snapshot as unknown as Partial<PolicyPart>).policies;
    if (!set) return { layers: [] };
    const inScope = policiesInScope(set, proposal);
    if (inScope.length === 0) return { layers: [] };
    const orgId = snapshot.orgId;
    const facts = buildFacts(proposal, { now });
    const specs = counterSpecs(set, proposal, facts, now);

    const [counters, evidence, exceptions] = await Promise.all([
      this.readCounters(orgId, specs),
      this.readEvidence(orgId, proposal),
      this.readExceptions(orgId, proposal, inScope.map((p) => p.id)),
    ]);
    const usage: PolicyUsage = { counters, evidence, exceptions };
    const layer = policyLayer(set, usage);

    const commit = async (em: EntityManager, verdict: Verdict): Promise<CommitResult> => {
      if (verdict.outcome === 'DENY') return {};
      // Exceptions that let this proposal through are spent first: an exhausted one must not be used twice.
      const used = verdict.reasons.filter((r) => r.source === 'exception' && r.code === 'POLICY_EXCEPTION_APPLIED').map((r) => exceptions.find((e) => e.policyId === r.id)?.exceptionId).filter((x): x is string => !!x);
      const usedNow: string[] = [];
      const spentNow: CounterSpec[] = [];
      // A refusal part-way gives back what this proposal already took, so a denied proposal costs nothing.
      const refuse = async (code: string, message: string): Promise<CommitResult> => {
        for (const exId of usedNow) await em.query('UPDATE policy_exceptions SET uses = uses - 1 WHERE id = $1 AND "orgId" = $2', [exId, orgId]);
        await giveBack(em, orgId, spentNow.map((sp) => ({ key: sp.key, amount: sp.increment })));
        return { refused: { code, message } };
      };
      for (const exId of used) {
        const res = (await em.query(
          `UPDATE policy_exceptions SET uses = uses + 1 WHERE id = $1 AND "orgId" = $2 AND "revokedAt" IS NULL AND ("maxUses" IS NULL OR uses < "maxUses") AND ("expiresAt" IS NULL OR "expiresAt" > now()) RETURNING id`,
          [exId, orgId],
        )) as [unknown[], number];
        if (res[1] !== 1) return refuse('EXCEPTION_EXHAUSTED', `policy exception ${exId} was used up by a concurrent proposal`);
        usedNow.push(exId);
      }
      const exempt = new Set(verdict.reasons.filter((r) => r.source === 'exception').map((r) => r.id));
      for (const spec of specs) {
        if (exempt.has(spec.policyId)) continue;
        if (!(await spend(em, orgId, spec))) {
          return refuse(spec.kind === 'budget' ? 'BUDGET_EXCEEDED' : 'RATE_LIMIT_EXCEEDED', `${spec.label}: limit ${spec.limit} reached by a concurrent proposal`);
        }
        spentNow.push(spec);
      }
      // Budget held while people decide; rate-limit hits count as attempts and stay spent.
      const reserved = verdict.outcome === 'ALLOW' ? [] : spentNow.filter((sp) => sp.kind === 'budget' && sp.increment > 0).map((sp) => ({ key: sp.key, amount: sp.increment }));
      return reserved.length ? { reserved } : {};
    };
    return { layers: [layer], commit };
  }

  private async readCounters(orgId: string, specs: CounterSpec[]): Promise<Record<string, number>> {
    if (specs.length === 0) return {};
    const rows = (await this.ds.query('SELECT key, value FROM counters WHERE "orgId" = $1 AND key = ANY($2)', [orgId, specs.map((s) => s.key)])) as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, Number(r.value)]));
  }

  /** Earlier actions of the same run or session that were allowed: the evidence graph. */
  private async readEvidence(orgId: string, p: Proposal): Promise<PolicyUsage['evidence']> {
    if (!p.context.runId && !p.context.sessionId) return [];
    const rows = (await this.ds.query(
      `SELECT capability, "createdAt", "runId", "sessionId", output FROM decisions
        WHERE "orgId" = $1 AND "finalOutcome" = 'ALLOW' AND (("runId" IS NOT NULL AND "runId" = $2) OR ("sessionId" IS NOT NULL AND "sessionId" = $3))
        ORDER BY "createdAt" DESC LIMIT ${EVIDENCE_LOOKBACK}`,
      [orgId, p.context.runId ?? null, p.context.sessionId ?? null],
    )) as { capability: string; createdAt: Date; runId: string | null; sessionId: string | null; output: Record<string, unknown> | null }[];
    return rows.map((r) => ({ capability: r.capability, at: r.createdAt.getTime(), runId: r.runId ?? undefined, sessionId: r.sessionId ?? undefined, output: r.output ?? undefined }));
  }

  private async readExceptions(orgId: string, p: Proposal, policyIds: string[]): Promise<PolicyUsage['exceptions']> {
    const rows = (await this.ds.query(
      `SELECT id, "policyId" FROM policy_exceptions
        WHERE "orgId" = $1 AND "policyId" = ANY($2) AND "revokedAt" IS NULL
          AND ("expiresAt" IS NULL OR "expiresAt" > now()) AND ("maxUses" IS NULL OR uses < "maxUses")
          AND (("actorId" IS NOT NULL AND "actorId" = $3) OR ("runId" IS NOT NULL AND "runId" = $4))
        ORDER BY "createdAt"`,
      [orgId, policyIds, p.actor.id, p.context.runId ?? null],
    )) as { id: string; policyId: string }[];
    return rows.map((r) => ({ policyId: r.policyId, exceptionId: r.id }));
  }
}

/** Adds `increment` to a counter unless that would pass `limit`; false when it would. */
async function spend(em: EntityManager, orgId: string, spec: CounterSpec): Promise<boolean> {
  if (spec.increment > spec.limit) return false;
  const expires = spec.windowStart !== undefined && spec.windowSeconds !== undefined ? new Date(spec.windowStart + spec.windowSeconds * 2000) : null;
  const res = (await em.query(
    `INSERT INTO counters ("orgId", key, value, "expiresAt") VALUES ($1, $2, $3, $5)
     ON CONFLICT ("orgId", key) DO UPDATE SET value = counters.value + EXCLUDED.value
     WHERE counters.value + EXCLUDED.value <= $4
     RETURNING value`,
    [orgId, spec.key, spec.increment, spec.limit, expires],
  )) as unknown[];
  return res.length === 1;
}



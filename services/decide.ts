import type { DataSource, EntityManager } from 'typeorm';
import type { ApprovalPlan } from '../engine/approval';
import { evaluate } from '../engine/evaluate';
import { auditOnly, disabledVerdict, effectiveMode } from '../engine/modes';
import type { Layer } from '../engine/evaluate';
import type { ActorHistory, Outcome, Proposal, Verdict } from '../engine/types';
import { Decision } from '../entities';
import type { User } from '../entities';
import type { BudgetReservation } from '../entities';
import type { ApprovalRecords } from './approval-records';
import type { ApprovalStarter } from './approvals';
import type { AuditInput, AuditLog, DeferredInserts, SealedRecord } from './audit-log';
import { modeSettingOf } from './governance-mode';
import type { Metrics } from './metrics';
import type { Principal } from './auth';
import { unprocessable } from './errors';
import { releaseReservations } from './budget-reservations';
import { canonicalJson, newId, sha256 } from './ids';
import type { PolicySnapshot, PolicyStore } from './policy-store';
import type { WorkflowGateway } from './workflow-gateway';
import type { ProposalSummary } from '../workflows/messages';

/** Approval defaults from configuration, until a policy names its own. */
export interface ApprovalDefaults {
  tier1TimeoutSeconds: number;
  tier2TimeoutSeconds: number;
  quorum: number;
  /** WARDN escrows: how long a HELD action waits at tier B (approvers) and C (escalated). */
  escrowTierBSeconds: number;
  escrowTierCSeconds: number;
}

/**
 * Extension point for layers that need the database around evaluation (agent
 * policies: budgets, rate limits, evidence, exceptions). `prepare` reads what
 * the pure layer needs; `commit` spends counters inside the decision's
 * transaction and may refuse (a lost race), which turns the verdict into DENY.
 */
export interface DecisionExtension {
  prepare(snapshot: PolicySnapshot, proposal: Proposal, now: number, surface?: ProposeOptions['surface']): Promise<{ layers: Layer[]; commit?: (em: EntityManager, verdict: Verdict) => Promise<CommitResult> }>;
}

/** What an extension's commit did: refused (a lost race), or reserved budget that a later DENY gives back. */
export interface CommitResult {
  refused?: { code: string; message: string };
  reserved?: BudgetReservation[];
}

export interface ProposeOptions {
  surface: 'aegis' | 'wardn' | 'ascend';
  idempotencyKey?: string;
  /** The raw request body, hashed to tell a replay from a conflicting reuse of the key. */
  requestBody: unknown;
  /** Layers the surface adds for this one request (Ascend's `require_approval`). */
  extraLayers?: Layer[];
}

export interface DecisionResult {
  decision: Decision;
  auditSeq: number;
  auditHash: string;
  replayed: boolean;
  verdict: Verdict;
}

const HISTORY_TTL_MS = 60_000;

/**
 * The decision path: evaluate against the organization's compiled snapshot,
 * persist the decision and its audit record in one transaction, then start the
 * approval workflow when people are needed. Any failure before the commit
 * throws; callers answer a fail-closed DENY or 5xx, never ALLOW.
 */
export class DecideService {
  private readonly history = new Map<string, { h: ActorHistory; until: number }>();
  private readonly extensions: DecisionExtension[] = [];
  private readonly observers: ((orgId: string, snapshot: PolicySnapshot, verdict: Verdict) => void)[] = [];

  constructor(
    private readonly deps: { ds: DataSource; audit: AuditLog; store: PolicyStore; workflows: WorkflowGateway; records: ApprovalRecords; approvals: ApprovalStarter; approvalDefaults: ApprovalDefaults; metrics?: Metrics },
  ) {}

  use(ext: DecisionExtension): void {
    this.extensions.push(ext);
  }

  /** Called after each committed decision (analytics); must not throw or block. */
  observe(fn: (orgId: string, snapshot: PolicySnapshot, verdict: Verdict) => void): void {
    this.observers.push(fn);
  }

  async propose(principal: Principal, proposal: Proposal, opts: ProposeOptions): Promise<DecisionResult> {
    const { audit, store } = this.deps;
    const orgId = principal.orgId;
    // Only an idempotent request needs its body's hash (to tell a replay from a conflicting reuse of the key).
    const requestHash = opts.idempotencyKey ? sha256(canonicalJson({ surface: opts.surface, body: opts.requestBody })) : null;
    if (opts.idempotencyKey && requestHash) {
      const prior = await this.findByIdempotencyKey(orgId, opts.idempotencyKey, requestHash);
      if (prior) return prior;
    }

    const now = Date.now();
    const snapshot = await store.get(orgId);
    // The organization's governance mode holds on every surface: DISABLED evaluates nothing; AUDIT_ONLY evaluates, records, clears.
    const mode = effectiveMode(modeSettingOf(snapshot), now);
    let verdict: Verdict;
    let prepared: Awaited<ReturnType<DecisionExtension['prepare']>>[] = [];
    if (mode === 'DISABLED') verdict = disabledVerdict();
    else {
      const history = await this.actorHistory(orgId, proposal.actor.id, now);
      prepared = await Promise.all(this.extensions.map((x) => x.prepare(snapshot, proposal, now, opts.surface)));
      verdict = evaluate({ proposal, rules: snapshot.rules, risk: snapshot.risk, now, history, layers: [...prepared.flatMap((p) => p.layers), ...(opts.extraLayers ?? [])] });
      if (mode === 'AUDIT_ONLY') verdict = auditOnly(verdict);
    }

    const id = newId('dec');
    const pending = verdict.outcome === 'REQUIRE_APPROVAL' || verdict.outcome === 'ESCALATE';
    const plan = pending ? await this.planApproval(orgId, proposal, verdict, opts.surface) : null;

    const row = new Decision();
    Object.assign(row, {
      id,
      orgId,
      createdAt: new Date(now),
      actorId: proposal.actor.id,
      actorType: proposal.actor.type,
      capability: proposal.action.capability,
      runId: proposal.context.runId ?? null,
      sessionId: proposal.context.sessionId ?? null,
      surface: opts.surface,
      proposal: proposal as unknown as Record<string, unknown>,
      riskScore: verdict.risk.score,
      workflowId: null,
      workflowStartedAt: null,
      approvalPlan: plan as unknown as Record<string, unknown> | null,
      approvalState: null,
      decidedBy: [],
      decidedAt: null,
      idempotencyKey: opts.idempotencyKey ?? null,
      requestHash,
      output: null,
    });

    const reserved: BudgetReservation[] = [];
    const entry = (): AuditInput[] => {
      const modeData = verdict.mode === 'DISABLED' ? { governanceMode: 'DISABLED', ungoverned: true } : verdict.mode ? { governanceMode: verdict.mode, originalOutcome: verdict.originalOutcome ?? null } : {};
      return [{ actorType: 'api_key', actorId: principal.keyId, entityType: 'decision', entityId: id, action: 'decision.proposed', data: { actorId: proposal.actor.id, capability: proposal.action.capability, outcome: verdict.outcome, riskScore: verdict.risk.score, reasons: verdict.reasons.map((r) => r.code + (r.id ? `:${r.id}` : '')), ...modeData } }];
    };
    const rowsFor = (rec: SealedRecord, deferred: DeferredInserts): void => {
      const finalNow = verdict.outcome === 'ALLOW' || verdict.outcome === 'DENY';
      Object.assign(row, {
        outcome: verdict.outcome,
        status: finalNow ? 'final' : 'pending',
        finalOutcome: finalNow ? verdict.outcome : null,
        reason: explain(verdict),
        verdict: verdict as unknown as Record<string, unknown>,
        workflowId: finalNow ? null : `proposal-${id}`,
        approvalPlan: finalNow ? null : plan,
        auditRef: rec.id,
        auditSeq: String(rec.seq),
        auditHash: rec.hash,
      });
      // JSON columns take the value itself (see DeferredInserts).
      deferred.add('decisions', {
        id: row.id, orgId: row.orgId, actorId: row.actorId, actorType: row.actorType, capability: row.capability, runId: row.runId, sessionId: row.sessionId,
        surface: row.surface, proposal: row.proposal, outcome: row.outcome, status: row.status, finalOutcome: row.finalOutcome, riskScore: row.riskScore,
        reason: row.reason, verdict: row.verdict, workflowId: row.workflowId, approvalPlan: row.approvalPlan,
        // Only a decision still waiting for people holds budget it may give back.
        reservations: !finalNow && reserved.length ? reserved : null,
        idempotencyKey: row.idempotencyKey, requestHash: row.requestHash, auditRef: row.auditRef, auditSeq: row.auditSeq, auditHash: row.auditHash, createdAt: row.createdAt,
      });
      if (!finalNow && row.approvalPlan) {
        // The approval is its own subject from the start: links, deliveries and queues key on it.
        const a = this.deps.records.newRow({ orgId, subjectType: 'decision', subjectId: id, workflowId: row.workflowId as string, plan: row.approvalPlan as unknown as ApprovalPlan, summary: summaryOf(row, proposal), at: row.createdAt });
        deferred.add('approvals', {
          id: a.id, orgId: a.orgId, subjectType: a.subjectType, subjectId: a.subjectId, workflowId: a.workflowId, proposerId: a.proposerId,
          plan: a.plan, state: a.state, status: a.status, summary: a.summary, createdAt: a.createdAt, updatedAt: a.updatedAt,
        });
      }
    };
    const commits = prepared.filter((p) => p.commit);
    const evaluated = verdict;
    let result: { sealed: SealedRecord[] };
    try {
      result = commits.length === 0
        ? // Nothing to spend: the decision's rows follow from its record alone, and join the pipelined group commit.
          await audit.appendRows(orgId, entry(), ([rec], deferred) => rowsFor(rec, deferred))
        : await audit.append(
            orgId,
            async (em) => {
              // Run again from the start if the batch is retried.
              verdict = evaluated;
              reserved.length = 0;
              for (const p of commits) {
                const res: CommitResult = p.commit ? await p.commit(em, verdict) : {};
                if (res.reserved) reserved.push(...res.reserved);
                if (res.refused) {
                  // A counter was spent by a concurrent proposal between read and commit: deny, never overspend.
                  const r = { source: 'policy' as const, effect: 'DENY' as const, code: res.refused.code, message: res.refused.message };
                  verdict = { ...verdict, outcome: 'DENY', decisive: r, reasons: [...verdict.reasons, r], approval: undefined };
                }
              }
              return entry();
            },
            async (_em, [rec], deferred) => rowsFor(rec, deferred),
          );
    } catch (e) {
      if (opts.idempotencyKey && requestHash && isUniqueViolation(e)) {
        const prior = await this.findByIdempotencyKey(orgId, opts.idempotencyKey, requestHash);
        if (prior) return prior;
      }
      throw e;
    }
    const [rec] = result.sealed;
    this.deps.metrics?.countDecision(opts.surface, verdict.outcome);
    this.noteOutcome(orgId, proposal.actor.id, row.finalOutcome);
    for (const fn of this.observers) fn(orgId, snapshot, verdict);

    if (verdict.notify.length) await this.startNotification(orgId, id, verdict, summaryOf(row, proposal));
    if (row.status === 'pending' && row.approvalPlan) {
      try {
        await this.deps.approvals.startProposal(row, summaryOf(row, proposal));
      } catch (e) {
        // Nobody will ever be asked: close it as DENY, audited, rather than leave it hanging.
        await this.failPending(orgId, id, 'WORKFLOW_START_FAILED', (e as Error).message);
        throw e;
      }
    }
    return { decision: row, auditSeq: rec.seq, auditHash: rec.hash, replayed: false, verdict };
  }

  /** A notice never blocks or changes a decision: a failed start is audited and the decision stands. */
  private async startNotification(orgId: string, id: string, verdict: Verdict, summary: ProposalSummary): Promise<void> {
    const notifications = verdict.notify.map((n) => ({ ruleId: n.id, name: n.name, channels: n.channels, priority: n.priority }));
    try {
      await this.deps.workflows.startNotification({ orgId, decisionId: id, notifications, summary });
      this.deps.metrics?.workflowStarts.inc({ kind: 'notification', result: 'started' });
    } catch (e) {
      this.deps.metrics?.workflowStarts.inc({ kind: 'notification', result: 'failed' });
      await this.deps.audit
        .append(orgId, [{ actorType: 'system', actorId: 'decide', entityType: 'decision', entityId: id, action: 'notification.failed', data: { detail: (e as Error).message.slice(0, 200) } }])
        .catch(() => undefined);
    }
  }

  private async failPending(orgId: string, id: string, code: string, detail: string): Promise<void> {
    await this.deps.audit.append(orgId, async (em) => {
      await em.query(`UPDATE decisions SET status = 'final', "finalOutcome" = 'DENY', "decidedAt" = now() WHERE id = $1 AND "orgId" = $2`, [id, orgId]);
      await this.deps.records.closeUnstarted(em, orgId, 'decision', id, code);
      const released = await releaseReservations(em, orgId, id);
      return [{ actorType: 'system', actorId: 'decide', entityType: 'decision', entityId: id, action: 'decision.finalized', data: { outcome: 'DENY', code, detail: detail.slice(0, 200), ...(released.length ? { released } : {}) } }];
    });
  }

  private async findByIdempotencyKey(orgId: string, key: string, requestHash: string): Promise<DecisionResult | null> {
    const prior = await this.deps.ds.getRepository(Decision).findOne({ where: { orgId, idempotencyKey: key } });
    if (!prior) return null;
    if (prior.requestHash !== requestHash) {
      throw unprocessable('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body', 'Idempotency-Key');
    }
    return { decision: prior, auditSeq: Number(prior.auditSeq), auditHash: prior.auditHash, replayed: true, verdict: prior.verdict as unknown as Verdict };
  }

  /**
   * Tier 1: the approvers a policy named, else the organization's approvers;
   * tier 2: its admins. ESCALATE starts at tier 2.
   */
  async planApproval(orgId: string, proposal: Proposal, verdict: Verdict, surface: ProposeOptions['surface'] = 'aegis'): Promise<ApprovalPlan> {
    // Only what a plan needs, without entity hydration: this runs for every proposal that waits for people.
    const users = (await this.deps.ds.query('SELECT id, email, roles FROM users WHERE "orgId" = $1 AND "disabledAt" IS NULL ORDER BY "createdAt", id', [orgId])) as Pick<User, 'id' | 'email' | 'roles'>[];
    const named = verdict.approval?.approvers ?? [];
    const resolve = (ref: string) => users.find((u) => u.id === ref || u.email.toLowerCase() === ref.toLowerCase())?.id;
    const tier1 = named.length ? named.map(resolve).filter((x): x is string => !!x) : users.filter((u) => u.roles.includes('approver')).map((u) => u.id);
    const admins = users.filter((u) => u.roles.includes('admin')).map((u) => u.id);
    const d = this.deps.approvalDefaults;
    const quorum = Math.max(1, Math.min(verdict.approval?.quorum ?? d.quorum, Math.max(1, tier1.length)));
    const tiers = [
      { label: 'approvers', approvers: tier1, quorum, timeoutSeconds: verdict.approval?.timeoutSeconds ?? d.tier1TimeoutSeconds },
      { label: 'admins', approvers: admins, quorum: 1, timeoutSeconds: d.tier2TimeoutSeconds },
    ];
    const startTier = Math.min(Math.max(verdict.approval?.startTier ?? (verdict.outcome === 'ESCALATE' ? 2 : 1), 1), tiers.length);
    if (surface === 'wardn') {
      // An escrow: one tier with WARDN's deadline (B held for approvers, C escalated to admins); silence ends BLOCKED.
      const t = tiers[startTier - 1];
      const timeoutSeconds = verdict.approval?.timeoutSeconds ?? (startTier > 1 ? d.escrowTierCSeconds : d.escrowTierBSeconds);
      return { tiers: [{ ...t, timeoutSeconds }], startTier: 1, proposerId: proposal.actor.id, denyEndsIt: true };
    }
    return { tiers, startTier, proposerId: proposal.actor.id, denyEndsIt: true };
  }

  /** Recent outcomes of an actor for the risk score's historical factor; re-read at most once a minute. */
  private async actorHistory(orgId: string, actorId: string, now: number): Promise<ActorHistory> {
    const key = `${orgId}\u0000${actorId}`;
    const hit = this.history.get(key);
    if (hit && hit.until > now) return hit.h;
    const [row] = (await this.deps.ds.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE "finalOutcome" = 'DENY')::int AS denied
         FROM (SELECT "finalOutcome" FROM decisions WHERE "orgId" = $1 AND "actorId" = $2 AND "createdAt" > now() - interval '7 days' ORDER BY "createdAt" DESC LIMIT 200) d`,
      [orgId, actorId],
    )) as { total: number; denied: number }[];
    const h = { total: row.total, denied: row.denied };
    if (this.history.size > 50_000) this.history.clear();
    this.history.set(key, { h, until: now + HISTORY_TTL_MS });
    return h;
  }

  private noteOutcome(orgId: string, actorId: string, outcome: string | null): void {
    const hit = this.history.get(`${orgId}\u0000${actorId}`);
    if (!hit || !outcome) return;
    hit.h = { total: hit.h.total + 1, denied: hit.h.denied + (outcome === 'DENY' ? 1 : 0) };
  }
}

/** One sentence a person can read: the decisive reason, then the risk. */
export function explain(v: Verdict): string {
  const head = v.decisive?.message ?? outcomeText(v.outcome);
  const risk = v.reasons.find((r) => r.source === 'risk');
  return risk && risk !== v.decisive ? `${head}. ${risk.message}` : head;
}

function outcomeText(o: Outcome): string {
  return { ALLOW: 'Allowed', DENY: 'Denied', REQUIRE_APPROVAL: 'Requires approval', ESCALATE: 'Escalated' }[o];
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === '23505';
}

/** What the approval and notification mails show about a decision. */
export function summaryOf(row: Decision, proposal: Proposal): ProposalSummary {
  return { capability: row.capability, actorId: row.actorId, actorType: row.actorType, riskScore: row.riskScore, reason: row.reason, outcome: row.outcome, parameters: proposal.action.parameters, environment: proposal.environment, ...(proposal.reasoning ? { reasoning: proposal.reasoning } : {}), payloadHash: sha256(canonicalJson(proposal)) };
}

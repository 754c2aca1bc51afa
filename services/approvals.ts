import type { DataSource } from 'typeorm';
import { eligibleApprovers, initialState, tierDeadline } from '../engine/approval';
import type { ApprovalPlan, ApprovalState, VoteChoice } from '../engine/approval';
import { Approval, Decision } from '../entities';
import type { Proposal } from '../engine/types';
import { moveRecord } from '../workflows/messages';
import type { DecideResult, MoveAudit, ProposalSummary, VoteChannel } from '../workflows/messages';
import type { ApprovalLinks } from './approval-links';
import type { ApprovalRecords } from './approval-records';
import type { AuditLog } from './audit-log';
import { summaryOf } from './decide';
import type { Metrics } from './metrics';
import { isAdminRole } from './auth';
import type { Principal } from './auth';
import { DomainError } from './errors';
import type { People, Person } from './people';
import { isAdmin } from './people';
import type { WorkflowGateway } from './workflow-gateway';

/** Who acts on an approval: a person (from a link, Slack, or their API key), or an admin key that belongs to nobody. */
export type Actor = { kind: 'person'; person: Person; viaAdminKey?: boolean } | { kind: 'admin-key'; keyId: string };

export interface VoteRequest {
  choice: VoteChoice;
  comment?: string;
  conditions?: string[];
  via: VoteChannel;
}

export interface VoteResult extends DecideResult {
  approvalId: string;
  /** The absent approver this vote counted for (the voter is their delegate). */
  onBehalfOf?: string;
}

/** One item of a person's queue. */
export interface PendingItem {
  approval: Approval;
  summary: ProposalSummary;
  tier: number;
  deadline: string | null;
  onBehalfOf?: string;
}

const actorId = (a: Actor): string => (a.kind === 'person' ? a.person.id : `key:${a.keyId}`);
const auditActor = (a: Actor): { actorType: 'user' | 'api_key'; actorId: string } =>
  a.kind === 'person' ? { actorType: 'user', actorId: a.person.id } : { actorType: 'api_key', actorId: a.keyId };
const planOf = (a: Approval) => a.plan as unknown as ApprovalPlan;
const stateOf = (a: Approval): ApprovalState => (a.state as unknown as ApprovalState | null) ?? initialState(planOf(a), a.createdAt.toISOString());

/** The row's status changes only once the workflow's end is persisted: an ended row is ended for good. */
function ensureOpen(a: Approval): void {
  if (a.status !== 'PENDING') throw new DomainError('NOT_PENDING', `the approval is no longer pending (${a.status})`);
}

/** Everyone who has voted, and everyone a vote counted for. */
function votedIds(state: ApprovalState): Set<string> {
  return new Set([...state.approvals, ...state.denials].flatMap((v) => [v.approverId, v.onBehalfOf ?? v.approverId]));
}

/**
 * The approval core: the only place that decides who may act on an approval and
 * records it. Every channel (the emailed link page, Slack, the Ascend and
 * approvals APIs, Aegis waive / withdraw) authenticates a person and calls this.
 * The workflow's update validator has the last word (from the engine's own check),
 * so a refusal reaches the person at once as a DomainError and the workflow keeps
 * serving; this service adds who the person is, whom they stand in for, and the audit.
 * It also starts approvals' workflows, and resumes those a crashed process never started.
 */
/** What the decision path needs of the approval core: starting an approval's workflow. */
export interface ApprovalStarter {
  startProposal(row: Decision, summary: ProposalSummary): Promise<void>;
}

export class ApprovalService implements ApprovalStarter {
  private readonly marks: StartedMarks;

  constructor(
    private readonly deps: { ds: DataSource; audit: AuditLog; workflows: WorkflowGateway; people: People; links: ApprovalLinks; records: ApprovalRecords; publicUrl: string; metrics?: Metrics },
  ) {
    this.marks = new StartedMarks(deps.ds);
  }

  /** Waits until every "workflow started" mark taken so far is written (shutdown, tests). */
  settleMarks(): Promise<void> {
    return this.marks.settle();
  }

  async get(orgId: string, id: string): Promise<Approval> {
    const a = await this.deps.ds.getRepository(Approval).findOne({ where: { orgId, id } });
    if (!a) throw new DomainError('NOT_FOUND', `approval ${id} not found`, 'approval_id');
    return a;
  }

  /**
   * An approval by id alone, for a channel that learns the organization from the approval
   * (a signed Slack click carries the approval id its button was given).
   */
  async find(id: string): Promise<Approval | null> {
    return this.deps.ds.getRepository(Approval).findOne({ where: { id } });
  }

  /** The organization's open approvals of one subject type, oldest first (WARDN's open escrows). */
  async open(orgId: string, subjectType: string, page: { limit: number; offset: number }): Promise<{ items: Approval[]; total: number }> {
    const [items, total] = await this.deps.ds.getRepository(Approval).findAndCount({ where: { orgId, subjectType, status: 'PENDING' }, order: { createdAt: 'ASC', id: 'ASC' }, take: page.limit, skip: page.offset });
    return { items, total };
  }

  async forSubject(orgId: string, subjectType: string, subjectId: string): Promise<Approval | null> {
    return this.deps.ds.getRepository(Approval).findOne({ where: { orgId, subjectType, subjectId } });
  }

  /**
   * Starts the workflow of a decision's approval (idempotent by workflow id) and marks the
   * decision started. Throws when Temporal cannot be reached: the caller fails the decision closed.
   */
  async startProposal(row: Decision, summary: ProposalSummary): Promise<void> {
    try {
      const callbackUrl = (row.proposal as { callbackUrl?: string }).callbackUrl;
      await this.deps.workflows.startProposal({ orgId: row.orgId, decisionId: row.id, plan: row.approvalPlan as unknown as ApprovalPlan, summary, ...(callbackUrl ? { callbackUrl } : {}) });
    } catch (e) {
      this.deps.metrics?.workflowStarts.inc({ kind: 'approval', result: 'failed' });
      throw e;
    }
    this.deps.metrics?.workflowStarts.inc({ kind: 'approval', result: 'started' });
    row.workflowStartedAt = new Date();
    // Best effort, off the answer's path: the workflow runs either way. If this mark is lost, the
    // sweep starts it again, which is a no-op by workflow id, and marks it then.
    this.marks.add(row.id, row.orgId, row.workflowStartedAt);
  }

  /**
   * Starts the approval workflow of pending decisions whose process died between
   * committing them and starting it (older than `graceMs`, so a start in flight is
   * not raced). Starting is idempotent by workflow id. Returns how many it resumed.
   */
  async resumeUnstarted(graceMs = 30_000, limit = 100): Promise<number> {
    // Marks still in flight would make their decisions look unstarted: write them first.
    await this.marks.settle();
    const rows = await this.deps.ds
      .getRepository(Decision)
      .createQueryBuilder('d')
      .where(`d.status = 'pending' AND d."workflowStartedAt" IS NULL AND d."approvalPlan" IS NOT NULL AND d."createdAt" < :before`, { before: new Date(Date.now() - graceMs) })
      .orderBy('d."createdAt"', 'ASC')
      .limit(limit)
      .getMany();
    let resumed = 0;
    for (const row of rows) {
      try {
        await this.startProposal(row, summaryOf(row, row.proposal as unknown as Proposal));
        await this.deps.audit.append(row.orgId, [{ actorType: 'system', actorId: 'approvals', entityType: 'decision', entityId: row.id, action: 'approval.resumed', data: { workflowId: row.workflowId }, dedupeKey: `${row.workflowId ?? row.id}:resumed` }]);
        resumed += 1;
      } catch {
        // Temporal is unreachable: the next sweep tries again; the decision stays pending, never ALLOW.
      }
    }
    // Its own marks land before it answers, so a sweep right after it does not resume them again.
    await this.marks.settle();
    return resumed;
  }

  /**
   * The approval a link votes on, checked against what the link's signature binds (its
   * subject): a link never votes on another approval.
   */
  async forLink(grant: { orgId: string; decisionId: string; workflowId: string }): Promise<Approval> {
    const a = await this.deps.records.forWorkflow(grant.workflowId);
    if (!a || a.orgId !== grant.orgId || a.subjectId !== grant.decisionId) throw new DomainError('NOT_FOUND', 'this approval link is not valid');
    return a;
  }

  /** The actor behind an API key: its person, else (admin keys only) the key itself. */
  async actorFor(principal: Principal): Promise<Actor> {
    const person = await this.deps.people.forPrincipal(principal);
    if (person) return { kind: 'person', person, viaAdminKey: isAdminRole(principal.role) };
    if (isAdminRole(principal.role)) return { kind: 'admin-key', keyId: principal.keyId };
    throw new DomainError('NOT_A_PERSON', 'this API key belongs to no person: create one with user_id to vote (POST /api/v1/keys)', 'X-API-Key');
  }

  /**
   * Records a person's approve / deny / conditional on an approval, as themselves or,
   * while an approver is away, as that approver's delegate. Refusals (self-approval,
   * an outsider, a second vote, an ended approval, a removed person) are DomainErrors.
   */
  async vote(approval: Approval, actor: Actor, v: VoteRequest): Promise<VoteResult> {
    ensureOpen(approval);
    if (actor.kind === 'person' && actor.person.disabled) throw new DomainError('USER_DISABLED', 'this person no longer approves in Arbiter');
    const onBehalfOf = actor.kind === 'person' ? await this.standsInFor(approval, actor.person) : undefined;
    const admin = actor.kind === 'admin-key' || isAdmin(actor.kind === 'person' ? actor.person : null) || (actor.kind === 'person' && !!actor.viaAdminKey);
    // The record the workflow writes as it counts the vote (the API writes it only for a worker that does not).
    const record: MoveAudit = {
      ...auditActor(actor),
      entityType: approval.subjectType,
      entityId: approval.subjectId,
      action: `approval.${v.choice}`,
      data: {
        approvalId: approval.id,
        via: v.via,
        comment: v.comment ?? null,
        ...(onBehalfOf ? { delegated: true, onBehalfOf } : {}),
        ...(v.conditions?.length ? { conditions: v.conditions } : {}),
      },
      fill: ['tier', 'status'],
    };
    const result = await this.reach(approval, () => this.deps.workflows.decide(approval.workflowId, {
      approverId: actorId(actor),
      decision: v.choice,
      via: v.via,
      isAdmin: admin,
      ...(v.comment ? { comment: v.comment } : {}),
      ...(v.conditions?.length ? { conditions: v.conditions } : {}),
      ...(onBehalfOf ? { onBehalfOf } : {}),
      audit: record,
    }));
    await this.recordUnaudited(approval.orgId, record, result);
    return { ...result, approvalId: approval.id, ...(onBehalfOf ? { onBehalfOf } : {}) };
  }

  /** An admin ends the approval as approved, with a reason; never the proposer, whatever their role. */
  async waive(approval: Approval, actor: Actor, reason: string): Promise<VoteResult> {
    ensureOpen(approval);
    const record: MoveAudit = { ...auditActor(actor), entityType: approval.subjectType, entityId: approval.subjectId, action: 'approval.waive', data: { approvalId: approval.id, reason }, fill: ['status'] };
    const result = await this.reach(approval, () => this.deps.workflows.waive(approval.workflowId, { adminId: actorId(actor), reason, audit: record }));
    await this.recordUnaudited(approval.orgId, record, result);
    return { ...result, approvalId: approval.id };
  }

  /**
   * The proposer takes its request back; it ends as DENY. Who acts for the proposer: the
   * key that proposed it, an admin key, or the person who is the proposer. Anyone else is
   * refused by the engine (NOT_PROPOSER).
   */
  async withdraw(approval: Approval, principal: Principal, opts: { proposedByKey: string | null; reason?: string }): Promise<VoteResult> {
    ensureOpen(approval);
    const person = await this.deps.people.forPrincipal(principal);
    const actsForProposer = isAdminRole(principal.role) || principal.keyId === opts.proposedByKey || person?.id === approval.proposerId;
    const by = actsForProposer ? approval.proposerId : (person?.id ?? `key:${principal.keyId}`);
    const record: MoveAudit = { actorType: 'api_key', actorId: principal.keyId, entityType: approval.subjectType, entityId: approval.subjectId, action: 'approval.withdraw', data: { approvalId: approval.id, reason: opts.reason ?? null }, fill: ['status'] };
    const result = await this.reach(approval, () => this.deps.workflows.withdraw(approval.workflowId, { by, ...(opts.reason ? { reason: opts.reason } : {}), audit: record }));
    await this.recordUnaudited(approval.orgId, record, result);
    return { ...result, approvalId: approval.id };
  }

  /** A move's record, when the worker that counted it did not write it (a worker from before `MOVE_AUDIT_PATCH`). */
  private async recordUnaudited(orgId: string, record: MoveAudit, result: DecideResult): Promise<void> {
    if (result.audited) return;
    await this.deps.audit.append(orgId, [moveRecord(record, result)]);
  }

  /**
   * Sends a move to the approval's workflow. Its workflow not found while the approval is
   * still open means it has not started yet (between the decision's commit and the start,
   * or until the sweep restarts it): that is "try again in a moment" (503), not "ended" (409).
   */
  private async reach<T>(approval: Approval, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      if (e instanceof DomainError && e.code === 'NOT_PENDING') {
        const [row] = (await this.deps.ds.query('SELECT status FROM approvals WHERE id = $1', [approval.id])) as { status: string }[];
        if (row?.status === 'PENDING') throw new DomainError('APPROVAL_UNAVAILABLE', 'the approval is still starting; try again in a moment');
      }
      throw e;
    }
  }

  /**
   * Whom `person` votes for: themselves when they may decide now; else the first
   * approver who may decide now, has not, and has delegated to them. The proposer
   * is never anyone's delegate (the engine refuses that too).
   */
  private async standsInFor(approval: Approval, person: Person): Promise<string | undefined> {
    const plan = planOf(approval);
    const state = stateOf(approval);
    const eligible = eligibleApprovers(plan, state);
    if (eligible.has(person.id)) return undefined;
    const voted = votedIds(state);
    const delegators = await this.deps.people.delegatorsOf(approval.orgId, person.id, new Date());
    return delegators.find((d) => eligible.has(d.id) && !voted.has(d.id) && d.id !== approval.proposerId)?.id;
  }

  /** What waits for `person` now, as an approver or as someone's delegate; oldest first. */
  async pending(person: Person, page: { limit: number; offset: number }): Promise<{ items: PendingItem[]; total: number }> {
    const delegators = await this.deps.people.delegatorsOf(person.orgId, person.id, new Date());
    // The open approvals of one organization are few (people answer them); filter them here with the engine's rules.
    const rows = await this.deps.ds.getRepository(Approval).find({ where: { orgId: person.orgId, status: 'PENDING' }, order: { createdAt: 'ASC', id: 'ASC' }, take: 5000 });
    const mine: PendingItem[] = [];
    for (const a of rows) {
      if (a.proposerId === person.id) continue;
      const plan = planOf(a);
      const state = stateOf(a);
      if (state.status !== 'PENDING') continue;
      const eligible = eligibleApprovers(plan, state);
      const voted = votedIds(state);
      const base = { approval: a, summary: a.summary as unknown as ProposalSummary, tier: state.tier, deadline: tierDeadline(plan, state) };
      if (eligible.has(person.id) && !voted.has(person.id)) mine.push(base);
      else {
        const d = voted.has(person.id) ? undefined : delegators.find((x) => eligible.has(x.id) && !voted.has(x.id) && x.id !== a.proposerId);
        if (d) mine.push({ ...base, onBehalfOf: d.id });
      }
    }
    return { items: mine.slice(page.offset, page.offset + page.limit), total: mine.length };
  }

  /** A one-time page link for `person` on `approval`, valid while it can still be decided. */
  async pageLink(approval: Approval, person: Person): Promise<string> {
    const plan = planOf(approval);
    const state = stateOf(approval);
    const deadline = Date.parse(tierDeadline(plan, state) ?? '');
    const later = plan.tiers.slice(state.tier).reduce((sum, t) => sum + t.timeoutSeconds, 0);
    const ttlSeconds = Math.max(60, Math.ceil(((Number.isNaN(deadline) ? Date.now() : deadline) - Date.now()) / 1000) + later);
    const token = await this.deps.ds.transaction((em) =>
      this.deps.links.issue(em, { orgId: approval.orgId, decisionId: approval.subjectId, approvalId: approval.id, workflowId: approval.workflowId, approverId: person.id, tier: state.tier, ttlSeconds }),
    );
    return `${this.deps.publicUrl}/approve/${encodeURIComponent(token)}`;
  }
}

/**
 * The "workflow started" marks, written in batches: one statement for all the marks taken
 * while the one before was out, waiting for no fsync (synchronous_commit off for that one
 * transaction). A mark lost in a crash costs one idempotent restart by the sweep, and a
 * failed write is dropped for the same reason: it must never fail a running approval.
 */
class StartedMarks {
  private pending: { id: string; orgId: string; at: Date }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly ds: DataSource) {}

  add(id: string, orgId: string, at: Date): void {
    this.pending.push({ id, orgId, at });
    this.flushing ??= new Promise<void>((r) => setImmediate(r)).then(() => this.flush());
  }

  async settle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, 500);
      await this.ds
        .transaction(async (em) => {
          await em.query('SET LOCAL synchronous_commit = off');
          await em.query(
            `UPDATE decisions d SET "workflowStartedAt" = m.at FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS m(id, org, at) WHERE d.id = m.id AND d."orgId" = m.org`,
            [batch.map((m) => m.id), batch.map((m) => m.orgId), batch.map((m) => m.at.toISOString())],
          );
        })
        .catch(() => undefined);
    }
    this.flushing = null;
  }
}

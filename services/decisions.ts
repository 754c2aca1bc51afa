import type { DataSource } from 'typeorm';
import { Decision } from '../entities';
import type { JsonObject } from '../entities/json';
import type { AuditLog } from './audit-log';
import type { DecisionEvents } from './decision-events';
import { DomainError } from './errors';

/** Decisions the audit says were proposed with `:proposer` (an agent's key). */
const PROPOSED_BY = `EXISTS (SELECT 1 FROM audit_records r WHERE r.id = d."auditRef" AND r."orgId" = d."orgId" AND r."actorType" = 'api_key' AND r."actorId" = :proposer)`;

/** Filters every surface's decision lists share; each surface maps its own words onto them. */
export interface DecisionFilter {
  actorId?: string;
  capability?: string;
  since?: Date;
  until?: Date;
  /** Final ALLOW or DENY. */
  finalOutcome?: 'ALLOW' | 'DENY';
  /** Still waiting for people; with `outcome`, only those held for that reason. */
  pending?: boolean;
  outcome?: 'REQUIRE_APPROVAL' | 'ESCALATE';
  /** Only those proposed with this key. */
  proposer?: string;
}

/**
 * The read side of decisions for every surface (Aegis, Ascend's actions, WARDN's
 * escrows): one by id, long-polled, pages by cursor or offset, and the key that
 * proposed one. Writes stay with DecideService and the workflows' activities.
 */
export class DecisionReader {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditLog,
    private readonly events?: DecisionEvents,
  ) {}

  /** One decision, or a NOT_FOUND; with `proposer`, only if that key proposed it. */
  async get(orgId: string, id: string, proposer?: string | null): Promise<Decision> {
    const qb = this.ds.getRepository(Decision).createQueryBuilder('d').where('d.id = :id AND d."orgId" = :org', { id, org: orgId });
    if (proposer) qb.andWhere(PROPOSED_BY, { proposer });
    const d = await qb.getOne();
    if (!d) throw new DomainError('NOT_FOUND', `decision ${id} not found`, 'id');
    return d;
  }

  async find(orgId: string, id: string): Promise<Decision | null> {
    return this.ds.getRepository(Decision).findOne({ where: { id, orgId } });
  }

  /** The decision, re-read until it is final or `waitSeconds` have passed (the long-poll). */
  async waitFinal(orgId: string, id: string, waitSeconds: number, proposer?: string | null): Promise<Decision> {
    let d = await this.get(orgId, id, proposer);
    const deadline = Date.now() + waitSeconds * 1000;
    while (d.status === 'pending' && Date.now() < deadline) {
      // Woken by the decision's own NOTIFY; the timer is the safety net (a second while listening, else a quarter).
      const step = Math.min(deadline - Date.now(), this.events?.listening ? 1000 : 250);
      if (this.events) await this.events.wait(id, step);
      else await new Promise((ok) => setTimeout(ok, step));
      d = (await this.find(orgId, id)) ?? d;
    }
    return d;
  }

  private query(orgId: string, f: DecisionFilter) {
    const qb = this.ds.getRepository(Decision).createQueryBuilder('d').where('d."orgId" = :org', { org: orgId });
    if (f.proposer) qb.andWhere(PROPOSED_BY, { proposer: f.proposer });
    if (f.actorId) qb.andWhere('d."actorId" = :actor', { actor: f.actorId });
    if (f.capability) qb.andWhere('d.capability = :cap', { cap: f.capability });
    if (f.since) qb.andWhere('d."createdAt" >= :since', { since: f.since });
    if (f.until) qb.andWhere('d."createdAt" <= :until', { until: f.until });
    if (f.finalOutcome) qb.andWhere('d."finalOutcome" = :fo', { fo: f.finalOutcome });
    if (f.pending) qb.andWhere(`d.status = 'pending'`);
    if (f.outcome) qb.andWhere('d.outcome = :o', { o: f.outcome });
    return qb.orderBy('d."createdAt"', 'DESC').addOrderBy('d.id', 'DESC');
  }

  /** Newest first, after the (createdAt, id) cursor; one more than `limit` tells whether a next page exists. */
  async page(orgId: string, f: DecisionFilter, limit: number, after?: { createdAt: Date; id: string }): Promise<{ items: Decision[]; more: boolean }> {
    const qb = this.query(orgId, f);
    if (after) qb.andWhere('(d."createdAt", d.id) < (:cat, :cid)', { cat: after.createdAt, cid: after.id });
    const rows = await qb.limit(limit + 1).getMany();
    return { items: rows.slice(0, limit), more: rows.length > limit };
  }

  /** Newest first, by offset, with the total. */
  async list(orgId: string, f: DecisionFilter, limit: number, offset: number): Promise<{ items: Decision[]; total: number }> {
    const [items, total] = await this.query(orgId, f).skip(offset).take(limit).getManyAndCount();
    return { items, total };
  }

  /** The API key that proposed a decision (its `decision.proposed` record's actor), or null. */
  async proposingKey(orgId: string, id: string): Promise<string | null> {
    const [row] = (await this.ds.query(`SELECT r."actorId" FROM decisions d JOIN audit_records r ON r.id = d."auditRef" WHERE d.id = $1 AND d."orgId" = $2 AND r."actorType" = 'api_key'`, [id, orgId])) as { actorId: string }[];
    return row?.actorId ?? null;
  }

  /** Records what an allowed action produced (the evidence grounding rules read), once. */
  async recordResult(orgId: string, keyId: string, id: string, output: JsonObject): Promise<Decision> {
    const d = await this.get(orgId, id);
    if (d.finalOutcome !== 'ALLOW') throw new DomainError('NOT_ALLOWED', 'only an allowed action has a result');
    if (d.output) throw new DomainError('RESULT_EXISTS', 'the result of this action was already reported');
    await this.audit.append(orgId, [{ actorType: 'api_key', actorId: keyId, entityType: 'decision', entityId: d.id, action: 'decision.result', data: { output } }], async (em) => {
      await em.update(Decision, { id: d.id, orgId }, { output });
    });
    return d;
  }
}

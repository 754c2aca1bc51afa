import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { ApprovalToken } from '../entities';
import { newId, sha256 } from './ids';

/** Why a link cannot be used, as a stable code. */
export type LinkProblem = 'TOKEN_MALFORMED' | 'TOKEN_NOT_FOUND' | 'TOKEN_BAD_SIGNATURE' | 'TOKEN_EXPIRED' | 'TOKEN_USED';

export interface LinkGrant {
  tokenId: string;
  orgId: string;
  decisionId: string;
  /** The approval voted on (null only for links issued before approvals had rows). */
  approvalId: string | null;
  workflowId: string;
  approverId: string;
  tier: number;
}

/**
 * One-time approval links: `<id>.<secret>.<signature>`. The signature (HMAC over id,
 * secret, decision, approver, tier and expiry) binds the link to what it decides;
 * only SHA-256(secret) is stored; `usedAt` is claimed with one conditional UPDATE,
 * so two clicks cannot both count.
 */
export class ApprovalLinks {
  constructor(private readonly ds: DataSource, private readonly signingSecret: string) {}

  private sign(id: string, secret: string, decisionId: string, approverId: string, tier: number, expiresAt: Date): string {
    return createHmac('sha256', this.signingSecret).update([id, secret, decisionId, approverId, tier, expiresAt.toISOString()].join('|')).digest('base64url').slice(0, 32);
  }

  /** Issues a link token inside the caller's transaction. */
  async issue(em: EntityManager, g: Omit<LinkGrant, 'tokenId' | 'approvalId'> & { approvalId?: string | null; ttlSeconds: number; now?: Date }): Promise<string> {
    const id = newId('apt');
    const secret = randomBytes(24).toString('base64url');
    const expiresAt = new Date((g.now ?? new Date()).getTime() + g.ttlSeconds * 1000);
    expiresAt.setMilliseconds(0);
    await em.insert(ApprovalToken, { id, orgId: g.orgId, decisionId: g.decisionId, approvalId: g.approvalId ?? null, workflowId: g.workflowId, approverId: g.approverId, tier: g.tier, secretHash: sha256(secret), expiresAt, usedAt: null });
    return `${id}.${secret}.${this.sign(id, secret, g.decisionId, g.approverId, g.tier, expiresAt)}`;
  }

  /** Checks a token without using it (the GET page). */
  async inspect(token: string): Promise<{ ok: true; grant: LinkGrant; expiresAt: Date } | { ok: false; problem: LinkProblem }> {
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !p || p.length > 200 || !/^[A-Za-z0-9_-]+$/.test(p))) return { ok: false, problem: 'TOKEN_MALFORMED' };
    const [id, secret, sig] = parts;
    const row = await this.ds.getRepository(ApprovalToken).findOne({ where: { id } });
    if (!row) return { ok: false, problem: 'TOKEN_NOT_FOUND' };
    const expected = Buffer.from(this.sign(id, secret, row.decisionId, row.approverId, row.tier, row.expiresAt));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given) || sha256(secret) !== row.secretHash) {
      return { ok: false, problem: 'TOKEN_BAD_SIGNATURE' };
    }
    if (row.usedAt) return { ok: false, problem: 'TOKEN_USED' };
    if (row.expiresAt.getTime() <= Date.now()) return { ok: false, problem: 'TOKEN_EXPIRED' };
    return { ok: true, grant: { tokenId: row.id, orgId: row.orgId, decisionId: row.decisionId, approvalId: row.approvalId, workflowId: row.workflowId, approverId: row.approverId, tier: row.tier }, expiresAt: row.expiresAt };
  }

  /** Marks the token used; false when another request used it first. */
  async claim(tokenId: string): Promise<boolean> {
    const res = (await this.ds.query('UPDATE approval_tokens SET "usedAt" = now() WHERE id = $1 AND "usedAt" IS NULL AND "expiresAt" > now() RETURNING id', [tokenId])) as [unknown[], number];
    return res[1] === 1;
  }

  /** Gives a claimed token back when the decision could not be delivered (a transient failure). */
  async release(tokenId: string): Promise<void> {
    await this.ds.query('UPDATE approval_tokens SET "usedAt" = NULL WHERE id = $1', [tokenId]);
  }
}

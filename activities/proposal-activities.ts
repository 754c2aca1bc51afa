import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { IsNull } from 'typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ApprovalState } from '../engine/approval';
import { Decision, EmailMessage, User } from '../entities';
import type { JsonObject } from '../entities/json';
import type { ApprovalLinks } from '../services/approval-links';
import type { AuditLog } from '../services/audit-log';
import { releaseReservations } from '../services/budget-reservations';
import { newId } from '../services/ids';
import type { Mailer } from '../services/mailer';
import { SIGNATURE_HEADER } from '../services/webhooks';
import type { WebhookSigner } from '../services/webhooks';
import { notifyWorkflowId, proposalWorkflowId } from '../workflows/messages';
import type { NotifyWorkflowInput, NotifyWorkflowResult, ProposalSummary, WebhookInput } from '../workflows/messages';
import { approvalEmail } from './approval-email';
import { notificationEmail } from './notification-email';
import { resolveRecipients } from './notification-recipients';

export interface ProposalActivityDeps {
  ds: DataSource;
  audit: AuditLog;
  mailer: Mailer;
  links: ApprovalLinks;
  publicUrl: string;
  webhooks: WebhookSigner;
}

export interface DeliveryFailureInput {
  orgId: string;
  decisionId: string;
  kind: 'notification' | 'webhook';
  data: JsonObject;
  /** A callback's URL: only its host is recorded (a query string may carry a token). */
  url?: string;
}

export interface NotifyTierInput {
  orgId: string;
  decisionId: string;
  tier: number;
  approvers: string[];
  summary: ProposalSummary;
  linkTtlSeconds: number;
}

export interface RecordApprovalEventInput {
  orgId: string;
  decisionId: string;
  event: 'escalated' | 'expired';
  tier: number;
  state: ApprovalState;
}

export interface FinalizeDecisionInput {
  orgId: string;
  decisionId: string;
  outcome: 'ALLOW' | 'DENY';
  state: ApprovalState;
}

/**
 * The proposal workflow's side effects. Each is idempotent, keyed by workflow
 * and step: a retry never sends a second mail or appends a second audit record.
 */
export function createProposalActivities(deps: ProposalActivityDeps) {
  const { ds, audit, mailer, links, publicUrl, webhooks } = deps;

  /**
   * Sends one mail at most once per key: the row is written first (with whatever
   * `build` writes beside it), then sent, then marked sent. A retry after a
   * crash resends the same row; a retry after success sends nothing.
   */
  async function sendOnce(orgId: string, key: string, to: string, build: (em: EntityManager) => Promise<{ subject: string; text: string; html: string }>): Promise<'sent' | 'skipped'> {
    let row = await ds.getRepository(EmailMessage).findOne({ where: { idempotencyKey: key } });
    if (row?.sentAt) return 'skipped';
    if (!row) {
      row = await ds.transaction(async (em) => {
        const mail = await build(em);
        const r = em.create(EmailMessage, { id: newId('msg'), orgId, idempotencyKey: key, to, ...mail, transport: mailer.transport, sentAt: null, providerMessageId: null });
        await em.insert(EmailMessage, r);
        return r;
      });
    }
    const res = await mailer.send({ to: row.to, subject: row.subject, text: row.text, html: row.html });
    await ds.getRepository(EmailMessage).update({ id: row.id }, { sentAt: new Date(), providerMessageId: res.messageId });
    return 'sent';
  }

  return {
    /** Mails the people a NOTIFY rule (or a rule's `notifications`) named, once each, and audits who was told. */
    async deliverNotifications(input: NotifyWorkflowInput): Promise<NotifyWorkflowResult> {
      const workflowId = notifyWorkflowId(input.decisionId);
      const users = await ds.getRepository(User).find({ where: { orgId: input.orgId, disabledAt: IsNull() } });
      const { people, undelivered } = resolveRecipients(input.notifications, users);
      let sent = 0;
      for (const p of people) {
        const r = await sendOnce(input.orgId, `${workflowId}:${p.email.toLowerCase()}`, p.email, async () => notificationEmail({ summary: input.summary, decisionId: input.decisionId, rules: input.notifications, name: p.name }));
        if (r === 'sent') sent += 1;
      }
      const recipients = people.map((p) => p.email);
      await audit.append(input.orgId, [
        { actorType: 'system', actorId: 'workflow', entityType: 'decision', entityId: input.decisionId, action: 'notification.sent', data: { recipients, undelivered, rules: input.notifications.map((n) => n.ruleId ?? n.name ?? null) }, dedupeKey: `${workflowId}:sent` },
      ]);
      if (undelivered.length) log.warn('notification channels not reachable by email', { decisionId: input.decisionId, undelivered });
      return { sent, recipients, undelivered };
    },

    /**
     * POSTs the final outcome to the agent's callback URL, signed. A 2xx is
     * delivered (audited once); a 4xx other than 408/429 is refused for good; anything
     * else (5xx, timeout, refused connection) is retried by Temporal.
     */
    async deliverWebhook(input: WebhookInput): Promise<{ status: number }> {
      const body = JSON.stringify({
        event: 'decision.final',
        decision_id: input.decisionId,
        outcome: input.outcome,
        status: 'final',
        approval_status: input.state.status,
        decided_by: input.state.decidedBy,
        decided_at: input.state.endedAt ?? null,
        reason: input.state.reason ?? null,
      });
      const attempt = Context.current().info.attempt;
      let status: number;
      try {
        const res = await fetch(input.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'User-Agent': 'Arbiter-Webhook/1', 'X-Arbiter-Event': 'decision.final', 'X-Arbiter-Delivery': input.decisionId, [SIGNATURE_HEADER]: webhooks.sign(input.orgId, body, Math.floor(Date.now() / 1000)) },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      } catch (e) {
        throw ApplicationFailure.retryable(`callback to ${new URL(input.url).host} failed: ${(e as Error).message}`, 'WEBHOOK_UNREACHABLE');
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        throw ApplicationFailure.nonRetryable(`callback answered ${status}`, 'WEBHOOK_REJECTED');
      }
      if (status < 200 || status >= 300) throw ApplicationFailure.retryable(`callback answered ${status}`, 'WEBHOOK_FAILED');
      await audit.append(input.orgId, [
        { actorType: 'system', actorId: 'workflow', entityType: 'decision', entityId: input.decisionId, action: 'webhook.delivered', data: { host: new URL(input.url).host, status, attempt }, dedupeKey: `${proposalWorkflowId(input.decisionId)}:webhook` },
      ]);
      return { status };
    },

    /** Audits a notice or a callback that gave up after every retry; the decision stands and can still be read. */
    async recordDeliveryFailure(input: DeliveryFailureInput): Promise<void> {
      await audit.append(input.orgId, [
        { actorType: 'system', actorId: 'workflow', entityType: 'decision', entityId: input.decisionId, action: `${input.kind}.failed`, data: input.url ? { ...input.data, host: new URL(input.url).host } : input.data, dedupeKey: `${input.decisionId}:${input.kind}-failed` },
      ]);
    },

    /** Mails each approver of a tier a one-time link. */
    async notifyTier(input: NotifyTierInput): Promise<{ sent: number; skipped: number }> {
      const workflowId = proposalWorkflowId(input.decisionId);
      const users = input.approvers.length
        ? await ds.getRepository(User).createQueryBuilder('u').where('u."orgId" = :org AND u.id IN (:...ids) AND u."disabledAt" IS NULL', { org: input.orgId, ids: input.approvers }).getMany()
        : [];
      let sent = 0;
      let skipped = 0;
      for (const user of users) {
        const key = `${workflowId}:tier-${input.tier}:${user.id}`;
        const r = await sendOnce(input.orgId, key, user.email, async (em) => {
          // Token and mail row commit together, so a retry resends this very link.
          const token = await links.issue(em, { orgId: input.orgId, decisionId: input.decisionId, workflowId, approverId: user.id, tier: input.tier, ttlSeconds: input.linkTtlSeconds });
          return approvalEmail({ publicUrl, token, user, summary: input.summary, decisionId: input.decisionId, tier: input.tier });
        });
        if (r === 'sent') sent += 1;
        else skipped += 1;
      }
      const missing = input.approvers.filter((id) => !users.some((u) => u.id === id));
      await audit.append(input.orgId, [
        { actorType: 'system', actorId: 'workflow', entityType: 'decision', entityId: input.decisionId, action: 'approval.notified', data: { tier: input.tier, approvers: users.map((u) => u.id), missing }, dedupeKey: `${workflowId}:notified:${input.tier}` },
      ]);
      if (users.length === 0) log.warn('approval tier has no reachable approvers', { decisionId: input.decisionId, tier: input.tier });
      return { sent, skipped };
    },

    /** Audits an escalation or expiry and keeps the decision's live state for list views. */
    async recordApprovalEvent(input: RecordApprovalEventInput): Promise<void> {
      const workflowId = proposalWorkflowId(input.decisionId);
      await audit.append(
        input.orgId,
        [{ actorType: 'system', actorId: 'workflow', entityType: 'decision', entityId: input.decisionId, action: `approval.${input.event}`, data: { fromTier: input.tier, toTier: input.state.tier, status: input.state.status }, dedupeKey: `${workflowId}:${input.event}:${input.tier}` }],
        async (em) => {
          await em.update(Decision, { id: input.decisionId, orgId: input.orgId }, { approvalState: input.state as unknown as JsonObject });
        },
      );
    },

    /** Persists the end of the approval with its audit record; a second call changes nothing. */
    async finalizeDecision(input: FinalizeDecisionInput): Promise<void> {
      const workflowId = proposalWorkflowId(input.decisionId);
      const exists = await ds.getRepository(Decision).exists({ where: { id: input.decisionId, orgId: input.orgId } });
      if (!exists) throw ApplicationFailure.nonRetryable(`decision ${input.decisionId} not found`, 'DECISION_NOT_FOUND');
      const decidedBy = [...input.state.decidedBy];
      await audit.append(input.orgId, async (em) => {
        const ended = (await em.query(
          `UPDATE decisions SET status = 'final', "finalOutcome" = $3, "decidedBy" = $4, "decidedAt" = $5, "approvalState" = $6 WHERE id = $1 AND "orgId" = $2 AND status = 'pending' RETURNING id`,
          [input.decisionId, input.orgId, input.outcome, decidedBy, input.state.endedAt ?? new Date().toISOString(), JSON.stringify(input.state)],
        )) as [unknown[], number];
        // A denied action spends nothing: the budget it held while people decided goes back.
        const released = ended[1] === 1 && input.outcome === 'DENY' ? await releaseReservations(em, input.orgId, input.decisionId) : [];
        return [{ actorType: 'system', actorId: 'workflow', entityType: 'decision', entityId: input.decisionId, action: 'decision.finalized', data: { outcome: input.outcome, status: input.state.status, decidedBy, reason: input.state.reason ?? null, ...(released.length ? { released } : {}) }, dedupeKey: `${workflowId}:finalized` }];
      });
    },
  };
}

export type ProposalActivities = ReturnType<typeof createProposalActivities>;

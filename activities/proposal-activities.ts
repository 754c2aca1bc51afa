import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { IsNull } from 'typeorm';
import type { DataSource } from 'typeorm';
import type { ApprovalState } from '../engine/approval';
import { Decision, User } from '../entities';
import type { ApprovalRecords } from '../services/approval-records';
import type { AuditLog } from '../services/audit-log';
import { releaseReservations } from '../services/budget-reservations';
import type { Notifier } from '../services/notifier';
import { presentAction, slackNoticeMessage } from '../services/presenter';
import { slackChannelOf } from '../services/slack';
import { SIGNATURE_HEADER } from '../services/webhooks';
import type { WebhookSigner } from '../services/webhooks';
import { notifyWorkflowId, proposalWorkflowId } from '../workflows/messages';
import type { NotifyWorkflowInput, NotifyWorkflowResult, WebhookInput } from '../workflows/messages';
import { notificationEmail } from './notification-email';
import { resolveRecipients } from './notification-recipients';

const NOTICE_WORDS: Record<string, string> = { ALLOW: 'was allowed', DENY: 'was denied', REQUIRE_APPROVAL: 'is waiting for approval', ESCALATE: 'was escalated for approval' };

export interface ProposalActivityDeps {
  ds: DataSource;
  audit: AuditLog;
  webhooks: WebhookSigner;
  notifier: Notifier;
  records: ApprovalRecords;
}

export interface FinalizeDecisionInput {
  orgId: string;
  decisionId: string;
  outcome: 'ALLOW' | 'DENY';
  state: ApprovalState;
}

/**
 * The proposal workflow's own side effects (notices, the agent's callback, the end of
 * the decision). Each is idempotent, keyed by workflow and step: a retry never sends a
 * second message or appends a second audit record.
 */
export function createProposalActivities(deps: ProposalActivityDeps) {
  const { ds, audit, webhooks, notifier, records } = deps;

  return {
    /**
     * Tells the people and Slack channels a NOTIFY rule (or a rule's `notifications`) named,
     * once each, and audits who was told. Channels that are neither people nor reachable
     * (Slack off) are reported as undelivered, never dropped silently.
     */
    async deliverNotifications(input: NotifyWorkflowInput): Promise<NotifyWorkflowResult> {
      const workflowId = notifyWorkflowId(input.decisionId);
      const users = await ds.getRepository(User).find({ where: { orgId: input.orgId, disabledAt: IsNull() } });
      const { people, undelivered: unresolved } = resolveRecipients(input.notifications, users);
      let sent = 0;
      for (const p of people) {
        const key = { approvalId: workflowId, tier: 0, step: 'notice', recipient: p.email.toLowerCase() };
        const r = await notifier.email(input.orgId, key, p.email, `${workflowId}:${p.email.toLowerCase()}`, async () => notificationEmail({ summary: input.summary, decisionId: input.decisionId, rules: input.notifications, name: p.name }));
        if (r === 'sent') sent += 1;
      }
      const posted: string[] = [];
      if (notifier.slackEnabled && unresolved.length) {
        const happened = NOTICE_WORDS[input.summary.outcome] ?? `ended as ${input.summary.outcome}`;
        const msg = slackNoticeMessage(presentAction(input.summary), { happened, rules: input.notifications.map((n) => n.name ?? n.ruleId ?? 'a rule') });
        for (const ref of unresolved) {
          const channel = slackChannelOf(ref);
          const r = await notifier.slackPost(input.orgId, { approvalId: workflowId, tier: 0, step: 'notice', recipient: channel }, channel, msg);
          if (r === 'sent') sent += 1;
          posted.push(channel);
        }
      }
      const undelivered = notifier.slackEnabled ? [] : unresolved;
      const recipients = [...people.map((p) => p.email), ...posted];
      await audit.append(input.orgId, [
        { actorType: 'system', actorId: 'workflow', entityType: 'decision', entityId: input.decisionId, action: 'notification.sent', data: { recipients, undelivered, rules: input.notifications.map((n) => n.ruleId ?? n.name ?? null) }, dedupeKey: `${workflowId}:sent` },
      ]);
      if (undelivered.length) log.warn('notification channels not reachable', { decisionId: input.decisionId, undelivered });
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
        await records.recordEnd(em, workflowId, input.state);
        return [{ actorType: 'system', actorId: 'workflow', entityType: 'decision', entityId: input.decisionId, action: 'decision.finalized', data: { outcome: input.outcome, status: input.state.status, decidedBy, reason: input.state.reason ?? null, ...(released.length ? { released } : {}) }, dedupeKey: `${workflowId}:finalized` }];
      });
    },
  };
}

export type ProposalActivities = ReturnType<typeof createProposalActivities>;

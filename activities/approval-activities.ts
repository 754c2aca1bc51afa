import { log } from '@temporalio/activity';
import type { DataSource, EntityManager } from 'typeorm';
import type { ApprovalState } from '../engine/approval';
import { Decision } from '../entities';
import type { JsonObject } from '../entities/json';
import type { ApprovalLinks } from '../services/approval-links';
import type { ApprovalRecords } from '../services/approval-records';
import type { AuditLog } from '../services/audit-log';
import type { DeliveryKey, Notifier } from '../services/notifier';
import type { People, Recipient } from '../services/people';
import { escapeHtml } from '../services/html';
import { approvalStatusLines, presentAction, slackApprovalMessage, slackEscape } from '../services/presenter';
import { moveRecord, proposalWorkflowId } from '../workflows/messages';
import type { MoveAudit, ProposalSummary } from '../workflows/messages';
import { approvalEmail } from './approval-email';

export interface ApprovalActivityDeps {
  ds: DataSource;
  audit: AuditLog;
  links: ApprovalLinks;
  publicUrl: string;
  notifier: Notifier;
  people: People;
  records: ApprovalRecords;
}

export interface NotifyTierInput {
  orgId: string;
  /** The approval's subject (the decision id of a proposal). */
  decisionId: string;
  tier: number;
  approvers: string[];
  summary: ProposalSummary;
  linkTtlSeconds: number;
  /** Absent in executions started before the approval core: the proposal's workflow id then. */
  workflowId?: string;
  /** Absent before the approval core: email. */
  channel?: 'email' | 'slack';
  /** `request` (absent before the approval core) or `reminder-<n>`. */
  step?: string;
  /** People who already voted, or were voted for: a reminder does not go to them. */
  skip?: string[];
}

export interface RecordMoveInput {
  orgId: string;
  workflowId: string;
  /** The move's number in this execution: the record's dedupe key, so a retried activity appends once. */
  move: number;
  audit: MoveAudit;
  tier: number;
  status: ApprovalState['status'];
}

export interface RecordApprovalEventInput {
  orgId: string;
  /** The approval's subject (a decision id for proposals). */
  decisionId: string;
  /** Absent before gates: the proposal's workflow id then. */
  workflowId?: string;
  event: 'escalated' | 'expired';
  tier: number;
  state: ApprovalState;
}

export interface DeliveryFailureInput {
  orgId: string;
  /** The approval's subject (a decision id for proposals). */
  decisionId: string;
  /** Absent before gates: the proposal's workflow id then. */
  workflowId?: string;
  kind: 'notification' | 'webhook' | 'slack';
  data: JsonObject;
  /** A callback's URL: only its host is recorded (a query string may carry a token). */
  url?: string;
}

export interface RefreshApprovalInput {
  orgId: string;
  workflowId: string;
  state: ApprovalState;
}

/**
 * The approval loop's side effects, shared by every approval workflow. Each is
 * idempotent: the notifier's delivery log keys every send by (approval, tier,
 * step, channel, recipient), and audit records carry dedupe keys.
 */
export function createApprovalActivities(deps: ApprovalActivityDeps) {
  const { ds, audit, links, publicUrl, notifier, people, records } = deps;

  /** The approval a workflow runs: its row id (the workflow id for rows that predate approvals) and proposer. */
  async function approvalOf(workflowId: string, fallbackProposer: string) {
    const row = await records.forWorkflow(workflowId);
    return { id: row?.id ?? workflowId, proposerId: row?.proposerId ?? fallbackProposer, subjectType: row?.subjectType ?? 'decision' };
  }

  /** A link for the person asked; it commits with whatever the caller writes in `em`. */
  const issueLink = (em: EntityManager, input: NotifyTierInput, workflowId: string, approvalId: string, r: Recipient) =>
    links.issue(em, { orgId: input.orgId, decisionId: input.decisionId, approvalId: approvalId.startsWith('apr_') ? approvalId : null, workflowId, approverId: r.person.id, tier: input.tier, ttlSeconds: input.linkTtlSeconds });

  async function byEmail(input: NotifyTierInput, workflowId: string, approvalId: string, recipients: Recipient[], step: string, names: Record<string, string>): Promise<{ sent: number; skipped: number; unreachable: string[] }> {
    let sent = 0;
    let skipped = 0;
    for (const r of recipients) {
      const key: DeliveryKey = { approvalId, tier: input.tier, step, recipient: r.person.id, ...(r.onBehalfOf ? { onBehalfOf: r.onBehalfOf } : {}) };
      // The request's mail key predates the delivery log; running executions keep it so a retry still finds its mail.
      const mailKey = step === 'request' ? `${workflowId}:tier-${input.tier}:${r.person.id}` : `${workflowId}:tier-${input.tier}:${step}:${r.person.id}`;
      const result = await notifier.email(input.orgId, key, r.person.email, mailKey, async (em) => {
        const token = await issueLink(em, input, workflowId, approvalId, r);
        const mail = approvalEmail({ publicUrl, token, user: r.person, summary: input.summary, decisionId: input.decisionId, tier: input.tier });
        const notes = [
          step.startsWith('reminder') ? 'Reminder: this still waits for your decision.' : '',
          r.onBehalfOf ? `You receive this as the delegate of ${names[r.onBehalfOf] ?? r.onBehalfOf}, who is away.` : '',
        ].filter(Boolean);
        if (!notes.length) return mail;
        return {
          subject: step.startsWith('reminder') ? mail.subject.replace('[Arbiter] ', '[Arbiter] Reminder: ') : mail.subject,
          text: `${notes.join('\n')}\n\n${mail.text}`,
          html: `${notes.map((n) => `<p><b>${escapeHtml(n)}</b></p>`).join('')}${mail.html}`,
        };
      });
      if (result === 'sent') sent += 1;
      else skipped += 1;
    }
    return { sent, skipped, unreachable: [] };
  }

  async function bySlack(input: NotifyTierInput, workflowId: string, approvalId: string, recipients: Recipient[], step: string, names: Record<string, string>) {
    let sent = 0;
    let skipped = 0;
    const unreachable: string[] = [];
    const presented = presentAction(input.summary);
    for (const r of recipients) {
      const slackId = await people.slackIdOf(r.person);
      if (!slackId) {
        unreachable.push(r.person.id);
        continue;
      }
      const key: DeliveryKey = { approvalId, tier: input.tier, step, recipient: r.person.id, ...(r.onBehalfOf ? { onBehalfOf: r.onBehalfOf } : {}) };
      const result = await notifier.slackDm(input.orgId, key, slackId, async () => {
        const token = await ds.transaction((em: EntityManager) => issueLink(em, input, workflowId, approvalId, r));
        const pageUrl = `${publicUrl}/approve/${encodeURIComponent(token)}`;
        const msg = slackApprovalMessage(presented, { approvalId, pageUrl, tier: input.tier, ended: false, reminder: step !== 'request' });
        if (!r.onBehalfOf) return msg;
        return { ...msg, blocks: [...msg.blocks.slice(0, -1), { type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(`You receive this as the delegate of ${names[r.onBehalfOf] ?? r.onBehalfOf}, who is away.`) }] }, ...msg.blocks.slice(-1)] };
      });
      if (result === 'sent') sent += 1;
      else skipped += 1;
    }
    return { sent, skipped, unreachable };
  }

  return {
    /**
     * Asks a tier's approvers on one channel (email by default), each once per step: the
     * approver, or their delegate while they are away (never the proposer). Audited once per
     * tier, step and channel.
     */
    async notifyTier(input: NotifyTierInput): Promise<{ sent: number; skipped: number }> {
      const workflowId = input.workflowId ?? proposalWorkflowId(input.decisionId);
      const channel = input.channel ?? 'email';
      const step = input.step ?? 'request';
      if (channel === 'slack' && !notifier.slackEnabled) return { sent: 0, skipped: 0 };
      const approval = await approvalOf(workflowId, '');
      const skip = new Set(input.skip ?? []);
      const recipients = (await people.recipients(input.orgId, input.approvers, approval.proposerId, new Date())).filter((r) => !skip.has(r.approverId) && !skip.has(r.person.id));
      const names = await people.names(input.orgId, recipients.flatMap((r) => (r.onBehalfOf ? [r.onBehalfOf] : [])));
      const send = channel === 'email' ? byEmail : bySlack;
      const result = await send(input, workflowId, approval.id, recipients, step, names);
      const missing = input.approvers.filter((id) => !recipients.some((r) => r.approverId === id));
      const delegated = recipients.filter((r) => r.onBehalfOf).map((r) => ({ approver: r.approverId, delegate: r.person.id }));
      const reminder = step !== 'request';
      // The request's email record keeps its pre-Slack shape and key, so audits of running approvals read the same.
      const suffix = channel === 'email' && !reminder ? '' : `:${step}:${channel}`;
      await audit.append(input.orgId, [
        {
          actorType: 'system',
          actorId: 'workflow',
          entityType: approval.subjectType,
          entityId: input.decisionId,
          action: reminder ? 'approval.reminded' : 'approval.notified',
          data: {
            tier: input.tier,
            approvers: recipients.map((r) => r.approverId),
            missing,
            ...(channel !== 'email' ? { channel } : {}),
            ...(reminder ? { step } : {}),
            ...(delegated.length ? { delegated } : {}),
            ...(result.unreachable.length ? { unreachable: result.unreachable } : {}),
          },
          dedupeKey: `${workflowId}:notified:${input.tier}${suffix}`,
        },
      ]);
      if (recipients.length === 0) log.warn('approval tier has no reachable approvers', { workflowId, tier: input.tier });
      return { sent: result.sent, skipped: result.skipped };
    },

    /**
     * Mirrors the live state onto the approval's row and rewrites every Slack message the
     * approval sent: who voted, escalated, expired, waived, withdrawn; no buttons once ended.
     */
    async refreshApproval(input: RefreshApprovalInput): Promise<void> {
      await records.mirror(input.workflowId, input.state);
      if (!notifier.slackEnabled) return;
      const row = await records.forWorkflow(input.workflowId);
      const approvalId = row?.id ?? input.workflowId;
      const messages = await notifier.slackMessagesOf(approvalId);
      if (!messages.length) return;
      const s = input.state;
      const ids = [...s.approvals, ...s.denials].flatMap((v) => [v.approverId, v.onBehalfOf ?? '']).concat(s.history.map((h) => h.by ?? ''));
      const lines = approvalStatusLines(s, await people.names(input.orgId, ids.filter(Boolean)));
      const ended = s.status !== 'PENDING';
      const presented = presentAction((row?.summary ?? {}) as unknown as ProposalSummary);
      for (const d of messages) {
        await notifier.updateSlack(d, slackApprovalMessage(presented, { approvalId, tier: d.tier, statusLines: lines, ended, endedText: ended ? lines.at(-1) : undefined, reminder: d.step !== 'request' }));
      }
    },

    /** The audit record of a counted vote, waiver or withdrawal (see `MoveAudit`). */
    async recordMove(input: RecordMoveInput): Promise<void> {
      await audit.append(input.orgId, [{ ...moveRecord(input.audit, input), dedupeKey: `${input.workflowId}:move:${input.move}` }]);
    },

    /** Audits an escalation or expiry and keeps the live state for list views. */
    async recordApprovalEvent(input: RecordApprovalEventInput): Promise<void> {
      const workflowId = input.workflowId ?? proposalWorkflowId(input.decisionId);
      const approval = await approvalOf(workflowId, '');
      await audit.append(
        input.orgId,
        [{ actorType: 'system', actorId: 'workflow', entityType: approval.subjectType, entityId: input.decisionId, action: `approval.${input.event}`, data: { fromTier: input.tier, toTier: input.state.tier, status: input.state.status }, dedupeKey: `${workflowId}:${input.event}:${input.tier}` }],
        async (em) => {
          if (approval.subjectType === 'decision') await em.update(Decision, { id: input.decisionId, orgId: input.orgId }, { approvalState: input.state as unknown as JsonObject });
        },
      );
      await records.mirror(workflowId, input.state);
    },

    /** Audits a notice, a Slack message or a callback that gave up after every retry; the decision stands and can still be read. */
    async recordDeliveryFailure(input: DeliveryFailureInput): Promise<void> {
      const where = [input.data.tier, input.data.step].filter((x) => x !== undefined && x !== null).join(':');
      const row = await records.forWorkflow(input.workflowId ?? proposalWorkflowId(input.decisionId));
      if (row && input.kind === 'slack') await notifier.markFailed(row.id, 'slack', String(input.data.step ?? 'request'), 'gave up after retries');
      await audit.append(input.orgId, [
        {
          actorType: 'system',
          actorId: 'workflow',
          entityType: row?.subjectType ?? 'decision',
          entityId: input.decisionId,
          action: `${input.kind}.failed`,
          data: input.url ? { ...input.data, host: new URL(input.url).host } : input.data,
          dedupeKey: `${input.decisionId}:${input.kind}-failed${where ? `:${where}` : ''}`,
        },
      ]);
    },
  };
}

export type ApprovalActivities = ReturnType<typeof createApprovalActivities>;

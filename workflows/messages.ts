/**
 * The proposal workflow's contract: inputs, results, messages and its id.
 * Pure definitions, imported by the workflow, the activities and the API alike.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalPlan, ApprovalState, VoteChoice } from '../engine/approval';

export const PROPOSAL_WORKFLOW_TYPE = 'proposalWorkflow';

/** One workflow per pending decision; the id makes starting it idempotent. */
export function proposalWorkflowId(decisionId: string): string {
  return `proposal-${decisionId}`;
}

/** What the action is, as mail, Slack and pages show it (the presenter's input). */
export interface ProposalSummary {
  capability: string;
  actorId: string;
  actorType: string;
  riskScore: number;
  reason: string;
  outcome: string;
  parameters: Record<string, unknown>;
  environment?: string;
  /** The agent's own account of why. */
  reasoning?: string;
  /** What is asked: an agent's action (unset) or a governance gate's review. */
  kind?: 'gate';
  /** SHA-256 of the canonical proposal: the payload an escrow's approver releases, frozen. */
  payloadHash?: string;
}

export const NOTIFY_WORKFLOW_TYPE = 'notifyWorkflow';

/** One notification run per decision whose verdict asked for one (NOTIFY rules, rule `notifications`). */
export function notifyWorkflowId(decisionId: string): string {
  return `notify-${decisionId}`;
}

/** Who asked to be told, and where: channels are emails, user ids, `admins`, `approvers`, or Slack channels. */
export interface NotificationRequest {
  ruleId?: string;
  name?: string;
  channels: string[];
  priority?: string;
}

export interface NotifyWorkflowInput {
  orgId: string;
  decisionId: string;
  notifications: NotificationRequest[];
  summary: ProposalSummary;
}

export interface NotifyWorkflowResult {
  sent: number;
  recipients: string[];
  undelivered: string[];
}

export interface ProposalWorkflowInput {
  orgId: string;
  decisionId: string;
  plan: ApprovalPlan;
  summary: ProposalSummary;
  /** The agent's `callback_url`: told the final outcome, signed, once the approval ends. */
  callbackUrl?: string;
}

export interface WebhookInput {
  orgId: string;
  decisionId: string;
  url: string;
  outcome: 'ALLOW' | 'DENY';
  state: ApprovalState;
}

export interface ProposalWorkflowResult {
  decisionId: string;
  outcome: 'ALLOW' | 'DENY';
  state: ApprovalState;
}

/** How a vote arrived. */
export type VoteChannel = 'email' | 'api' | 'slack' | 'console';

/**
 * The audit record of a vote, waiver or withdrawal, written by the workflow as it counts the
 * move (so a move is never counted without its record, whatever dies after). `fill` names the
 * fields the workflow adds to `data` from the state the move leaves: `status`, and `tier`.
 */
export interface MoveAudit {
  actorType: 'user' | 'api_key';
  actorId: string;
  entityType: string;
  entityId: string;
  action: string;
  data: Record<string, unknown>;
  fill: ('tier' | 'status')[];
}

/** A move's audit record, its data completed with the fields it asked to have filled from the state after the move. */
export function moveRecord(a: MoveAudit, after: { tier: number; status: string }) {
  const data = { ...a.data, ...(a.fill.includes('tier') ? { tier: after.tier } : {}), ...(a.fill.includes('status') ? { status: after.status } : {}) };
  return { actorType: a.actorType, actorId: a.actorId, entityType: a.entityType, entityId: a.entityId, action: a.action, data };
}

export interface DecideInput {
  /** Who votes (a person id, or `key:<id>` for an admin key without a person). */
  approverId: string;
  decision: VoteChoice;
  comment?: string;
  /** Conditions of a `conditional` approval. */
  conditions?: string[];
  /** The absent approver a delegate votes for. */
  onBehalfOf?: string;
  /** Admins may decide at any tier. */
  isAdmin?: boolean;
  via: VoteChannel;
  audit?: MoveAudit;
}

export interface DecideResult {
  status: ApprovalState['status'];
  tier: number;
  counted: boolean;
  /** The workflow wrote the move's audit record (`audit` given, and a worker that knows how). */
  audited?: boolean;
}

export interface WaiveInput {
  adminId: string;
  reason: string;
  audit?: MoveAudit;
}

export interface WithdrawInput {
  by: string;
  reason?: string;
  audit?: MoveAudit;
}

/** An approver's approve / deny. The validator refuses self-approval, outsiders and repeats. */
export const decideUpdate = defineUpdate<DecideResult, [DecideInput]>('decide');
/** An admin's waiver, with a reason. */
export const waiveUpdate = defineUpdate<DecideResult, [WaiveInput]>('waive');
/** The proposer gives up the action (kept for executions started before the update existed). */
export const withdrawSignal = defineSignal<[WithdrawInput]>('withdraw');
/** The proposer gives up the action; the validator refuses anyone else and an ended approval. */
export const withdrawUpdate = defineUpdate<DecideResult, [WithdrawInput]>('withdrawUpdate');
/** The live approval state of this one execution. */
export const stateQuery = defineQuery<ApprovalState>('state');

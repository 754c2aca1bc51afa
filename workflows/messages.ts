/**
 * The proposal workflow's contract: inputs, results, messages and its id.
 * Pure definitions, imported by the workflow, the activities and the API alike.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalPlan, ApprovalState } from '../engine/approval';

export const PROPOSAL_WORKFLOW_TYPE = 'proposalWorkflow';

/** One workflow per pending decision; the id makes starting it idempotent. */
export function proposalWorkflowId(decisionId: string): string {
  return `proposal-${decisionId}`;
}

export interface ProposalSummary {
  capability: string;
  actorId: string;
  actorType: string;
  riskScore: number;
  reason: string;
  outcome: string;
  parameters: Record<string, unknown>;
  environment?: string;
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

export interface DecideInput {
  approverId: string;
  decision: 'approve' | 'deny';
  comment?: string;
  /** Admins may decide at any tier. */
  isAdmin?: boolean;
  /** How the decision arrived: email link, API, Slack. */
  via: 'email' | 'api' | 'slack';
}

export interface DecideResult {
  status: ApprovalState['status'];
  tier: number;
  counted: boolean;
}

export interface WaiveInput {
  adminId: string;
  reason: string;
}

export interface WithdrawInput {
  by: string;
  reason?: string;
}

/** An approver's approve / deny. The validator refuses self-approval, outsiders and repeats. */
export const decideUpdate = defineUpdate<DecideResult, [DecideInput]>('decide');
/** An admin's waiver, with a reason. */
export const waiveUpdate = defineUpdate<DecideResult, [WaiveInput]>('waive');
/** The proposer gives up the action. */
export const withdrawSignal = defineSignal<[WithdrawInput]>('withdraw');
/** The live approval state of this one execution. */
export const stateQuery = defineQuery<ApprovalState>('state');

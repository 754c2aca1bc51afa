/**
 * The gate workflow's contract: its input, result and id (both ways). Its messages are
 * the approval loop's (decideUpdate, waiveUpdate, stateQuery in ./messages).
 */
import type { ApprovalPlan, ApprovalState } from '../engine/approval';
import type { ProposalSummary } from './messages';

export const GATE_WORKFLOW_TYPE = 'gateWorkflow';

const PREFIX = 'gate-';

/** One workflow per gate submission; the id makes starting it idempotent. */
export function gateWorkflowId(submissionId: string): string {
  return `${PREFIX}${submissionId}`;
}

/** The submission a gate workflow id belongs to, or null for another workflow's id. */
export function submissionIdOf(workflowId: string): string | null {
  return workflowId.startsWith(PREFIX) ? workflowId.slice(PREFIX.length) : null;
}

export interface GateWorkflowInput {
  orgId: string;
  submissionId: string;
  plan: ApprovalPlan;
  /** What the reviewers are shown. */
  summary: ProposalSummary;
}

export interface GateWorkflowResult {
  submissionId: string;
  state: ApprovalState;
}

import { WorkflowIdReusePolicy, WorkflowUpdateFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { ApprovalState } from '../engine/approval';
import { decideUpdate, NOTIFY_WORKFLOW_TYPE, notifyWorkflowId, PROPOSAL_WORKFLOW_TYPE, proposalWorkflowId, stateQuery, waiveUpdate, withdrawUpdate } from '../workflows/messages';
import type { DecideInput, DecideResult, NotifyWorkflowInput, ProposalWorkflowInput, WaiveInput, WithdrawInput } from '../workflows/messages';
import { GATE_WORKFLOW_TYPE, gateWorkflowId } from '../workflows/gate-contract';
import type { GateWorkflowInput } from '../workflows/gate-contract';
import { DomainError } from './errors';

/**
 * The API's and services' one door to Temporal: start workflows, deliver votes
 * as updates (the caller learns at once whether it counted: a refusal comes back
 * from the update's validator as a DomainError with the engine's code), read one
 * execution's live state and history.
 */
export class WorkflowGateway {
  constructor(private readonly client: Client, private readonly taskQueue: string) {}

  async startProposal(input: ProposalWorkflowInput): Promise<string> {
    return this.startOnce(PROPOSAL_WORKFLOW_TYPE, proposalWorkflowId(input.decisionId), input);
  }

  async startGate(input: GateWorkflowInput): Promise<string> {
    return this.startOnce(GATE_WORKFLOW_TYPE, gateWorkflowId(input.submissionId), input);
  }

  /** Waits up to `ms` for a workflow to complete (its end persisted); false when it has not by then. */
  async waitForEnd(workflowId: string, ms: number): Promise<boolean> {
    const done = this.client.workflow.getHandle(workflowId).result().then(() => true, () => true);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((ok) => (timer = setTimeout(() => ok(false), ms)));
    try {
      return await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async startNotification(input: NotifyWorkflowInput): Promise<string> {
    return this.startOnce(NOTIFY_WORKFLOW_TYPE, notifyWorkflowId(input.decisionId), input);
  }

  private async startOnce(type: string, workflowId: string, input: unknown): Promise<string> {
    try {
      await this.client.workflow.start(type, { taskQueue: this.taskQueue, workflowId, args: [input], workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE });
    } catch (e) {
      // Already started by an earlier attempt: starting is idempotent by id.
      if ((e as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw e;
    }
    return workflowId;
  }

  async decide(workflowId: string, input: DecideInput): Promise<DecideResult> {
    return this.update(() => this.client.workflow.getHandle(workflowId).executeUpdate(decideUpdate, { args: [input] }));
  }

  async waive(workflowId: string, input: WaiveInput): Promise<DecideResult> {
    return this.update(() => this.client.workflow.getHandle(workflowId).executeUpdate(waiveUpdate, { args: [input] }));
  }

  async withdraw(workflowId: string, input: WithdrawInput): Promise<DecideResult> {
    return this.update(() => this.client.workflow.getHandle(workflowId).executeUpdate(withdrawUpdate, { args: [input] }));
  }

  async state(workflowId: string): Promise<ApprovalState> {
    return this.client.workflow.getHandle(workflowId).query(stateQuery);
  }

  /** The execution's event history, summarised for people. */
  async history(workflowId: string): Promise<{ eventId: string; eventType: string; time: string | null }[]> {
    const h = await this.client.workflow.getHandle(workflowId).fetchHistory();
    return (h.events ?? []).map((e) => ({
      eventId: String(e.eventId ?? ''),
      eventType: typeof e.eventType === 'number' ? (temporal.api.enums.v1.EventType[e.eventType] ?? String(e.eventType)) : String(e.eventType ?? ''),
      time: e.eventTime?.seconds != null ? new Date(Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6)).toISOString() : null,
    }));
  }

  private async update(run: () => Promise<DecideResult>): Promise<DecideResult> {
    try {
      return await run();
    } catch (e) {
      if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
        throw new DomainError(e.cause.type ?? 'UPDATE_REJECTED', e.cause.message);
      }
      // The workflow has completed: whatever it was, it is no longer pending.
      if (e instanceof WorkflowNotFoundError) throw new DomainError('NOT_PENDING', 'the approval is no longer pending');
      throw e;
    }
  }
}

import type { Facts, Proposal } from './types';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The verb of a capability: `database.query` → query, `trade_execution` → trade, `payments.refund.create` → create. */
export function capabilityVerb(capability: string): string {
  const segs = capability.toLowerCase().split('.');
  const last = segs[segs.length - 1] ?? '';
  if (segs.length > 1) return last;
  return last.split(/[_-]/)[0] ?? last;
}

/**
 * The facts document rules and policies match against: the proposal with the
 * aliases the seeds' rules use. `now` is passed in (epoch ms); times are UTC.
 */
export function buildFacts(p: Proposal, opts: { now: number; riskScore?: number }): Facts {
  const d = new Date(opts.now);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  const paramAmount = typeof p.action.parameters.amount === 'number' ? p.action.parameters.amount : undefined;
  const amount = p.amount ?? paramAmount;
  return {
    action_type: p.action.capability,
    capability: p.action.capability,
    verb: capabilityVerb(p.action.capability),
    agent_id: p.actor.id,
    agent_type: p.actor.type,
    actor: { id: p.actor.id, type: p.actor.type },
    action: { capability: p.action.capability, parameters: p.action.parameters },
    parameters: p.action.parameters,
    target: p.target,
    target_service: p.target,
    environment: p.environment,
    data_classes: p.dataClasses,
    confidence: p.confidence ?? {},
    model_id: p.modelId,
    amount,
    risk_score: opts.riskScore,
    time_of_day: `${hh}:${mm}`,
    hour: d.getUTCHours(),
    day_of_week: DAYS[d.getUTCDay()],
    session_id: p.context.sessionId,
    run_id: p.context.runId,
    mission_id: p.context.missionId,
    group_ids: p.context.groupIds ?? [],
    tags: p.context.tags ?? [],
    metadata: p.context.metadata,
    context: { metadata: p.context.metadata, session_id: p.context.sessionId, run_id: p.context.runId, mission_id: p.context.missionId },
    reasoning: p.reasoning,
  };
}

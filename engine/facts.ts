import type { Facts, Proposal } from './types';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_MS = 86_400_000;

/**
 * The verb of a capability, lowercased: the last dotted segment, and of that
 * the part before the first `_` or `-`. `database.query` → query,
 * `trade_execution` → trade, `payments.refund.create` → create,
 * `db.delete_records` → delete.
 */
export function capabilityVerb(capability: string): string {
  // Asked twice per decision (facts and risk) for the same capability: remember the last answer.
  if (typeof capability === 'string' && capability === lastVerbOf) return lastVerb;
  const s = capability.trim().toLowerCase();
  const last = s.slice(s.lastIndexOf('.') + 1);
  let end = last.length;
  for (let i = 0; i < last.length; i++) {
    const ch = last.charCodeAt(i);
    if (ch === 95 /* _ */ || ch === 45 /* - */) {
      end = i;
      break;
    }
  }
  const verb = last.slice(0, end);
  lastVerbOf = capability;
  lastVerb = verb;
  return verb;
}

let lastVerbOf: string | undefined;
let lastVerb = '';

/**
 * UTC clock fields of an epoch-millis instant, by arithmetic (the engine reads
 * no clock and no time zone): 1970-01-01 was a Thursday.
 */
function clockFields(now: number): ClockFields | null {
  if (!Number.isFinite(now)) return null;
  // The fields change once a minute: reuse the last answer (read-only, copied into the facts).
  // Only for whole millis (what clocks give), where the minute alone decides every field exactly.
  const minute = Number.isSafeInteger(now) ? Math.floor(now / 60_000) : Number.NaN;
  if (minute === lastClockMinute && lastClock) return lastClock;
  const day = Math.floor(now / DAY_MS);
  const msOfDay = now - day * DAY_MS;
  const hour = Math.floor(msOfDay / 3_600_000);
  const min = Math.floor((msOfDay % 3_600_000) / 60_000);
  lastClockMinute = minute;
  lastClock = {
    time_of_day: `${String(hour).padStart(2, '0')}:${String(min).padStart(2, '0')}`,
    hour,
    day_of_week: DAYS[(((day + 4) % 7) + 7) % 7],
  };
  return lastClock;
}

interface ClockFields {
  readonly time_of_day: string;
  readonly hour: number;
  readonly day_of_week: string;
}
let lastClockMinute = Number.NaN;
let lastClock: ClockFields | null = null;

/**
 * The facts document rules and policies match against: the proposal under the
 * names the seeds' rules use (`action_type`, `agent_id`, `parameters.*`,
 * `risk_score`, `time_of_day`, ...). `now` is epoch millis; clock facts are UTC
 * (`timeZone` is reserved: rules write UTC times). Absent proposal fields are
 * absent facts, so `$exists: false` sees them as missing.
 */
export function buildFacts(p: Proposal, opts: { now: number; riskScore?: number; timeZone?: never }): Facts {
  const params = p.action.parameters;
  const paramAmount = typeof params.amount === 'number' && Number.isFinite(params.amount) ? params.amount : undefined;
  const clock = clockFields(opts.now);
  return {
    action_type: p.action.capability,
    capability: p.action.capability,
    verb: capabilityVerb(p.action.capability),
    agent_id: p.actor.id,
    agent_type: p.actor.type,
    actor: { id: p.actor.id, type: p.actor.type },
    action: { capability: p.action.capability, parameters: params },
    parameters: params,
    target: p.target,
    target_service: p.target,
    environment: p.environment,
    data_classes: p.dataClasses,
    confidence: p.confidence ?? {},
    model_id: p.modelId,
    amount: p.amount ?? paramAmount,
    risk_score: opts.riskScore,
    time_of_day: clock?.time_of_day,
    hour: clock?.hour,
    day_of_week: clock?.day_of_week,
    session_id: p.context.sessionId,
    run_id: p.context.runId,
    mission_id: p.context.missionId,
    group_ids: p.context.groupIds ?? [],
    tags: p.context.tags ?? [],
    metadata: p.context.metadata,
    context: { metadata: p.context.metadata, session_id: p.context.sessionId, run_id: p.context.runId, mission_id: p.context.missionId },
    reasoning: p.reasoning,
    description: p.description,
  };
}

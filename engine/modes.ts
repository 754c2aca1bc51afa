/**
 * Governance modes (seed 003), pure: ENFORCED (the default), AUDIT_ONLY (evaluate
 * everything, record what the verdict would have been, clear the action) and
 * DISABLED (no evaluation; the action passes, flagged). A mode set for a while ends
 * on its own: the effective mode is computed from its expiry, no process needed.
 */
import type { GovernanceMode, RiskAssessment, Verdict } from './types';
import { sentinelViolation } from './wardn';

export const GOVERNANCE_MODES: readonly GovernanceMode[] = ['ENFORCED', 'AUDIT_ONLY', 'DISABLED'];

export interface ModeSetting {
  mode: GovernanceMode;
  /** Epoch ms when it falls back to ENFORCED; null: until changed. */
  expiresAt: number | null;
}

/** The mode in force at `now`. */
export function effectiveMode(s: ModeSetting | null | undefined, now: number): GovernanceMode {
  if (!s || s.mode === 'ENFORCED') return 'ENFORCED';
  if (s.expiresAt !== null && now >= s.expiresAt) return 'ENFORCED';
  return s.mode;
}

/**
 * AUDIT_ONLY: the real verdict is kept as `originalOutcome`; the action is cleared (ALLOW) with the
 * mode as its decisive reason, unless a Sentinel principle was violated (tier X), which still blocks.
 */
export function auditOnly(v: Verdict): Verdict {
  // A Sentinel principle is non-negotiable: audit-only records it and still blocks.
  if (sentinelViolation(v.reasons)) return { ...v, mode: 'AUDIT_ONLY', originalOutcome: v.outcome };
  const reason = { source: 'mode' as const, effect: 'ALLOW' as const, code: 'GOVERNANCE_AUDIT_ONLY', message: `Audit-only mode: recorded as ${v.outcome}, cleared` };
  return { ...v, outcome: 'ALLOW', decisive: reason, reasons: [...v.reasons, reason], approval: undefined, mode: 'AUDIT_ONLY', originalOutcome: v.outcome };
}

const NO_RISK = { score: 0, factors: {}, modifiers: [], band: 'AUTO_APPROVE' } as unknown as RiskAssessment;

/** DISABLED: nothing is evaluated; the action passes, and the verdict says why. */
export function disabledVerdict(): Verdict {
  const reason = { source: 'mode' as const, effect: 'ALLOW' as const, code: 'GOVERNANCE_DISABLED', message: 'Governance disabled: passed without evaluation' };
  return { outcome: 'ALLOW', decisive: reason, reasons: [reason], risk: NO_RISK, notify: [], constraints: {}, errors: [], mode: 'DISABLED' };
}

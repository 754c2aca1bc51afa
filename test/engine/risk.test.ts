import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assessRisk, DEFAULT_RISK_CONFIG, validateRiskConfig } from '../../engine/risk';
import type { Proposal } from '../../engine/types';

const p = (capability: string, over: Partial<Proposal> = {}): Proposal => ({ actor: { id: 'a', type: 'ai-agent' }, action: { capability, parameters: {} }, context: { metadata: {} }, dataClasses: [], ...over });

describe('risk scoring (seed 002 defaults)', () => {
  it('uses the seed’s default weights, thresholds and modifiers', () => {
    assert.deepEqual(DEFAULT_RISK_CONFIG, {
      weights: { data_sensitivity: 0.3, operation_type: 0.25, financial_impact: 0.2, compliance: 0.15, historical: 0.1 },
      thresholds: { auto_approve_max: 30, require_approval_min: 31, auto_deny_min: 95 },
      modifiers: { pii_data: 40, financial_data: 35, health_data: 45, delete_operation: 30, external_api: 20 },
    });
  });

  it('derives each factor from the proposal', () => {
    const r = assessRisk(p('payments.transfer', { amount: 999, environment: 'production', dataClasses: ['internal'] }), DEFAULT_RISK_CONFIG);
    assert.equal(r.factors.data_sensitivity.value, 30);
    assert.equal(r.factors.operation_type.value, 70);
    assert.equal(r.factors.financial_impact.value, 60);
    assert.equal(r.factors.compliance.value, 60);
    assert.equal(r.factors.historical.value, 20);
    // 0.3*30 + 0.25*70 + 0.2*60 + 0.15*60 + 0.1*20 = 49.5 → 50
    assert.equal(r.score, 50);
    assert.equal(r.band, 'REQUIRE_APPROVAL');
  });

  it('a read with no data is auto-approved; PII adds its modifier', () => {
    const read = assessRisk(p('database.query', { environment: 'development' }), DEFAULT_RISK_CONFIG);
    assert.equal(read.band, 'AUTO_APPROVE');
    const pii = assessRisk(p('database.query', { environment: 'development', dataClasses: ['PII'] }), DEFAULT_RISK_CONFIG);
    assert.deepEqual(pii.modifiers, [{ name: 'pii_data', points: 40 }]);
    assert.equal(pii.factors.compliance.value, 80, 'regulated data raises compliance');
    assert.ok(pii.score > read.score + 40);
  });

  it('a PHI delete in production is denied by score', () => {
    const r = assessRisk(p('records.delete', { environment: 'production', dataClasses: ['PHI'] }), DEFAULT_RISK_CONFIG);
    assert.deepEqual(r.modifiers.map((m) => m.name).sort(), ['delete_operation', 'health_data']);
    assert.equal(r.score, 100);
    assert.equal(r.band, 'AUTO_DENY');
  });

  it('history of denials raises the historical factor; external targets add a modifier', () => {
    assert.equal(assessRisk(p('x.read'), DEFAULT_RISK_CONFIG, { total: 10, denied: 7 }).factors.historical.value, 70);
    assert.equal(assessRisk(p('x.read'), DEFAULT_RISK_CONFIG, { total: 3, denied: 3 }).factors.historical.value, 20, 'too little history');
    assert.ok(assessRisk(p('x.read', { target: 'https://api.example.com' }), DEFAULT_RISK_CONFIG).modifiers.some((m) => m.name === 'external_api'));
  });

  it('thresholds decide the band', () => {
    const cfg = { ...DEFAULT_RISK_CONFIG, thresholds: { auto_approve_max: 5, require_approval_min: 6, auto_deny_min: 8 } };
    const r = assessRisk(p('database.query', { environment: 'development' }), cfg);
    assert.equal(r.score, 9);
    assert.equal(r.band, 'AUTO_DENY');
    assert.equal(assessRisk(p('database.query', { environment: 'development' }), { ...cfg, thresholds: { auto_approve_max: 5, require_approval_min: 6, auto_deny_min: 20 } }).band, 'REQUIRE_APPROVAL');
  });

  it('validates a configuration and names the field', () => {
    const bad = validateRiskConfig({ thresholds: { auto_approve_max: 120 } });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.errors[0].field, 'thresholds.auto_approve_max');
    const order = validateRiskConfig({ thresholds: { auto_approve_max: 50, require_approval_min: 40 } });
    assert.equal(order.ok, false);
    const unknown = validateRiskConfig({ weights: { vibes: 0.5 } as never });
    assert.equal(unknown.ok, false);
    if (!unknown.ok) assert.equal(unknown.errors[0].field, 'weights.vibes');
    const zero = validateRiskConfig({ weights: { data_sensitivity: 0, operation_type: 0, financial_impact: 0, compliance: 0, historical: 0 } });
    assert.equal(zero.ok, false);
    const ok = validateRiskConfig({ weights: { data_sensitivity: 0.35 } });
    assert.equal(ok.ok, true);
    if (ok.ok) assert.equal(ok.value.weights.operation_type, 0.25);
  });
});

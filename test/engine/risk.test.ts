import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assessRisk, DEFAULT_RISK_CONFIG, validateRiskConfig } from '../../engine/risk';
import type { ActorHistory, Proposal, RiskConfig } from '../../engine/types';

const p = (capability: string, over: Partial<Proposal> = {}): Proposal => ({ actor: { id: 'a', type: 'ai-agent' }, action: { capability, parameters: {} }, context: { metadata: {} }, dataClasses: [], ...over });
const risk = (proposal: Proposal, history?: ActorHistory, config: RiskConfig = DEFAULT_RISK_CONFIG) => assessRisk(proposal, config, history);

describe('risk configuration (seed 002)', () => {
  it('defaults are the seed’s weights, thresholds and modifiers, and cannot be edited', () => {
    assert.deepEqual(DEFAULT_RISK_CONFIG, {
      weights: { data_sensitivity: 0.3, operation_type: 0.25, financial_impact: 0.2, compliance: 0.15, historical: 0.1 },
      thresholds: { auto_approve_max: 30, require_approval_min: 31, auto_deny_min: 95 },
      modifiers: { pii_data: 40, financial_data: 35, health_data: 45, delete_operation: 30, external_api: 20 },
    });
    assert.throws(() => {
      (DEFAULT_RISK_CONFIG.thresholds as { auto_deny_min: number }).auto_deny_min = 100;
    }, TypeError);
  });

  it('merges a partial configuration over the defaults (the seed’s POST example)', () => {
    const v = validateRiskConfig({ weights: { data_sensitivity: 0.35, financial_impact: 0.25 }, thresholds: { auto_approve_max: 25, auto_deny_min: 90 } });
    assert.ok(v.ok);
    assert.deepEqual(v.value, {
      weights: { data_sensitivity: 0.35, operation_type: 0.25, financial_impact: 0.25, compliance: 0.15, historical: 0.1 },
      thresholds: { auto_approve_max: 25, require_approval_min: 31, auto_deny_min: 90 },
      modifiers: DEFAULT_RISK_CONFIG.modifiers,
    });
    const empty = validateRiskConfig({});
    assert.ok(empty.ok);
    assert.deepEqual(empty.value, DEFAULT_RISK_CONFIG);
  });

  it('accepts weights on any scale: only their proportions count', () => {
    const v = validateRiskConfig({ weights: { data_sensitivity: 30, operation_type: 25, financial_impact: 20, compliance: 15, historical: 10 } });
    assert.ok(v.ok);
    const prop = p('payments.transfer', { amount: 999, environment: 'production', dataClasses: ['internal'] });
    assert.equal(risk(prop, undefined, v.value).score, risk(prop).score);
  });

  const bad: [string, Parameters<typeof validateRiskConfig>[0], string[]][] = [
    ['threshold above 100', { thresholds: { auto_approve_max: 120 } }, ['thresholds.auto_approve_max']],
    ['negative threshold', { thresholds: { auto_deny_min: -1 } }, ['thresholds.auto_deny_min']],
    ['modifier above 100', { modifiers: { pii_data: 101 } }, ['modifiers.pii_data']],
    ['negative modifier', { modifiers: { external_api: -5 } }, ['modifiers.external_api']],
    ['negative weight', { weights: { compliance: -0.1 } }, ['weights.compliance']],
    ['NaN weight', { weights: { compliance: Number.NaN } }, ['weights.compliance']],
    ['a weight that is not a number', { weights: { historical: 'high' as never } }, ['weights.historical']],
    ['an unknown weight', { weights: { vibes: 0.5 } as never }, ['weights.vibes']],
    ['an unknown modifier', { modifiers: { crypto: 5 } as never }, ['modifiers.crypto']],
    ['weights that are not an object', { weights: 'heavy' as never }, ['weights']],
    ['all weights zero', { weights: { data_sensitivity: 0, operation_type: 0, financial_impact: 0, compliance: 0, historical: 0 } }, ['weights']],
    ['auto-approve not below require-approval', { thresholds: { auto_approve_max: 50, require_approval_min: 40 } }, ['thresholds.auto_approve_max']],
    ['auto-approve not below the default require-approval', { thresholds: { auto_approve_max: 31 } }, ['thresholds.auto_approve_max']],
    ['require-approval above auto-deny', { thresholds: { require_approval_min: 96 } }, ['thresholds.require_approval_min']],
    ['several at once', { weights: { compliance: -1 }, modifiers: { pii_data: 200 } }, ['weights.compliance', 'modifiers.pii_data']],
  ];
  for (const [name, partial, fields] of bad) {
    it(`refuses ${name}, naming the field`, () => {
      const v = validateRiskConfig(partial);
      assert.equal(v.ok, false);
      if (!v.ok) {
        assert.deepEqual(v.errors.map((e) => e.field), fields);
        for (const e of v.errors) assert.ok(e.message.length > 5, e.message);
      }
    });
  }
});

describe('risk factors', () => {
  it('data_sensitivity: the most sensitive class, case-insensitive', () => {
    const table: [string[], number][] = [
      [[], 10],
      [['PHI'], 95],
      [['health'], 95],
      [['PCI'], 90],
      [['card'], 90],
      [['financial'], 80],
      [['PII'], 75],
      [['pii'], 75],
      [['confidential'], 70],
      [['Secret'], 70],
      [['internal'], 30],
      [['public'], 0],
      [['telemetry'], 40],
      [['public', 'PII'], 75],
      [['internal', 'PCI', 'phi'], 95],
    ];
    for (const [dataClasses, want] of table) assert.equal(risk(p('x.read', { dataClasses })).factors.data_sensitivity.value, want, dataClasses.join(','));
    assert.equal(risk(p('x.read', { dataClasses: ['internal', 'PHI'] })).factors.data_sensitivity.basis, 'data class PHI');
  });

  it('operation_type: by the capability’s verb', () => {
    const table: [string, number][] = [
      ...['read', 'get', 'list', 'query', 'search', 'view', 'fetch', 'describe'].map((v): [string, number] => [`svc.${v}`, 10]),
      ...['create', 'write', 'update', 'send', 'post', 'put', 'insert', 'upload', 'notify', 'email'].map((v): [string, number] => [`svc.${v}`, 50]),
      ...['execute', 'run', 'deploy', 'transfer', 'trade', 'pay', 'payment', 'refund', 'approve', 'invoke', 'grant'].map((v): [string, number] => [`svc.${v}`, 70]),
      ...['delete', 'drop', 'destroy', 'truncate', 'purge', 'remove', 'revoke', 'wipe', 'terminate'].map((v): [string, number] => [`svc.${v}`, 95]),
      ['svc.frobnicate', 40],
      ['database.query', 10],
      ['trade_execution', 70],
      ['payments.refund.create', 50],
      ['db.delete_records', 95],
      ['DB.DELETE', 95],
      ['send-email', 50],
    ];
    for (const [capability, want] of table) assert.equal(risk(p(capability)).factors.operation_type.value, want, capability);
    assert.equal(risk(p('records.delete')).factors.operation_type.basis, 'verb delete');
  });

  it('financial_impact: min(100, round(20·log10(amount + 1)))', () => {
    const table: [Partial<Proposal>, number][] = [
      [{}, 0],
      [{ amount: 0 }, 0],
      [{ amount: -500 }, 0],
      [{ amount: 9 }, 20],
      [{ amount: 99 }, 40],
      [{ amount: 999 }, 60],
      [{ amount: 75_000 }, 98],
      [{ amount: 99_999 }, 100],
      [{ amount: 1e12 }, 100],
      [{ action: { capability: 'pay.send', parameters: { amount: 999 } } }, 60],
      [{ action: { capability: 'pay.send', parameters: { amount: '999' } } }, 0],
      [{ amount: 9, action: { capability: 'pay.send', parameters: { amount: 99_999 } } }, 20],
    ];
    for (const [over, want] of table) assert.equal(risk(p('pay.send', over)).factors.financial_impact.value, want, JSON.stringify(over));
  });

  it('compliance: by environment, at least 80 with regulated data', () => {
    const table: [string | undefined, string[], number][] = [
      ['production', [], 60],
      ['prod', [], 60],
      ['PRODUCTION', [], 60],
      ['staging', [], 30],
      ['development', [], 10],
      ['dev', [], 10],
      ['test', [], 10],
      ['sandbox', [], 10],
      ['qa', [], 40],
      [undefined, [], 40],
      ['development', ['PII'], 80],
      ['production', ['financial'], 80],
      ['production', ['PCI'], 80],
      ['staging', ['PHI'], 80],
      ['production', ['confidential'], 60],
    ];
    for (const [environment, dataClasses, want] of table) assert.equal(risk(p('x.read', { environment, dataClasses })).factors.compliance.value, want, `${environment} ${dataClasses}`);
  });

  it('historical: the actor’s share of denials, with at least 5 decisions', () => {
    const table: [ActorHistory | undefined, number][] = [
      [undefined, 20],
      [{ total: 4, denied: 4 }, 20],
      [{ total: 5, denied: 0 }, 0],
      [{ total: 10, denied: 7 }, 70],
      [{ total: 8, denied: 1 }, 13],
      [{ total: 5, denied: 5 }, 100],
    ];
    for (const [history, want] of table) assert.equal(risk(p('x.read'), history).factors.historical.value, want, JSON.stringify(history));
  });
});

describe('risk modifiers', () => {
  const names = (over: Partial<Proposal>, capability = 'x.read') => risk(p(capability, over)).modifiers.map((m) => m.name);
  const table: [string, Partial<Proposal>, string, string[]][] = [
    ['PII', { dataClasses: ['PII'] }, 'x.read', ['pii_data']],
    ['PCI', { dataClasses: ['pci'] }, 'x.read', ['financial_data']],
    ['card', { dataClasses: ['card'] }, 'x.read', ['financial_data']],
    ['financial', { dataClasses: ['Financial'] }, 'x.read', ['financial_data']],
    ['an amount alone (counted by financial_impact instead)', { amount: 5000 }, 'x.pay', []],
    ['PHI', { dataClasses: ['PHI'] }, 'x.read', ['health_data']],
    ['health', { dataClasses: ['health'] }, 'x.read', ['health_data']],
    ['a destructive verb', {}, 'files.purge', ['delete_operation']],
    ['an https target', { target: 'https://api.example.com/v1' }, 'x.read', ['external_api']],
    ['an HTTP target', { target: 'HTTP://example.com' }, 'x.read', ['external_api']],
    ['metadata.external = true', { context: { metadata: { external: true } } }, 'x.read', ['external_api']],
    ['metadata.external = "yes" (not true)', { context: { metadata: { external: 'yes' } } }, 'x.read', []],
    ['an internal target', { target: 'billing-db' }, 'x.read', []],
    ['all of them', { dataClasses: ['PII', 'PCI', 'PHI'], target: 'https://x' }, 'x.delete', ['pii_data', 'financial_data', 'health_data', 'delete_operation', 'external_api']],
  ];
  for (const [name, over, capability, want] of table) it(name, () => assert.deepEqual(names(over, capability), want));

  it('adds the configured points; a modifier set to 0 does not apply', () => {
    const cfg: RiskConfig = { ...DEFAULT_RISK_CONFIG, modifiers: { ...DEFAULT_RISK_CONFIG.modifiers, pii_data: 10, delete_operation: 0 } };
    const r = risk(p('x.delete', { dataClasses: ['PII'] }), undefined, cfg);
    assert.deepEqual(r.modifiers, [{ name: 'pii_data', points: 10 }]);
    const without = risk(p('x.delete', { dataClasses: ['PII'] }), undefined, { ...cfg, modifiers: { ...cfg.modifiers, pii_data: 0 } });
    assert.equal(r.score - without.score, 10);
  });
});

describe('risk score and band', () => {
  it('a PII read in production needs approval', () => {
    const r = risk(p('customers.read', { environment: 'production', dataClasses: ['PII'] }));
    // 0.30·75 + 0.25·10 + 0.20·0 + 0.15·80 + 0.10·20 = 39, + pii_data 40
    assert.deepEqual(
      Object.fromEntries(Object.entries(r.factors).map(([k, f]) => [k, [f.value, f.contribution]])),
      { data_sensitivity: [75, 22.5], operation_type: [10, 2.5], financial_impact: [0, 0], compliance: [80, 12], historical: [20, 2] },
    );
    assert.deepEqual(r.modifiers, [{ name: 'pii_data', points: 40 }]);
    assert.equal(r.score, 79);
    assert.equal(r.band, 'REQUIRE_APPROVAL');
  });

  it('a PHI delete in production is denied by score', () => {
    const r = risk(p('records.delete', { environment: 'production', dataClasses: ['PHI'] }));
    // 28.5 + 23.75 + 0 + 12 + 2 = 66.25, + health_data 45 + delete_operation 30 = 141.25 → 100
    assert.deepEqual(r.modifiers, [{ name: 'health_data', points: 45 }, { name: 'delete_operation', points: 30 }]);
    assert.equal(r.score, 100);
    assert.equal(r.band, 'AUTO_DENY');
  });

  it('a read of nothing sensitive in development is auto-approved', () => {
    const r = risk(p('database.query', { environment: 'development' }));
    // 3 + 2.5 + 0 + 1.5 + 2 = 9
    assert.equal(r.score, 9);
    assert.equal(r.band, 'AUTO_APPROVE');
  });

  it('rounds half up without float surprises', () => {
    // 0.3·30 + 0.25·70 + 0.2·60 + 0.15·60 + 0.1·20 = 49.5 → 50
    assert.equal(risk(p('payments.transfer', { amount: 999, environment: 'production', dataClasses: ['internal'] })).score, 50);
  });

  it('the thresholds decide the band, at their edges', () => {
    // Only the historical factor weighs, so the score is exactly the share of denials.
    const cfg: RiskConfig = { ...DEFAULT_RISK_CONFIG, weights: { data_sensitivity: 0, operation_type: 0, financial_impact: 0, compliance: 0, historical: 1 } };
    const table: [number, string][] = [
      [0, 'AUTO_APPROVE'],
      [30, 'AUTO_APPROVE'],
      [31, 'REQUIRE_APPROVAL'],
      [94, 'REQUIRE_APPROVAL'],
      [95, 'AUTO_DENY'],
      [100, 'AUTO_DENY'],
    ];
    for (const [denied, band] of table) {
      const r = risk(p('x.read'), { total: 100, denied }, cfg);
      assert.deepEqual([r.score, r.band], [denied, band]);
    }
    const strict = { ...cfg, thresholds: { auto_approve_max: 5, require_approval_min: 6, auto_deny_min: 8 } };
    assert.equal(risk(p('x.read'), { total: 100, denied: 7 }, strict).band, 'REQUIRE_APPROVAL');
    assert.equal(risk(p('x.read'), { total: 100, denied: 8 }, strict).band, 'AUTO_DENY');
  });

  it('is deterministic and leaves its inputs alone', () => {
    const prop = p('records.delete', { environment: 'production', dataClasses: ['PHI', 'pii'], amount: 10, target: 'https://x' });
    const before = JSON.stringify(prop);
    assert.deepEqual(risk(prop, { total: 9, denied: 3 }), risk(prop, { total: 9, denied: 3 }));
    assert.equal(JSON.stringify(prop), before);
  });

  it('refuses to score with a configuration that yields no number', () => {
    assert.throws(() => risk(p('x.read'), undefined, { ...DEFAULT_RISK_CONFIG, weights: { ...DEFAULT_RISK_CONFIG.weights, compliance: Number.NaN } }), /yields no score/);
  });
});

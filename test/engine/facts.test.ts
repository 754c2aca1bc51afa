import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFacts, capabilityVerb } from '../../engine/facts';
import { getPath, isValidPath, pathProblem } from '../../engine/paths';
import type { Proposal } from '../../engine/types';

const proposal: Proposal = {
  actor: { id: 'trading-bot-001', type: 'ai-agent' },
  action: { capability: 'trade_execution', parameters: { amount: 75000, symbol: 'AAPL', legs: [{ id: 'l1' }] } },
  target: 'https://broker.example.com',
  environment: 'production',
  context: { sessionId: 's1', runId: 'r1', missionId: 'm1', groupIds: ['g1'], tags: ['urgent'], metadata: { desk: 'fx', external: true } },
  confidence: { intent: 0.9, safety: 0.4 },
  reasoning: 'rebalance',
  modelId: 'gpt-x',
  dataClasses: ['financial'],
};

describe('facts', () => {
  it('carries the proposal under the names the seeds’ rules use', () => {
    const f = buildFacts(proposal, { now: Date.parse('2026-11-23T19:05:30Z'), riskScore: 75 });
    const want: Record<string, unknown> = {
      action_type: 'trade_execution',
      capability: 'trade_execution',
      verb: 'trade',
      agent_id: 'trading-bot-001',
      agent_type: 'ai-agent',
      'actor.id': 'trading-bot-001',
      'actor.type': 'ai-agent',
      'action.capability': 'trade_execution',
      'action.parameters.symbol': 'AAPL',
      'parameters.amount': 75000,
      'parameters.legs.0.id': 'l1',
      target: 'https://broker.example.com',
      target_service: 'https://broker.example.com',
      environment: 'production',
      data_classes: ['financial'],
      'confidence.safety': 0.4,
      model_id: 'gpt-x',
      amount: 75000,
      risk_score: 75,
      time_of_day: '19:05',
      hour: 19,
      day_of_week: 'mon',
      session_id: 's1',
      run_id: 'r1',
      mission_id: 'm1',
      tags: ['urgent'],
      'metadata.desk': 'fx',
      reasoning: 'rebalance',
    };
    for (const [path, value] of Object.entries(want)) assert.deepEqual(getPath(f, path), value, path);
  });

  it('the proposal’s amount wins; else a numeric parameters.amount; else none', () => {
    const with_ = (amount: number | undefined, param: unknown) => buildFacts({ ...proposal, amount, action: { capability: 'x', parameters: { amount: param } } }, { now: 0 }).amount;
    assert.equal(with_(10, 20), 10);
    assert.equal(with_(undefined, 20), 20);
    assert.equal(with_(undefined, '20'), undefined);
    assert.equal(with_(undefined, Number.NaN), undefined);
  });

  it('absent fields are absent facts', () => {
    const f = buildFacts({ actor: { id: 'a', type: 't' }, action: { capability: 'db.query', parameters: {} }, context: { metadata: {} }, dataClasses: [] }, { now: 0 });
    for (const path of ['target', 'environment', 'model_id', 'risk_score', 'amount', 'session_id', 'reasoning']) assert.equal(getPath(f, path), undefined, path);
    assert.deepEqual(f.tags, []);
    assert.deepEqual(f.confidence, {});
  });

  it('clock facts are UTC and computed from `now` alone', () => {
    const table: [string, string, number, string][] = [
      ['1970-01-01T00:00:00Z', '00:00', 0, 'thu'],
      ['2026-11-22T23:59:59.999Z', '23:59', 23, 'sun'],
      ['2026-11-28T06:00:00Z', '06:00', 6, 'sat'],
      ['1969-12-31T18:30:00Z', '18:30', 18, 'wed'],
      ['2024-02-29T12:07:00Z', '12:07', 12, 'thu'],
    ];
    const saved = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      for (const [iso, tod, hour, dow] of table) {
        const f = buildFacts(proposal, { now: Date.parse(iso) });
        assert.deepEqual([f.time_of_day, f.hour, f.day_of_week], [tod, hour, dow], iso);
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('names the verb of a capability', () => {
    const table: [string, string][] = [
      ['database.query', 'query'],
      ['trade_execution', 'trade'],
      ['payments.refund.create', 'create'],
      ['db.delete_records', 'delete'],
      ['Files.Purge', 'purge'],
      ['send-email', 'send'],
      ['deploy', 'deploy'],
      ['', ''],
    ];
    for (const [cap, verb] of table) assert.equal(capabilityVerb(cap), verb, cap);
  });
});

describe('paths', () => {
  it('reads dotted paths and array indices, own properties only', () => {
    const o = { a: { b: [{ c: 1 }, { c: 2 }] }, s: 'str', n: null };
    assert.equal(getPath(o, 'a.b.1.c'), 2);
    assert.equal(getPath(o, 'a.b.2.c'), undefined);
    assert.equal(getPath(o, 'a.b.length'), 2);
    assert.equal(getPath(o, 's.length'), undefined);
    assert.equal(getPath(o, 'n.x'), undefined);
    assert.equal(getPath(o, 'a.toString'), undefined);
    assert.equal(getPath(o, 'a.constructor'), undefined);
    assert.equal(getPath(null, 'a'), undefined);
  });

  it('validates path strings', () => {
    const table: [unknown, string | null][] = [
      ['parameters.amount', null],
      ['items.0.id', null],
      ['', 'path is empty'],
      ['a..b', 'path "a..b" has an empty segment'],
      ['.a', 'path ".a" has an empty segment'],
      ['a.__proto__', 'path "a.__proto__" uses a reserved segment (__proto__)'],
      ['constructor', 'path "constructor" uses a reserved segment (constructor)'],
      ['x.prototype', 'path "x.prototype" uses a reserved segment (prototype)'],
      ['a'.repeat(201), 'path is longer than 200 characters'],
      [42, 'path is empty'],
    ];
    for (const [path, want] of table) {
      assert.equal(pathProblem(path), want, String(path));
      assert.equal(isValidPath(path), want === null);
    }
  });
});

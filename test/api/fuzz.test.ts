import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FuzzRequest, FuzzStats } from '../helpers/fuzz';
import { fuzzRequests, harvestIds, KNOWN_BUGS, malformedReason, operations, rawRequest, runFuzz, summarize } from '../helpers/fuzz';
import { startSlackStandin } from '../helpers/slack';
import type { SlackStandin } from '../helpers/slack';
import { ADMIN_KEY, startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

// Issue "Hostile input never reaches a 5xx": a bounded sample of the fuzzer of
// test/helpers/fuzz.ts (the long run is scripts/fuzz.ts, see docs/fuzzing.md).
const SEED = 20251202;
const TARGET_REQUESTS = 3000;

/** One request as the fuzzer sends it; answers whether it is a proper one (2xx, or a 4xx whose JSON error names the field). */
async function send(stack: Stack, req: { method: string; path: string; headers: Record<string, string>; body?: string; auth?: FuzzRequest['auth'] }) {
  const headers = { ...(req.auth === 'none' ? {} : { 'X-API-Key': ADMIN_KEY }), ...req.headers };
  const res = await rawRequest(stack.url, { ...req, headers });
  const problem = res.status >= 500 ? `${res.status}` : res.status >= 400 ? malformedReason(req, res) : null;
  return { ...res, problem };
}

const J = { 'Content-Type': 'application/json' };
const proposal = (parameters: Record<string, unknown>, actor = 'agent-fuzz') => JSON.stringify({ actor: { id: actor, type: 'ai-agent' }, action: { capability: 'db.read', parameters } });

describe('fuzz: hostile input never reaches a 5xx', () => {
  let slack: SlackStandin;
  let stack: Stack;
  let doc: Record<string, unknown>;
  let stats: FuzzStats;
  const crashes: string[] = [];
  const onCrash = (e: unknown) => crashes.push(String((e as Error)?.stack ?? e));

  before(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    slack = await startSlackStandin();
    // Slack configured, so /slack/interactions refuses unsigned bodies with 401 (unconfigured it is a 503 by design).
    stack = await startStack({ env: { SLACK_BOT_TOKEN: slack.token, SLACK_SIGNING_SECRET: 'fuzz-signing-secret', SLACK_API_URL: slack.url, SLACK_RETRIES: '0', SLACK_TIMEOUT_MS: '2000' } });
    doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as Record<string, unknown>;
    const ids = await harvestIds(stack.url, ADMIN_KEY, doc, SEED);
    const perOperation = Math.ceil(TARGET_REQUESTS / operations(doc).length);
    stats = await runFuzz(stack.url, ADMIN_KEY, fuzzRequests(doc, { seed: SEED, perOperation, ids }), { concurrency: 8 });
  });

  after(async () => {
    await stack?.close();
    await slack?.close();
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  });

  it('covers every documented operation with a few thousand requests', (t) => {
    t.diagnostic(`${stats.requests} requests in ${(stats.durationMs / 1000).toFixed(1)} s; by status ${JSON.stringify(stats.byStatus)}; known bugs hit: ${KNOWN_BUGS.map((b) => `${b.id} ${[...stats.fiveXX, ...stats.malformed4xx].filter((x) => x.known === b.id).length}`).join(', ')}`);
    const ops = operations(doc);
    assert.ok(ops.length >= 50, `only ${ops.length} operations in /openapi.json`);
    const missed = ops.filter((o) => !stats.byOperation[o.key]);
    assert.deepEqual(missed.map((o) => o.key), []);
    assert.ok(stats.requests >= TARGET_REQUESTS, `${stats.requests} requests`);
  });

  it('generates the same requests for a seed, with every kind of hostile input', () => {
    const gen = (seed: number) => [...fuzzRequests(doc, { seed, perOperation: 3, ids: ['usr_fuzz'] })];
    assert.deepEqual(gen(7), gen(7));
    assert.notDeepEqual(gen(7), gen(8));
    const sample = [...fuzzRequests(doc, { seed: SEED, perOperation: 30 })];
    const kinds = sample.map((r) => r.kind).join('\n');
    for (const k of ['path.hostile', 'query.raw', 'query.repeated', 'body.valid', 'body.wrong-type', 'body.missing-required', 'body.out-of-range', 'body.too-long', 'body.raw-number', 'body.deep-200', 'body.proto-keys', 'body.extra-key', 'free.broken-json', 'free.content-type text/plain', 'free.content-type application/x-www-form-urlencoded', 'free.deep-body', 'free.no-body', 'header.idempotency-key', 'auth.none', 'auth.bad']) {
      assert.ok(kinds.includes(k), `no ${k} request in the sample`);
    }
    const bodies = sample.map((r) => r.body ?? '').join('\n');
    for (const raw of [':1e309', ':-0', ':9007199254740993', '"__proto__":', '"constructor":', '\\u0000', '\\ud800', '{"a":'.repeat(200)]) assert.ok(bodies.includes(raw), `no body with ${raw.slice(0, 20)}`);
    assert.ok(sample.some((r) => r.body !== undefined && r.body.length >= 70 * 1024 && r.body.length < 1024 * 1024), 'no 70 kB body');
    const paths = sample.map((r) => r.path).join('\n');
    for (const seg of ['/%00', '/%ED%A0%80']) assert.ok(paths.includes(seg), `no path with ${seg}`);
    const keys = sample.map((r) => r.headers['Idempotency-Key']).filter((k) => k !== undefined);
    for (const k of ['', 'a\u0000b', 'cl\u00e9']) assert.ok(keys.includes(k), `no Idempotency-Key ${JSON.stringify(k)}`);
    assert.ok(keys.some((k) => k.length === 10 * 1024), 'no 10 kB Idempotency-Key');
  });

  it('answers no 5xx (beyond the known bugs listed below)', () => {
    const unexplained = stats.fiveXX.filter((x) => !x.known);
    assert.equal(unexplained.length, 0, `${unexplained.length} answers ≥ 500:\n${summarize(unexplained)}`);
  });

  it('refuses with a JSON error in its surface’s envelope, naming the field on a 400 (beyond the known bugs)', () => {
    const unexplained = stats.malformed4xx.filter((x) => !x.known);
    assert.equal(unexplained.length, 0, `${unexplained.length} malformed 4xx:\n${summarize(unexplained)}`);
  });

  it('answers every request (no reset connection, no timeout)', () => {
    assert.deepEqual(stats.transportErrors.slice(0, 5), []);
  });

  it('never crashes, still answers /healthz, and leaves Object.prototype alone', async () => {
    assert.deepEqual(crashes, []);
    const res = await fetch(`${stack.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).x, undefined);
  });

  it('leaves an audit chain that verifies', async () => {
    const v = await stack.call('GET', '/api/v1/audit/verify');
    assert.equal(v.status, 200);
    assert.equal(v.body.ok, true, JSON.stringify(v.body));
    assert.ok(v.body.checked > 10, `only ${v.body.checked} records: the fuzzer changed next to nothing`);
  });

  it('refuses hostile values with the field named (spot checks of what the fuzzer sends)', async () => {
    const cases: { req: Parameters<typeof send>[1]; status: number | number[]; field?: string }[] = [
      { req: { method: 'POST', path: '/api/v1/governance/propose', headers: J, body: '{"actor":' }, status: 400, field: 'body' },
      { req: { method: 'POST', path: '/api/v1/governance/propose', headers: J, body: `${proposal({}).slice(0, -1)},"amount":1e309}` }, status: 400, field: 'amount' },
      { req: { method: 'POST', path: '/api/v1/governance/propose', headers: J, body: proposal({}).replace('{"actor"', '{"__proto__":{"polluted":true},"actor"') }, status: [200, 400] },
      { req: { method: 'POST', path: '/api/v1/governance/propose', headers: { ...J, 'Idempotency-Key': 'k'.repeat(10 * 1024) }, body: proposal({}) }, status: 400, field: 'Idempotency-Key' },
      { req: { method: 'POST', path: '/api/v1/governance/propose', headers: { ...J, 'Idempotency-Key': '' }, body: proposal({}) }, status: 400, field: 'Idempotency-Key' },
      { req: { method: 'POST', path: '/api/v1/governance/propose', headers: { 'Content-Type': 'text/plain' }, body: proposal({}) }, status: 400, field: 'actor' },
      { req: { method: 'POST', path: '/govern', headers: J, body: '{"a":'.repeat(200) + '1' + '}'.repeat(200) }, status: 400 },
      { req: { method: 'POST', path: '/api/smart-rules', headers: J, body: JSON.stringify({ name: 'x'.repeat(70 * 1024), conditions: {}, action: 'DENY' }) }, status: 400, field: 'name' },
      { req: { method: 'POST', path: '/slack/interactions', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'payload=%7B%7D', auth: 'none' }, status: 401, field: 'X-Slack-Signature' },
    ];
    for (const c of cases) {
      const res = await send(stack, c.req);
      const label = `${c.req.method} ${c.req.path} ${c.req.body?.slice(0, 80)}`;
      assert.ok([c.status].flat().includes(res.status), `${label} → ${res.status} ${res.body.slice(0, 300)}`);
      assert.equal(res.problem, null, `${label}: ${res.problem}`);
      if (c.field) assert.equal(JSON.parse(res.body).error.field, c.field, label);
    }
  });

  // ---- product bugs the fuzzer found (docs/fuzzing.md), fixed: each with its reproducer, so it stays fixed.
  describe('known bugs', () => {
    const expectProper = async (req: Parameters<typeof send>[1]) => {
      const res = await send(stack, req);
      assert.equal(res.problem, null, `${req.method} ${req.path} ${req.body?.slice(0, 120) ?? ''} → ${res.status} ${res.body.slice(0, 300)}`);
      return res;
    };

    it('a malformed percent-escape in a path parameter is a 400 naming it', async () => {
      for (const seg of ['%zz', '%', '%C0%AF', '%FF', '%ED%A0%80']) {
        const res = await expectProper({ method: 'GET', path: `/api/v1/users/${seg}`, headers: {} });
        assert.equal(res.status, 400);
      }
      await expectProper({ method: 'GET', path: '/approve/%C0%AF', headers: {}, auth: 'none' });
    });

    it('U+0000 in a body string, a path parameter or a query value is a 400 naming it', async () => {
      await expectProper({ method: 'POST', path: '/api/v1/governance/propose', headers: J, body: proposal({ x: 'a\u0000b' }) });
      await expectProper({ method: 'POST', path: '/govern', headers: J, body: JSON.stringify({ agent_id: 'agent-fuzz', action_type: 'deploy', target_service: 'api\u0000' }) });
      await expectProper({ method: 'POST', path: '/api/v1/agents', headers: J, body: JSON.stringify({ owner: 'a\u0000b' }) });
      await expectProper({ method: 'GET', path: '/api/v1/users/%00', headers: {} });
      await expectProper({ method: 'GET', path: '/api/v1/governance/decisions?actor_id=%00', headers: {} });
    });

    it('a lone surrogate in a body string is refused (or stored well-formed), never a 500', async () => {
      await expectProper({ method: 'POST', path: '/api/v1/governance/propose', headers: J, body: proposal({ x: '\ud800' }) });
      await expectProper({ method: 'POST', path: '/govern', headers: J, body: JSON.stringify({ agent_id: 'agent-fuzz', action_type: 'deploy', target_service: 'api', metadata: { note: '\udc00' } }) });
      await expectProper({ method: 'POST', path: '/api/v1/agents', headers: J, body: JSON.stringify({ owner: '\ud800' }) });
    });

    it('a policy refused at its root names a field', async () => {
      const res = await expectProper({ method: 'POST', path: '/api/v1/policies', headers: J, body: JSON.stringify({ name: 'fuzz-root', '': 1 }) });
      assert.equal(res.status, 400);
    });

    it('a request the HTTP parser refuses still gets a JSON error naming the header', async () => {
      const res = await expectProper({ method: 'GET', path: '/healthz', headers: { 'Idempotency-Key': 'a\u0000b' } });
      assert.equal(res.status, 400);
    });
  });
});

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { proposal } from '../helpers/fixtures';
import { ADMIN_KEY, startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

/*
 * The hot decision routes are answered by the lean `node:http` front (api/fast-path.ts)
 * instead of Express. The answer must stay what Express gives, byte for byte: the same
 * status, the same headers in the same order, the same body. A request sent with
 * `Transfer-Encoding: chunked` (no Content-Length) is one the front does not take, so
 * it reaches Express: each case below is sent both ways and the two answers compared.
 */

interface Raw {
  status: number;
  /** Header names in the order they were sent, lower-cased, with their values. */
  headers: [string, string][];
  body: string;
}

function send(base: string, path: string, body: string | Buffer, opts: { chunked: boolean; headers?: Record<string, string> }): Promise<Raw> {
  const url = new URL(path, base);
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return new Promise((ok, fail) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-fixed-1', ...(opts.chunked ? {} : { 'content-length': String(buf.length) }), ...(opts.headers ?? {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
          ok({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    req.on('error', fail);
    if (opts.chunked) {
      // Two writes without a length: Node frames the body in chunks.
      req.write(buf.subarray(0, Math.floor(buf.length / 2)));
      req.end(buf.subarray(Math.floor(buf.length / 2)));
    } else req.end(buf);
  });
}

/** What may differ between two answers to the same request: the clock, and the ids and hashes of a new decision. */
function comparable(r: Raw): { status: number; headers: [string, string][]; body: unknown } {
  const headers = r.headers.filter(([k]) => k !== 'date').map(([k, v]) => [k, k === 'content-length' ? 'n' : v] as [string, string]);
  let body: unknown = r.body;
  try {
    body = JSON.parse(r.body, (k, v: unknown) => (['decision_id', 'timestamp', 'audit_ref', 'seq', 'hash', 'action_id', 'escrow_id', 'created_at', 'id', 'evaluated_at'].includes(k) ? `<${k}>` : v));
  } catch {
    /* an error page: compared as text */
  }
  return { status: r.status, headers, body };
}

describe('the lean front answers the hot routes exactly as Express does', { timeout: 120_000 }, () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ withWorker: false });
  });
  after(async () => {
    await s?.close();
  });

  const key = { 'x-api-key': ADMIN_KEY };
  const cases: { label: string; path: string; body: string | Buffer; headers?: Record<string, string>; status: number; sameBytes?: boolean }[] = [
    { label: 'an allowed proposal', path: '/api/v1/governance/propose', body: JSON.stringify(proposal()), headers: key, status: 200 },
    { label: 'a proposal missing its actor (400 naming the field)', path: '/api/v1/governance/propose', body: JSON.stringify({ action: { capability: 'db.read', parameters: {} } }), headers: key, status: 400, sameBytes: true },
    { label: 'malformed JSON', path: '/api/v1/governance/propose', body: '{"actor": ', headers: key, status: 400, sameBytes: true },
    { label: 'a JSON string at the top (strict parser)', path: '/api/v1/governance/propose', body: '"hello"', headers: key, status: 400, sameBytes: true },
    { label: 'an empty body', path: '/api/v1/governance/propose', body: '', headers: key, status: 400, sameBytes: true },
    { label: 'a byte-order mark before the JSON', path: '/api/v1/governance/propose', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(proposal()))]), headers: key, status: 200 },
    { label: 'no key (401)', path: '/api/v1/governance/propose', body: JSON.stringify(proposal()), status: 401, sameBytes: true },
    { label: 'a wrong key (401)', path: '/api/v1/governance/propose', body: JSON.stringify(proposal()), headers: { 'x-api-key': 'arb_nope_0000000000000000000000' }, status: 401, sameBytes: true },
    { label: 'NUL in a value (400)', path: '/api/v1/governance/propose', body: JSON.stringify(proposal({ actor: { id: 'a\u0000b', type: 'ai-agent' } })), headers: key, status: 400, sameBytes: true },
    { label: 'a lone surrogate in a nested key (400)', path: '/api/v1/governance/propose', body: JSON.stringify(proposal({ action: { capability: 'database.query', parameters: { 'k\ud800': 1 } } })), headers: key, status: 400, sameBytes: true },
    { label: 'an escaped character that is storable (200)', path: '/api/v1/governance/propose', body: JSON.stringify(proposal({ actor: { id: 'agent-escape', type: 'ai-agent' }, action: { capability: 'database.query', parameters: { note: 'tab\there \u00e9' } } })).replace('\u00e9', '\\u00e9'), headers: key, status: 200 },
    { label: 'a bad Idempotency-Key', path: '/api/v1/governance/propose', body: JSON.stringify(proposal()), headers: { ...key, 'idempotency-key': 'x'.repeat(201) }, status: 400, sameBytes: true },
    { label: 'WARDN /govern', path: '/govern', body: JSON.stringify({ agent_id: 'agent-fast', action_type: 'db.read', target_service: 'orders', environment: 'development' }), headers: key, status: 200 },
    { label: 'WARDN /govern without its action type', path: '/govern', body: JSON.stringify({ agent_id: 'agent-fast' }), headers: key, status: 400, sameBytes: true },
    { label: 'WARDN /govern, malformed JSON', path: '/govern', body: '{', headers: key, status: 400, sameBytes: true },
    { label: "Ascend's submit", path: '/api/v1/actions/submit', body: JSON.stringify({ agent_id: 'agent-fast', action_type: 'db.read', description: 'read orders' }), headers: key, status: 200 },
    { label: "Ascend's submit, a field of the wrong type", path: '/api/v1/actions/submit', body: JSON.stringify({ agent_id: 7, action_type: 'db.read' }), headers: key, status: 400, sameBytes: true },
  ];

  for (const c of cases) {
    it(`${c.label}: ${c.status}, the same status, headers and body either way`, async () => {
      const fast = await send(s.url, c.path, c.body, { chunked: false, headers: c.headers });
      const express = await send(s.url, c.path, c.body, { chunked: true, headers: c.headers });
      assert.equal(fast.status, c.status, fast.body);
      // The Express answer went through Express: it is chunked on the way in, never on the way out.
      assert.deepEqual(comparable(fast), comparable(express));
      if (c.sameBytes) assert.equal(fast.body, express.body);
      assert.ok(fast.headers.some(([k, v]) => k === 'x-request-id' && v === 'req-fixed-1'));
    });
  }

  it('an idempotent replay answers the first decision with Idempotent-Replayed, on either path', async () => {
    const body = JSON.stringify(proposal());
    const headers = { ...key, 'idempotency-key': `fast-${Date.now()}` };
    const first = await send(s.url, '/api/v1/governance/propose', body, { chunked: false, headers });
    const replayFast = await send(s.url, '/api/v1/governance/propose', body, { chunked: false, headers });
    const replayExpress = await send(s.url, '/api/v1/governance/propose', body, { chunked: true, headers });
    assert.equal(first.status, 200);
    assert.equal(replayFast.body, first.body);
    assert.equal(replayExpress.body, first.body);
    assert.deepEqual(comparable(replayFast), comparable(replayExpress));
    assert.ok(replayFast.headers.some(([k, v]) => k === 'idempotent-replayed' && v === 'true'));
  });

  it('what the front does not take goes to Express: a query string, a gzip body, another charset, a body over the limit', async () => {
    const body = JSON.stringify(proposal());
    const withQuery = await send(s.url, '/api/v1/governance/propose?x=1', body, { chunked: false, headers: key });
    assert.equal(withQuery.status, 200, withQuery.body);
    const latin = await send(s.url, '/api/v1/governance/propose', body, { chunked: false, headers: { ...key, 'content-type': 'application/json; charset=latin1' } });
    assert.equal(latin.status, 415, latin.body);
    const big = await send(s.url, '/api/v1/governance/propose', JSON.stringify({ ...proposal(), reasoning: 'x'.repeat(1024 * 1024) }), { chunked: false, headers: key });
    assert.equal(big.status, 413, big.body);
    assert.equal(JSON.parse(big.body).error.code, 'PAYLOAD_TOO_LARGE');
  });

  it('the fast routes are counted in the request metrics under their route', async () => {
    await send(s.url, '/api/v1/governance/propose', JSON.stringify(proposal()), { chunked: false, headers: key });
    const m = await s.core.metrics.registry.metrics();
    assert.match(m, /arbiter_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/governance\/propose",status="2xx"\} [1-9]/);
  });
});

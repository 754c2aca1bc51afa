import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, proposal } from '../helpers/fixtures';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

describe('approval links: signed, bound, expiring, single use, stored hashed', () => {
  let s: Stack;
  let decisionId: string;
  let approverId: string;
  const grant = () => ({ orgId: 'org_default', decisionId, workflowId: `proposal-${decisionId}`, approverId, tier: 1 });
  const issue = (ttlSeconds = 600, now?: Date) => s.core.ds.transaction((em) => s.core.links.issue(em, { ...grant(), ttlSeconds, now }));

  before(async () => {
    s = await startStack({ withWorker: false });
    approverId = await addUser(s, 'eve@example.com', ['approver'], 'Eve');
    await s.call('POST', '/api/smart-rules', { body: { name: 'People look at exports', conditions: { action_type: 'files.export' }, action: 'REQUIRE_APPROVAL' } });
    const p = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ action: { capability: 'files.export', parameters: { file: '<script>alert(1)</script>.csv' } } }) });
    assert.equal(p.body.outcome, 'REQUIRE_CONFIRMATION');
    decisionId = p.body.decision_id;
  });
  after(async () => {
    await s?.close();
  });

  it('accepts its own token and refuses an altered secret, signature or binding', async () => {
    const token = await issue();
    const ok = await s.core.links.inspect(token);
    assert.ok(ok.ok);
    const [id, secret, sig] = token.split('.');
    const flip = (x: string) => (x[0] === 'A' ? 'B' : 'A') + x.slice(1);
    assert.deepEqual(await s.core.links.inspect(`${id}.${flip(secret)}.${sig}`), { ok: false, problem: 'TOKEN_BAD_SIGNATURE' });
    assert.deepEqual(await s.core.links.inspect(`${id}.${secret}.${flip(sig)}`), { ok: false, problem: 'TOKEN_BAD_SIGNATURE' });
    assert.deepEqual(await s.core.links.inspect(`apt_nothere.${secret}.${sig}`), { ok: false, problem: 'TOKEN_NOT_FOUND' });
    assert.deepEqual(await s.core.links.inspect('not-a-token'), { ok: false, problem: 'TOKEN_MALFORMED' });
    // Rebinding the stored row to another approver (a database edit) breaks the signature.
    await s.core.ds.query('UPDATE approval_tokens SET "approverId" = $2 WHERE id = $1', [id, 'usr_someone_else']);
    assert.deepEqual(await s.core.links.inspect(token), { ok: false, problem: 'TOKEN_BAD_SIGNATURE' });
  });

  it('stores only a hash of the secret', async () => {
    const token = await issue();
    const [id, secret] = token.split('.');
    const [row] = await s.core.ds.query('SELECT * FROM approval_tokens WHERE id = $1', [id]);
    assert.ok(!JSON.stringify(row).includes(secret));
  });

  it('expires', async () => {
    const token = await issue(1, new Date(Date.now() - 60_000));
    assert.deepEqual(await s.core.links.inspect(token), { ok: false, problem: 'TOKEN_EXPIRED' });
    const page = await fetch(`${s.url}/approve/${token}`);
    assert.equal(page.status, 410);
  });

  it('counts once when ten clicks race', async () => {
    const token = await issue();
    const tokenId = token.split('.')[0];
    const claims = await Promise.all(Array.from({ length: 10 }, () => s.core.links.claim(tokenId)));
    assert.equal(claims.filter(Boolean).length, 1);
    assert.deepEqual(await s.core.links.inspect(token), { ok: false, problem: 'TOKEN_USED' });
  });

  it('renders the action on the page with HTML escaped, and the GET changes nothing', async () => {
    const token = await issue();
    const res = await fetch(`${s.url}/approve/${token}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-frame-options'), 'DENY', 'no other site may frame the Approve button');
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    const html = await res.text();
    assert.ok(!html.includes('<script>alert(1)</script>'), 'agent-supplied text is escaped');
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.ok((await s.core.links.inspect(token)).ok, 'still unused after the GET');
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

const run = promisify(execFile);

/** The operator's CLI, as the README runs it, against the stack's database. */
async function arbiter(s: Stack, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { env: { ...process.env, DATABASE_URL: s.config.DATABASE_URL } });
  return stdout;
}

describe('tenants: arbiter orgs create / list / disable', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ withWorker: false });
  });
  after(async () => {
    await s?.close();
  });

  it('creates an organization whose first admin key works, sees only its own data, and stops at disable', async () => {
    const out = await arbiter(s, 'orgs', 'create', 'Acme Bank');
    const key = /\b(arb_[A-Za-z0-9_-]+)/.exec(out)?.[1];
    const id = /created organization (org_\w+)/.exec(out)?.[1];
    assert.ok(key && id, out);

    // The default organization's person is not visible to the new one, and the other way round.
    await s.call('POST', '/api/v1/users', { body: { email: 'home@example.com', name: 'Home', roles: ['approver'] } });
    const mine = await s.call('POST', '/api/v1/users', { key, body: { email: 'acme@example.com', name: 'Acme', roles: ['approver'] } });
    assert.equal(mine.status, 201);
    const theirs = await s.call('GET', '/api/v1/users', { key });
    assert.deepEqual(theirs.body.users.map((u: { email: string }) => u.email), ['acme@example.com']);
    const home = await s.call('GET', '/api/v1/users');
    assert.ok(!home.body.users.some((u: { email: string }) => u.email === 'acme@example.com'));

    // The creation is the first record of its own chain.
    const audit = await s.call('GET', '/api/v1/audit/verify', { key });
    assert.equal(audit.body.ok, true);

    const list = await arbiter(s, 'orgs', 'list');
    assert.match(list, new RegExp(`${id}\\s+Acme Bank\\s+active`));

    await arbiter(s, 'orgs', 'disable', id!);
    assert.match(await arbiter(s, 'orgs', 'list'), new RegExp(`${id}\\s+Acme Bank\\s+disabled`));
    // Keys are cached for 5 s per process: past that, the disabled organization's key answers 401.
    await new Promise((r) => setTimeout(r, 5200));
    const refused = await s.call('GET', '/api/v1/users', { key });
    assert.equal(refused.status, 401);
    assert.equal((await s.call('GET', '/api/v1/users')).status, 200, 'other organizations go on');
  });
});

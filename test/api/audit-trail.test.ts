import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyAuditExport } from '../../cli/audit-verify';
import { addUser, proposal } from '../helpers/fixtures';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

describe('reading the audit trail over HTTP', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ withWorker: false });
  });
  after(async () => {
    await s?.close();
  });

  it('lists records newest first, filters them, and pages with an opaque cursor', async () => {
    const ann = await addUser(s, 'ann.audit@example.com', ['approver']);
    await addUser(s, 'bob.audit@example.com', ['approver']);
    for (let i = 0; i < 3; i++) assert.equal((await s.call('POST', '/api/v1/governance/propose', { body: proposal() })).status, 200);

    const users = await s.call('GET', '/api/v1/audit?entity_type=user');
    assert.equal(users.status, 200);
    assert.equal(users.body.data.length, 2);
    assert.equal(users.body.data[1].entity_id, ann, 'newest first');
    const all = (await s.call('GET', '/api/v1/audit?limit=200')).body.data as { seq: number; hash: string; prev_hash: string }[];
    for (let i = 0; i + 1 < all.length; i++) assert.equal(all[i].prev_hash, all[i + 1].hash, `record ${all[i].seq} links to ${all[i + 1].seq}`);

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: { seq: number }[]; next_cursor: string | null } } = await s.call('GET', `/api/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.data.length <= 2);
      seen.push(...page.body.data.map((r) => r.seq));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, [...seen].sort((a, b) => b - a), 'strictly newest first across pages');
    assert.equal(new Set(seen).size, seen.length, 'no record twice');
    assert.equal(seen[seen.length - 1], 1, 'down to the first record');
    const proposed = await s.call('GET', '/api/v1/audit?action=decision.proposed');
    assert.equal(proposed.body.data.length, 3);
  });

  it('exports the chain as NDJSON that verifies offline, and an edited export names the broken seq', async () => {
    const res = await fetch(`${s.url}/api/v1/audit/export`, { headers: { 'X-API-Key': s.config.ARBITER_ADMIN_KEY ?? '' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const lines = (await res.text()).trim().split('\n');
    assert.ok(lines.length >= 5);
    const ok = await verifyAuditExport(lines);
    assert.deepEqual({ ok: ok.ok, checked: ok.checked, firstSeq: ok.firstSeq }, { ok: true, checked: lines.length, firstSeq: 1 });

    // The command-line check, as an auditor would run it on a downloaded file.
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-audit-'));
    writeFileSync(join(dir, 'good.ndjson'), `${lines.join('\n')}\n`);
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'audit', 'verify', join(dir, 'good.ndjson')], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^ok: ${lines.length} records`));

    const edited = [...lines];
    const third = JSON.parse(edited[2]);
    third.data = { ...third.data, note: 'rewritten' };
    edited[2] = JSON.stringify(third);
    const bad = await verifyAuditExport(edited);
    assert.equal(bad.ok, false);
    assert.equal(bad.firstBrokenSeq, 3);
    writeFileSync(join(dir, 'bad.ndjson'), edited.join('\n'));
    const cliBad = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'audit', 'verify', join(dir, 'bad.ndjson')], { encoding: 'utf8' });
    assert.equal(cliBad.status, 1);
    assert.match(cliBad.stdout, /BROKEN at seq 3/);
    const dropped = await verifyAuditExport([...lines.slice(0, 2), ...lines.slice(3)]);
    assert.equal(dropped.firstBrokenSeq, 3);
    assert.match(dropped.problem ?? '', /seq 3 is missing/);

    const tail = await (await fetch(`${s.url}/api/v1/audit/export?from_seq=3&to_seq=4`, { headers: { 'X-API-Key': s.config.ARBITER_ADMIN_KEY ?? '' } })).text();
    const part = await verifyAuditExport(tail.trim().split('\n'));
    assert.deepEqual({ ok: part.ok, firstSeq: part.firstSeq, lastSeq: part.lastSeq }, { ok: true, firstSeq: 3, lastSeq: 4 });
  });

  it('refuses a bad cursor or date with a 400 naming the field, and a non-admin key with a 403', async () => {
    const bad = await s.call('GET', '/api/v1/audit?cursor=not-a-cursor');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'cursor');
    const since = await s.call('GET', '/api/v1/audit?since=yesterday');
    assert.equal(since.status, 400);
    assert.equal(since.body.error.field, 'since');
    const reader = (await s.call('POST', '/api/v1/keys', { body: { name: 'reader', scopes: ['governance:read'] } })).body.key;
    assert.equal((await s.call('GET', '/api/v1/audit', { key: reader })).status, 403);
  });
});

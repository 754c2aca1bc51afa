import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../config';
import { AuditLog } from '../../services/audit-log';
import { createCore } from '../../services/core';
import type { Core } from '../../services/core';
import { dropDatabase, testDatabaseUrl } from '../helpers/db';

describe('audit chain: group commit, gapless seq across writers, verification', () => {
  const url = testDatabaseUrl('audit');
  let a: Core;
  let b: Core;
  before(async () => {
    a = await createCore(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }), { log: pino({ level: 'silent' }) });
    // A second, independent set of connections and queues: another process, as far as PostgreSQL can tell.
    b = await createCore(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }), { log: pino({ level: 'silent' }), migrate: false });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dropDatabase(url);
  });

  const entry = (i: number) => ({ actorType: 'system' as const, actorId: 'test', entityType: 'thing', entityId: `t${i}`, action: 'touch', data: { i } });

  it('batches concurrent appends into few transactions, and two writers never leave a gap', async () => {
    const logs = [a.audit, b.audit, new AuditLog(a.ds)];
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => logs[i % 3].append('org_test', [entry(i)])));
    // Each row's xmin is the transaction that wrote it.
    const used = Number((await a.ds.query(`SELECT count(DISTINCT xmin::text)::int AS n FROM audit_records WHERE "orgId" = 'org_test'`))[0].n);
    assert.ok(used > 0 && used < 150, `300 appends took ${used} transactions`);
    console.log(`group commit: 300 appends from 3 writers in ${used} transactions`);
    const seqs = results.map((r) => r.sealed[0].seq).sort((x, y) => x - y);
    assert.deepEqual(seqs, Array.from({ length: 300 }, (_, i) => i + 1));
    const v = await a.audit.verify('org_test');
    assert.deepEqual({ ok: v.ok, checked: v.checked, headSeq: v.headSeq }, { ok: true, checked: 300, headSeq: 300 });
  });

  it('names the first broken seq: changed content, a deleted record, a truncated tail', async () => {
    await a.ds.query(`UPDATE audit_records SET "actorId" = 'mallory' WHERE "orgId" = 'org_test' AND seq = 120`);
    assert.equal((await a.audit.verify('org_test')).firstBrokenSeq, 120);
    await a.ds.query(`UPDATE audit_records SET "actorId" = 'test' WHERE "orgId" = 'org_test' AND seq = 120`);
    assert.equal((await a.audit.verify('org_test')).ok, true, 'restoring the content restores the chain');
    await a.ds.query(`DELETE FROM audit_records WHERE "orgId" = 'org_test' AND seq = 77`);
    assert.equal((await a.audit.verify('org_test')).firstBrokenSeq, 77);
    await a.ds.query(`DELETE FROM audit_records WHERE "orgId" = 'org_test' AND seq > 76`);
    const tail = await a.audit.verify('org_test');
    assert.equal(tail.ok, false);
    assert.equal(tail.firstBrokenSeq, 77);
  });

  it('verifies while appends keep committing: a growing chain is not a broken one', async () => {
    await Promise.all(Array.from({ length: 3000 }, (_, i) => a.audit.append('org_busy', [entry(i)])));
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) await Promise.all([a.audit.append('org_busy', [entry(i)]), b.audit.append('org_busy', [entry(i)])]);
    })();
    const answers = [];
    for (let i = 0; i < 15; i++) answers.push(await a.audit.verify('org_busy'));
    writing = false;
    await writer;
    const after = await a.audit.verify('org_busy');
    assert.ok(after.headSeq > answers[0].headSeq, 'appends were committed while it verified');
    assert.deepEqual(answers.filter((v) => !v.ok), [], 'every verify during the appends said ok');
    assert.equal(after.ok, true);
  });

  it('flags a record past the chain head', async () => {
    const v = await a.audit.verify('org_busy');
    await a.ds.query(
      `INSERT INTO audit_records ("orgId", seq, id, at, "actorType", "actorId", "entityType", "entityId", action, data, "prevHash", hash) VALUES ('org_busy', $1, 'aud_forged', now(), 'system', 'x', 'thing', 't', 'touch', '{}', $2, $2)`,
      [v.headSeq + 1, '0'.repeat(64)],
    );
    const forged = await a.audit.verify('org_busy');
    assert.deepEqual({ ok: forged.ok, firstBrokenSeq: forged.firstBrokenSeq, problem: forged.problem }, { ok: false, firstBrokenSeq: v.headSeq + 1, problem: 'records past the chain head' });
    await a.ds.query(`DELETE FROM audit_records WHERE id = 'aud_forged'`);
    assert.equal((await a.audit.verify('org_busy')).ok, true);
  });

  it('with the database away, a decision append fails at once (closed) instead of waiting, and works again after', async () => {
    await a.audit.appendRows('org_away', [entry(0)], () => null);
    const dbName = new URL(url).pathname.slice(1);
    const { Client } = await import('pg');
    const admin = new Client({ connectionString: url.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
      for (let i = 1; i <= 3; i++) {
        // The first finds the statement failing; the next ones find the chain head unknown and unreadable.
        const answer = await Promise.race([
          a.audit.appendRows('org_away', [entry(i)], () => null).then(() => 'committed', () => 'rejected'),
          new Promise((ok) => setTimeout(() => ok('still waiting after 5 s'), 5000)),
        ]);
        assert.equal(answer, 'rejected', `append ${i}`);
      }
    } finally {
      await admin.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    const back = await a.audit.appendRows('org_away', [entry(9)], () => null);
    assert.equal(back.sealed[0].seq, 2, 'nothing was written while it was away');
    assert.equal((await a.audit.verify('org_away')).ok, true);
  });

  it('a failing write rolls back its own record only, not its neighbours', async () => {
    const good = a.audit.append('org_two', [entry(1)]);
    const bad = a.audit.append('org_two', [entry(2)], async (em) => {
      await em.query('SELECT 1/0');
    });
    const good2 = a.audit.append('org_two', [entry(3)]);
    await assert.rejects(bad);
    const [g1, g2] = await Promise.all([good, good2]);
    assert.deepEqual([g1.sealed[0].seq, g2.sealed[0].seq].sort(), [1, 2]);
    assert.equal((await a.audit.verify('org_two')).ok, true);
  });
});

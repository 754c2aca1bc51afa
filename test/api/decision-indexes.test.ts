import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../config';
import { createCore } from '../../services/core';
import type { Core } from '../../services/core';
import { dropDatabase, testDatabaseUrl } from '../helpers/db';

describe('decision indexes', () => {
  const url = testDatabaseUrl('dindex');
  let core: Core;
  before(async () => {
    core = await createCore(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }), { log: pino({ level: 'silent' }) });
  });
  after(async () => {
    await core?.close();
    await dropDatabase(url);
  });

  const plan = async (sql: string, args: unknown[]): Promise<string> =>
    core.ds.transaction(async (em) => {
      // A few rows would always be scanned whole: ask for the index the way a large table would.
      await em.query('SET LOCAL enable_seqscan = off');
      const rows = (await em.query(`EXPLAIN ${sql}`, args)) as { 'QUERY PLAN': string }[];
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });

  it('the run index holds only decisions with a run id, and still serves the queries by run id', async () => {
    const [idx] = (await core.ds.query(`SELECT indexdef FROM pg_indexes WHERE tablename = 'decisions' AND indexname = 'IDX_decisions_run'`)) as { indexdef: string }[];
    assert.ok(idx, 'IDX_decisions_run exists');
    assert.match(idx.indexdef, /WHERE \("runId" IS NOT NULL\)/);
    const full = (await core.ds.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'decisions' AND indexdef LIKE '%"runId"%'`)) as { n: number }[];
    assert.equal(full[0].n, 1, 'no other index on runId is left behind');
    // `runId = $n` implies `runId IS NOT NULL`, so a lookup by run uses the partial index.
    assert.match(await plan(`SELECT id FROM decisions WHERE "orgId" = $1 AND "runId" = $2 ORDER BY "createdAt"`, ['org_x', 'run_1']), /IDX_decisions_run/);
  });
});

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The decisions' run index covers only decisions that carry a run id. Most carry none, and on
 * the propose path every index entry is PostgreSQL CPU spent before the answer (measured with
 * pgbench on a 32-decision batch: about a fifth of the insert's cost went to this one index).
 * Every query on `runId` compares it with `=`, which implies `IS NOT NULL`, so the partial index
 * still serves them.
 */
export class DecisionsRunIndex1765065600000 implements MigrationInterface {
  name = 'DecisionsRunIndex1765065600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX "IDX_decisions_run" ON "decisions" ("orgId", "runId", "createdAt") WHERE "runId" IS NOT NULL');
    await q.query('DROP INDEX "public"."IDX_bff165bdfb968854a16ea35c95"');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX "IDX_bff165bdfb968854a16ea35c95" ON "decisions" ("orgId", "runId", "createdAt")');
    await q.query('DROP INDEX "public"."IDX_decisions_run"');
  }
}

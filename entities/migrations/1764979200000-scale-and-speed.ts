import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scale and speed (issue 12). A decision that turns final announces itself (NOTIFY on
 * commit, with its id), whichever path finalized it: long polls in every API process wake
 * at once instead of re-reading. A delivery is leased by the attempt sending it, so a
 * retry never sends beside a slow attempt.
 */
export class ScaleAndSpeed1764979200000 implements MigrationInterface {
  name = 'ScaleAndSpeed1764979200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION arbiter_decision_final_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('arbiter_decision_final', NEW.id);
        RETURN NEW;
      END
    $$`);
    await q.query(`CREATE TRIGGER decisions_final_notify AFTER UPDATE OF status ON decisions FOR EACH ROW
      WHEN (OLD.status = 'pending' AND NEW.status = 'final') EXECUTE FUNCTION arbiter_decision_final_notify()`);
    await q.query('ALTER TABLE "deliveries" ADD "claimedUntil" TIMESTAMP WITH TIME ZONE');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "deliveries" DROP COLUMN "claimedUntil"');
    await q.query('DROP TRIGGER IF EXISTS decisions_final_notify ON decisions');
    await q.query('DROP FUNCTION IF EXISTS arbiter_decision_final_notify()');
  }
}

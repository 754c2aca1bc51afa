import type { MigrationInterface, QueryRunner } from 'typeorm';

/** TheWARDN (seed 003): a governance mode that ends by itself, and a monthly limit per organization. */
export class Wardn1764806400000 implements MigrationInterface {
  name = 'Wardn1764806400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "organizations" ADD "governanceModeExpiresAt" TIMESTAMP WITH TIME ZONE');
    await q.query('ALTER TABLE "organizations" ADD "monthlyLimit" integer');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "organizations" DROP COLUMN "monthlyLimit"');
    await q.query('ALTER TABLE "organizations" DROP COLUMN "governanceModeExpiresAt"');
  }
}

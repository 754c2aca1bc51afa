import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants: an operator can disable an organization (its keys then answer 401). */
export class Tenants1764892800000 implements MigrationInterface {
  name = 'Tenants1764892800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "organizations" ADD "disabledAt" TIMESTAMP WITH TIME ZONE');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "organizations" DROP COLUMN "disabledAt"');
  }
}

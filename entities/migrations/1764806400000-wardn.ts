import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * TheWARDN (seed 003): a governance mode that ends by itself, a monthly limit and governance settings per
 * organization, registered agents, confidence floors and the L6 model registry.
 */
export class Wardn1764806400000 implements MigrationInterface {
  name = 'Wardn1764806400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "organizations" ADD "governanceModeExpiresAt" TIMESTAMP WITH TIME ZONE');
    await q.query('ALTER TABLE "organizations" ADD "monthlyLimit" integer');
    await q.query("CREATE TABLE \"agents\" (\"orgId\" text NOT NULL, \"id\" text NOT NULL, \"name\" text NOT NULL DEFAULT '', \"description\" text NOT NULL DEFAULT '', \"owner\" text, \"allowedEnvironments\" text array NOT NULL DEFAULT '{}', \"allowedModels\" text array NOT NULL DEFAULT '{}', \"status\" text NOT NULL DEFAULT 'active', \"createdAt\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updatedAt\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_f3ec10e87ded2baae6b0a52527d\" PRIMARY KEY (\"orgId\", \"id\"))");
    await q.query("CREATE TABLE \"confidence_floors\" (\"id\" text NOT NULL, \"orgId\" text NOT NULL, \"actionType\" text NOT NULL, \"environment\" text NOT NULL DEFAULT '*', \"floors\" jsonb NOT NULL, \"isActive\" boolean NOT NULL DEFAULT true, \"version\" integer NOT NULL DEFAULT '1', \"createdBy\" text NOT NULL, \"createdAt\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updatedAt\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_2433b3e13d35973c112cb322750\" PRIMARY KEY (\"id\"))");
    await q.query("CREATE INDEX \"IDX_25b56f9d1a7682784dbe8ce76d\" ON \"confidence_floors\" (\"orgId\", \"createdAt\") ");
    await q.query("CREATE TABLE \"models\" (\"orgId\" text NOT NULL, \"id\" text NOT NULL, \"provider\" text NOT NULL, \"channels\" text array NOT NULL DEFAULT '{}', \"dataClasses\" text array NOT NULL DEFAULT '{}', \"agreements\" text array NOT NULL DEFAULT '{}', \"priceInputPer1k\" double precision NOT NULL DEFAULT '0', \"priceOutputPer1k\" double precision NOT NULL DEFAULT '0', \"status\" text NOT NULL DEFAULT 'approved', \"createdAt\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updatedAt\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_7e9d8dcb365cb0c907421704138\" PRIMARY KEY (\"orgId\", \"id\"))");
    await q.query("ALTER TABLE \"organizations\" ADD \"governanceSettings\" jsonb NOT NULL DEFAULT '{}'");
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const t of ['models', 'confidence_floors', 'agents']) await q.query(`DROP TABLE IF EXISTS "${t}"`);
    await q.query('ALTER TABLE "organizations" DROP COLUMN "governanceSettings"');
    await q.query('ALTER TABLE "organizations" DROP COLUMN "monthlyLimit"');
    await q.query('ALTER TABLE "organizations" DROP COLUMN "governanceModeExpiresAt"');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Governance gates (seed 000): gate policies and their versions, solutions, gate submissions. */
export class GovernanceGates1764720000000 implements MigrationInterface {
  name = 'GovernanceGates1764720000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query("CREATE TABLE \"gate_policies\" (\"id\" text NOT NULL, \"orgId\" text NOT NULL, \"name\" text NOT NULL, \"description\" text NOT NULL, \"category\" text NOT NULL, \"severity\" text NOT NULL, \"applicableResourceTypes\" text array NOT NULL, \"stages\" jsonb NOT NULL, \"isActive\" boolean NOT NULL, \"isDraft\" boolean NOT NULL, \"version\" integer NOT NULL, \"createdBy\" text NOT NULL, \"createdAt\" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), \"updatedAt\" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_5e0a850593d1c968c7b1d26ecaa\" PRIMARY KEY (\"id\"))");
    await q.query("CREATE INDEX \"IDX_9b4a60ba3fecc1bab0446901ef\" ON \"gate_policies\" (\"orgId\", \"createdAt\") ");
    await q.query("CREATE TABLE \"gate_policy_versions\" (\"id\" text NOT NULL, \"orgId\" text NOT NULL, \"policyId\" text NOT NULL, \"version\" integer NOT NULL, \"definition\" jsonb NOT NULL, \"createdBy\" text NOT NULL, \"createdAt\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_72532b58a25d6d836402ab28393\" PRIMARY KEY (\"id\"))");
    await q.query("CREATE UNIQUE INDEX \"IDX_27dd8b65dad03148a6ae5398bf\" ON \"gate_policy_versions\" (\"policyId\", \"version\") ");
    await q.query("CREATE TABLE \"solutions\" (\"id\" text NOT NULL, \"orgId\" text NOT NULL, \"name\" text NOT NULL, \"description\" text NOT NULL DEFAULT '', \"resources\" jsonb NOT NULL, \"status\" text NOT NULL, \"metadata\" jsonb NOT NULL DEFAULT '{}', \"createdBy\" text NOT NULL, \"createdAt\" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), \"updatedAt\" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_05589f12803f420b119df2f6170\" PRIMARY KEY (\"id\"))");
    await q.query("CREATE INDEX \"IDX_ad258d8c2c507edd2974c2ebc7\" ON \"solutions\" (\"orgId\", \"createdAt\") ");
    await q.query("CREATE TABLE \"gate_submissions\" (\"id\" text NOT NULL, \"orgId\" text NOT NULL, \"solutionId\" text NOT NULL, \"policyId\" text NOT NULL, \"policyVersion\" integer NOT NULL, \"stageId\" text NOT NULL, \"gateId\" text NOT NULL, \"gateType\" text NOT NULL, \"round\" integer NOT NULL, \"data\" jsonb NOT NULL, \"status\" text NOT NULL, \"conditions\" text array NOT NULL DEFAULT '{}', \"reviews\" jsonb NOT NULL DEFAULT '[]', \"workflowId\" text, \"submittedBy\" text NOT NULL, \"waivedBy\" text, \"waiverReason\" text, \"decidedAt\" TIMESTAMP WITH TIME ZONE, \"createdAt\" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), \"updatedAt\" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_f9ae1f2f7632c8edb583c703556\" PRIMARY KEY (\"id\"))");
    await q.query("CREATE INDEX \"IDX_c9af7134583540ad9d1df791d7\" ON \"gate_submissions\" (\"orgId\", \"status\") ");
    await q.query("CREATE UNIQUE INDEX \"IDX_c921c1b8fdeb211ecbdf24d72c\" ON \"gate_submissions\" (\"orgId\", \"solutionId\", \"policyId\", \"gateId\", \"round\") ");
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const t of ['gate_submissions', 'solutions', 'gate_policy_versions', 'gate_policies']) await q.query(`DROP TABLE IF EXISTS "${t}"`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The approval core: approvals as their own rows, the notifier's delivery log,
 * delegation and the remembered Slack lookup on people, links keyed on approvals.
 * Approvals still waiting when this runs get their row, so their pages, Slack
 * buttons and pending lists work like new ones.
 */
export class ApprovalCore1764633600000 implements MigrationInterface {
  name = 'ApprovalCore1764633600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query("CREATE TABLE \"approvals\" (\"id\" text NOT NULL, \"orgId\" text NOT NULL, \"subjectType\" text NOT NULL, \"subjectId\" text NOT NULL, \"workflowId\" text NOT NULL, \"proposerId\" text NOT NULL, \"plan\" jsonb NOT NULL, \"state\" jsonb, \"status\" text NOT NULL, \"summary\" jsonb NOT NULL, \"createdAt\" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), \"updatedAt\" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), \"endedAt\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_690417aaefa84d18b1a59e2a499\" PRIMARY KEY (\"id\"))");
    await q.query("CREATE UNIQUE INDEX \"IDX_28cd680894c54be3f435be830e\" ON \"approvals\" (\"workflowId\") ");
    await q.query("CREATE UNIQUE INDEX \"IDX_d88ae8a30d1940bd35567bb679\" ON \"approvals\" (\"orgId\", \"subjectType\", \"subjectId\") ");
    await q.query("CREATE INDEX \"IDX_a3af2f94cbe15f1715a7c3ad85\" ON \"approvals\" (\"orgId\", \"status\", \"createdAt\") ");
    await q.query("CREATE TABLE \"deliveries\" (\"id\" text NOT NULL, \"orgId\" text NOT NULL, \"approvalId\" text NOT NULL, \"tier\" integer NOT NULL, \"step\" text NOT NULL, \"channel\" text NOT NULL, \"recipient\" text NOT NULL, \"key\" text NOT NULL, \"onBehalfOf\" text, \"status\" text NOT NULL, \"providerChannel\" text, \"providerId\" text, \"error\" text, \"createdAt\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"sentAt\" TIMESTAMP WITH TIME ZONE, \"updatedAt\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_a6ef225c5c5f0974e503bfb731f\" PRIMARY KEY (\"id\"))");
    await q.query("CREATE UNIQUE INDEX \"IDX_411f27a51b80f29990810e5a0a\" ON \"deliveries\" (\"key\") ");
    await q.query("CREATE INDEX \"IDX_15d87d5b34366c34f0977b0f1a\" ON \"deliveries\" (\"approvalId\", \"channel\") ");
    await q.query("ALTER TABLE \"users\" ADD \"slackLookedUpAt\" TIMESTAMP WITH TIME ZONE");
    await q.query("ALTER TABLE \"users\" ADD \"delegateId\" text");
    await q.query("ALTER TABLE \"users\" ADD \"delegateFrom\" TIMESTAMP WITH TIME ZONE");
    await q.query("ALTER TABLE \"users\" ADD \"delegateUntil\" TIMESTAMP WITH TIME ZONE");
    await q.query("ALTER TABLE \"approval_tokens\" ADD \"approvalId\" text");
    // One person per Slack user in an organization: a second holder of an id loses it (the earliest keeps it).
    await q.query(`UPDATE users u SET "slackUserId" = NULL WHERE "slackUserId" IS NOT NULL AND EXISTS (
      SELECT 1 FROM users o WHERE o."orgId" = u."orgId" AND o."slackUserId" = u."slackUserId" AND (o."createdAt", o.id) < (u."createdAt", u.id))`);
    await q.query("CREATE UNIQUE INDEX \"IDX_c05cfbcda85194d6e94916c344\" ON \"users\" (\"orgId\", \"slackUserId\") WHERE \"slackUserId\" IS NOT NULL");
    await q.query(`INSERT INTO approvals (id, "orgId", "subjectType", "subjectId", "workflowId", "proposerId", plan, state, status, summary, "createdAt")
      SELECT 'apr_' || d.id, d."orgId", 'decision', d.id, d."workflowId", d."actorId", d."approvalPlan", d."approvalState", 'PENDING',
             jsonb_build_object('capability', d.capability, 'actorId', d."actorId", 'actorType', d."actorType", 'riskScore', d."riskScore",
               'reason', d.reason, 'outcome', d.outcome, 'parameters', coalesce(d.proposal->'action'->'parameters', '{}'::jsonb),
               'environment', d.proposal->'environment'),
             d."createdAt"
        FROM decisions d WHERE d.status = 'pending' AND d."workflowId" IS NOT NULL AND d."approvalPlan" IS NOT NULL
      ON CONFLICT DO NOTHING`);
    await q.query(`UPDATE approval_tokens t SET "approvalId" = a.id FROM approvals a WHERE a."workflowId" = t."workflowId" AND t."approvalId" IS NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS "IDX_c05cfbcda85194d6e94916c344"');
    await q.query('ALTER TABLE "approval_tokens" DROP COLUMN "approvalId"');
    for (const c of ['delegateUntil', 'delegateFrom', 'delegateId', 'slackLookedUpAt']) await q.query(`ALTER TABLE "users" DROP COLUMN "${c}"`);
    await q.query('DROP TABLE IF EXISTS "deliveries"');
    await q.query('DROP TABLE IF EXISTS "approvals"');
  }
}

#!/usr/bin/env bash
# Regenerates the initial migration from the entities (only while nothing has shipped on it).
set -euo pipefail
cd "$(dirname "$0")/.."
body=$(node --import tsx scripts/print-schema.ts)
cat > entities/migrations/1763856000000-initial.ts <<TS
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The first schema, generated from the entities by scripts/gen-initial-migration.sh. */
export class Initial1763856000000 implements MigrationInterface {
  name = 'Initial1763856000000';

  public async up(q: QueryRunner): Promise<void> {
$body
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const t of ['simulations', 'rule_stats', 'counters', 'policy_exceptions', 'policy_versions', 'policies', 'risk_configs', 'settings', 'email_messages', 'approval_tokens', 'audit_heads', 'audit_records', 'decisions', 'smart_rules', 'api_keys', 'users', 'organizations']) {
      await q.query(\`DROP TABLE IF EXISTS "\${t}"\`);
    }
  }
}
TS
echo "wrote entities/migrations/1763856000000-initial.ts"

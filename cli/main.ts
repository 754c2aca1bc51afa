#!/usr/bin/env node
import { readLines, verifyAuditExport } from './audit-verify';
import { orgsCommand } from './orgs';
import { syncPolicies } from './policy-sync';
import type { SyncChange, SyncClient } from './policy-sync';

const USAGE = `arbiter: command-line client for an Arbiter server

  arbiter policies sync <dir> [--dry-run]   make the organization's agent policies match a folder of YAML/JSON files
  arbiter audit verify <export.ndjson>      check an audit export (GET /api/v1/audit/export) offline: every hash and link
  arbiter orgs create <name>                (operator) a new organization; prints its first admin key once
  arbiter orgs list                         (operator) every organization, active or disabled
  arbiter orgs disable <org-id>             (operator) its API keys answer 401 from then on

Environment (policies sync): ARBITER_URL (default http://localhost:8080), ARBITER_API_KEY (required)
Environment (orgs): DATABASE_URL, as the server's`;

function client(base: string, key: string): SyncClient {
  return {
    async request(method, path, body) {
      const res = await fetch(base.replace(/\/$/, '') + path, { method, headers: { 'X-API-Key': key, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
  };
}

function print(plan: SyncChange[], dryRun: boolean): void {
  const sign = { create: '+', update: '~', delete: '-', unchanged: '=' } as const;
  for (const c of plan) {
    console.log(`${sign[c.kind]} ${c.kind.padEnd(9)} ${c.name}${c.file ? `  (${c.file})` : ''}`);
    for (const ch of c.changes ?? []) console.log(`      ${ch.path}: ${JSON.stringify(ch.from ?? null)} → ${JSON.stringify(ch.to ?? null)}`);
  }
  const n = (k: SyncChange['kind']) => plan.filter((c) => c.kind === k).length;
  console.log(`\n${dryRun ? 'Plan' : 'Applied'}: ${n('create')} to create, ${n('update')} to update, ${n('delete')} to delete, ${n('unchanged')} unchanged.${dryRun ? ' (dry run: nothing changed)' : ''}`);
}

async function main(argv: string[]): Promise<number> {
  const [area, cmd, dir, ...rest] = argv;
  if (area === 'audit' && cmd === 'verify' && dir) {
    const v = await verifyAuditExport(readLines(dir));
    console.log(v.ok ? `ok: ${v.checked} records, seq ${v.firstSeq ?? '-'}..${v.lastSeq ?? '-'}, every hash and link holds` : `BROKEN at seq ${v.firstBrokenSeq}: ${v.problem} (${v.checked} records checked before it)`);
    return v.ok ? 0 : 1;
  }
  if (area === 'orgs') return orgsCommand(cmd, dir);
  if (area !== 'policies' || cmd !== 'sync' || !dir) {
    console.error(USAGE);
    return 2;
  }
  // The CLI is a client, not part of the server: it reads its own two variables.
  const key = process.env.ARBITER_API_KEY;
  if (!key) {
    console.error('ARBITER_API_KEY is not set');
    return 2;
  }
  const dryRun = rest.includes('--dry-run');
  const plan = await syncPolicies(client(process.env.ARBITER_URL ?? 'http://localhost:8080', key), dir, { dryRun });
  print(plan, dryRun);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  },
);

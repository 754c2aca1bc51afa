import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface SyncClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of several shapes
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export interface SyncChange {
  kind: 'create' | 'update' | 'delete' | 'unchanged';
  name: string;
  file?: string;
  id?: string;
  changes?: { path: string; kind: string; from?: unknown; to?: unknown }[];
}

const canonical = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/** Reads every policy file of a folder and compiles it on the server (which reports errors with their line). */
async function readFolder(client: SyncClient, dir: string): Promise<{ file: string; policy: Record<string, unknown> }[]> {
  const files = readdirSync(dir).filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f))).sort();
  const out: { file: string; policy: Record<string, unknown> }[] = [];
  const problems: string[] = [];
  for (const f of files) {
    const source = readFileSync(join(dir, f), 'utf8');
    const r = await client.request('POST', '/api/v1/policies/compile', { source, format: extname(f) === '.json' ? 'json' : 'yaml' });
    if (r.status !== 200) throw new Error(`${f}: compile answered ${r.status}: ${JSON.stringify(r.body)}`);
    if (!r.body.ok) {
      for (const e of r.body.errors as { path: string; message: string; line?: number; column?: number }[]) problems.push(`${f}${e.line ? `:${e.line}:${e.column ?? 1}` : ''}: ${e.path ? `${e.path}: ` : ''}${e.message}`);
      continue;
    }
    out.push({ file: f, policy: r.body.policy });
  }
  if (problems.length) throw new Error(`invalid policy files:\n  ${problems.join('\n  ')}`);
  const names = new Map<string, string>();
  for (const p of out) {
    const n = String(p.policy.name);
    if (names.has(n)) throw new Error(`${p.file} and ${names.get(n)} both define the policy "${n}"`);
    names.set(n, p.file);
  }
  return out;
}

const SERVER_FIELDS = new Set(['id', 'current_version_id', 'template_id', 'created_at', 'updated_at']);

/** Plans (and unless `dryRun`, applies) the changes that make the organization's policies match the folder. */
export async function syncPolicies(client: SyncClient, dir: string, opts: { dryRun: boolean }): Promise<SyncChange[]> {
  const wanted = await readFolder(client, dir);
  const live: Record<string, unknown>[] = [];
  for (let offset = 0; ; offset += 200) {
    const r = await client.request('GET', `/api/v1/policies?limit=200&offset=${offset}`);
    if (r.status !== 200) throw new Error(`listing policies answered ${r.status}`);
    live.push(...r.body.items);
    if (r.body.items.length < 200) break;
  }
  const byName = new Map(live.map((p) => [String(p.name), p]));
  const plan: SyncChange[] = [];
  for (const w of wanted) {
    const name = String(w.policy.name);
    const cur = byName.get(name);
    if (!cur) {
      plan.push({ kind: 'create', name, file: w.file });
      continue;
    }
    const curDef = Object.fromEntries(Object.entries(cur).filter(([k]) => !SERVER_FIELDS.has(k)));
    const wantDef = { is_active: true, scope: 'global', target_id: null, ...w.policy };
    const keys = [...new Set([...Object.keys(curDef), ...Object.keys(wantDef)])].sort();
    const changes = keys.filter((k) => canonical(curDef[k] ?? null) !== canonical((wantDef as Record<string, unknown>)[k] ?? null)).map((k) => ({ path: k, kind: 'changed', from: curDef[k], to: (wantDef as Record<string, unknown>)[k] }));
    plan.push({ kind: changes.length ? 'update' : 'unchanged', name, file: w.file, id: String(cur.id), changes });
  }
  const wantedNames = new Set(wanted.map((w) => String(w.policy.name)));
  for (const p of live) if (!wantedNames.has(String(p.name))) plan.push({ kind: 'delete', name: String(p.name), id: String(p.id) });
  if (opts.dryRun) return plan;

  for (const c of plan) {
    const w = wanted.find((x) => String(x.policy.name) === c.name);
    let r: Awaited<ReturnType<SyncClient['request']>> | null = null;
    if (c.kind === 'create') r = await client.request('POST', '/api/v1/policies', w?.policy);
    if (c.kind === 'update') {
      // A full document: fields absent from the file are cleared (null), so the file is the truth.
      const cleared = Object.fromEntries((c.changes ?? []).filter((x) => !(x.path in (w?.policy ?? {}))).map((x) => [x.path, null]));
      r = await client.request('PUT', `/api/v1/policies/${c.id}`, { ...cleared, ...w?.policy });
    }
    if (c.kind === 'delete') r = await client.request('DELETE', `/api/v1/policies/${c.id}`);
    if (r && r.status >= 300) throw new Error(`${c.kind} "${c.name}" answered ${r.status}: ${JSON.stringify(r.body)}`);
  }
  return plan;
}

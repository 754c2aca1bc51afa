// Runs Temporal's production server (not the dev server) on the machine's PostgreSQL.
// `node scripts/temporal-server.mjs [build | setup | config | start] [options]`; `--help` for the options.
//   build   builds the server and its SQL tool with Go into the cache outside the repo
//           ($ARBITER_CACHE_DIR or ~/.cache/arbiter/bin): temporal-server, temporal-sql-tool
//   setup   build, then create the databases (`temporal`, `temporal_visibility`), set up and
//           update their schemas from the server module's own schema files, and write the config;
//           idempotent: a second run finds everything in place and changes nothing
//   start   setup, then run the server in the foreground, wait until the frontend answers,
//           register the namespace (`default`) if it is missing, and say where it listens
// See docs/temporal-postgres.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from './temporal.mjs';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = 'go.temporal.io/server';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (m) => console.error(`[temporal-server] ${m}`);

const HELP = `Usage: node scripts/temporal-server.mjs [build | setup | config | start] [options]

Temporal's production server ${TEMPORAL_SERVER_VERSION} with persistence and visibility on PostgreSQL.

Commands:
  build    build temporal-server and temporal-sql-tool with Go into ${cacheDir()}
  setup    build, create the databases, set up / update their schemas, write the config
  config   write the config only (the databases must exist)
  start    setup, then run the server in the foreground (default command); Ctrl-C stops it

Options (environment variable in brackets):
  --port N              frontend gRPC port, default 7243 [TEMPORAL_PG_PORT]; the other services use
                        N+1 (frontend HTTP), N+2 history, N+3 matching, N+4 worker, N+10..N+13
                        membership, N+20 Prometheus metrics
  --db NAME             persistence database, default temporal [TEMPORAL_PG_DB]
  --visibility-db NAME  visibility database, default temporal_visibility [TEMPORAL_PG_VISIBILITY_DB]
  --pg-host HOST        PostgreSQL host, default 127.0.0.1 [TEMPORAL_PG_HOST]
  --pg-port N           PostgreSQL port, default 5432 [TEMPORAL_PG_PG_PORT]
  --pg-user USER        PostgreSQL user, default postgres [TEMPORAL_PG_USER]
  --pg-password PW      PostgreSQL password, default empty [TEMPORAL_PG_PASSWORD]
  --max-conns N         persistence connection pool of each of the server's four services, default 10
                        [TEMPORAL_PG_MAX_CONNS]; up to 4 × N (+ 4 × N/4 for visibility) connections to PostgreSQL
  --shards N            numHistoryShards, default 4 [TEMPORAL_PG_SHARDS]; fixed once the database is set up
  --namespace NAME      namespace to register, default default [TEMPORAL_PG_NAMESPACE]
  --retention-days N    the namespace's retention of closed workflows, default 3
  --dir DIR             where the config and logs go, default .data/temporal-postgres [TEMPORAL_PG_DIR]
  -h, --help            this text

Then point Arbiter at it: TEMPORAL_ADDRESS=127.0.0.1:7243 npm start`;

function parseArgs(argv) {
  const env = process.env;
  const o = {
    command: 'start',
    port: Number(env.TEMPORAL_PG_PORT || 7243),
    db: env.TEMPORAL_PG_DB || 'temporal',
    visibilityDb: env.TEMPORAL_PG_VISIBILITY_DB || 'temporal_visibility',
    pgHost: env.TEMPORAL_PG_HOST || '127.0.0.1',
    pgPort: Number(env.TEMPORAL_PG_PG_PORT || 5432),
    pgUser: env.TEMPORAL_PG_USER || 'postgres',
    pgPassword: env.TEMPORAL_PG_PASSWORD || '',
    // Each service (frontend, history, matching, worker) opens its own pool: 4 × this in all.
    maxConns: Number(env.TEMPORAL_PG_MAX_CONNS || 10),
    shards: Number(env.TEMPORAL_PG_SHARDS || 4),
    namespace: env.TEMPORAL_PG_NAMESPACE || 'default',
    retentionDays: 3,
    dir: env.TEMPORAL_PG_DIR || join(root, '.data', 'temporal-postgres'),
  };
  const flags = {
    '--port': ['port', Number], '--db': ['db', String], '--visibility-db': ['visibilityDb', String], '--pg-host': ['pgHost', String],
    '--pg-port': ['pgPort', Number], '--pg-user': ['pgUser', String], '--pg-password': ['pgPassword', String], '--max-conns': ['maxConns', Number],
    '--shards': ['shards', Number], '--namespace': ['namespace', String], '--retention-days': ['retentionDays', Number], '--dir': ['dir', String],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help' || a === 'help') return { ...o, command: 'help' };
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flags[name]) {
      const [key, conv] = flags[name];
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      o[key] = conv(v);
      if (conv === Number && !Number.isFinite(o[key])) throw new Error(`${name}: not a number: ${v}`);
    } else if (['build', 'setup', 'config', 'start'].includes(a)) {
      o.command = a;
    } else {
      throw new Error(`unknown argument ${a} (see --help)`);
    }
  }
  if (!/^[a-z_][a-z0-9_]*$/.test(o.db) || !/^[a-z_][a-z0-9_]*$/.test(o.visibilityDb)) throw new Error('database names: lower-case letters, digits and _ only');
  return o;
}

function findGo() {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error('Go is needed to build Temporal\'s server (https://go.dev/dl); put `go` on PATH');
}

export const serverBinary = () => join(cacheDir(), 'temporal-server');
export const sqlToolBinary = () => join(cacheDir(), 'temporal-sql-tool');

/** The server module's source in Go's module cache (schema files live there); downloads it when missing. */
function moduleDir(go) {
  const modcache = spawnSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout.trim();
  const dir = join(modcache, `${MODULE}@${TEMPORAL_SERVER_VERSION}`);
  if (!existsSync(join(dir, 'schema'))) {
    say(`downloading ${MODULE}@${TEMPORAL_SERVER_VERSION} into Go's module cache`);
    const r = spawnSync(go, ['mod', 'download', `${MODULE}@${TEMPORAL_SERVER_VERSION}`], { stdio: ['ignore', 'inherit', 'inherit'], cwd: cacheDir() });
    if (r.status !== 0 || !existsSync(join(dir, 'schema'))) throw new Error(`go mod download ${MODULE}@${TEMPORAL_SERVER_VERSION} failed`);
  }
  return dir;
}

/** Builds temporal-server and temporal-sql-tool into the cache (once; later runs reuse them). */
export function ensureServerBinaries() {
  const dir = cacheDir();
  const wanted = [
    { pkg: `${MODULE}/cmd/server`, built: 'server', name: 'temporal-server' },
    { pkg: `${MODULE}/cmd/tools/sql`, built: 'sql', name: 'temporal-sql-tool' },
  ].filter((w) => !existsSync(join(dir, w.name)));
  const go = findGo();
  if (wanted.length === 0) return { go, server: serverBinary(), sqlTool: sqlToolBinary() };
  mkdirSync(dir, { recursive: true });
  // `go install` names the binaries after their packages (server, sql): build into a staging
  // directory, then give them names that say what they are.
  const staging = join(dir, '.staging-temporal-server');
  mkdirSync(staging, { recursive: true });
  say(`building ${wanted.map((w) => w.name).join(' and ')} (${MODULE} ${TEMPORAL_SERVER_VERSION}) with Go into ${dir}`);
  say('this happens once and takes about 3 minutes per binary on 2 cores; later runs reuse them');
  const started = Date.now();
  const r = spawnSync(go, ['install', ...wanted.map((w) => `${w.pkg}@${TEMPORAL_SERVER_VERSION}`)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    cwd: dir,
    env: { ...process.env, GOBIN: staging, GOFLAGS: process.env.GOFLAGS || '-mod=mod' },
  });
  if (r.status !== 0) throw new Error(`building Temporal's server failed (go install exit ${r.status})`);
  for (const w of wanted) {
    if (!existsSync(join(staging, w.built))) throw new Error(`go install did not produce ${w.built}`);
    renameSync(join(staging, w.built), join(dir, w.name));
  }
  rmSync(staging, { recursive: true, force: true });
  say(`built in ${Math.round((Date.now() - started) / 1000)} s: ${serverBinary()}, ${sqlToolBinary()}`);
  return { go, server: serverBinary(), sqlTool: sqlToolBinary() };
}

async function pgClient(o, database) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ host: o.pgHost, port: o.pgPort, user: o.pgUser, password: o.pgPassword, database });
  await c.connect();
  return c;
}

function sqlTool(bin, o, db, args) {
  const base = ['--endpoint', o.pgHost, '--port', String(o.pgPort), '--user', o.pgUser, '--password', o.pgPassword, '--plugin', 'postgres12', '--database', db];
  const r = spawnSync(bin, [...base, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`temporal-sql-tool ${args[0]} on ${db} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return r;
}

/** Creates both databases when missing and brings their schemas to the server's version. Idempotent. */
export async function setupDatabases(o, bins) {
  const mod = moduleDir(bins.go);
  const admin = await pgClient(o, 'postgres');
  try {
    for (const [db, kind] of [[o.db, 'temporal'], [o.visibilityDb, 'visibility']]) {
      const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db])).rowCount > 0;
      if (!exists) {
        say(`creating database ${db}`);
        sqlTool(bins.sqlTool, o, db, ['create-database']);
      }
      const c = await pgClient(o, db);
      let version = null;
      try {
        const hasTable = (await c.query(`SELECT to_regclass('public.schema_version') AS t`)).rows[0].t;
        if (hasTable) version = (await c.query('SELECT curr_version FROM schema_version LIMIT 1')).rows[0]?.curr_version ?? null;
      } finally {
        await c.end();
      }
      if (version === null) {
        say(`${db}: setting up the schema's version tables (setup-schema -v 0.0)`);
        sqlTool(bins.sqlTool, o, db, ['setup-schema', '-v', '0.0']);
      }
      const versioned = join(mod, 'schema', 'postgresql', 'v12', kind, 'versioned');
      sqlTool(bins.sqlTool, o, db, ['update-schema', '-d', versioned]);
      const after = await pgClient(o, db);
      try {
        const now = (await after.query('SELECT curr_version FROM schema_version LIMIT 1')).rows[0]?.curr_version;
        say(`${db}: schema ${version === now ? `already at ${now}` : `${version ?? 'none'} → ${now}`}`);
      } finally {
        await after.end();
      }
    }
  } finally {
    await admin.end();
  }
}

/** Writes a minimal config for this box: one cluster, SQL persistence and visibility on PostgreSQL. */
export function writeConfig(o) {
  const confDir = join(o.dir, 'config');
  mkdirSync(confDir, { recursive: true });
  const p = o.port;
  const ds = (db, conns) => `      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "${o.pgHost}:${o.pgPort}"
        connectProtocol: "tcp"
        user: "${o.pgUser}"
        password: "${o.pgPassword.replace(/"/g, '\\"')}"
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const svc = (grpc, membership, extra = '') => `    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${extra}`;
  const yaml = `# Written by scripts/temporal-server.mjs; rewritten on every setup / start (edit the script's options, not this file).
# Temporal server ${TEMPORAL_SERVER_VERSION}: persistence and visibility on PostgreSQL, one cluster, one box.
# After config/development-postgres12.yaml in the server's source, trimmed to what a single box needs.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${o.shards}
  datastores:
    postgres-default:
${ds(o.db, o.maxConns)}
    postgres-visibility:
${ds(o.visibilityDb, Math.max(2, Math.ceil(o.maxConns / 4)))}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:${p + 20}"

services:
  frontend:
${svc(p, p + 10, `\n      httpPort: ${p + 1}`)}
  history:
${svc(p + 2, p + 11)}
  matching:
${svc(p + 3, p + 12)}
  worker:
${svc(p + 4, p + 13)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${p}"
      httpAddress: "127.0.0.1:${p + 1}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: "${join(confDir, 'dynamicconfig.yaml')}"
  pollInterval: "10s"
`;
  const dynamic = `# Written by scripts/temporal-server.mjs. Keys: go.temporal.io/server common/dynamicconfig/constants.go.
limit.maxIDLength:
  - value: 255
    constraints: {}
`;
  writeFileSync(join(confDir, 'arbiter-postgres.yaml'), yaml);
  writeFileSync(join(confDir, 'dynamicconfig.yaml'), dynamic);
  say(`config: ${join(confDir, 'arbiter-postgres.yaml')}`);
  return { confDir, env: 'arbiter-postgres' };
}

/** Waits until the frontend answers, then registers the namespace if missing and waits until a start goes through. */
export async function waitReady(o, { timeoutMs = 120_000, child } = {}) {
  const { Connection, Client } = await import('@temporalio/client');
  const address = `127.0.0.1:${o.port}`;
  const until = Date.now() + timeoutMs;
  let conn = null;
  while (!conn) {
    if (child && child.exitCode !== null) throw new Error(`temporal-server exited with ${child.exitCode} before it answered`);
    try {
      const c = await Connection.connect({ address, connectTimeout: 2000 });
      await c.workflowService.getSystemInfo({});
      conn = c;
    } catch (e) {
      if (Date.now() > until) throw new Error(`the frontend at ${address} did not answer within ${timeoutMs / 1000} s: ${e.message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    try {
      await conn.workflowService.describeNamespace({ namespace: o.namespace });
    } catch {
      say(`registering namespace ${o.namespace} (retention ${o.retentionDays} days)`);
      try {
        await conn.workflowService.registerNamespace({ namespace: o.namespace, workflowExecutionRetentionPeriod: { seconds: o.retentionDays * 86400 } });
      } catch (e) {
        if (!/already exists|AlreadyExists/i.test(e.message)) throw e;
      }
    }
    // A new namespace reaches the services' caches within seconds: start (and end) a probe workflow to know it has.
    const client = new Client({ connection: conn, namespace: o.namespace });
    for (;;) {
      try {
        const h = await client.workflow.start('arbiter-probe', { taskQueue: 'arbiter-probe', workflowId: `arbiter-probe-${process.pid}-${Date.now()}` });
        await h.terminate('readiness probe');
        break;
      } catch (e) {
        if (Date.now() > until) throw new Error(`namespace ${o.namespace} did not become usable: ${e.message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await conn.close();
  }
  return address;
}

async function setup(o) {
  const bins = ensureServerBinaries();
  await setupDatabases(o, bins);
  return { bins, ...writeConfig(o) };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.command === 'help') {
    console.log(HELP);
    return;
  }
  if (o.command === 'build') {
    const b = ensureServerBinaries();
    console.log(b.server);
    console.log(b.sqlTool);
    return;
  }
  if (o.command === 'config') {
    writeConfig(o);
    return;
  }
  const { bins, confDir, env } = await setup(o);
  if (o.command === 'setup') {
    say(`ready to start: node scripts/temporal-server.mjs start${o.port !== 7243 ? ` --port ${o.port}` : ''}`);
    return;
  }
  say(`starting temporal-server ${TEMPORAL_SERVER_VERSION} (frontend 127.0.0.1:${o.port}, PostgreSQL ${o.pgHost}:${o.pgPort}/${o.db})`);
  const child = spawn(bins.server, ['--root', confDir, '--config', '.', '--env', env, '--allow-no-auth', 'start'], { stdio: ['ignore', 'inherit', 'inherit'] });
  let stopping = false;
  let failed = false;
  const stop = (sig) => {
    stopping = true;
    child.kill(sig);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  child.on('exit', (code, signal) => {
    if (!stopping) say(`temporal-server exited (${signal ?? code})`);
    process.exit(failed ? 1 : stopping ? 0 : code ?? 1);
  });
  const started = Date.now();
  let address;
  try {
    address = await waitReady(o, { child });
  } catch (e) {
    say(e.message);
    failed = true;
    stop('SIGTERM');
    return;
  }
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s: TEMPORAL_ADDRESS=${address} (namespace ${o.namespace}); Ctrl-C stops it`);
  // A line on stdout that scripts can wait for.
  console.log(`temporal-server ready ${address}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    say(e.message);
    process.exit(1);
  });
}

import { loadConfig } from '../config';
import { createDataSource, ensureDatabase } from '../entities/data-source';
import { AuditLog } from '../services/audit-log';
import { Tenants } from '../services/tenants';

/**
 * `arbiter orgs create|list|disable`: the operator's tenant commands. They talk to the
 * database named by DATABASE_URL (the server's own setting), migrating it first if needed,
 * since creating a tenant is not something any tenant's API key may do.
 */
export async function orgsCommand(cmd: string | undefined, arg: string | undefined): Promise<number> {
  const config = loadConfig();
  await ensureDatabase(config.DATABASE_URL);
  const ds = createDataSource(config.DATABASE_URL, { poolSize: 2, appName: 'arbiter-cli' });
  await ds.initialize();
  try {
    await ds.query('SELECT pg_advisory_lock(727274)');
    try {
      await ds.runMigrations({ transaction: 'each' });
    } finally {
      await ds.query('SELECT pg_advisory_unlock(727274)');
    }
    const tenants = new Tenants(ds, new AuditLog(ds));
    if (cmd === 'create' && arg) {
      const o = await tenants.create(arg);
      console.log(`created organization ${o.id} (${o.name})\n\nIts first admin API key, shown once; keep it:\n\n  ${o.adminKey}\n`);
      return 0;
    }
    if (cmd === 'list') {
      const rows = await tenants.list();
      console.log(['id'.padEnd(24), 'name'.padEnd(30), 'status'.padEnd(9), 'keys'.padStart(5), 'decisions'.padStart(10), '  created'].join(' '));
      for (const o of rows) console.log([o.id.padEnd(24), o.name.slice(0, 30).padEnd(30), (o.disabledAt ? 'disabled' : 'active').padEnd(9), String(o.keys).padStart(5), String(o.decisions).padStart(10), `  ${o.createdAt}`].join(' '));
      return 0;
    }
    if (cmd === 'disable' && arg) {
      await tenants.disable(arg);
      console.log(`disabled organization ${arg}: its API keys answer 401 (within 5 seconds on running servers)`);
      return 0;
    }
    console.error('usage: arbiter orgs create <name> | arbiter orgs list | arbiter orgs disable <org-id>');
    return 2;
  } finally {
    await ds.destroy();
  }
}

// Prints the SQL that brings the schema of the existing migrations to the entities' schema: the body of a new migration.
// (On an empty migration list it is the whole schema.)
import { createDataSource, ensureDatabase, dropDatabase } from '../entities/data-source';

async function main(): Promise<void> {
  const url = `postgres://postgres@127.0.0.1:5432/arbiter_schema_${process.pid}`;
  await ensureDatabase(url);
  const ds = createDataSource(url);
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  const sql = await ds.driver.createSchemaBuilder().log();
  for (const q of sql.upQueries) console.log(`    await q.query(${JSON.stringify(q.query)});`);
  await ds.destroy();
  await dropDatabase(url);
}
void main();

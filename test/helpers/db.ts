import { randomBytes } from 'node:crypto';
import { dropDatabase } from '../../entities/data-source';

/** Base URL of the machine's PostgreSQL; tests create and drop their own databases on it. */
export const PG_BASE = process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';

export function testDatabaseUrl(tag = 't'): string {
  return `${PG_BASE}/arbiter_test_${tag}_${randomBytes(4).toString('hex')}`;
}

export { dropDatabase };

import { Initial1763856000000 } from './1763856000000-initial';

/** Migrations in the order they run. */
export const migrations = [Initial1763856000000];

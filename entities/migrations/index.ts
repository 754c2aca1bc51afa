import { Initial1763856000000 } from './1763856000000-initial';
import { ApprovalCore1764633600000 } from './1764633600000-approval-core';

/** Migrations in the order they run. */
export const migrations = [Initial1763856000000, ApprovalCore1764633600000];

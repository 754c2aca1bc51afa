import { Initial1763856000000 } from './1763856000000-initial';
import { ApprovalCore1764633600000 } from './1764633600000-approval-core';
import { GovernanceGates1764720000000 } from './1764720000000-governance-gates';
import { Wardn1764806400000 } from './1764806400000-wardn';
import { Tenants1764892800000 } from './1764892800000-tenants';
import { ScaleAndSpeed1764979200000 } from './1764979200000-scale-and-speed';
import { DecisionsRunIndex1765065600000 } from './1765065600000-decisions-run-index';

/** Migrations in the order they run. */
export const migrations = [Initial1763856000000, ApprovalCore1764633600000, GovernanceGates1764720000000, Wardn1764806400000, Tenants1764892800000, ScaleAndSpeed1764979200000, DecisionsRunIndex1765065600000];

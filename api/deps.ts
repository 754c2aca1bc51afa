import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { ApprovalLinks } from '../services/approval-links';
import type { AuditLog } from '../services/audit-log';
import type { ApiKeyService } from '../services/auth';
import type { DecideService } from '../services/decide';
import type { Mailer } from '../services/mailer';
import type { PolicyCompiler } from '../services/policy-compiler';
import type { PolicyService } from '../services/policy-service';
import type { PolicyStore } from '../services/policy-store';
import type { RuleStats } from '../services/rule-stats';
import type { Simulator } from '../services/simulator';
import type { WorkflowGateway } from '../services/workflow-gateway';
import type { ApiDocs } from './openapi';

/** What every router receives: built once by the composition root, never imported as singletons. */
export interface ApiDeps {
  config: Config;
  log: Logger;
  ds: DataSource;
  audit: AuditLog;
  keys: ApiKeyService;
  store: PolicyStore;
  decide: DecideService;
  workflows: WorkflowGateway;
  links: ApprovalLinks;
  mailer: Mailer;
  policies: PolicyService;
  compiler: PolicyCompiler;
  ruleStats: RuleStats;
  simulator: Simulator;
  docs: ApiDocs;
  /** Readiness probe of Temporal. */
  temporalReady: () => Promise<boolean>;
}

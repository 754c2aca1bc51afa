import type { AppServices } from '../services/app-services';
import type { Core } from '../services/core';
import type { WorkflowGateway } from '../services/workflow-gateway';
import type { FastRoutes } from './fast-path';
import type { ApiDocs } from './openapi';

/** What every router receives: built once by the composition root, never imported as singletons. */
export interface ApiDeps extends Omit<Core, 'close' | 'createdAdminKey'>, Omit<AppServices, 'stop'> {
  workflows: WorkflowGateway;
  docs: ApiDocs;
  /** Readiness probe of Temporal. */
  temporalReady: () => Promise<boolean>;
  /** The lean front's routes; set by createApp, handed to the routers that mark routes `fast`. */
  fast?: FastRoutes;
}

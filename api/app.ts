import type { RequestListener } from 'node:http';
import express from 'express';
import type { Express } from 'express';
import type { ApiDeps } from './deps';
import { AppError } from '../services/errors';
import { FastRoutes } from './fast-path';
import { errorHandler, requestId } from './http';
import { adminRouter } from './routes/admin';
import { ascendActionsRouter } from './routes/ascend-actions';
import { ascendGovernanceRouter } from './routes/ascend-governance';
import { policiesRouter } from './routes/policies';
import { simulationsRouter } from './routes/simulations';
import { aegisRouter } from './routes/aegis';
import { approvalPagesRouter } from './routes/approval-pages';
import { approvalsRouter } from './routes/approvals';
import { gatesRouter } from './routes/gates';
import { slackRouter } from './routes/slack';
import { smartRulesRouter } from './routes/smart-rules';
import { systemRouter } from './routes/system';
import { wardnRouter } from './routes/wardn';
import { wardnRegistryRouter } from './routes/wardn-registry';

/** The server's request listener: the lean front for the hot decision routes, Express for the rest. */
export type ArbiterApp = RequestListener & { express: Express };

/** Builds the app from its dependencies. Lean on purpose: the decision routes are the hot ones. */
export function createApp(apiDeps: ApiDeps): ArbiterApp {
  const fast = new FastRoutes();
  const deps: ApiDeps = { ...apiDeps, fast };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestId);
  app.use((req, res, next) => {
    const started = performance.now();
    res.once('finish', () => deps.metrics.observeRequest(req.method, (req.route as { path?: string } | undefined)?.path, res.statusCode, (performance.now() - started) / 1000));
    next();
  });
  app.use(express.json({ limit: '1mb' }));
  app.use(systemRouter(deps));
  app.use(aegisRouter(deps));
  app.use(gatesRouter(deps));
  app.use(wardnRouter(deps));
  app.use(wardnRegistryRouter(deps));
  // Before smart rules: /api/smart-rules/analytics must not be taken for a rule id.
  app.use(ascendActionsRouter(deps));
  app.use(ascendGovernanceRouter(deps));
  app.use(smartRulesRouter(deps));
  app.use(simulationsRouter(deps));
  app.use(policiesRouter(deps));
  app.use(adminRouter(deps));
  app.use(approvalsRouter(deps));
  app.use(approvalPagesRouter(deps));
  app.use(slackRouter(deps));
  app.use((req, _res, next) => {
    next(new AppError(404, 'NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  app.use(errorHandler(deps.log));
  return Object.assign(fast.front(app, deps), { express: app });
}

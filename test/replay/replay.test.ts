import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/temporal';

/**
 * Replays stored histories of real executions against today's workflow code: a change
 * that would break running workflows (non-determinism) fails here, not in production.
 */
describe('replay of stored workflow histories', () => {
  const dir = join(__dirname, 'histories');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    it(file, async () => {
      const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
    });
  }
});

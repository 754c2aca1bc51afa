import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function lint(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

describe('lint enforces the import boundaries of DESIGN.md', () => {
  it('fails an engine/ file that imports a database library or reaches outside engine/', async () => {
    assert.ok((await lint(`import { DataSource } from 'typeorm';\nexport const x = DataSource;\n`, 'engine/types.ts')).length > 0);
    assert.ok((await lint(`import { newId } from '../services/ids';\nexport const x = newId;\n`, 'engine/types.ts')).length > 0);
    assert.ok((await lint(`export const t = Date.now();\n`, 'engine/types.ts')).length > 0);
  });

  it('fails a workflow that imports the database or activities by value', async () => {
    assert.ok((await lint(`import { Decision } from '../entities';\nexport const x = Decision;\n`, 'workflows/messages.ts')).length > 0);
    assert.ok((await lint(`import { createProposalActivities } from '../activities/proposal-activities';\nexport const x = createProposalActivities;\n`, 'workflows/messages.ts')).length > 0);
    assert.ok((await lint(`import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n`, 'workflows/messages.ts')).length > 0);
  });

  it('fails api/ importing activities/ and services/ importing api/', async () => {
    assert.ok((await lint(`import { createProposalActivities } from '../activities/proposal-activities';\nexport const x = createProposalActivities;\n`, 'api/deps.ts')).length > 0);
    assert.ok((await lint(`import { createApp } from '../api/app';\nexport const x = createApp;\n`, 'services/ids.ts')).length > 0);
  });

  it('passes the imports the design allows', async () => {
    assert.deepEqual(await lint(`import type { Proposal } from './types';\nexport type P = Proposal;\n`, 'engine/types.ts'), []);
    assert.deepEqual(await lint(`import type { ProposalActivities } from '../activities/proposal-activities';\nimport { condition } from '@temporalio/workflow';\nexport type A = ProposalActivities;\nexport const c = condition;\n`, 'workflows/messages.ts'), []);
  });
});

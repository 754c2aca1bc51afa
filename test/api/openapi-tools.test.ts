import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import openapiTS, { astToString } from 'openapi-typescript';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/**
 * The served API description, checked by the tools a user would point at it: a standard
 * OpenAPI validator, a standard linter's recommended rules, and a TypeScript client
 * generated from it that must type-check against the calls the SDK makes.
 */
describe('the served /openapi.json, as standard OpenAPI tools see it', () => {
  let s: Stack;
  let doc: Record<string, any>;
  before(async () => {
    s = await startStack({ withWorker: false });
    doc = (await s.call('GET', '/openapi.json', { key: null })).body;
  });
  after(async () => {
    await s?.close();
  });

  it('is valid OpenAPI 3.1 (swagger-parser)', async () => {
    assert.equal(doc.openapi, '3.1.0');
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  it('passes the recommended rules of the Redocly linter with zero errors', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
    const errors = problems.filter((p) => p.severity === 'error');
    assert.deepEqual(errors.map((e) => `${e.ruleId}: ${e.message} at ${e.location[0]?.pointer}`), []);
  });

  it('gives every operation an operationId, its 4xx answers, and public ones `security: []`', () => {
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(op.operationId, `${method} ${path} has an operationId`);
        assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
        ids.add(op.operationId);
        // Every operation that can be refused (it takes input, or a key) documents how.
        const refusable = op.security.length > 0 || op.parameters.length > 0 || op.requestBody;
        if (refusable) assert.ok(Object.keys(op.responses).some((c) => c.startsWith('4')), `${method} ${path} documents its 4xx`);
        assert.ok(Array.isArray(op.security), `${method} ${path} states its security`);
        if (op.security.length) assert.ok(op.responses['401'] && op.responses['403'], `${method} ${path} documents 401 and 403`);
      }
    }
    assert.deepEqual(doc.paths['/healthz'].get.security, []);
    assert.deepEqual(doc.paths['/approve/{token}'].get.security, []);
    assert.deepEqual(doc.paths['/api/v1/governance/propose'].post.security, [{ apiKey: [] }, { bearer: [] }]);
  });

  it('generates a TypeScript client (openapi-typescript + openapi-fetch) that type-checks against the SDK’s calls', async () => {
    const dir = join(root, '.data', `openapi-client-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'schema.d.ts'), astToString(await openapiTS(doc as never)));
      // The SDK's own input and output types against the generated request and response types.
      writeFileSync(
        join(dir, 'calls.ts'),
        `import createClient from 'openapi-fetch';
import type { paths } from './schema';
import type { Outcome, ProposeInput } from '../../sdk';

const client = createClient<paths>({ baseUrl: 'http://localhost:8080', headers: { 'X-API-Key': 'k' } });

export async function calls(input: ProposeInput): Promise<Outcome[]> {
  const proposed = await client.POST('/api/v1/governance/propose', { body: input, params: { header: { 'Idempotency-Key': 'k-1' } as never } });
  const one = await client.GET('/api/v1/governance/decisions/{id}', { params: { path: { id: 'dec_1' }, query: { wait: 30 } } });
  const page = await client.GET('/api/v1/governance/decisions', { params: { query: { limit: 200, cursor: 'c', actor_id: 'a', outcome: 'DENY' } } });
  const outcomes: Outcome[] = [];
  if (proposed.data) outcomes.push(proposed.data.outcome);
  if (one.data) outcomes.push(one.data.outcome);
  for (const d of page.data?.decisions ?? []) outcomes.push(d.outcome);
  const next: string | null | undefined = page.data?.next_cursor;
  void next;
  return outcomes;
}
`,
      );
      await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'commonjs', '--moduleResolution', 'node', '--esModuleInterop', join(dir, 'calls.ts')], { cwd: root });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

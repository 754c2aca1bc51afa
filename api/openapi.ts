import { z } from 'zod';
import type { ZodType } from 'zod';

/** What one route says about itself; the OpenAPI document is generated from these. */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  path: string;
  summary: string;
  tags: string[];
  /** Scope the key needs, or `admin`, or `public` (no key). */
  scope: string;
  /** A role the key needs beside its scope (the seeds' admin-only and ARCHITECT-only operations). */
  role?: 'admin' | 'architect';
  body?: ZodType;
  query?: ZodType;
  responses: Record<number, { description: string; schema?: ZodType }>;
  description?: string;
  contentType?: string;
}

/** JSON Schema 2020-12, which OpenAPI 3.1 speaks as it is (conditionals, propertyNames and all). */
function toJsonSchema(schema: ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

/** `get /api/v1/governance/decisions/:id` → `getApiV1GovernanceDecisionsById`: stable and unique per operation. */
export function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .map((seg) => (seg.startsWith(':') ? `by-${seg.slice(1)}` : seg))
    .join('-')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/** The 4xx answers every operation can give, beside the ones its route names. */
function commonErrors(r: RouteDoc): Record<number, { description: string }> {
  const out: Record<number, { description: string }> = {};
  if (r.body || r.query || r.path.includes(':')) out[400] = { description: 'Invalid input; the error names the field' };
  if (r.scope !== 'public') {
    out[401] = { description: 'No key, or a key that is not valid' };
    out[403] = { description: r.role === 'architect' ? `ARCHITECT role required (and the ${r.scope} scope)` : r.scope === 'admin' || r.role === 'admin' ? 'Admin role required' : `The key lacks the ${r.scope} scope` };
  }
  return out;
}

/** Collects route docs and renders OpenAPI 3.1. */
export class ApiDocs {
  private readonly routes: RouteDoc[] = [];

  add(doc: RouteDoc): void {
    this.routes.push(doc);
  }

  list(): readonly RouteDoc[] {
    return this.routes;
  }

  document(serverUrl: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const path = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      const params = [...r.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      if (r.query) {
        const qs = toJsonSchema(r.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, schema] of Object.entries(qs.properties ?? {})) {
          params.push({ name, in: 'query', required: (qs.required ?? []).includes(name), schema: schema as { type: string } });
        }
      }
      const op: Record<string, unknown> = {
        summary: r.summary,
        tags: r.tags,
        description: [r.description, `Scope: \`${r.scope}\`.${r.role ? ` Role: \`${r.role}\`.` : ''}`].filter(Boolean).join('\n\n'),
        parameters: params,
        operationId: operationId(r.method, r.path),
        responses: Object.fromEntries(
          Object.entries({ ...commonErrors(r), ...r.responses }).map(([code, resp]: [string, { description: string; schema?: ZodType }]) => [
            code,
            resp.schema ? { description: resp.description, content: { [r.contentType ?? 'application/json']: { schema: toJsonSchema(resp.schema, 'output') } } } : { description: resp.description },
          ]),
        ),
      };
      // Public operations say so (an empty requirement), so clients do not send a key where none is needed.
      op.security = r.scope === 'public' ? [] : [{ apiKey: [] }, { bearer: [] }];
      if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: toJsonSchema(r.body, 'input') } } };
      paths[path] = { ...(paths[path] ?? {}), [r.method]: op };
    }
    return {
      openapi: '3.1.0',
      info: { title: 'Arbiter', version: '0.1.0', license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }, description: 'Approval engine for the actions of AI agents. Serves the Aegis, WARDN, Ascend, agent-policy and governance-gate API surfaces on one engine.' },
      servers: [{ url: serverUrl }],
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      paths,
    };
  }
}

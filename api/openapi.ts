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
  body?: ZodType;
  query?: ZodType;
  responses: Record<number, { description: string; schema?: ZodType }>;
  description?: string;
  contentType?: string;
}

function toJsonSchema(schema: ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

/** Collects route docs and renders OpenAPI 3.0. */
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
        description: [r.description, `Scope: \`${r.scope}\`.`].filter(Boolean).join('\n\n'),
        parameters: params,
        responses: Object.fromEntries(
          Object.entries(r.responses).map(([code, resp]) => [
            code,
            resp.schema ? { description: resp.description, content: { [r.contentType ?? 'application/json']: { schema: toJsonSchema(resp.schema, 'output') } } } : { description: resp.description },
          ]),
        ),
      };
      if (r.scope !== 'public') op.security = [{ apiKey: [] }, { bearer: [] }];
      if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: toJsonSchema(r.body, 'input') } } };
      paths[path] = { ...(paths[path] ?? {}), [r.method]: op };
    }
    return {
      openapi: '3.0.3',
      info: { title: 'Arbiter', version: '0.1.0', description: 'Approval engine for the actions of AI agents. Serves the Aegis, WARDN, Ascend, agent-policy and governance-gate API surfaces on one engine.' },
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

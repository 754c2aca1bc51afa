import { Router } from 'express';
import type { ApiDeps } from '../deps';
import { escapeHtml } from '../../services/html';

/** Health, readiness and the API's own description. */
export function systemRouter(deps: ApiDeps): Router {
  const r = Router();
  const { docs } = deps;
  docs.add({ method: 'get', path: '/healthz', summary: 'Liveness: the process answers', tags: ['System'], scope: 'public', responses: { 200: { description: 'ok' } } });
  docs.add({ method: 'get', path: '/readyz', summary: 'Readiness: 200 only when PostgreSQL and Temporal are reachable', tags: ['System'], scope: 'public', responses: { 200: { description: 'ready' }, 503: { description: 'a dependency is unreachable' } } });
  docs.add({ method: 'get', path: '/openapi.json', summary: 'This OpenAPI document', tags: ['System'], scope: 'public', responses: { 200: { description: 'OpenAPI 3.0' } } });
  docs.add({ method: 'get', path: '/metrics', summary: 'Prometheus metrics of this process', tags: ['System'], scope: 'public', contentType: 'text/plain', responses: { 200: { description: 'Prometheus text format' } } });
  docs.add({ method: 'get', path: '/docs', summary: 'The API reference, rendered', tags: ['System'], scope: 'public', contentType: 'text/html', responses: { 200: { description: 'HTML' } } });

  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  r.get('/readyz', async (_req, res) => {
    const withTimeout = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, no) => setTimeout(() => no(new Error('timeout')), 2000).unref())]);
    const [db, temporal] = await Promise.all([
      withTimeout(deps.ds.query('SELECT 1')).then(() => true, () => false),
      withTimeout(deps.temporalReady()).then((ok) => ok, () => false),
    ]);
    res.status(db && temporal ? 200 : 503).json({ status: db && temporal ? 'ready' : 'unavailable', checks: { database: db ? 'ok' : 'unreachable', temporal: temporal ? 'ok' : 'unreachable' } });
  });

  r.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  let cached: string | null = null;
  r.get('/openapi.json', (_req, res) => {
    cached ??= JSON.stringify(docs.document(deps.config.PUBLIC_URL));
    res.type('application/json').send(cached);
  });

  r.get('/docs', (_req, res) => {
    res.type('html').send(renderDocs(docs.document(deps.config.PUBLIC_URL)));
  });

  return r;
}


/** A self-contained reference page (no CDN: Arbiter runs on closed networks too). */
function renderDocs(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, { summary: string; description?: string; tags: string[]; requestBody?: { content: Record<string, { schema: unknown }> }; parameters?: { name: string; in: string; required: boolean }[]; responses: Record<string, { description: string }> }>>;
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op.parameters ?? []).map((p) => `<code>${escapeHtml(p.name)}</code> <span class="m">(${escapeHtml(p.in)}${p.required ? ', required' : ''})</span>`).join(', ');
      const body = op.requestBody ? `<details><summary>Request body schema</summary><pre>${escapeHtml(JSON.stringify(Object.values(op.requestBody.content)[0]?.schema, null, 2))}</pre></details>` : '';
      const responses = Object.entries(op.responses).map(([c, r]) => `<code>${escapeHtml(c)}</code> ${escapeHtml(r.description)}`).join(' · ');
      const html = `<section><h3><span class="verb ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3><p>${escapeHtml(op.summary)}</p><p class="m">${escapeHtml(op.description ?? '')}</p>${params ? `<p>Parameters: ${params}</p>` : ''}${body}<p>${responses}</p></section>`;
      const tag = op.tags[0] ?? 'Other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const nav = [...byTag.keys()].map((t) => `<a href="#${escapeHtml(t)}">${escapeHtml(t)}</a>`).join(' · ');
  const sections = [...byTag.entries()].map(([t, items]) => `<h2 id="${escapeHtml(t)}">${escapeHtml(t)}</h2>${items.join('')}`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Arbiter API</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}section{border-top:1px solid #ddd;padding:.5rem 0}
.verb{font:600 12px monospace;padding:2px 6px;border-radius:4px;color:#fff;background:#555}.get{background:#2a6fb0}.post{background:#1f7a3a}.put{background:#a66a00}.delete{background:#b3261e}
.m{color:#666}pre{background:#f5f5f5;padding:.5rem;overflow:auto}</style></head><body><h1>Arbiter API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Authenticate with <code>X-API-Key</code> or <code>Authorization: Bearer</code>.</p><p>${nav}</p>${sections}</body></html>`;
}

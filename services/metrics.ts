import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one process, on its own registry (no globals): what an
 * operator watches. Recording is a counter increment or a histogram bucket: cheap
 * enough for the propose path.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly decisions = new Counter({ name: 'arbiter_decisions_total', help: 'Decisions made, by API surface and outcome at propose time', labelNames: ['surface', 'outcome'] as const, registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: 'arbiter_http_request_duration_seconds',
    help: 'HTTP request duration by route and status class',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly auditBatch = new Histogram({ name: 'arbiter_audit_batch_size', help: 'Audit records per group commit', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [this.registry] });
  readonly auditCommit = new Histogram({ name: 'arbiter_audit_commit_seconds', help: 'Duration of one group commit (decision rows and audit records)', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });
  readonly auditPipelineFallbacks = new Counter({ name: 'arbiter_audit_pipeline_fallbacks_total', help: 'Pipelined group commits that found the chain head moved (or failed) and went through the locking path', registers: [this.registry] });
  readonly workflowStarts = new Counter({ name: 'arbiter_workflow_starts_total', help: 'Workflows started, by kind and result', labelNames: ['kind', 'result'] as const, registers: [this.registry] });

  // Labelled children, cached: prom-client hashes the label object on every call otherwise.
  private readonly children = new Map<string, { inc(): void } | { observe(v: number): void }>();

  private child<T>(key: string, make: () => T): T {
    let c = this.children.get(key) as T | undefined;
    if (!c) {
      c = make();
      this.children.set(key, c as { inc(): void });
    }
    return c;
  }

  countDecision(surface: string, outcome: string): void {
    this.child(`d ${surface} ${outcome}`, () => this.decisions.labels({ surface, outcome })).inc();
  }

  /** Labelled by the matched route pattern, never the raw path: ids must not become label values. */
  observeRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    const r = route ?? 'unmatched';
    const cls = `${Math.floor(status / 100)}xx`;
    this.child(`h ${method} ${r} ${cls}`, () => this.httpDuration.labels({ method, route: r, status: cls })).observe(seconds);
  }

  constructor(opts: { prefix?: string; defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: opts.prefix ?? 'arbiter_' });
  }
}

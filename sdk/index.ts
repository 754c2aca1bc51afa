import { randomUUID } from 'node:crypto';

/**
 * A small client for agents. Its one promise: it never answers "allowed" unless
 * Arbiter said ALLOW and the decision is final. A network failure, a timeout, a
 * 5xx or a 429 that outlasts the retries comes back as a DENY marked
 * `failClosed`, never as an exception an agent might swallow and carry on.
 * Requests the caller got wrong (400, 401, 403, 404, 422) throw
 * {@link ArbiterRequestError}: they will not succeed on retry.
 */

export type Outcome = 'ALLOW' | 'DENY' | 'ESCALATE' | 'REQUIRE_CONFIRMATION';

export interface ProposeInput {
  actor: { id: string; type: 'ai-agent' | 'ai-copilot' | 'automation' | 'human' };
  action: { capability: string; parameters: Record<string, unknown> };
  context?: { session_id?: string; run_id?: string; mission_id?: string; group_ids?: string[]; tags?: string[]; metadata?: Record<string, unknown> };
  environment?: string;
  target?: string;
  data_classes?: string[];
  amount?: number;
  reasoning?: string;
  model_id?: string;
  confidence?: Record<string, number>;
  /** Where Arbiter POSTs the final outcome of an action that waits for people. */
  callback_url?: string;
}

export interface Decision {
  decision_id: string | null;
  outcome: Outcome;
  status: 'pending' | 'final';
  reason: string;
  risk_score: number | null;
  constraints: Record<string, unknown>;
  timestamp: string;
  audit_ref: string | null;
  /** True only for a final ALLOW: the one answer on which an agent may act. */
  allowed: boolean;
  /** Set when the client, not Arbiter, produced this DENY (Arbiter was unreachable or failing). */
  failClosed?: { error: string };
}

export class ArbiterRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ArbiterRequestError';
  }
}

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Per request, default 10 s. */
  timeoutMs?: number;
  /** Retries of a transient failure (network, 5xx, 429), default 2; each reuses the same Idempotency-Key. */
  retries?: number;
  fetch?: typeof fetch;
}

type Json = Record<string, unknown>;

export class ArbiterClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.baseUrl.replace(/\/$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retries = opts.retries ?? 2;
    this.fetch = opts.fetch ?? globalThis.fetch;
  }

  /** Asks whether the action may run. Retries are safe: every attempt carries the same Idempotency-Key. */
  async propose(input: ProposeInput, opts: { idempotencyKey?: string } = {}): Promise<Decision> {
    const key = opts.idempotencyKey ?? randomUUID();
    const r = await this.request('POST', '/api/v1/governance/propose', { body: input, headers: { 'Idempotency-Key': key } });
    return r.ok ? toDecision(r.body) : failClosed(r.error);
  }

  /** Reads a decision; `waitSeconds` (up to 30) long-polls until it is final. */
  async getDecision(id: string, opts: { waitSeconds?: number } = {}): Promise<Decision> {
    const wait = opts.waitSeconds ? `?wait=${Math.min(30, Math.max(0, Math.floor(opts.waitSeconds)))}` : '';
    const r = await this.request('GET', `/api/v1/governance/decisions/${encodeURIComponent(id)}${wait}`, { timeoutMs: this.timeoutMs + (opts.waitSeconds ?? 0) * 1000 });
    return r.ok ? toDecision(r.body) : failClosed(r.error, id);
  }

  /**
   * Waits for a pending decision to become final, long-polling. After `timeoutMs`
   * (default 15 minutes) it returns the decision as it stands: still pending, so
   * `allowed` is false.
   */
  async waitForDecision(id: string, opts: { timeoutMs?: number } = {}): Promise<Decision> {
    const until = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
    for (;;) {
      const left = until - Date.now();
      const d = await this.getDecision(id, { waitSeconds: Math.max(0, Math.min(30, Math.floor(left / 1000))) });
      if (Date.now() >= until || (d.status === 'final' && !d.failClosed)) return d;
      // Arbiter was unreachable for a moment: people may still decide, so keep waiting (the answer stays DENY until then).
      if (d.failClosed) await sleep(Math.min(2000, Math.max(0, until - Date.now())));
    }
  }

  /** Proposes and, when people must decide, waits for them: the answer on which to act. */
  async decide(input: ProposeInput, opts: { timeoutMs?: number; idempotencyKey?: string } = {}): Promise<Decision> {
    const d = await this.propose(input, opts);
    if (d.status === 'final' || !d.decision_id) return d;
    return this.waitForDecision(d.decision_id, opts);
  }

  /** Every decision matching the filters, newest first, page by page. */
  async *listDecisions(filters: { actor_id?: string; capability?: string; outcome?: Outcome; since?: string; until?: string; pageSize?: number } = {}): AsyncGenerator<Json> {
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(filters)) if (v !== undefined && k !== 'pageSize') q.set(k, String(v));
      q.set('limit', String(filters.pageSize ?? 200));
      if (cursor) q.set('cursor', cursor);
      const r = await this.request('GET', `/api/v1/governance/decisions?${q}`);
      if (!r.ok) throw new Error(`listing decisions failed: ${r.error}`);
      for (const d of (r.body.decisions as Json[]) ?? []) yield d;
      cursor = (r.body.next_cursor as string | null) ?? undefined;
    } while (cursor);
  }

  private async request(method: string, path: string, o: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ ok: true; body: Json } | { ok: false; error: string }> {
    let lastError = 'no attempt made';
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(4000, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
      let res: Response;
      try {
        res = await this.fetch(this.base + path, {
          method,
          headers: { 'X-API-Key': this.opts.apiKey, Accept: 'application/json', ...(o.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...o.headers },
          body: o.body === undefined ? undefined : JSON.stringify(o.body),
          signal: AbortSignal.timeout(o.timeoutMs ?? this.timeoutMs),
        });
      } catch (e) {
        lastError = `Arbiter unreachable: ${(e as Error).message}`;
        continue;
      }
      const text = await res.text();
      let body: Json = {};
      try {
        body = text ? (JSON.parse(text) as Json) : {};
      } catch {
        lastError = `Arbiter answered ${res.status} with a body that is not JSON`;
        continue;
      }
      if (res.ok) return { ok: true, body };
      const err = (body.error ?? {}) as { code?: string; message?: string; field?: string };
      lastError = `Arbiter answered ${res.status}${err.code ? ` ${err.code}` : ''}${err.message ? `: ${err.message}` : ''}`;
      if (res.status === 429 || res.status === 408 || res.status >= 500) {
        const after = Number(res.headers.get('retry-after'));
        if (Number.isFinite(after) && after > 0 && attempt < this.retries) await sleep(Math.min(after, 10) * 1000);
        continue;
      }
      throw new ArbiterRequestError(res.status, err.code ?? 'REQUEST_FAILED', err.message ?? lastError, err.field);
    }
    return { ok: false, error: lastError };
  }
}

function toDecision(b: Json): Decision {
  const outcome = b.outcome as Outcome;
  const status = b.status === 'final' ? 'final' : 'pending';
  return {
    decision_id: (b.decision_id as string) ?? null,
    outcome,
    status,
    reason: String(b.reason ?? ''),
    risk_score: typeof b.risk_score === 'number' ? b.risk_score : null,
    constraints: (b.constraints as Record<string, unknown>) ?? {},
    timestamp: String(b.timestamp ?? new Date().toISOString()),
    audit_ref: (b.audit_ref as string) ?? null,
    allowed: status === 'final' && outcome === 'ALLOW',
  };
}

function failClosed(error: string, decisionId: string | null = null): Decision {
  return { decision_id: decisionId, outcome: 'DENY', status: 'final', reason: `fail-closed: ${error}`, risk_score: null, constraints: {}, timestamp: new Date().toISOString(), audit_ref: null, allowed: false, failClosed: { error } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** HTTP as the soak's agents and people use it: plain fetch, retried through outages like a real client. */

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of many shapes
  text: string;
  headers: Headers;
}

export const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** One request; throws on a network error (connection refused or reset, timeout). */
export async function request(url: string, opts: { method?: string; key?: string; body?: unknown; form?: Record<string, string>; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers['X-API-Key'] = opts.key;
  let body: string | undefined;
  if (opts.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(url, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* HTML or text: keep `text` */
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Outcome of a request that may be repeated: a network error or a 5xx is "not known to have happened". */
export const uncertain = (r: Reply | null): boolean => r === null || r.status >= 500;

/**
 * Repeats `attempt` while it throws or answers 5xx / 429, with capped backoff, until it answers
 * something else or `deadline` passes (then the last reply, or null). `onRetry` sees each retry.
 */
export async function retrying(attempt: () => Promise<Reply>, opts: { deadline: number; onRetry?: (why: string) => void; baseMs?: number; maxMs?: number }): Promise<Reply | null> {
  let delay = opts.baseMs ?? 250;
  let last: Reply | null = null;
  for (;;) {
    let why: string;
    try {
      last = await attempt();
      if (last.status < 500 && last.status !== 429) return last;
      why = `HTTP ${last.status}`;
    } catch (e) {
      last = null;
      why = (e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    }
    if (Date.now() + delay > opts.deadline) return last;
    opts.onRetry?.(why);
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, opts.maxMs ?? 3000);
  }
}

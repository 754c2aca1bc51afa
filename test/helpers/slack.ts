import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request to the stand-in: the Web API method, its arguments (JSON fields parsed back), when it arrived and the bearer token. */
export interface SlackCall {
  method: string;
  args: Record<string, any>;
  at: number;
  token: string | null;
}

/** How a request fails: an HTTP 500, an HTTP 429 with `Retry-After` (seconds), or a delay before a normal answer. */
export type SlackFailure = { status: 500 } | { status: 429; retryAfter: number } | { hangMs: number };

/** A local Slack Web API the real `WebClient` can talk to; it records what it was asked. */
export interface SlackStandin {
  /** Base URL to pass as WebClient's `slackApiUrl`, e.g. http://127.0.0.1:PORT/api/ (with trailing slash). */
  url: string;
  /** The bot token it accepts; any other gets `{ok:false, error:'invalid_auth'}`. */
  token: string;
  /** Every call that got an `ok:true` answer, in order. */
  calls: SlackCall[];
  /** Every request received, including failed ones. */
  attempts: SlackCall[];
  /** The successful calls to one method. */
  callsTo(method: string): SlackCall[];
  /** The first successful call matching `pred`, waiting up to `timeoutMs` (default 15000); rejects listing the calls so far. */
  waitFor(pred: (c: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  /** Email -> Slack user id known to users.lookupByEmail. */
  users: Map<string, string>;
  /** The next `n` requests to `method` ('*' = any method) fail this way; then answers are normal again. */
  failNext(method: string, n: number, failure: SlackFailure): void;
  /** Every request to `method` ('*' = any) fails this way until cleared with null. */
  failAlways(method: string, failure: SlackFailure | null): void;
  /** Clears calls, attempts and failures (posted messages stay, as they would in Slack). */
  reset(): void;
  /** Stops the server at once, dropping open connections and hung requests. */
  close(): Promise<void>;
}

type Answer = { ok: true; [k: string]: unknown } | { ok: false; error: string };

// WebClient JSON-encodes every non-scalar argument into the form; these are the ones we read back.
const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata'];

/**
 * Starts a Slack Web API stand-in on 127.0.0.1 and a random port. It speaks the
 * HTTP shapes `WebClient` from `@slack/web-api` sends: POST /api/<method>, a
 * form (or JSON) body, the token as `Authorization: Bearer`. Form scalars
 * arrive as strings (`unfurl_links: 'false'`), as they do at Slack.
 */
export async function startSlackStandin(opts: { token?: string } = {}): Promise<SlackStandin> {
  const token = opts.token ?? 'xoxb-test-token';
  const calls: SlackCall[] = [];
  const attempts: SlackCall[] = [];
  const users = new Map<string, string>();
  const pending: { method: string; left: number; failure: SlackFailure }[] = [];
  const always = new Map<string, SlackFailure>();
  // (channel, ts) of every posted message, so chat.update can refuse unknown ones.
  const messages = new Set<string>();
  const hangs = new Set<NodeJS.Timeout>();
  let seq = 0;
  let viewSeq = 0;

  // Slack ts: seconds.microseconds; a counter keeps them unique and increasing.
  const nextTs = (): string => {
    const micros = ++seq * 100;
    return `${1_700_000_000 + Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
  };

  const failureFor = (method: string): SlackFailure | null => {
    const next = pending.find((p) => p.left > 0 && (p.method === method || p.method === '*'));
    if (next) {
      next.left -= 1;
      if (next.left === 0) pending.splice(pending.indexOf(next), 1);
      return next.failure;
    }
    return always.get(method) ?? always.get('*') ?? null;
  };

  const answer = (call: SlackCall): Answer => {
    if (call.token !== token) return { ok: false, error: call.token ? 'invalid_auth' : 'not_authed' };
    const a = call.args;
    switch (call.method) {
      case 'auth.test':
        return { ok: true, user_id: 'UBOT', team_id: 'T1', bot_id: 'B1' };
      case 'users.lookupByEmail': {
        const id = users.get(String(a.email ?? ''));
        return id ? { ok: true, user: { id, profile: { email: a.email } } } : { ok: false, error: 'users_not_found' };
      }
      case 'conversations.open': {
        const first = String(a.users ?? '').split(',')[0].trim();
        return first ? { ok: true, channel: { id: `D${first}` } } : { ok: false, error: 'users_list_not_supplied' };
      }
      case 'chat.postMessage': {
        if (!a.channel) return { ok: false, error: 'channel_not_found' };
        if (!a.text && !a.blocks && !a.attachments) return { ok: false, error: 'no_text' };
        const raw = String(a.channel);
        // A #name is resolved to an id, as Slack does; everything else is echoed.
        const channel = raw.startsWith('#') ? `C${raw.slice(1).toUpperCase().replace(/[^A-Z0-9]/g, '')}` : raw;
        const ts = nextTs();
        messages.add(`${channel}\n${ts}`);
        return { ok: true, channel, ts, message: { text: a.text, blocks: a.blocks } };
      }
      case 'chat.update':
        if (!messages.has(`${String(a.channel)}\n${String(a.ts)}`)) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: a.channel, ts: a.ts };
      case 'chat.postEphemeral':
        if (!a.channel || !a.user) return { ok: false, error: 'channel_not_found' };
        return { ok: true, message_ts: nextTs() };
      case 'views.open':
        if (!a.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
        if (!a.view || typeof a.view !== 'object') return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: { id: `V${String(++viewSeq).padStart(8, '0')}`, ...a.view } };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.destroyed || res.headersSent) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8', ...headers });
    res.end(text);
  };

  const respond = (res: ServerResponse, call: SlackCall): void => {
    const result = answer(call);
    if (result.ok) calls.push(call);
    send(res, 200, result);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const match = /^\/api\/([\w.]+)$/.exec(path);
    if (!match || req.method !== 'POST') return send(res, 404, 'not found');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const parsed = parseBody(Buffer.concat(chunks).toString('utf8'), String(req.headers['content-type'] ?? ''));
    const args = parsed ?? {};
    const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    // Older clients send the token in the body; it is no argument of the method.
    const bodyToken = typeof args.token === 'string' ? args.token : undefined;
    delete args.token;
    const call: SlackCall = { method: match[1], args, at: Date.now(), token: bearer ?? bodyToken ?? null };
    attempts.push(call);
    if (!parsed) return send(res, 200, { ok: false, error: 'invalid_form_data' });

    const failure = failureFor(call.method);
    if (!failure) return respond(res, call);
    if ('hangMs' in failure) {
      const timer = setTimeout(() => {
        hangs.delete(timer);
        // A client that gave up never learns the answer; drop the request so `calls` holds only what a client saw.
        if (!res.destroyed && !req.socket.destroyed) respond(res, call);
      }, failure.hangMs);
      hangs.add(timer);
      return;
    }
    if (failure.status === 429) return send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(failure.retryAfter) });
    return send(res, 500, 'Internal Server Error (Slack stand-in)');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, `stand-in error: ${String(e)}`));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;

  const callsTo = (method: string): SlackCall[] => calls.filter((c) => c.method === method);

  return {
    url: `http://127.0.0.1:${port}/api/`,
    token,
    calls,
    attempts,
    users,
    callsTo,
    async waitFor(pred, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const c = calls.find(pred);
        if (c) return c;
        if (Date.now() > until) {
          const seen = calls.map((x) => `${x.method} ${JSON.stringify(x.args).slice(0, 200)}`).join('\n  ');
          throw new Error(`no matching Slack call within ${timeoutMs} ms; ${attempts.length} requests, ${calls.length} answered ok:\n  ${seen}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    failNext(method, n, failure) {
      if (n > 0) pending.push({ method, left: n, failure });
    },
    failAlways(method, failure) {
      if (failure) always.set(method, failure);
      else always.delete(method);
    },
    reset() {
      calls.length = 0;
      attempts.length = 0;
      pending.length = 0;
      always.clear();
    },
    close() {
      for (const t of hangs) clearTimeout(t);
      hangs.clear();
      return new Promise<void>((ok) => {
        server.close(() => ok());
        // Keep-alive and hung connections would otherwise hold close() open.
        server.closeAllConnections();
      });
    },
  };
}

/** Body fields as WebClient sends them (form, or JSON), with its JSON-encoded fields parsed back; null if unreadable. */
function parseBody(text: string, contentType: string): Record<string, any> | null {
  let args: Record<string, unknown>;
  if (contentType.includes('application/json')) {
    try {
      const v: unknown = text ? JSON.parse(text) : {};
      if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
      args = v as Record<string, unknown>;
    } catch {
      return null;
    }
  } else {
    args = Object.fromEntries(new URLSearchParams(text));
  }
  for (const k of JSON_FIELDS) {
    const v = args[k];
    if (typeof v !== 'string') continue;
    try {
      args[k] = JSON.parse(v);
    } catch {
      // Slack would refuse it; keep the raw text so the test can see what was sent.
    }
  }
  return args;
}

/** Headers Slack would send with an interactivity POST: X-Slack-Request-Timestamp and X-Slack-Signature (v0=HMAC-SHA256(secret, `v0:${ts}:${body}`) hex). */
export function slackSignatureHeaders(secret: string, body: string, tsSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = createHmac('sha256', secret).update(`v0:${tsSeconds}:${body}`).digest('hex');
  return { 'X-Slack-Request-Timestamp': String(tsSeconds), 'X-Slack-Signature': `v0=${sig}` };
}

/** The form body Slack posts for an interaction: `payload=<urlencoded JSON>`. */
export function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

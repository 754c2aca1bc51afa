import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from '../services/metrics';
import { errorAnswer, requestIdOf } from './http';
import type { LiteRequest, LiteResponse } from './http';

/** The same body limit as the Express app's JSON parser. */
export const JSON_BODY_LIMIT = 1024 * 1024;

type Serve = (req: LiteRequest, res: LiteResponse) => Promise<void>;

/**
 * The lean `node:http` front for the hot decision routes (propose, govern, submit).
 *
 * Express costs more per request than the whole decision does when the audit is
 * group-committed, so the routes marked `fast` are answered here, through the very
 * same steps as on Express (`route()` registers one `serve` function with both):
 * same authentication, validation, handler, error envelopes, headers and bytes.
 * Only a plain request comes here: an exact path without a query, a JSON body of
 * known length within the limit, no content encoding. Anything else (chunked, gzip,
 * another charset, a trailing slash) goes to Express, which handles every case.
 */
export class FastRoutes {
  private readonly routes = new Map<string, { path: string; serve: Serve }>();

  add(method: string, path: string, serve: Serve): void {
    if (path.includes(':')) throw new Error(`fast routes have no parameters: ${path}`);
    this.routes.set(`${method.toUpperCase()} ${path}`, { path, serve });
  }

  get size(): number {
    return this.routes.size;
  }

  /** A request listener: the fast routes here, everything else to `fallback` (the Express app). */
  front(fallback: RequestListener, deps: { metrics: Metrics; log: Logger }): RequestListener {
    return (req, res) => {
      const hit = this.routes.get(`${req.method} ${req.url}`);
      if (!hit || !plainJson(req.headers)) {
        fallback(req, res);
        return;
      }
      const started = performance.now();
      const locals: Record<string, unknown> = { requestId: requestIdOf(req.headers) };
      res.setHeader('X-Request-Id', locals.requestId as string);
      res.once('finish', () => deps.metrics.observeRequest(req.method as string, hit.path, res.statusCode, (performance.now() - started) / 1000));
      const lite = new LiteAnswer(res, locals);
      const fail = (err: unknown) => {
        const { status, body } = errorAnswer(err, hit.path, locals, deps.log);
        if (!res.headersSent) lite.status(status).json(body);
      };
      readBody(req, (err, raw) => {
        if (err) {
          req.destroy();
          return;
        }
        let parsed: { body: unknown; escapeFree: boolean };
        try {
          parsed = parseJson(raw as Buffer);
        } catch (e) {
          fail(e);
          return;
        }
        hit.serve({ headers: req.headers, params: {}, query: {}, body: parsed.body, bodyEscapeFree: parsed.escapeFree }, lite).catch(fail);
      });
    };
  }
}

/** A request the front can take as is; the rest goes to Express. */
function plainJson(h: IncomingHttpHeaders): boolean {
  const length = h['content-length'];
  if (length === undefined || h['transfer-encoding'] !== undefined) return false;
  if (h['content-encoding'] !== undefined && h['content-encoding'].toLowerCase() !== 'identity') return false;
  const n = Number(length);
  if (!Number.isInteger(n) || n > JSON_BODY_LIMIT) return false;
  const type = h['content-type'];
  if (!type) return false;
  const t = type.toLowerCase().replace(/\s+/g, '');
  return t === 'application/json' || t === 'application/json;charset=utf-8';
}

function readBody(req: IncomingMessage, done: (err: Error | null, body?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.once('end', () => done(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
  req.once('error', (e) => done(e));
}

/**
 * JSON as Express's parser reads it: empty is `{}`, only an object or array at the top, a BOM
 * dropped. Also says whether the text held no `\u` escape (see `LiteRequest.bodyEscapeFree`).
 */
function parseJson(raw: Buffer): { body: unknown; escapeFree: boolean } {
  if (raw.length === 0) return { body: {}, escapeFree: true };
  let text = raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = /^[ \t\n\r]*(.)/.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw malformed('Unexpected token');
  try {
    return { body: JSON.parse(text), escapeFree: !text.includes('\\u') };
  } catch (e) {
    throw malformed((e as Error).message);
  }
}

/** Shaped like the JSON parser's own error, so the one error mapping answers it. */
function malformed(message: string): Error {
  return Object.assign(new SyntaxError(message), { status: 400, type: 'entity.parse.failed' });
}

/** The parts of Express's response a fast handler uses, writing exactly the headers and bytes Express would. */
class LiteAnswer implements LiteResponse {
  private code = 200;

  constructor(
    private readonly res: ServerResponse,
    readonly locals: Record<string, unknown>,
  ) {}

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  setHeader(name: string, value: string): this {
    this.res.setHeader(name, value);
    return this;
  }

  status(code: number): this {
    this.code = code;
    return this;
  }

  json(body: unknown): void {
    const text = JSON.stringify(body);
    if (!this.res.hasHeader('content-type')) this.res.setHeader('Content-Type', 'application/json; charset=utf-8');
    this.res.setHeader('Content-Length', String(Buffer.byteLength(text)));
    this.res.statusCode = this.code;
    this.res.end(text);
  }
}

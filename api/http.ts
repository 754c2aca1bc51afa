import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { ZodType, z } from 'zod';
import { AppError, DomainError } from '../services/errors';
import type { ApiKeyService, Principal, Scope } from '../services/auth';
import { hasScope, isAdminRole } from '../services/auth';
import type { FastRoutes } from './fast-path';
import type { ApiDocs, RouteDoc } from './openapi';

/** How an error is rendered: the default shape, or a seed's own envelope. */
export type ErrorStyle = 'default' | 'ascend' | 'wardn';

export interface Ctx<B, Q> {
  req: Request;
  res: Response;
  body: B;
  query: Q;
  params: Record<string, string>;
  principal: Principal;
}

export interface RouteSpec<B extends ZodType | undefined, Q extends ZodType | undefined> extends Omit<RouteDoc, 'body' | 'query'> {
  body?: B;
  query?: Q;
  errorStyle?: ErrorStyle;
  /** A second scope that also admits a key; the handler limits what such a key sees (an agent reading its own decisions). */
  alsoScope?: Scope;
  /** Errors on this route answer with `outcome: DENY` as well (a decision path). */
  failClosed?: boolean;
  /** A hot decision route: also served by the lean `node:http` front (its handler uses only LiteRequest and LiteResponse). */
  fast?: FastRoutes;
}

type Out<T> = T extends ZodType ? z.output<T> : undefined;

/** Resolves the caller's key and checks the route's scope (or admin role). `public` routes need none. */
export async function principalFor(keys: ApiKeyService, headers: IncomingHttpHeaders, scope: string, alsoScope?: Scope): Promise<Principal | null> {
  if (scope === 'public') return null;
  const header = headers['x-api-key'];
  const bearer = headers.authorization;
  const secret = typeof header === 'string' && header ? header : bearer?.startsWith('Bearer ') ? bearer.slice(7).trim() : '';
  if (!secret) throw new AppError(401, 'UNAUTHENTICATED', 'send an API key in X-API-Key or Authorization: Bearer');
  const p = await keys.authenticate(secret);
  if (!p) throw new AppError(401, 'UNAUTHENTICATED', 'the API key is not valid');
  if (scope === 'admin' ? !isAdminRole(p.role) : !hasScope(p, scope as Scope) && !(alsoScope && hasScope(p, alsoScope))) {
    throw new AppError(403, 'FORBIDDEN', scope === 'admin' ? 'Admin role required' : `API key does not have ${scope} scope`);
  }
  return p;
}

/** What a handler may use of the request: the same on Express and on the lean front (api/fast-path.ts). */
export interface LiteRequest {
  headers: IncomingHttpHeaders;
  params: Record<string, string>;
  query: unknown;
  body: unknown;
  /**
   * Set by the lean front when the raw JSON held no `\u` escape: JSON forbids raw control
   * characters in strings and UTF-8 decoding turns an encoded surrogate into U+FFFD, so such a
   * body cannot hold U+0000 or a lone surrogate, and the walk that looks for them is skipped.
   */
  bodyEscapeFree?: boolean;
}

/** What a handler may use of the response: Express's own methods, or the lean front's copies of them. */
export interface LiteResponse {
  locals: Record<string, unknown>;
  headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  status(code: number): LiteResponse;
  json(body: unknown): unknown;
}

/**
 * Mounts one route: documents it, authenticates, validates body and query with
 * its zod schemas (a 400 names the first bad field), then runs the handler.
 * Express 5 forwards a rejected promise to the one error handler. A route with
 * `fast` is also served by the lean `node:http` front, through the same steps.
 */
export function route<B extends ZodType | undefined = undefined, Q extends ZodType | undefined = undefined>(
  router: Router,
  docs: ApiDocs,
  keys: ApiKeyService,
  spec: RouteSpec<B, Q>,
  handler: (ctx: Ctx<Out<B>, Out<Q>>) => Promise<unknown>,
): void {
  docs.add(spec as RouteDoc);
  const serve = async (req: LiteRequest, res: LiteResponse): Promise<void> => {
    if (spec.errorStyle) res.locals.errorStyle = spec.errorStyle;
    if (spec.failClosed) res.locals.failClosed = true;
    const p = await principalFor(keys, req.headers, spec.scope, spec.alsoScope);
    res.locals.principal = p;
    if (spec.role === 'admin' && p && !isAdminRole(p.role)) throw new AppError(403, 'FORBIDDEN', 'Admin role required');
    if (spec.role === 'architect' && p && p.role !== 'architect') throw new AppError(403, 'ARCHITECT_REQUIRED', 'ARCHITECT role required to change the governance mode');
    // Text PostgreSQL cannot store (U+0000, a lone surrogate) is refused at the edge, named, before it reaches a query or a hash.
    rejectUnstorable(req.params, 'path');
    rejectUnstorable(req.query, 'query');
    if (spec.body && !req.bodyEscapeFree) rejectUnstorable(req.body, 'body');
    const body = spec.body ? parse(spec.body, req.body ?? {}, 'body') : undefined;
    const query = spec.query ? parse(spec.query, req.query, 'query') : undefined;
    // Express's Request and Response are supersets of the lite ones; fast routes' handlers use only the lite parts.
    await handler({ req: req as Request, res: res as unknown as Response, body: body as Out<B>, query: query as Out<Q>, params: req.params, principal: p as Principal });
  };
  router[spec.method](spec.path, (req: Request, res: Response) => serve(req as LiteRequest, res));
  if (spec.fast) spec.fast.add(spec.method, spec.path, serve);
}

/** Validates with zod and turns the first issue into a 400 that names the field. */
export function parse<T extends ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.map(String).join('.') || where;
  const message = issue.code === 'invalid_type' && !present(value, issue.path) ? `${field} is required` : `${field}: ${issue.message}`;
  throw new AppError(400, 'VALIDATION_FAILED', message, field, r.error.issues.slice(0, 10).map((i) => ({ field: i.path.join('.'), message: i.message })));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const unstorable = (s: string): boolean => s.includes('\u0000') || LONE_SURROGATE.test(s);

/** Throws a 400 naming the first key or string value (at any depth) that holds U+0000 or a lone surrogate. */
export function rejectUnstorable(value: unknown, where: string): void {
  const walk = (v: unknown, path: string, depth: number): void => {
    if (typeof v === 'string') {
      const field = path || where;
      if (unstorable(v)) throw new AppError(400, 'VALIDATION_FAILED', `${field}: contains U+0000 or a lone surrogate, which cannot be stored`, field);
      return;
    }
    if (v === null || typeof v !== 'object' || depth > 256) return;
    for (const [k, x] of Object.entries(v)) {
      const at = path ? `${path}.${k}` : k;
      if (unstorable(k)) throw new AppError(400, 'VALIDATION_FAILED', `${at}: a key contains U+0000 or a lone surrogate`, at);
      walk(x, at, depth + 1);
    }
  };
  walk(value, '', 0);
}

/** Whether `path` leads to a value in `value` (zod 4 issues do not carry the input). */
function present(value: unknown, path: readonly PropertyKey[]): boolean {
  let cur: unknown = value;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, k as string)) return false;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur !== undefined;
}

/** The request's id: the caller's `X-Request-Id` when it is sane, else a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && given.length > 0 && given.length <= 128 ? given : randomUUID();
}

export function requestId(req: Request, res: Response, next: NextFunction): void {
  const id = requestIdOf(req.headers);
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
}

/** HTTP status of each domain code; a code not listed is a 409 (the request conflicts with the state). */
const STATUS_OF: Record<string, number> = {
  VALIDATION_FAILED: 400,
  REASON_REQUIRED: 400,
  CONDITIONAL_NOT_ALLOWED: 400,
  CONDITIONS_REQUIRED: 400,
  DELEGATE_INVALID: 400,
  UNAUTHENTICATED: 401,
  SELF_APPROVAL: 403,
  NOT_AN_APPROVER: 403,
  NOT_PROPOSER: 403,
  ARCHITECT_REQUIRED: 403,
  NOT_A_PERSON: 403,
  USER_DISABLED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_PENDING: 409,
  AGENT_EXISTS: 409,
  MONTHLY_LIMIT_EXCEEDED: 429,
  STAGE_BLOCKED: 409,
  GATE_IN_REVIEW: 409,
  GATE_PASSED: 409,
  CONFLICT: 409,
  POLICY_NOT_APPLICABLE: 422,
  SLACK_ID_TAKEN: 409,
  ALREADY_DECIDED: 409,
  SLACK_NOT_CONFIGURED: 503,
  APPROVAL_UNAVAILABLE: 503,
};

/** The status an error answers with: its own for an AppError, the code's for a DomainError, else 500. */
export function statusOf(err: unknown): number {
  if (err instanceof AppError) return err.status;
  if (err instanceof DomainError) return STATUS_OF[err.code] ?? 409;
  return 500;
}

/** The one error handler: domain errors speak; anything else is a 500 that says nothing internal. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      errorAnswer(err, req.path, res.locals, log);
      return;
    }
    const { status, body } = errorAnswer(err, req.path, res.locals, log);
    res.status(status).json(body);
  };
}

/** The status and envelope an error answers with on `path`, on Express or on the lean front alike. */
export function errorAnswer(err: unknown, path: string, locals: Record<string, unknown>, log: Logger): { status: number; body: Record<string, unknown> } {
  const requestId = locals.requestId as string | undefined;
  let status = 500;
  let body: { code: string; message: string; field?: string; details?: unknown } = { code: 'INTERNAL', message: 'internal error' };
  if (err instanceof DomainError) {
    status = statusOf(err);
    body = { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), ...(err.details !== undefined ? { details: err.details } : {}) };
  } else if (err instanceof URIError) {
    // A path with a malformed percent-escape (the router's decodeURIComponent refused it).
    status = 400;
    body = { code: 'VALIDATION_FAILED', message: 'the path holds a malformed percent-escape', field: 'path' };
  } else if (isBodyParserError(err)) {
    status = err.status;
    body = { code: err.type === 'entity.too.large' ? 'PAYLOAD_TOO_LARGE' : 'MALFORMED_JSON', message: err.type === 'entity.too.large' ? 'request body too large' : 'request body is not valid JSON', field: 'body' };
  } else {
    log.error({ err, requestId, path }, 'unhandled error');
  }
  const style: ErrorStyle | 'aegis' = locals.failClosed && (status >= 500 || status === 429) ? 'aegis' : (locals.errorStyle as ErrorStyle | undefined) ?? styleOf(path);
  return { status, body: errorEnvelope(style, body, requestId) };
}

/** The surface an unrouted path belongs to, for its error envelope. */
function styleOf(path: string): ErrorStyle {
  if (path === '/govern') return 'wardn';
  return isAscendPath(path) ? 'ascend' : 'default';
}

/** An error in its surface's own envelope. */
function errorEnvelope(style: ErrorStyle | 'aegis', body: { code: string; message: string; field?: string; details?: unknown }, requestId: string | undefined): Record<string, unknown> {
  // Aegis: a request-level failure on the way to a decision is a DENY.
  if (style === 'aegis') return { outcome: 'DENY', error: body, request_id: requestId };
  // WARDN: whatever went wrong, the agent reads "do not execute".
  if (style === 'wardn') return { execute: false, verdict: 'BLOCKED', reason: body.code, message: body.message, error: body, request_id: requestId };
  if (style === 'ascend') return { status: 'error', error: body, request_id: requestId };
  return { error: body, request_id: requestId };
}

/**
 * Node's HTTP parser refuses some requests before Express sees them (a NUL in a header, headers over
 * 16 kB): answer those in JSON too, naming the headers, instead of a bare status line.
 */
export function clientErrorHandler(err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex): void {
  if (!socket.writable) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  // The request line, when the parser got that far, tells whose surface (and envelope) this was.
  const path = /^[A-Z]+ (\S+)/.exec(err.rawPacket?.subarray(0, 2048).toString('latin1') ?? '')?.[1]?.split('?')[0] ?? '';
  const error = { code: status === 431 ? 'HEADERS_TOO_LARGE' : 'MALFORMED_REQUEST', message: status === 431 ? 'request headers are too large' : 'the request is not valid HTTP (a header holds a forbidden character)', field: 'headers' };
  const body = JSON.stringify(errorEnvelope(styleOf(path), error, undefined));
  socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Ascend's paths answer errors in its `{status: "error"}` envelope, even before a route is matched (bad JSON, unknown path). */
const ASCEND_PATHS = /^\/api\/(smart-rules|risk-scoring|governance\/(policies|dashboard|workflows)|v1\/actions)(\/|$)/;
export const isAscendPath = (path: string): boolean => ASCEND_PATHS.test(path);

function isBodyParserError(e: unknown): e is { status: number; type: string } {
  return typeof e === 'object' && e !== null && typeof (e as { type?: unknown }).type === 'string' && typeof (e as { status?: unknown }).status === 'number' && (e as { status: number }).status < 500;
}

/** Opaque cursor over (createdAt, id) for keyset pagination. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const d = new Date(at);
    if (typeof id !== 'string' || Number.isNaN(d.getTime())) throw new Error('bad');
    return { createdAt: d, id };
  } catch {
    throw new AppError(400, 'VALIDATION_FAILED', 'cursor is not valid', 'cursor');
  }
}

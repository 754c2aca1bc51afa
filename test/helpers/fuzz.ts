import { connect } from 'node:net';
import { prng } from './prng';

/**
 * An HTTP fuzzer generated from the served OpenAPI document: every operation gets
 * bodies built from its schema with one field broken at a time, hostile path and
 * query values, and free-form hostile requests (broken JSON, wrong content types,
 * raw non-finite numbers, deep nesting, prototype keys, hostile headers). New routes
 * are covered as soon as they are documented. Deterministic for a seed (and an id pool).
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, any>;
type Rnd = () => number;

export interface FuzzRequest {
  method: string;
  /** Path and query as sent on the request line (already percent-encoded). */
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** `admin`: the runner adds the admin key (unless the headers carry a key); `none`: no key at all. */
  auth: 'admin' | 'none';
  /** The documented operation, e.g. `POST /api/v1/users/{id}`. */
  op: string;
  /** What was broken, e.g. `body.wrong-type name`, `path.hostile`, `free.broken-json`. */
  kind: string;
}

export interface Operation {
  method: string;
  path: string;
  key: string;
  pathParams: string[];
  query: { name: string; required: boolean; schema: Schema }[];
  body: Schema | undefined;
  /** Content type of the documented request body (form posts have none in the document). */
  contentType: string | undefined;
  secured: boolean;
}

export interface FuzzOptions {
  seed: number;
  /** Requests per operation; they are interleaved round-robin across operations. */
  perOperation: number;
  /** Ids of real objects (from `harvestIds`) used as "plausible" path parameters. */
  ids?: readonly string[];
  /** Operations to leave out (documented in docs/fuzzing.md). */
  skip?: (op: Operation) => boolean;
}

// ---------------------------------------------------------------- the document

/** Follows a local `$ref` (`#/...`) in the document, or in the schema it sits in (for `$defs`). */
function deref(schema: Schema | undefined, doc: Schema, root?: Schema, depth = 0): Schema {
  let s = schema ?? {};
  let guard = 0;
  while (s && typeof s.$ref === 'string' && guard++ < 32) {
    const ref = s.$ref as string;
    if (!ref.startsWith('#')) return {};
    const parts = ref.slice(1).split('/').filter(Boolean).map((p) => decodeURIComponent(p.replace(/~1/g, '/').replace(/~0/g, '~')));
    const walk = (from: unknown) => parts.reduce<unknown>((cur, p) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined), from);
    const found = (walk(doc) ?? (root ? walk(root) : undefined)) as Schema | undefined;
    if (!found) return {};
    s = found;
  }
  if (Array.isArray(s.allOf) && depth < 16) {
    // Merge the parts: properties, required and the keywords of each.
    const merged: Schema = { ...s };
    delete merged.allOf;
    for (const part of s.allOf as Schema[]) {
      const p = deref(part, doc, root, depth + 1);
      for (const [k, v] of Object.entries(p)) {
        if (k === 'properties') merged.properties = { ...(merged.properties ?? {}), ...(v as object) };
        else if (k === 'required') merged.required = [...new Set([...(merged.required ?? []), ...(v as string[])])];
        else if (merged[k] === undefined) merged[k] = v;
      }
    }
    return merged;
  }
  if (Array.isArray(s.anyOf ?? s.oneOf) && !s.type && depth < 16) {
    // The first branch that is not just `null` (OpenAPI 3.1 writes nullable as anyOf [X, {type: null}]).
    const branches = (s.anyOf ?? s.oneOf) as Schema[];
    const first = branches.map((b) => deref(b, doc, root, depth + 1)).find((b) => b.type !== 'null') ?? {};
    return { ...first, ...(s.description ? { description: s.description } : {}) };
  }
  return s;
}

/** Every operation of the document, in document order. */
export function operations(doc: Schema): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Schema>)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method] as Schema | undefined;
      if (!op) continue;
      const params = [...((item.parameters as Schema[]) ?? []), ...((op.parameters as Schema[]) ?? [])].map((p) => deref(p, doc));
      const content = (deref(op.requestBody, doc).content ?? {}) as Record<string, Schema>;
      const ct = Object.keys(content)[0];
      out.push({
        method: method.toUpperCase(),
        path,
        key: `${method.toUpperCase()} ${path}`,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: String(p.name), required: !!p.required, schema: deref(p.schema, doc) })),
        body: ct ? deref(content[ct].schema, doc) : undefined,
        contentType: ct,
        secured: Array.isArray(op.security) ? op.security.length > 0 : Array.isArray(doc.security) && doc.security.length > 0,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------- valid-ish examples

const FIXED_TIME = '2025-01-01T00:00:00Z';
const STRING_CANDIDATES = ['fuzz', 'fuzz_1', 'Fuzz-1', 'U0FUZZ01', 'fuzz.one', 'a', 'FUZZ', '1', 'fuzz@example.com', 'createdAt:desc', 'timestamp:desc'];

function exampleString(s: Schema, rnd: Rnd): string {
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : Infinity;
  let v: string;
  switch (s.format) {
    case 'email':
      v = `fuzz${Math.floor(rnd() * 1e6)}@example.com`;
      break;
    case 'uri':
    case 'url':
      v = 'https://example.com/fuzz';
      break;
    case 'date-time':
      v = FIXED_TIME;
      break;
    case 'date':
      v = FIXED_TIME.slice(0, 10);
      break;
    case 'uuid':
      v = '00000000-0000-4000-8000-000000000000';
      break;
    default: {
      v = 'fuzz';
      if (typeof s.pattern === 'string') {
        let re: RegExp | null = null;
        try {
          re = new RegExp(s.pattern as string);
        } catch {
          re = null;
        }
        if (re) v = STRING_CANDIDATES.find((c) => re.test(c) && c.length >= min && c.length <= max) ?? v;
      }
    }
  }
  if (v.length < min) v = v + 'x'.repeat(min - v.length);
  if (v.length > max) v = v.slice(0, Math.max(min, max));
  return v;
}

function exampleNumber(s: Schema): number {
  const int = s.type === 'integer';
  let lo: number | undefined = typeof s.minimum === 'number' ? s.minimum : undefined;
  let hi: number | undefined = typeof s.maximum === 'number' ? s.maximum : undefined;
  const step = int ? 1 : 0.5;
  if (typeof s.exclusiveMinimum === 'number') lo = s.exclusiveMinimum + step;
  else if (s.exclusiveMinimum === true && lo !== undefined) lo += step;
  if (typeof s.exclusiveMaximum === 'number') hi = s.exclusiveMaximum - step;
  else if (s.exclusiveMaximum === true && hi !== undefined) hi -= step;
  let v: number;
  if (lo !== undefined && hi !== undefined) v = hi - lo > 1e6 ? lo + 1000 : lo; // zod's safe-integer bounds are no real bound
  // Far from an open upper bound: a monthly limit or a budget of the example must not choke the rest of the run.
  else if (lo !== undefined) v = lo + 1000;
  else if (hi !== undefined) v = Math.min(hi, 1);
  else v = 1;
  return int ? Math.ceil(v) : v;
}

function typeOf(s: Schema): string {
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.type)) return (s.type as string[]).find((t) => t !== 'null') ?? 'null';
  if (s.properties || s.additionalProperties) return 'object';
  if (s.items) return 'array';
  if (Array.isArray(s.enum)) return typeof s.enum[0];
  return 'any';
}

/**
 * A valid-ish value for a schema: enums take their first value, strings honour
 * length, format and (simple) patterns, numbers sit within their bounds, required
 * properties are present and optional ones with probability `optional`.
 */
export function example(schema: Schema | undefined, doc: Schema, rnd: Rnd, optional = 0.6, depth = 0, root?: Schema): Json {
  const s = deref(schema, doc, root ?? schema);
  const r = root ?? schema;
  if (s.const !== undefined) return s.const as Json;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0] as Json;
  if (depth > 8) return null;
  switch (typeOf(s)) {
    case 'string':
      return exampleString(s, rnd);
    case 'number':
    case 'integer':
      return exampleNumber(s);
    case 'boolean':
      return true;
    case 'array': {
      const items = deref(s.items, doc, r);
      const n = Math.min(Math.max(typeof s.minItems === 'number' ? s.minItems : 1, 1), typeof s.maxItems === 'number' ? s.maxItems : 3);
      if (Array.isArray(items.enum) && s.uniqueItems) return (items.enum as Json[]).slice(0, Math.max(1, Math.min(n, items.enum.length)));
      return Array.from({ length: n }, () => example(items, doc, rnd, optional, depth + 1, r));
    }
    case 'object': {
      const out: Record<string, Json> = {};
      const required = new Set<string>((s.required as string[]) ?? []);
      for (const [k, p] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
        if (required.has(k) || rnd() < optional) out[k] = example(p, doc, rnd, optional, depth + 1, r);
      }
      if (!s.properties && s.additionalProperties !== false) {
        const add = s.additionalProperties && typeof s.additionalProperties === 'object' ? (s.additionalProperties as Schema) : {};
        const name = s.propertyNames ? exampleString(deref(s.propertyNames, doc, r), rnd) : 'fuzz';
        out[name] = Object.keys(add).length ? example(add, doc, rnd, optional, depth + 1, r) : 'fuzz';
      }
      return out;
    }
    default:
      return 'fuzz';
  }
}

// ---------------------------------------------------------------- hostile values

/** A value written raw into the JSON text (non-finite and unsafe numbers JSON.stringify cannot write). */
const RAW = (text: string): string => `\u0001RAW:${text}\u0001`;
const RAW_MARK = '\u0001';
const RAW_RE = /"\\u0001RAW:([^"\\]*)\\u0001"/g;
/** JSON text of a value, with RAW markers written as they are. */
export function jsonText(v: unknown): string {
  return JSON.stringify(v).replace(RAW_RE, '$1');
}

export const LONG_STRING = 'A'.repeat(70 * 1024);
export const HOSTILE_STRINGS: readonly string[] = [
  '\u0000',
  'fuzz\u0000fuzz',
  '\uD800',
  'x\uDC00y',
  '\uDBFF\uDBFF',
  '\uFFFE\uFFFF',
  '\u202Egnp.exe',
  'ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ 🤖👩‍👩‍👧',
  '',
  ' ',
  '\r\n\t',
  "'; DROP TABLE decisions; --",
  '"><script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00%ED%A0%80',
  '${jndi:ldap://x}',
  '{{constructor.constructor("return process")()}}',
  '__proto__',
  'constructor',
  'null',
  'NaN',
  '-1',
  '1e309',
  '\\',
  '*',
  '$where',
  'a'.repeat(257),
];
const RAW_NUMBERS = ['1e309', '-1e309', '-0', '9007199254740993', '1e-400', '-9007199254740993', '1.7976931348623157e308', '123456789012345678901234567890', '0.0000000000000000000001', '-1', '0', '1.5'];

function nested(depth: number, kind: 'array' | 'object'): Json {
  let v: Json = 'deep';
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

/** Raw JSON text nested `depth` deep (built as text: no recursion anywhere). */
function nestedText(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function pick<T>(rnd: Rnd, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

// ---------------------------------------------------------------- mutations

interface Slot {
  path: (string | number)[];
  schema: Schema;
  required: boolean;
}

/** Every place of the example with the schema it answers to (the root included). */
function slots(value: Json, schema: Schema, doc: Schema, root: Schema, path: (string | number)[] = [], required = true, out: Slot[] = []): Slot[] {
  const s = deref(schema, doc, root);
  out.push({ path, schema: s, required });
  if (path.length > 8) return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => slots(v, s.items ?? {}, doc, root, [...path, i], true, out));
  } else if (value && typeof value === 'object') {
    const req = new Set<string>((s.required as string[]) ?? []);
    for (const [k, v] of Object.entries(value)) {
      const ps = (s.properties as Record<string, Schema> | undefined)?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : {});
      slots(v, ps, doc, root, [...path, k], req.has(k), out);
    }
  }
  return out;
}

function setAt(value: Json, path: (string | number)[], v: Json | undefined): Json {
  if (path.length === 0) return v === undefined ? null : v;
  const clone = structuredClone(value) as any;
  let cur = clone;
  for (const p of path.slice(0, -1)) cur = cur[p];
  const last = path[path.length - 1];
  if (v === undefined) {
    if (Array.isArray(cur)) cur.splice(last as number, 1);
    else delete cur[last];
  } else if (last === '__proto__') {
    Object.defineProperty(cur, last, { value: v, enumerable: true, writable: true, configurable: true });
  } else cur[last] = v;
  return clone;
}

function wrongType(s: Schema, rnd: Rnd): Json {
  switch (typeOf(s)) {
    case 'string':
      return pick(rnd, [123, true, null, ['fuzz'], { fuzz: 1 }]);
    case 'number':
    case 'integer':
      return pick(rnd, ['12', 'fuzz', true, null, [1], { n: 1 }]);
    case 'boolean':
      return pick(rnd, ['true', 1, 0, null, 'yes']);
    case 'array':
      return pick<Json>(rnd, [{}, 'fuzz', 1, null, { 0: 'a', length: 1 }]);
    case 'object':
      return pick(rnd, [[], 'fuzz', 1, null, true]);
    default:
      return pick(rnd, [null, [], {}]);
  }
}

function outOfRange(s: Schema, rnd: Rnd): Json {
  if (Array.isArray(s.enum)) return pick(rnd, ['NOT_AN_ENUM_VALUE', String(s.enum[0]).toUpperCase() + '_', ` ${String(s.enum[0])}`]);
  switch (typeOf(s)) {
    case 'string': {
      const opts: Json[] = [];
      if (typeof s.maxLength === 'number') opts.push('x'.repeat(s.maxLength + 1));
      if (typeof s.minLength === 'number' && s.minLength > 0) opts.push('x'.repeat(s.minLength - 1));
      if (s.pattern || s.format) opts.push('!! not: valid //', '2025-13-45T99:99:99Z', 'http://', 'not-an-email@', 'javascript:alert(1)');
      opts.push('');
      return pick(rnd, opts);
    }
    case 'number':
    case 'integer': {
      const opts: Json[] = [];
      if (typeof s.minimum === 'number') opts.push(s.minimum - 1, s.minimum - 0.5);
      if (typeof s.maximum === 'number') opts.push(s.maximum + 1, s.maximum + 0.5);
      if (s.type === 'integer') opts.push(1.5);
      opts.push(-1, 0, RAW(pick(rnd, RAW_NUMBERS)));
      return pick(rnd, opts);
    }
    case 'array': {
      const item = Array.isArray(s.items?.enum) ? s.items.enum[0] : 'fuzz';
      if (typeof s.maxItems === 'number' && (rnd() < 0.6 || !s.minItems)) return Array.from({ length: s.maxItems + 1 }, (_, i) => (typeof item === 'string' ? `${item}` : i));
      return [];
    }
    case 'object':
      return {};
    default:
      return null;
  }
}

function hostileValue(s: Schema, rnd: Rnd): { value: Json; what: string } {
  const t = typeOf(s);
  const r = rnd();
  if (t === 'number' || t === 'integer') return { value: RAW(pick(rnd, RAW_NUMBERS)), what: 'raw-number' };
  if (r < 0.12) return { value: LONG_STRING, what: 'long-string' };
  if (r < 0.2) return { value: nested(200, rnd() < 0.5 ? 'array' : 'object'), what: 'deep-200' };
  if (r < 0.28) return { value: JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as Json, what: 'proto-keys' };
  if (t === 'object' && r < 0.4) {
    const key = pick(rnd, HOSTILE_STRINGS);
    return { value: { [key]: pick(rnd, HOSTILE_STRINGS) }, what: 'hostile-key' };
  }
  if (t === 'array' && r < 0.4) return { value: [pick(rnd, HOSTILE_STRINGS), RAW(pick(rnd, RAW_NUMBERS))], what: 'hostile-items' };
  return { value: pick(rnd, HOSTILE_STRINGS), what: 'hostile-string' };
}

// ---------------------------------------------------------------- path and query

const HOSTILE_SEGMENTS = ['%00', 'a%00b', '%ED%A0%80', '%ED%B0%80', '%C0%AF', '%FF', '%', '%zz', '%E2%80%AE', '..%2F..%2Fetc%2Fpasswd', '%2E%2E', 'a%2Fb', '%20', 'null', 'undefined', '-1', '0', '1e309', '__proto__', 'constructor', '%F0%9F%A4%96', "'%20OR%201%3D1--", 'x'.repeat(300), 'x'.repeat(9000), '%5B%5D', '%7B%7D'];
const PLAUSIBLE_IDS = ['dec_0000000000000000', 'usr_0000000000000000', 'rule_0000000000000000', 'does-not-exist', 'fuzz'];

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
/** Percent-encodes a JS string; lone surrogates (which encodeURIComponent refuses) become the bytes of their WTF-8 form. */
function encAny(s: string): string {
  try {
    return enc(s);
  } catch {
    return [...s].map((ch) => {
      const c = ch.charCodeAt(0);
      if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) return `%${(0xe0 | (c >> 12)).toString(16).toUpperCase()}%${(0x80 | ((c >> 6) & 0x3f)).toString(16).toUpperCase()}%${(0x80 | (c & 0x3f)).toString(16).toUpperCase()}`;
      return enc(ch);
    }).join('');
  }
}

function queryValue(v: Json): string {
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

// ---------------------------------------------------------------- the generator

function hashSeed(...parts: (string | number)[]): number {
  let h = 2166136261;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

const BROKEN_JSON = ['{', '{"a":', '[1,2', '{"a":1,}', "{'a':1}", 'nul', '{"a":undefined}', '{"a":NaN}', '{"a":Infinity}', '{"a":01}', '{"a":"\\x00"}', '{"a":"\\uZZZZ"}', '{"a":"unterminated}', '\u0000', '{}}', '{"a":1}{"b":2}', '"just a string"', '123', 'true', 'null', '[]', '[{}]', '', ' ', '\uFEFF{}', '{"a":"\\ud800"}', '{"\\u0000":1}'];

/** One request for an operation; `i` is its index within the operation. */
function oneRequest(doc: Schema, op: Operation, seed: number, i: number, ids: readonly string[]): FuzzRequest {
  const rnd = prng(hashSeed(seed, op.key, i));
  const headers: Record<string, string> = {};
  const kinds: string[] = [];
  let auth: FuzzRequest['auth'] = 'admin';

  // Path parameters: real ids mostly, made-up ones, or hostile segments.
  const hostilePath = op.pathParams.length > 0 && rnd() < 0.15;
  let path = op.path;
  for (const p of op.pathParams) {
    let seg: string;
    if (hostilePath && (op.pathParams.length === 1 || rnd() < 0.6)) {
      seg = rnd() < 0.8 ? pick(rnd, HOSTILE_SEGMENTS) : encAny(pick(rnd, HOSTILE_STRINGS)) || '%20';
      kinds.push(`path.hostile ${p}`);
    } else if (ids.length && rnd() < 0.7) seg = enc(pick(rnd, ids));
    else seg = enc(pick(rnd, PLAUSIBLE_IDS));
    path = path.replace(`{${p}}`, seg);
  }

  // Query: valid values, one broken at times.
  const q: [string, string][] = [];
  const breakQuery = op.query.length > 0 && rnd() < (op.body ? 0.15 : 0.5);
  const broken = breakQuery ? pick(rnd, op.query) : null;
  for (const qp of op.query) {
    if (qp === broken) {
      const m = rnd();
      if (m < 0.3) {
        q.push([enc(qp.name), encAny(pick(rnd, HOSTILE_STRINGS))]);
        kinds.push(`query.hostile ${qp.name}`);
      } else if (m < 0.45) {
        q.push([enc(qp.name), pick(rnd, ['%00', '%ED%A0%80', '%', '%zz', '%FF%FE', 'x'.repeat(5000)])]);
        kinds.push(`query.raw ${qp.name}`);
      } else if (m < 0.6) {
        q.push([enc(qp.name), 'a'], [enc(qp.name), 'b']);
        kinds.push(`query.repeated ${qp.name}`);
      } else if (m < 0.8) {
        q.push([enc(qp.name), enc(queryValue(outOfRange(qp.schema, rnd)).split(RAW_MARK).join('').replace('RAW:', ''))]);
        kinds.push(`query.out-of-range ${qp.name}`);
      } else {
        q.push([enc(qp.name), enc(queryValue(wrongType(qp.schema, rnd)))]);
        kinds.push(`query.wrong-type ${qp.name}`);
      }
    } else if (qp.required || rnd() < 0.4) {
      q.push([enc(qp.name), enc(queryValue(example(qp.schema, doc, rnd)))]);
    }
  }
  if (rnd() < 0.05) {
    q.push([pick(rnd, ['__proto__', 'constructor', '__proto__%5Bx%5D', 'fuzz_unknown', '%00']), pick(rnd, ['1', '%00', ''])]);
    kinds.push('query.unknown');
  }
  if (q.length) path += '?' + q.map(([k, v]) => `${k}=${v}`).join('&');

  // Body.
  let body: string | undefined;
  const r = rnd();
  if (op.body && op.contentType === 'application/json') {
    const base = example(op.body, doc, rnd, rnd() < 0.3 ? 1 : 0.6);
    headers['Content-Type'] = 'application/json';
    if (r < 0.1) {
      body = jsonText(base);
      kinds.push('body.valid');
    } else if (r < 0.65) {
      const all = slots(base, op.body, doc, op.body);
      const slot = pick(rnd, all);
      const name = slot.path.join('.') || '(root)';
      const m = rnd();
      let mutated: Json;
      if (m < 0.2) {
        mutated = setAt(base, slot.path, wrongType(slot.schema, rnd));
        kinds.push(`body.wrong-type ${name}`);
      } else if (m < 0.35 && slot.path.length > 0) {
        mutated = setAt(base, slot.path, undefined);
        kinds.push(`body.missing${slot.required ? '-required' : ''} ${name}`);
      } else if (m < 0.55) {
        mutated = setAt(base, slot.path, outOfRange(slot.schema, rnd));
        kinds.push(`body.out-of-range ${name}`);
      } else if (m < 0.62) {
        mutated = setAt(base, slot.path, typeOf(slot.schema) === 'string' ? LONG_STRING : nested(200, 'array'));
        kinds.push(`body.too-long ${name}`);
      } else if (m < 0.7 && base && typeof base === 'object' && !Array.isArray(base)) {
        const k = pick(rnd, ['__proto__', 'constructor', 'prototype', 'fuzz_unknown', '\u0000', '\uD800', '']);
        mutated = setAt(base, [...(slot.path.length && typeof slot.path[slot.path.length - 1] === 'string' && rnd() < 0.5 ? slot.path.slice(0, -1) : []), k], { polluted: true });
        kinds.push(`body.extra-key ${JSON.stringify(k)}`);
      } else {
        const h = hostileValue(slot.schema, rnd);
        mutated = setAt(base, slot.path, h.value);
        kinds.push(`body.${h.what} ${name}`);
      }
      body = jsonText(mutated);
    } else if (r < 0.72) {
      body = pick(rnd, BROKEN_JSON);
      kinds.push('free.broken-json');
    } else if (r < 0.8) {
      // The right body under a wrong content type.
      const ct = pick(rnd, ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16', 'application/json; charset=latin1', '', 'application/vnd.api+json', '*/*']);
      headers['Content-Type'] = ct;
      if (ct === '') delete headers['Content-Type'];
      body = ct.startsWith('application/x-www') ? 'a=1&b=%00&__proto__[x]=1' : jsonText(base);
      kinds.push(`free.content-type ${ct || '(none)'}`);
    } else if (r < 0.84) {
      body = undefined;
      kinds.push('free.no-body');
    } else if (r < 0.88) {
      body = rnd() < 0.5 ? nestedText(200) : '['.repeat(5000) + ']'.repeat(5000);
      kinds.push('free.deep-body');
    } else if (r < 0.9) {
      body = `{"fuzz":"${'A'.repeat(1024 * 1024 + 10)}"}`;
      kinds.push('free.too-large');
    } else {
      // Hostile Idempotency-Key (and request id) on a valid body.
      body = jsonText(base);
      const key = pick(rnd, ['', 'k'.repeat(10 * 1024), 'a\u0000b', 'cl\u00e9', 'Ã©tÃ©', 'k'.repeat(201), ' ', '\t', 'fuzz-key']);
      headers['Idempotency-Key'] = key;
      if (rnd() < 0.3) headers['X-Request-Id'] = pick(rnd, ['', 'r'.repeat(200), 'id\u0000', 'Ã©']);
      kinds.push(`header.idempotency-key ${key.length > 20 ? `len ${key.length}` : JSON.stringify(key)}`);
    }
  } else {
    // No JSON body documented (GET, DELETE, form posts): sometimes send one anyway.
    if (r < 0.25 && op.method !== 'GET') {
      const v = rnd();
      if (v < 0.3) {
        headers['Content-Type'] = 'application/json';
        body = pick(rnd, BROKEN_JSON);
        kinds.push('free.broken-json');
      } else if (v < 0.6) {
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        body = pick(rnd, ['decision=approve', 'decision=deny&comment=%00', 'decision[]=approve', '__proto__[x]=1', 'payload=%7B%22type%22%3A%22block_actions%22%7D', 'decision=' + 'x'.repeat(20000), 'comment=%ED%A0%80&decision=approve', '%']);
        kinds.push('free.form');
      } else if (v < 0.8) {
        headers['Content-Type'] = 'text/plain';
        body = pick(rnd, HOSTILE_STRINGS);
        kinds.push('free.text');
      } else {
        headers['Content-Type'] = 'application/json';
        body = jsonText({ fuzz: pick(rnd, HOSTILE_STRINGS), n: RAW(pick(rnd, RAW_NUMBERS)) });
        kinds.push('free.json');
      }
    } else if (r < 0.35) {
      headers['Idempotency-Key'] = pick(rnd, ['', 'k'.repeat(10 * 1024), 'a\u0000b', 'cl\u00e9']);
      kinds.push('header.idempotency-key');
    }
  }

  // Authentication: mostly the admin key; sometimes none, a wrong one or a hostile one.
  const a = rnd();
  if (op.secured && a < 0.06) {
    auth = 'none';
    kinds.push('auth.none');
  } else if (op.secured && a < 0.1) {
    auth = 'none';
    const bad = pick(rnd, ['arb_wrong_key', '', 'k\u0000', 'Ã©', 'x'.repeat(10 * 1024), "' OR 1=1 --"]);
    if (rnd() < 0.5) headers['X-API-Key'] = bad;
    else headers.Authorization = pick(rnd, ['Bearer ', 'Bearer', 'Basic Zm9vOmJhcg==', `Bearer ${bad}`]);
    kinds.push('auth.bad');
  }
  if (kinds.length === 0) kinds.push('valid');
  return { method: op.method, path, headers, body, auth, op: op.key, kind: kinds.join(' + ') };
}

/**
 * The requests for every operation of `doc`: `perOperation` each, interleaved so
 * that a long run spreads writes across the API. Each request depends only on the
 * seed, its operation and its index (adding a route changes no other's requests).
 */
export function* fuzzRequests(doc: Schema, opts: FuzzOptions): Generator<FuzzRequest> {
  const ops = operations(doc).filter((o) => !opts.skip?.(o));
  const ids = opts.ids ?? [];
  for (let i = 0; i < opts.perOperation; i++) {
    for (const op of ops) yield oneRequest(doc, op, opts.seed, i, ids);
    // Some requests to what is not documented: unknown paths and methods.
    if (i % 10 === 0) {
      const rnd = prng(hashSeed(opts.seed, 'undocumented', i));
      const op = pick(rnd, ops);
      yield { method: pick(rnd, ['PATCH', 'PUT', 'DELETE', 'POST']), path: op.path.replace(/\{[^}]+\}/g, 'fuzz') + pick(rnd, ['', '/x', '/%00', '/..%2F']), headers: { 'Content-Type': 'application/json' }, body: '{}', auth: 'admin', op: 'undocumented', kind: 'free.undocumented' };
    }
  }
}

// ---------------------------------------------------------------- ids of real objects

const ID_KEY = /(^|_)id$|Id$|^_id$/;
const NOT_AN_OBJECT_ID = new Set(['request_id']);

function collectIds(v: unknown, out: Set<string>, depth = 0): void {
  if (depth > 6 || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    v.slice(0, 20).forEach((x) => collectIds(x, out, depth + 1));
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string' && ID_KEY.test(k) && !NOT_AN_OBJECT_ID.has(k) && x.length > 0 && x.length <= 100) out.add(x);
    else collectIds(x, out, depth + 1);
  }
}

/**
 * Creates one object through every documented POST/PUT without path parameters
 * (with its valid example) and collects the ids of what answers, for plausible path
 * parameters. Ids that existed before (the bootstrap key, the organization) are left
 * out, so the fuzzer never revokes the key it runs with.
 */
export async function harvestIds(baseUrl: string, adminKey: string, doc: Schema, seed = 1): Promise<string[]> {
  const ops = operations(doc);
  const before = new Set<string>();
  const call = async (method: string, path: string, body?: Json) => {
    const res = await fetch(baseUrl + path, { method, headers: { 'X-API-Key': adminKey, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return null;
    }
  };
  for (const op of ops) if (op.method === 'GET' && op.pathParams.length === 0 && op.path.startsWith('/api')) collectIds(await call('GET', op.path), before);
  const found = new Set<string>();
  const rnd = prng(seed);
  for (let round = 0; round < 2; round++) {
    for (const op of ops) {
      if ((op.method !== 'POST' && op.method !== 'PUT') || op.pathParams.length > 0 || !op.body || op.contentType !== 'application/json') continue;
      collectIds(await call(op.method, op.path, example(op.body, doc, rnd, 1)), found);
    }
  }
  for (const op of ops) if (op.method === 'GET' && op.pathParams.length === 0 && op.path.startsWith('/api')) collectIds(await call('GET', op.path), found);
  return [...found].filter((x) => !before.has(x)).sort();
}

// ---------------------------------------------------------------- the runner

export interface FuzzAnswer {
  method: string;
  path: string;
  op: string;
  kind: string;
  status: number;
  body: string;
  /** The known bug (KNOWN_BUGS) that explains a failure, if one does. */
  known?: string;
}

export interface FuzzStats {
  requests: number;
  byStatus: Record<string, number>;
  /** Requests per documented operation (`undocumented` for unknown paths and methods). */
  byOperation: Record<string, number>;
  fiveXX: FuzzAnswer[];
  malformed4xx: (FuzzAnswer & { problem: string })[];
  /** Requests that got no HTTP answer (connection reset, timeout). */
  transportErrors: (Omit<FuzzAnswer, 'status' | 'body'> & { error: string })[];
  durationMs: number;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function dechunk(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * One request over a raw socket: header values and the request line go out byte
 * for byte (NUL, non-ASCII), which `fetch` and `http.request` refuse to send.
 */
export function rawRequest(baseUrl: string, req: { method: string; path: string; headers: Record<string, string>; body?: string }, timeoutMs = 40_000): Promise<RawAnswer> {
  const u = new URL(baseUrl);
  const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
  const lines = [`${req.method} ${req.path} HTTP/1.1`, `Host: ${u.host}`, 'Connection: close'];
  for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v}`);
  if (body) lines.push(`Content-Length: ${body.length}`);
  else if (req.method !== 'GET' && req.method !== 'DELETE') lines.push('Content-Length: 0');
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8');
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => {
      sock.write(body ? Buffer.concat([head, body]) : head);
    });
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (e) => {
      clearTimeout(timer);
      // The server may answer (413) and close before the whole body is written.
      if (chunks.length) finish();
      else reject(e);
    });
    const finish = () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        reject(new Error(all.length ? `no HTTP head in ${all.length} bytes` : 'connection closed without an answer'));
        return;
      }
      const headLines = all.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(headLines[0].split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const l of headLines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let rest: Buffer = all.subarray(end + 4);
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) rest = dechunk(rest);
      resolve({ status, headers, body: rest.toString('utf8') });
    };
    sock.on('end', finish);
  });
}

/**
 * Failures explained by a known, not yet fixed product bug. Empty: every bug the fuzzer found is fixed
 * (docs/fuzzing.md lists them), so any 5xx or malformed 4xx fails the run.
 */
export const KNOWN_BUGS: readonly { id: string; title: string; matches: (req: FuzzRequest, status: number, body: string) => boolean }[] = [];

/** The known bug an answer is explained by, if any. */
export function knownBug(req: FuzzRequest, status: number, body: string): string | undefined {
  return KNOWN_BUGS.find((b) => b.matches(req, status, body))?.id;
}

const NO_FIELD_NEEDED = new Set([401, 403, 404, 405, 409, 410, 413, 415, 422, 429]);
const ASCEND = /^\/api\/(smart-rules|risk-scoring|governance\/(policies|dashboard|workflows)|v1\/actions)(\/|$)/;

/** Why a 4xx answer is malformed, or null when it is a proper refusal. */
export function malformedReason(req: Pick<FuzzRequest, 'path'>, res: RawAnswer): string | null {
  const pathOnly = req.path.split('?')[0];
  if (pathOnly.startsWith('/approve/') && /text\/html/.test(res.headers['content-type'] ?? '')) return null;
  let json: any;
  try {
    json = JSON.parse(res.body);
  } catch {
    return `not JSON (${res.headers['content-type'] ?? 'no content type'}, ${res.body.length} bytes)`;
  }
  // Ascend's submit answers a denied action 403 with the action itself (the seed's code per rule action): not an error.
  if (pathOnly === '/api/v1/actions/submit' && res.status === 403 && json?.status === 'success' && json?.data?.decision === 'denied') return null;
  const err = json?.error;
  if (!err || typeof err !== 'object' || typeof err.code !== 'string' || !err.code) return 'no error.code';
  if (pathOnly === '/govern' && json.execute !== false) return '/govern error without execute:false';
  if (ASCEND.test(pathOnly) && json.status !== 'error') return 'Ascend path error without status:"error"';
  if (!NO_FIELD_NEEDED.has(res.status) && (typeof err.field !== 'string' || !err.field)) return `${res.status} without error.field`;
  return null;
}

/**
 * Sends the requests `concurrency` at a time and sorts the answers: any 5xx, and any
 * 4xx whose JSON error does not name what was wrong (400 must name a field).
 */
export async function runFuzz(baseUrl: string, adminKey: string, requests: Iterable<FuzzRequest>, opts: { concurrency?: number; timeoutMs?: number; onProgress?: (done: number) => void } = {}): Promise<FuzzStats> {
  const stats: FuzzStats = { requests: 0, byStatus: {}, byOperation: {}, fiveXX: [], malformed4xx: [], transportErrors: [], durationMs: 0 };
  const started = Date.now();
  const it = requests[Symbol.iterator]();
  const cut = (s: string) => (s.length > 600 ? `${s.slice(0, 600)}…` : s);
  const worker = async () => {
    for (;;) {
      const next = it.next();
      if (next.done) return;
      const req = next.value;
      const headers = { ...req.headers };
      const hasKey = Object.keys(headers).some((k) => /^(x-api-key|authorization)$/i.test(k));
      if (req.auth === 'admin' && !hasKey) headers['X-API-Key'] = adminKey;
      stats.requests++;
      stats.byOperation[req.op] = (stats.byOperation[req.op] ?? 0) + 1;
      try {
        const res = await rawRequest(baseUrl, { ...req, headers }, opts.timeoutMs);
        stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
        const known = res.status >= 400 ? knownBug(req, res.status, res.body) : undefined;
        const seen = { method: req.method, path: cut(req.path), op: req.op, kind: req.kind, status: res.status, body: cut(res.body), ...(known ? { known } : {}) };
        if (res.status >= 500 || !Number.isFinite(res.status)) stats.fiveXX.push(seen);
        else if (res.status >= 400) {
          const problem = malformedReason(req, res);
          if (problem) stats.malformed4xx.push({ ...seen, problem });
        }
      } catch (e) {
        stats.byStatus.error = (stats.byStatus.error ?? 0) + 1;
        stats.transportErrors.push({ method: req.method, path: cut(req.path), op: req.op, kind: req.kind, error: (e as Error).message });
      }
      if (opts.onProgress && stats.requests % 1000 === 0) opts.onProgress(stats.requests);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  stats.durationMs = Date.now() - started;
  return stats;
}

/** Groups problems by operation and status (with one example each), for reports. */
export function summarize(items: readonly (FuzzAnswer & { problem?: string })[], max = 40): string {
  const groups = new Map<string, { n: number; ex: FuzzAnswer & { problem?: string } }>();
  for (const x of items) {
    const k = `${x.status} ${x.op}${x.problem ? ` (${x.problem})` : ''}${x.known ? ` [known: ${x.known}]` : ''}`;
    const g = groups.get(k);
    if (g) g.n++;
    else groups.set(k, { n: 1, ex: x });
  }
  return [...groups.entries()]
    .sort((a, b) => b[1].n - a[1].n)
    .slice(0, max)
    .map(([k, g]) => `${g.n} × ${k}\n    e.g. ${g.ex.method} ${g.ex.path.slice(0, 200)} [${g.ex.kind}]\n    → ${g.ex.body.slice(0, 300)}`)
    .join('\n');
}

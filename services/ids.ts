import * as crypto from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

// Random bytes are drawn in blocks: one system call per 256 ids instead of one per id.
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomChars(n: number): Buffer {
  if (poolAt + n > pool.length) {
    pool = crypto.randomBytes(Math.max(4096, n));
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/** A random id with a readable prefix, e.g. `dec_7f3a2b1c9d0e4f5a`: 16 base32 characters, 80 random bits. */
export function newId(prefix: string, chars = 16): string {
  const buf = randomChars(chars);
  let out = '';
  for (const b of buf) out += ALPHABET[b & 31];
  return `${prefix}_${out}`;
}

// Node's one-shot digest (20.12+) makes no Hash object: half the time for a record-sized input.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** SHA-256 hex digest. */
export const sha256: (input: string) => string = oneShot ? (input) => oneShot('sha256', input, 'hex') : (input) => crypto.createHash('sha256').update(input).digest('hex');

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` dropped.
 * Hashes of the audit chain and of idempotent request bodies are taken over this form.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

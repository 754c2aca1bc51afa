/**
 * Dotted-path access into facts: `parameters.amount`, `items.0.id`.
 *
 * Only own properties are followed, so a path never reaches into a prototype
 * (`toString`, `__proto__`) whatever the facts hold. Array indices are plain
 * segments (`items.0`); an array's own `length` is readable (`items.length`).
 */

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_PATH_LENGTH = 200;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Why a path string is not usable, or null when it is: non-empty segments, at
 * most 200 characters, no `__proto__` / `constructor` / `prototype` segment.
 */
export function pathProblem(path: unknown): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'path is empty';
  if (path.length > MAX_PATH_LENGTH) return `path is longer than ${MAX_PATH_LENGTH} characters`;
  const segs = path.split('.');
  if (segs.some((s) => s.length === 0)) return `path "${path}" has an empty segment`;
  const reserved = segs.find((s) => FORBIDDEN.has(s));
  if (reserved) return `path "${path}" uses a reserved segment (${reserved})`;
  return null;
}

/** True when {@link pathProblem} finds nothing wrong. */
export function isValidPath(path: unknown): path is string {
  return pathProblem(path) === null;
}

/** The value at a dotted path, or undefined when any step is missing. Never throws on plain data. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  let start = 0;
  for (;;) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const dot = path.indexOf('.', start);
    const seg = dot === -1 ? path.slice(start) : path.slice(start, dot);
    if (!hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
    if (dot === -1) return cur;
    start = dot + 1;
  }
}

/** A path split once, for hot loops: the same answers as {@link getPath}. */
export function compilePath(path: string): (obj: unknown) => unknown {
  const segs = path.split('.');
  if (segs.length === 1) {
    const k = segs[0];
    return (o) => (o !== null && typeof o === 'object' && hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined);
  }
  return (o) => {
    let cur: unknown = o;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      if (cur === null || typeof cur !== 'object' || !hasOwn(cur, s)) return undefined;
      cur = (cur as Record<string, unknown>)[s];
    }
    return cur;
  };
}

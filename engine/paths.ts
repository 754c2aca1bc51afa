/** Dotted-path access into facts: `parameters.amount`, `items.0.id`. */

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a path string is not usable, or null when it is. */
export function pathProblem(path: string): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'path is empty';
  if (path.length > 200) return 'path is longer than 200 characters';
  const segs = path.split('.');
  if (segs.some((s) => s.length === 0)) return `path "${path}" has an empty segment`;
  if (segs.some((s) => FORBIDDEN.has(s))) return `path "${path}" uses a reserved segment`;
  return null;
}

/** The value at a dotted path, or undefined. Never throws. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  let start = 0;
  for (;;) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const dot = path.indexOf('.', start);
    const seg = dot === -1 ? path.slice(start) : path.slice(start, dot);
    if (!Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
    if (dot === -1) return cur;
    start = dot + 1;
  }
}

/** Pre-split form of a path for hot loops. */
export function compilePath(path: string): (obj: unknown) => unknown {
  const segs = path.split('.');
  if (segs.length === 1) {
    const k = segs[0];
    return (o) => (o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, k) ? (o as Record<string, unknown>)[k] : undefined);
  }
  return (o) => {
    let cur: unknown = o;
    for (const s of segs) {
      if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, s)) return undefined;
      cur = (cur as Record<string, unknown>)[s];
    }
    return cur;
  };
}

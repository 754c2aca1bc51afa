/** One difference between two JSON documents, at a dotted path. */
export interface JsonChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  from?: unknown;
  to?: unknown;
}

/** A structural diff of two JSON values: what a reviewer needs to see between two policy versions. */
export function jsonDiff(a: unknown, b: unknown, path = ''): JsonChange[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in a)) return [{ path: p, kind: 'added' as const, to: b[k] }];
      if (!(k in b)) return [{ path: p, kind: 'removed' as const, from: a[k] }];
      return jsonDiff(a[k], b[k], p);
    });
  }
  return [{ path: path || '$', kind: 'changed', from: a, to: b }];
}

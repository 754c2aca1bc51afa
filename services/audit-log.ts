import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { canonicalJson, newId, sha256 } from './ids';
import type { Metrics } from './metrics';

export const GENESIS_HASH = '0'.repeat(64);

/** What a change or decision says about itself in the audit trail. */
export interface AuditInput {
  actorType: 'api_key' | 'user' | 'agent' | 'system';
  actorId: string;
  entityType: string;
  entityId: string;
  action: string;
  data: Record<string, unknown>;
  /** Workflow steps set this so a retried activity appends once. */
  dedupeKey?: string;
}

/** A record once it has its place in the chain. */
export interface SealedRecord {
  orgId: string;
  seq: number;
  id: string;
  at: string;
  actorType: string;
  actorId: string;
  entityType: string;
  entityId: string;
  action: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** The hashed content of a record: everything but the hash itself and the dedupe key. */
export function recordHash(prevHash: string, r: Omit<SealedRecord, 'hash' | 'prevHash'>): string {
  return sha256(prevHash + recordBody(r));
}

/**
 * The canonical JSON of a record's hashed fields: `canonicalJson` of them, written out with the
 * keys in its (sorted) order, since they are always the same ten. A field that is not there
 * (never, for a sealed record) takes the generic path, which leaves it out.
 */
function recordBody(r: Omit<SealedRecord, 'hash' | 'prevHash'>): string {
  const { action, actorId, actorType, at, data, entityId, entityType, id, orgId, seq } = r;
  if (action === undefined || actorId === undefined || actorType === undefined || at === undefined || data === undefined || entityId === undefined || entityType === undefined || id === undefined || orgId === undefined || seq === undefined) {
    return canonicalJson({ orgId, seq, id, at, actorType, actorId, entityType, entityId, action, data });
  }
  const q = JSON.stringify;
  return `{"action":${q(action)},"actorId":${q(actorId)},"actorType":${q(actorType)},"at":${q(at)},"data":${canonicalJson(data)},"entityId":${q(entityId)},"entityType":${q(entityType)},"id":${q(id)},"orgId":${q(orgId)},"seq":${q(seq)}}`;
}

/**
 * Rows a writer wants inserted, collected across the whole group commit and
 * written as one INSERT per table, inside the batch's single write statement:
 * the hot path's decision rows cost no round trip of their own.
 *
 * A table's rows travel as ONE JSON parameter, expanded by `jsonb_populate_recordset`,
 * so the statement's text does not depend on how many rows a batch holds: the hot
 * path sends it as a named prepared statement and PostgreSQL parses and plans it
 * once per connection instead of once per batch (measured: about half of
 * PostgreSQL's CPU per row at 64 rows a batch). A JSON column takes the value itself
 * (an object), not its text; a Date goes in as its ISO string.
 */
export class DeferredInserts {
  /** Per table: its column list, and each row's JSON, serialized when added (what is hashed is what is stored, even if the object changes later). */
  private readonly tables = new Map<string, { cols: string; rows: string[] }>();

  add(table: string, row: Record<string, unknown>): void {
    const t = this.tables.get(table);
    if (t) t.rows.push(JSON.stringify(row));
    else this.tables.set(table, { cols: Object.keys(row).map((c) => `"${c}"`).join(','), rows: [JSON.stringify(row)] });
  }

  /** One `INSERT … SELECT … FROM jsonb_populate_recordset($n)` per table, its parameter appended to `params`. */
  statements(params: unknown[]): string[] {
    const out: string[] = [];
    for (const [table, { cols, rows }] of this.tables) {
      out.push(`INSERT INTO "${table}" (${cols}) SELECT ${cols} FROM jsonb_populate_recordset(NULL::"${table}", $${params.push(`[${rows.join(',')}]`)}::jsonb)`);
    }
    this.tables.clear();
    return out;
  }
}

type Writer<T> = (em: EntityManager, sealed: SealedRecord[], deferred: DeferredInserts) => Promise<T>;
/** Entries computed inside the transaction, when what is recorded depends on writes made there. */
type EntriesFn = (em: EntityManager) => Promise<AuditInput[]>;

/** Rows derived from the sealed records alone, with no query of their own: they can join a pipelined statement. */
type RowsFn<T> = (sealed: SealedRecord[], deferred: DeferredInserts) => T;

interface Pending {
  entries: AuditInput[] | EntriesFn;
  write?: Writer<unknown>;
  /** Set for appendRows: the item needs no transaction of its own. */
  rows?: RowsFn<unknown>;
  resolve: (v: { value: unknown; sealed: SealedRecord[] }) => void;
  reject: (e: unknown) => void;
}

const MAX_BATCH = 256;

interface Head {
  seq: number;
  hash: string;
}

/**
 * The organization's hash chain, appended in the same transaction as the change it records.
 *
 * Appends for one organization are queued and flushed as group commits. Two paths:
 *
 * - A writer that needs a transaction (`append`): one transaction takes the row lock
 *   on `audit_heads`, runs every queued writer, inserts their records with consecutive
 *   `seq`, and commits once. Other processes serialise on the same row lock, so `seq`
 *   stays gapless. If any writer in a batch fails, the batch rolls back and each item
 *   is retried alone, so one bad write never takes its neighbours with it.
 * - Rows that follow from the records alone (`appendRows`, the decision path): the
 *   records are chained from the head this process last wrote, and the batch goes as
 *   ONE statement that moves the head only if it is still where this process left it,
 *   committed on its own: one round trip and one fsync per batch, and the batch grows
 *   while the one before is out. A statement that finds the head moved (another process
 *   wrote) writes nothing, and its items go through the locking path. (Several such
 *   statements in flight at once were measured slower: sent on separate connections,
 *   they reach PostgreSQL out of order and the later ones fall back.)
 */
export class AuditLog {
  private readonly queues = new Map<string, Pending[]>();
  private readonly flushing = new Set<string>();
  /** The head this process last committed, per organization; absent when unknown. */
  private readonly heads = new Map<string, Head>();

  constructor(
    private readonly ds: DataSource,
    private readonly metrics?: Metrics,
  ) {}

  /**
   * Appends `entries` and runs `write` in the same transaction; resolves after commit.
   * `entries` may be a function run first inside the transaction, so the record says
   * what was really written (e.g. a verdict changed by a counter spent concurrently).
   */
  append<T = void>(orgId: string, entries: AuditInput[] | EntriesFn, write?: Writer<T>): Promise<{ value: T; sealed: SealedRecord[] }> {
    return this.enqueue(orgId, { entries, write: write as Writer<unknown> | undefined });
  }

  /**
   * Appends `entries` and inserts the rows `rows` adds to `deferred` (computed from the
   * sealed records, with no query of their own) in the same commit; resolves after it.
   * The hot path: these batches are pipelined (see the class comment).
   */
  appendRows<T>(orgId: string, entries: AuditInput[], rows: RowsFn<T>): Promise<{ value: T; sealed: SealedRecord[] }> {
    return this.enqueue(orgId, { entries, rows: rows as RowsFn<unknown> });
  }

  private enqueue<T>(orgId: string, item: Omit<Pending, 'resolve' | 'reject'>): Promise<{ value: T; sealed: SealedRecord[] }> {
    return new Promise((resolve, reject) => {
      const q = this.queues.get(orgId) ?? [];
      q.push({ ...item, resolve: resolve as Pending['resolve'], reject });
      this.queues.set(orgId, q);
      if (!this.flushing.has(orgId)) {
        this.flushing.add(orgId);
        // Let the current tick's other appends join this batch.
        setImmediate(() => void this.drain(orgId));
      }
    });
  }

  private async drain(orgId: string): Promise<void> {
    /** Answers the last committed rows batch; run once the next statement is on its way. */
    let settle: (() => void) | null = null;
    try {
      for (;;) {
        const q = this.queues.get(orgId) ?? [];
        if (q.length === 0) break;
        if (q[0].rows) {
          let n = 0;
          while (n < q.length && n < MAX_BATCH && q[n].rows) n += 1;
          // Unknown after a failure or a locked batch: read it once. If it cannot be read (the
          // database is away), these items fail now, closed, rather than wait in a retry loop.
          let head: Head;
          try {
            head = this.heads.get(orgId) ?? (await this.readHead(orgId));
          } catch (e) {
            q.splice(0, n).forEach((p) => p.reject(e));
            continue;
          }
          const sent = this.sendRows(orgId, head, q.splice(0, n));
          // The next statement is on the wire before the batch before it is answered,
          // so PostgreSQL works while this process writes those answers.
          settle?.();
          settle = await sent;
          continue;
        }
        settle?.();
        settle = null;
        let n = 0;
        while (n < q.length && n < MAX_BATCH && !q[n].rows) n += 1;
        const batch = q.splice(0, n);
        this.heads.delete(orgId);
        try {
          const results = await this.commitBatch(orgId, batch);
          batch.forEach((p, i) => p.resolve(results[i]));
        } catch (batchError) {
          if (batch.length === 1) {
            batch[0].reject(batchError);
            continue;
          }
          for (const p of batch) {
            try {
              const [r] = await this.commitBatch(orgId, [p]);
              p.resolve(r);
            } catch (e) {
              p.reject(e);
            }
          }
        }
      }
    } finally {
      settle?.();
      this.flushing.delete(orgId);
      if ((this.queues.get(orgId)?.length ?? 0) > 0) {
        this.flushing.add(orgId);
        setImmediate(() => void this.drain(orgId));
      }
    }
  }

  private async readHead(orgId: string): Promise<Head> {
    const [head] = (await this.ds.query('SELECT seq, hash FROM audit_heads WHERE "orgId" = $1', [orgId])) as { seq: string; hash: string }[];
    return head ? { seq: Number(head.seq), hash: head.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * Chains the batch from `head` and sends it as one statement, committed on its own.
   * Returns once it has answered: on success, a function that resolves the items (the
   * caller runs it when it suits); otherwise null, and the items went back to the front
   * of the queue as ordinary transactional items (or were rejected).
   */
  private sendRows(orgId: string, head: Head, batch: Pending[]): Promise<(() => void) | null> {
    const stop = this.metrics?.auditCommit.startTimer();
    const now = new Date().toISOString();
    let seq = head.seq;
    let prev = head.hash;
    const records = new DeferredInserts();
    let recordCount = 0;
    const deferred = new DeferredInserts();
    const out: { value: unknown; sealed: SealedRecord[] }[] = [];
    try {
      for (const p of batch) {
        const sealed: SealedRecord[] = [];
        for (const e of p.entries as AuditInput[]) {
          seq += 1;
          const rec = seal(orgId, seq, now, e, prev);
          prev = rec.hash;
          sealed.push(rec);
          records.add('audit_records', recordRow(rec, null));
          recordCount += 1;
        }
        out.push({ value: (p.rows as RowsFn<unknown>)(sealed, deferred), sealed });
      }
    } catch (e) {
      batch.forEach((p) => p.reject(e));
      return Promise.resolve(null);
    }
    const params: unknown[] = [];
    const writes = [...deferred.statements(params), ...records.statements(params)];
    // The head moves only from where this process left it. If it moved (another process
    // wrote), the division by zero aborts the whole
    // statement: nothing of the batch is written, and its items take the locking path.
    const guard = `h AS (UPDATE audit_heads SET seq = $${params.push(seq)}, hash = $${params.push(prev)} WHERE "orgId" = $${params.push(orgId)} AND seq = $${params.push(head.seq)} AND hash = $${params.push(head.hash)} RETURNING 1)`;
    const sql = `WITH ${guard}${writes.map((w, i) => `, w${i} AS (${w})`).join('')} SELECT 1 / (SELECT count(*)::int FROM h) AS ok`;
    // The next batch chains from here.
    this.heads.set(orgId, { seq, hash: prev });
    const headless = head.seq === 0;
    // The organization's first record: create its head (another process may race us to it).
    const created = headless ? this.pool().query('INSERT INTO audit_heads ("orgId", seq, hash) VALUES ($1, 0, $2) ON CONFLICT DO NOTHING', [orgId, GENESIS_HASH]) : Promise.resolve();
    return created
      // Named: the text repeats for every batch of the same shape, so each connection parses and plans it once.
      .then(() => this.pool().query({ name: statementName(sql), text: sql, values: params }))
      .then(
        () => {
          stop?.();
          this.metrics?.auditBatch.observe(recordCount);
          return () => batch.forEach((p, i) => p.resolve(out[i]));
        },
        () => {
          // Whatever failed, the head is no longer known; the items are retried under the lock, alone if need be.
          this.metrics?.auditPipelineFallbacks.inc();
          this.heads.delete(orgId);
          const q = this.queues.get(orgId) ?? [];
          q.unshift(...batch.map((p) => ({ ...p, rows: undefined, write: rowsWriter(p.rows as RowsFn<unknown>) })));
          this.queues.set(orgId, q);
          return null;
        },
      );
  }

  /** The driver's own pool: the pipelined statement needs no transaction object around it. */
  private pool(): PgPool {
    return (this.ds.driver as unknown as { master: PgPool }).master;
  }

  private async commitBatch(orgId: string, batch: Pending[]): Promise<{ value: unknown; sealed: SealedRecord[] }[]> {
    const stop = this.metrics?.auditCommit.startTimer();
    const out = await this.writeBatch(orgId, batch);
    stop?.();
    this.metrics?.auditBatch.observe(out.reduce((n, o) => n + o.sealed.length, 0));
    return out;
  }

  private async writeBatch(orgId: string, batch: Pending[]): Promise<{ value: unknown; sealed: SealedRecord[] }[]> {
    return this.ds.transaction(async (em) => {
      let [head] = (await em.query('SELECT seq, hash FROM audit_heads WHERE "orgId" = $1 FOR UPDATE', [orgId])) as { seq: string; hash: string }[];
      if (!head) {
        // The organization's first record: create its head (another process may race us to it).
        await em.query('INSERT INTO audit_heads ("orgId", seq, hash) VALUES ($1, 0, $2) ON CONFLICT DO NOTHING', [orgId, GENESIS_HASH]);
        [head] = (await em.query('SELECT seq, hash FROM audit_heads WHERE "orgId" = $1 FOR UPDATE', [orgId])) as { seq: string; hash: string }[];
      }
      let seq = Number(head.seq);
      let prev = head.hash;

      const entriesOf: AuditInput[][] = [];
      for (const p of batch) entriesOf.push(typeof p.entries === 'function' ? await p.entries(em) : p.entries);
      const dedupeKeys = entriesOf.flat().map((e) => e.dedupeKey).filter((k): k is string => !!k);
      const seen = new Set<string>();
      if (dedupeKeys.length > 0) {
        const rows = (await em.query('SELECT "dedupeKey" FROM audit_records WHERE "orgId" = $1 AND "dedupeKey" = ANY($2)', [orgId, dedupeKeys])) as { dedupeKey: string }[];
        rows.forEach((r) => seen.add(r.dedupeKey));
      }

      const out: { value: unknown; sealed: SealedRecord[] }[] = [];
      const records = new DeferredInserts();
      let recordCount = 0;
      const deferred = new DeferredInserts();
      const now = new Date().toISOString();
      for (const [i, p] of batch.entries()) {
        const sealed: SealedRecord[] = [];
        for (const e of entriesOf[i]) {
          if (e.dedupeKey) {
            if (seen.has(e.dedupeKey)) continue;
            seen.add(e.dedupeKey);
          }
          seq += 1;
          const rec = seal(orgId, seq, now, e, prev);
          prev = rec.hash;
          sealed.push(rec);
          records.add('audit_records', recordRow(rec, e.dedupeKey ?? null));
          recordCount += 1;
        }
        const value = p.write ? await p.write(em, sealed, deferred) : undefined;
        out.push({ value, sealed });
      }
      // Deferred rows, the records and the new head go in one statement: one round trip per batch.
      const params: unknown[] = [];
      const writes = [...deferred.statements(params), ...records.statements(params)];
      if (writes.length > 0) {
        const head = recordCount > 0 ? `UPDATE audit_heads SET seq = $${params.push(seq)}, hash = $${params.push(prev)} WHERE "orgId" = $${params.push(orgId)}` : 'SELECT 1';
        await em.query(`WITH ${writes.map((w, i) => `w${i} AS (${w})`).join(', ')} ${head}`, params);
      }
      return out;
    });
  }

  /**
   * The organization's records matching a filter (`since` and `until` inclusive), sorted by `seq`,
   * `action` or `entityType` (then `seq`), by offset, with the total: the seeds' audit listings.
   */
  async search(
    orgId: string,
    f: { entityType?: string; action?: string; actorId?: string; since?: Date; until?: Date },
    sort: { by: 'seq' | 'action' | 'entityType'; dir: 'asc' | 'desc' },
    page: { limit: number; offset: number },
  ): Promise<{ total: number; rows: SealedRecord[] }> {
    const where: string[] = ['"orgId" = $1'];
    const args: unknown[] = [orgId];
    const add = (sql: string, v: unknown) => {
      args.push(v);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (f.entityType) add('"entityType" = ?', f.entityType);
    if (f.action) add('action = ?', f.action);
    if (f.actorId) add('"actorId" = ?', f.actorId);
    if (f.since) add('at >= ?', f.since);
    if (f.until) add('at <= ?', f.until);
    const col = { seq: 'seq', action: 'action', entityType: '"entityType"' }[sort.by];
    const dir = sort.dir === 'asc' ? 'ASC' : 'DESC';
    const [{ n }] = (await this.ds.query(`SELECT count(*)::int AS n FROM audit_records WHERE ${where.join(' AND ')}`, args)) as { n: number }[];
    args.push(page.limit, page.offset);
    const rows = (await this.ds.query(
      `SELECT seq, id, at, "actorType", "actorId", "entityType", "entityId", action, data, "prevHash", hash FROM audit_records WHERE ${where.join(' AND ')}
        ORDER BY ${col} ${dir}, seq ${dir} LIMIT $${args.length - 1} OFFSET $${args.length}`,
      args,
    )) as { seq: string; id: string; at: Date; actorType: string; actorId: string; entityType: string; entityId: string; action: string; data: Record<string, unknown>; prevHash: string; hash: string }[];
    return { total: n, rows: rows.map((r) => ({ orgId, seq: Number(r.seq), id: r.id, at: r.at.toISOString(), actorType: r.actorType, actorId: r.actorId, entityType: r.entityType, entityId: r.entityId, action: r.action, data: r.data, prevHash: r.prevHash, hash: r.hash })) };
  }

  /** The organization's records in `seq` order, page by page, in the exact form that was hashed. */
  async *records(orgId: string, fromSeq = 1, toSeq?: number, pageSize = 5000): AsyncGenerator<SealedRecord[]> {
    let from = fromSeq;
    for (;;) {
      const rows = (await this.ds.query(
        `SELECT seq, id, at, "actorType", "actorId", "entityType", "entityId", action, data, "prevHash", hash FROM audit_records
          WHERE "orgId" = $1 AND seq >= $2 ${toSeq !== undefined ? 'AND seq <= $4' : ''} ORDER BY seq LIMIT $3`,
        toSeq !== undefined ? [orgId, from, pageSize, toSeq] : [orgId, from, pageSize],
      )) as { seq: string; id: string; at: Date; actorType: string; actorId: string; entityType: string; entityId: string; action: string; data: Record<string, unknown>; prevHash: string; hash: string }[];
      if (rows.length === 0) return;
      yield rows.map((r) => ({ orgId, seq: Number(r.seq), id: r.id, at: r.at.toISOString(), actorType: r.actorType, actorId: r.actorId, entityType: r.entityType, entityId: r.entityId, action: r.action, data: r.data, prevHash: r.prevHash, hash: r.hash }));
      if (rows.length < pageSize) return;
      from = Number(rows[rows.length - 1].seq) + 1;
    }
  }

  /**
   * Recomputes an organization's chain from the first record and names the first
   * `seq` whose hash, link or position does not hold.
   */
  async verify(orgId: string): Promise<{ ok: boolean; checked: number; headSeq: number; firstBrokenSeq: number | null; problem: string | null }> {
    const [head] = (await this.ds.query('SELECT seq, hash FROM audit_heads WHERE "orgId" = $1', [orgId])) as { seq: string; hash: string }[];
    const headSeq = Number(head?.seq ?? 0);
    const walk = new ChainWalk({ seq: 1, prevHash: GENESIS_HASH });
    // Up to the head read above: records committed while the walk runs are later appends, not a
    // broken tail (a head and its records commit together). Without a head, every record.
    for await (const page of this.records(orgId, 1, head ? headSeq : undefined)) {
      for (const r of page) {
        const broken = walk.next(r);
        if (broken) return { ok: false, checked: walk.checked, headSeq, firstBrokenSeq: broken.seq, problem: broken.problem };
      }
    }
    if (head && (headSeq !== walk.checked || head.hash !== walk.lastHash)) {
      return { ok: false, checked: walk.checked, headSeq, firstBrokenSeq: walk.checked + 1, problem: 'records after the last intact one were removed' };
    }
    if (head) {
      // Records past the head as it is now (head and count read in one snapshot) were never appended through it.
      const [now] = (await this.ds.query('SELECT h.seq, (SELECT count(*)::int FROM audit_records r WHERE r."orgId" = h."orgId" AND r.seq > h.seq) AS beyond FROM audit_heads h WHERE h."orgId" = $1', [orgId])) as { seq: string; beyond: number }[];
      if (now && now.beyond > 0) return { ok: false, checked: walk.checked, headSeq, firstBrokenSeq: Number(now.seq) + 1, problem: 'records past the chain head' };
    }
    return { ok: true, checked: walk.checked, headSeq, firstBrokenSeq: null, problem: null };
  }
}

/**
 * Checks a chain one record at a time: `seq` follows on, `prevHash` links to the
 * record before, and `hash` is recomputed from the content. The one check behind
 * `/audit/verify` and the offline check of an export. A walk that starts at seq 1
 * starts from the genesis hash; one that starts later (a partial export) trusts its
 * first record's `prevHash` and checks from there.
 */
export class ChainWalk {
  checked = 0;
  firstSeq: number | null = null;
  private expected: number | null = null;
  private prev = GENESIS_HASH;

  /** `from`: where the chain must start (the whole chain: seq 1 after the genesis hash); omitted, it starts wherever its first record does. */
  constructor(from?: { seq: number; prevHash: string }) {
    if (from) {
      this.expected = from.seq;
      this.prev = from.prevHash;
    }
  }

  get lastHash(): string {
    return this.prev;
  }

  get lastSeq(): number | null {
    return this.expected === null || this.checked === 0 ? null : this.expected - 1;
  }

  /** Null when the record holds; else the first broken seq and why. */
  next(r: SealedRecord): { seq: number; problem: string } | null {
    if (this.expected === null) {
      this.expected = r.seq;
      this.prev = r.seq === 1 ? GENESIS_HASH : r.prevHash;
    }
    this.firstSeq ??= r.seq;
    if (r.seq !== this.expected) return { seq: this.expected, problem: `seq ${this.expected} is missing` };
    if (r.prevHash !== this.prev) return { seq: r.seq, problem: 'prevHash does not match the previous record' };
    const { hash, prevHash: _prev, ...body } = r;
    if (recordHash(this.prev, body) !== hash) return { seq: r.seq, problem: 'hash does not match the record content' };
    this.prev = hash;
    this.expected += 1;
    this.checked += 1;
    return null;
  }
}

/** A record in its place in the chain: after `prev`, at `seq`. */
function seal(orgId: string, seq: number, at: string, e: AuditInput, prev: string): SealedRecord {
  const base = { orgId, seq, id: newId('aud'), at, actorType: e.actorType, actorId: e.actorId, entityType: e.entityType, entityId: e.entityId, action: e.action, data: e.data };
  return { ...base, prevHash: prev, hash: recordHash(prev, base) };
}

/** One `audit_records` row, as DeferredInserts takes it. */
function recordRow(rec: SealedRecord, dedupeKey: string | null): Record<string, unknown> {
  return { orgId: rec.orgId, seq: rec.seq, id: rec.id, at: rec.at, actorType: rec.actorType, actorId: rec.actorId, entityType: rec.entityType, entityId: rec.entityId, action: rec.action, data: rec.data, dedupeKey, prevHash: rec.prevHash, hash: rec.hash };
}

/** A rows-only item as an ordinary writer, for the locking path. */
function rowsWriter(rows: RowsFn<unknown>): Writer<unknown> {
  return (_em, sealed, deferred) => Promise.resolve(rows(sealed, deferred));
}

interface PgPool {
  query(q: { name: string; text: string; values: unknown[] }): Promise<unknown>;
  query(sql: string, params: unknown[]): Promise<unknown>;
}

/** Names by statement text: a handful of shapes, named once each rather than hashed per batch. */
const statementNames = new Map<string, string>();

/** A prepared statement's name, from its text: the same text, the same name on every connection. */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `arbiter_gc_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    // Bounded: a table's column set is fixed per writer, so texts repeat; guard against the unforeseen.
    if (statementNames.size > 1000) statementNames.clear();
    statementNames.set(sql, name);
  }
  return name;
}

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { GENESIS_HASH, recordHash } from '../services/audit-log';
import type { SealedRecord } from '../services/audit-log';

export interface ExportVerification {
  ok: boolean;
  checked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  firstBrokenSeq: number | null;
  problem: string | null;
}

/** An export line is a sealed record, exactly as it was hashed. */
type ExportedRecord = SealedRecord;

/**
 * Verifies an audit export (`GET /api/v1/audit/export`, NDJSON) without the
 * server: every record's hash is recomputed from its content and the previous
 * hash, and the seqs must follow one another. An export that starts at seq 1
 * must start from the genesis hash; one that starts later is checked from its
 * first record's `prevHash` on.
 */
export async function verifyAuditExport(lines: AsyncIterable<string> | Iterable<string>): Promise<ExportVerification> {
  let prev: string | null = null;
  let expected: number | null = null;
  let checked = 0;
  let firstSeq: number | null = null;
  const result = (firstBrokenSeq: number | null, problem: string | null): ExportVerification => ({ ok: problem === null, checked, firstSeq, lastSeq: expected === null ? null : expected - 1, firstBrokenSeq, problem });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let r: ExportedRecord;
    try {
      r = JSON.parse(line) as ExportedRecord;
    } catch {
      return result(expected, `line ${checked + 1} is not JSON`);
    }
    if (expected === null) {
      firstSeq = r.seq;
      expected = r.seq;
      prev = r.seq === 1 ? GENESIS_HASH : r.prevHash;
    }
    if (r.seq !== expected) return result(expected, `seq ${expected} is missing`);
    if (r.prevHash !== prev) return result(r.seq, 'prevHash does not match the previous record');
    const { hash, prevHash: _p, ...body } = r;
    if (recordHash(prev ?? GENESIS_HASH, body) !== hash) return result(r.seq, 'hash does not match the record content');
    prev = hash;
    expected += 1;
    checked += 1;
  }
  return result(null, null);
}

export function readLines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file), crlfDelay: Infinity });
}

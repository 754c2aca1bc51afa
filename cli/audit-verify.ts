import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ChainWalk } from '../services/audit-log';
import type { SealedRecord } from '../services/audit-log';

export interface ExportVerification {
  ok: boolean;
  checked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  firstBrokenSeq: number | null;
  problem: string | null;
}

/**
 * Verifies an audit export (`GET /api/v1/audit/export`, NDJSON) without the
 * server, with the same {@link ChainWalk} the server's `/audit/verify` uses.
 */
export async function verifyAuditExport(lines: AsyncIterable<string> | Iterable<string>): Promise<ExportVerification> {
  const walk = new ChainWalk();
  const result = (firstBrokenSeq: number | null, problem: string | null): ExportVerification => ({ ok: problem === null, checked: walk.checked, firstSeq: walk.firstSeq, lastSeq: walk.lastSeq, firstBrokenSeq, problem });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let r: SealedRecord;
    try {
      r = JSON.parse(line) as SealedRecord;
    } catch {
      return result(walk.lastSeq === null ? null : walk.lastSeq + 1, `line ${walk.checked + 1} is not JSON`);
    }
    const broken = walk.next(r);
    if (broken) return result(broken.seq, broken.problem);
  }
  return result(null, null);
}

export function readLines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file), crlfDelay: Infinity });
}

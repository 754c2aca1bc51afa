import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Golden answers of the evaluator before its optimisation (issue 12), kept as hashes:
 * `test/engine/golden/evaluator.json` holds, per group of cases, the SHA-256 (first 12 hex
 * digits) of the JSON the previous evaluator gave for each case in order, key order included. It was recorded
 * once from that evaluator (GOLDEN_RECORD=1); the test compares today's answers with it.
 */
const FILE = join(__dirname, 'golden', 'evaluator.json');
const recording = process.env.GOLDEN_RECORD === '1';
const stored: Record<string, string[]> = !recording && existsSync(FILE) ? (JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, string[]>) : {};
const recorded: Record<string, string[]> = {};

export const digest = (json: string): string => createHash('sha256').update(json).digest('hex').slice(0, 12);

/** The golden hash of case `i` of `group` (undefined while recording, or for a case the file does not hold). */
export function golden(group: string, i: number): string | undefined {
  return stored[group]?.[i];
}

export function record(group: string, i: number, json: string): void {
  if (recording) (recorded[group] ??= [])[i] = digest(json);
}

export const isRecording = recording;

if (recording) {
  process.on('exit', () => writeFileSync(FILE, `{\n${Object.entries(recorded).map(([g, hs]) => `${JSON.stringify(g)}: ${JSON.stringify(hs)}`).join(',\n')}\n}\n`));
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordHash } from '../../services/audit-log';
import { canonicalJson, sha256 } from '../../services/ids';
import { prng } from '../helpers/prng';

// recordHash writes the record's canonical JSON out field by field (the hot path seals every
// decision's record); it must hash exactly what canonicalJson of those fields gives, which is
// what every chain already stored was hashed over.
describe('the audit record hash', () => {
  it('equals SHA-256 of the previous hash and canonicalJson of the ten hashed fields, on 5,000 seeded records', () => {
    const rand = prng(20261202);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    const text = ['', 'é', '"quoted"', 'back\\slash', 'line\nbreak', 'ü😀', 'a\u2028b', '{"x":1}', 'plain'];
    for (let i = 0; i < 5000; i++) {
      const r = {
        orgId: `org_${pick(text)}`,
        seq: i % 7 === 0 ? i + 0.5 : i * 7919,
        id: `aud_${Math.floor(rand() * 1e9).toString(36)}`,
        at: new Date(1.7e12 + Math.floor(rand() * 1e10)).toISOString(),
        actorType: pick(['api_key', 'user', 'system', 'agent']),
        actorId: pick(text),
        entityType: pick(['decision', 'policy', 'gate_submission']),
        entityId: pick(text),
        action: `decision.${pick(text)}`,
        data: { z: pick(text), a: [i, { y: null, x: pick(text), skipped: undefined }], when: new Date(5e11), n: rand() } as Record<string, unknown>,
      };
      const prev = sha256(String(i));
      const generic = sha256(prev + canonicalJson({ orgId: r.orgId, seq: r.seq, id: r.id, at: r.at, actorType: r.actorType, actorId: r.actorId, entityType: r.entityType, entityId: r.entityId, action: r.action, data: r.data }));
      assert.equal(recordHash(prev, r), generic, `record ${i}`);
    }
  });
});

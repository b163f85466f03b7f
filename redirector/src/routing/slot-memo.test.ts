import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotMemo, sampleHash } from './slot-memo.js';

/** The twin: a Map holding every key ever set. The memo may forget any key, but what it returns must be the Map's. */
function agree(memo: SlotMemo<number>, ops: readonly { key: string; set: boolean }[]): void {
  const twin = new Map<string, number>();
  ops.forEach(({ key, set }, i) => {
    if (set) {
      memo.set(key, i);
      twin.set(key, i);
      // the key just set is always there
      expect(memo.get(key)).toBe(i);
    } else {
      const got = memo.get(key);
      if (got !== undefined) expect(got).toBe(twin.get(key));
    }
  });
}

const key = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 33, maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('', 'a', 'b', '/v2/pause/blobs/sha256:' + 'a'.repeat(64)),
);
const ops = fc.array(fc.record({ key, set: fc.boolean() }), { maxLength: 300 });

describe('SlotMemo', () => {
  it('answers only for the exact key a value was stored under, against a Map twin (few slots: many collisions)', () => {
    fc.assert(
      fc.property(ops, fc.constantFrom(1, 2, 16, 1024), (o, slots) => agree(new SlotMemo<number>(slots), o)),
      { numRuns: 500 },
    );
  });

  it('answers only for the exact key when every key hashes alike', () => {
    fc.assert(
      fc.property(ops, (o) => agree(new SlotMemo<number>(64, () => 7), o)),
      { numRuns: 300 },
    );
  });

  it('keeps what fits: distinct keys in distinct slots are all remembered; clear forgets them all', () => {
    const memo = new SlotMemo<string>(1 << 16);
    const keys = Array.from({ length: 200 }, (_, i) => `/v2/pause/blobs/sha256:${i.toString(16).padStart(64, '0')}`);
    for (const k of keys) memo.set(k, k.toUpperCase());
    // with 65,536 slots, 200 keys collide rarely: nearly all are still there
    const kept = keys.filter((k) => memo.get(k) === k.toUpperCase()).length;
    expect(kept).toBeGreaterThan(190);
    memo.clear();
    expect(keys.filter((k) => memo.get(k) !== undefined)).toEqual([]);
  });

  it('spreads the keys it meets: client addresses before one load balancer, real digests, digests alike but at the end', () => {
    const xffs = Array.from({ length: 256 }, (_, i) => `10.0.${i}.1, 130.211.0.1`);
    const digests = Array.from(
      { length: 256 },
      (_, i) => `/v2/pause/blobs/sha256:${createHash('sha256').update(String(i)).digest('hex')}`,
    );
    const tails = Array.from(
      { length: 256 },
      (_, i) => `/v2/pause/blobs/sha256:${'a'.repeat(62)}${i.toString(16).padStart(2, '0')}`,
    );
    // 256 keys over 1,024 slots: a fair hash leaves ~227 slots in use
    for (const set of [xffs, digests, tails])
      expect(new Set(set.map((k) => sampleHash(k) & 1023)).size).toBeGreaterThan(200);
  });

  it('rejects a table size that is not a power of two', () => {
    for (const n of [0, 3, 1000, -4, 1.5]) expect(() => new SlotMemo(n)).toThrow(/power of two/);
  });
});

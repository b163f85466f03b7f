import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CacheKeys, ExpiringSet, tailHash } from './expiring-set.js';
import { ManualClock } from './manual-clock.js';

/**
 * The brute-force twin: every (base, url) pair with its expiry and last use, in a plain array; eviction scans for the
 * least recently used. What ExpiringSet answers must be what this answers whenever no two live URLs share a key; when
 * they do, ExpiringSet may forget one of them (a miss, never a wrong "yes").
 */
class TwinSet {
  private entries: { base: string; url: string; expires: number; used: number }[] = [];
  private tick = 0;
  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}
  has(base: string, url: string, now: number): boolean {
    const i = this.entries.findIndex((e) => e.base === base && e.url === url);
    if (i < 0) return false;
    const e = this.entries[i]!;
    // lru-cache's rule: stale once more than the TTL has passed
    if (now <= e.expires) {
      e.used = ++this.tick;
      return true;
    }
    this.entries.splice(i, 1);
    return false;
  }
  add(base: string, url: string, now: number): void {
    this.delete(base, url);
    if (this.entries.length >= this.max) {
      let lru = 0;
      for (let i = 1; i < this.entries.length; i++) if (this.entries[i]!.used < this.entries[lru]!.used) lru = i;
      this.entries.splice(lru, 1);
    }
    this.entries.push({ base, url, expires: now + this.ttlMs, used: ++this.tick });
  }
  delete(base: string, url: string): void {
    this.entries = this.entries.filter((e) => !(e.base === base && e.url === url));
  }
  get size(): number {
    return this.entries.length;
  }
}

const BASES = ['http://127.0.0.1:9000/prod-registry-k8s-io-us-east-1', 'http://127.0.0.1:9000/prod-registry-k8s-io-eu-west-3', 'https://b.example'];
const url = (base: string, digest: string): string => `${base}/containers/images/sha256:${digest}`;
const hex = fc.stringMatching(/^[0-9a-f]{64}$/);

type Op = { op: 'has' | 'add' | 'delete'; base: number; digest: number } | { op: 'advance'; ms: number };
const ops = (digests: number): fc.Arbitrary<Op[]> =>
  fc.array(
    fc.oneof(
      fc.record({ op: fc.constantFrom('has', 'add', 'delete') as fc.Arbitrary<'has' | 'add' | 'delete'>, base: fc.nat(BASES.length - 1), digest: fc.nat(digests - 1) }),
      fc.record({ op: fc.constant('advance' as const), ms: fc.nat(40) }),
    ),
    { maxLength: 300 },
  );

function run(ops: Op[], digests: string[], keys: CacheKeys, opts: { ttlMs: number; max: number }, exact: boolean): void {
  const clock = new ManualClock();
  const set = new ExpiringSet(opts, clock);
  const twin = new TwinSet(opts.ttlMs, opts.max);
  for (const o of ops) {
    if (o.op === 'advance') {
      clock.advance(o.ms);
      continue;
    }
    const base = BASES[o.base]!;
    const u = url(base, digests[o.digest]!);
    const key = keys.key(base, u);
    if (o.op === 'add') {
      set.add(key, u);
      twin.add(base, u, clock.now());
    } else if (o.op === 'delete') {
      set.delete(key, u);
      twin.delete(base, u);
    } else {
      const got = set.has(key, u);
      const want = twin.has(base, u, clock.now());
      if (exact) expect(got).toBe(want);
      // with colliding keys the set may have forgotten the pair, but never claims one the twin does not hold
      else if (got) expect(want).toBe(true);
    }
    if (exact) expect(set.size).toBe(twin.size);
    expect(set.size).toBeLessThanOrEqual(opts.max);
  }
}

describe('ExpiringSet against its brute-force twin', () => {
  it('answers exactly as the twin with the real key (no collisions among these URLs)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(hex, { minLength: 12, maxLength: 12 }), ops(12), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 20 }), (digests, list, ttlMs, max) => {
        run(list, digests, new CacheKeys(), { ttlMs, max }, true);
      }),
      { numRuns: 300 },
    );
  });

  it('never says yes for a URL it was not given, when every URL of a base shares one key', () => {
    fc.assert(
      fc.property(fc.uniqueArray(hex, { minLength: 8, maxLength: 8 }), ops(8), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 20 }), (digests, list, ttlMs, max) => {
        run(list, digests, new CacheKeys((id) => id * 7), { ttlMs, max }, false);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps one base apart from another for the same digest', () => {
    const clock = new ManualClock();
    const set = new ExpiringSet({ ttlMs: 1000, max: 10 }, clock);
    const keys = new CacheKeys();
    const d = 'ab'.repeat(32);
    const [a, b] = [url(BASES[0]!, d), url(BASES[1]!, d)];
    set.add(keys.key(BASES[0]!, a), a);
    expect(set.has(keys.key(BASES[0]!, a), a)).toBe(true);
    expect(set.has(keys.key(BASES[1]!, b), b)).toBe(false);
    expect(keys.key(BASES[0]!, a)).not.toBe(keys.key(BASES[1]!, b));
  });

  it('a disabled cache (TTL or size 0) holds nothing', () => {
    for (const opts of [
      { ttlMs: 0, max: 10 },
      { ttlMs: 10, max: 0 },
    ]) {
      const set = new ExpiringSet(opts, new ManualClock());
      set.add(1, 'u');
      expect(set.has(1, 'u')).toBe(false);
      expect(set.size).toBe(0);
      expect(set.max).toBe(0);
    }
  });
});

describe('tailHash', () => {
  it('spreads distinct digests: no collision among 100,000 random sha256 blob URLs of one bucket', () => {
    const seen = new Set<number>();
    let state = 12345;
    const next = (): string => {
      let s = '';
      for (let i = 0; i < 8; i++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        s += state.toString(16).padStart(8, '0');
      }
      return s;
    };
    for (let i = 0; i < 100_000; i++) seen.add(tailHash(0, url(BASES[0]!, next())));
    // 100k values in 2^52: a collision has odds of about one in a million; any would mean the hash ignores its input
    expect(seen.size).toBe(100_000);
  });

  it('depends on the base, the length and every one of the last 24 characters, and stays a 52-bit integer', () => {
    const u = url(BASES[0]!, '0'.repeat(64));
    for (let i = u.length - 24; i < u.length; i++) {
      const changed = u.slice(0, i) + (u[i] === '0' ? '1' : '0') + u.slice(i + 1);
      expect(tailHash(0, changed)).not.toBe(tailHash(0, u));
    }
    expect(tailHash(0, u + '0')).not.toBe(tailHash(0, u));
    expect(tailHash(1, u)).not.toBe(tailHash(0, u));
    for (const id of [0, 1, 1000, 2 ** 21]) {
      const h = tailHash(id, u);
      expect(Number.isSafeInteger(h) && h >= 0 && h < 2 ** 52).toBe(true);
    }
  });

  it('an expired answer is gone, on the injected clock, from the first millisecond past the TTL', () => {
    const clock = new ManualClock();
    const set = new ExpiringSet({ ttlMs: 100, max: 10 }, clock);
    set.add(5, 'u');
    clock.advance(100);
    expect(set.has(5, 'u')).toBe(true);
    clock.advance(1);
    expect(set.has(5, 'u')).toBe(false);
    expect(set.size).toBe(0);
  });
});

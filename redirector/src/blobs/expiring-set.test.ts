import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CacheKeys, ExpiringSet, NOT_CACHED, compactCopy, tailHash } from './expiring-set.js';
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

const BASES = [
  'http://127.0.0.1:9000/prod-registry-k8s-io-us-east-1',
  'http://127.0.0.1:9000/prod-registry-k8s-io-eu-west-3',
  'https://b.example',
];
const url = (base: string, digest: string): string => `${base}/containers/images/sha256:${digest}`;
const hex = fc.stringMatching(/^[0-9a-f]{64}$/);

type Op = { op: 'has' | 'add' | 'delete'; base: number; digest: number } | { op: 'advance'; ms: number };
const ops = (digests: number): fc.Arbitrary<Op[]> =>
  fc.array(
    fc.oneof(
      fc.record({
        op: fc.constantFrom('has', 'add', 'delete') as fc.Arbitrary<'has' | 'add' | 'delete'>,
        base: fc.nat(BASES.length - 1),
        digest: fc.nat(digests - 1),
      }),
      fc.record({ op: fc.constant('advance' as const), ms: fc.nat(40) }),
    ),
    { maxLength: 300 },
  );

function run(
  ops: Op[],
  digests: string[],
  keys: CacheKeys,
  opts: { ttlMs: number; max: number },
  exact: boolean,
): void {
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
      set.add(key, base, u);
      twin.add(base, u, clock.now());
    } else if (o.op === 'delete') {
      set.delete(key, base, u);
      twin.delete(base, u);
    } else {
      const got = set.has(key, base, u);
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
      fc.property(
        fc.uniqueArray(hex, { minLength: 12, maxLength: 12 }),
        ops(12),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 20 }),
        (digests, list, ttlMs, max) => {
          run(list, digests, new CacheKeys(), { ttlMs, max }, true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never says yes for a URL it was not given, when every URL of a base shares one key', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(hex, { minLength: 8, maxLength: 8 }),
        ops(8),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 20 }),
        (digests, list, ttlMs, max) => {
          run(list, digests, new CacheKeys(() => 0), { ttlMs, max }, false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps one base apart from another for the same digest', () => {
    const clock = new ManualClock();
    const set = new ExpiringSet({ ttlMs: 1000, max: 10 }, clock);
    const keys = new CacheKeys();
    const d = 'ab'.repeat(32);
    const [a, b] = [url(BASES[0]!, d), url(BASES[1]!, d)];
    set.add(keys.key(BASES[0]!, a), BASES[0]!, a);
    expect(set.has(keys.key(BASES[0]!, a), BASES[0]!, a)).toBe(true);
    expect(set.has(keys.key(BASES[1]!, b), BASES[1]!, b)).toBe(false);
    expect(keys.key(BASES[0]!, a)).not.toBe(keys.key(BASES[1]!, b));
  });

  it('keeps bases apart by the key alone: with every URL hashing alike, the same rest under another base is not a hit', () => {
    const set = new ExpiringSet({ ttlMs: 1000, max: 10 }, new ManualClock());
    const keys = new CacheKeys(() => 0);
    // two bases where one is a prefix of the other: the rests differ by where the base ends
    const [short, long] = ['http://b.example', 'http://b.example/x'];
    const rest = '/containers/images/sha256:' + 'cd'.repeat(32);
    set.add(keys.key(short, short + '/x' + rest), short, short + '/x' + rest);
    expect(set.has(keys.key(long, long + rest), long, long + rest)).toBe(false);
    expect(set.has(keys.key(short, short + '/x' + rest), short, short + '/x' + rest)).toBe(true);
    // same rest, same length, another base of the same length
    const other = 'http://c.example';
    set.add(keys.key(other, other + rest), other, other + rest);
    expect(set.has(keys.key(short, short + rest), short, short + rest)).toBe(false);
  });

  it('a URL confirmed once is taken again only while its entry stands: replaced, deleted or expired, it is not', () => {
    const clock = new ManualClock();
    const set = new ExpiringSet({ ttlMs: 100, max: 10 }, clock);
    const keys = new CacheKeys(() => 0);
    const base = BASES[0]!;
    const [a, b] = [base + '/a', base + '/b'];
    set.add(keys.key(base, a), base, a);
    expect(set.has(keys.key(base, a), base, a)).toBe(true);
    expect(set.has(keys.key(base, a), base, a)).toBe(true);
    // b shares a's key: adding it replaces a's entry
    set.add(keys.key(base, b), base, b);
    expect(set.has(keys.key(base, a), base, a)).toBe(false);
    expect(set.has(keys.key(base, b), base, b)).toBe(true);
    // a back again (a new copy of the same rest): confirmed afresh, and b no longer
    set.add(keys.key(base, a), base, a);
    expect(set.has(keys.key(base, b), base, b)).toBe(false);
    expect(set.has(keys.key(base, a), base, a)).toBe(true);
    set.delete(keys.key(base, a), base, a);
    expect(set.has(keys.key(base, a), base, a)).toBe(false);
    set.add(keys.key(base, a), base, a);
    expect(set.has(keys.key(base, a), base, a)).toBe(true);
    clock.advance(101);
    expect(set.has(keys.key(base, a), base, a)).toBe(false);
  });

  it('the same rest under another base, in the same slot, is not taken for a URL confirmed under the first', () => {
    const set = new ExpiringSet({ ttlMs: 1000, max: 10 }, new ManualClock());
    const keys = new CacheKeys(() => 0);
    const [a, b] = ['http://a.example', 'http://b.example'];
    const rest = '/containers/images/sha256:' + '12'.repeat(32);
    set.add(keys.key(a, a + rest), a, a + rest);
    set.add(keys.key(b, b + rest), b, b + rest);
    expect(set.has(keys.key(a, a + rest), a, a + rest)).toBe(true);
    // a's URL asked for under b (a caller's mistake): b's entry has the same rest, and the URL was confirmed under a
    expect(set.has(keys.key(b, a + rest), b, a + rest)).toBe(false);
  });

  it('a hit needs the whole rest: a URL that merely ends like a cached one is not it, nor one it ends like', () => {
    const set = new ExpiringSet({ ttlMs: 1000, max: 10 }, new ManualClock());
    const keys = new CacheKeys(() => 0);
    const base = BASES[2]!;
    set.add(keys.key(base, base + '/b'), base, base + '/b');
    expect(set.has(keys.key(base, base + '/a/b'), base, base + '/a/b')).toBe(false);
    set.add(keys.key(base, base + '/a/b'), base, base + '/a/b');
    expect(set.has(keys.key(base, base + '/b'), base, base + '/b')).toBe(false);
    set.delete(keys.key(base, base + '/b'), base, base + '/b');
    expect(set.has(keys.key(base, base + '/a/b'), base, base + '/a/b')).toBe(true);
  });

  it('never caches a URL outside its base, nor under the bases past the 512th', () => {
    const set = new ExpiringSet({ ttlMs: 1000, max: 10 }, new ManualClock());
    const keys = new CacheKeys();
    const outside = 'http://elsewhere.example/containers/images/sha256:' + 'ef'.repeat(32);
    set.add(keys.key(BASES[0]!, outside), BASES[0]!, outside);
    expect(set.has(keys.key(BASES[0]!, outside), BASES[0]!, outside)).toBe(false);
    expect(set.size).toBe(0);
    // nor is a URL inside its base mistaken for one outside it that ends alike (every URL hashing alike)
    const alike = new CacheKeys(() => 0);
    const [b, x] = ['http://b.example', 'http://x.example'];
    set.add(alike.key(b, x + '/u'), b, x + '/u');
    expect(set.has(alike.key(b, b + '/u'), b, b + '/u')).toBe(false);
    set.add(NOT_CACHED, BASES[0]!, BASES[0]! + '/u');
    expect(set.has(NOT_CACHED, BASES[0]!, BASES[0]! + '/u')).toBe(false);
    expect(set.size).toBe(0);
    const many = new CacheKeys();
    for (let i = 0; i < 512; i++)
      expect(many.key(`http://b${i}.example`, `http://b${i}.example/u`)).not.toBe(NOT_CACHED);
    expect(many.key('http://b512.example', 'http://b512.example/u')).toBe(NOT_CACHED);
    // the first 512 keep their keys, each below 2^53
    const last = many.key('http://b511.example', 'http://b511.example/u');
    expect(Number.isSafeInteger(last) && last < 2 ** 53).toBe(true);
  });

  it('a disabled cache (TTL or size 0) holds nothing', () => {
    for (const opts of [
      { ttlMs: 0, max: 10 },
      { ttlMs: 10, max: 0 },
    ]) {
      const set = new ExpiringSet(opts, new ManualClock());
      set.add(1, '', 'u');
      expect(set.has(1, '', 'u')).toBe(false);
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
    for (let i = 0; i < 100_000; i++) seen.add(tailHash(url(BASES[0]!, next())));
    // 100k values in 2^44: a collision has odds of about one in 3,500; any would mean the hash ignores its input
    expect(seen.size).toBe(100_000);
  });

  it('depends on the length and every one of the last 24 characters, and stays a 44-bit integer', () => {
    const u = url(BASES[0]!, '0'.repeat(64));
    for (let i = u.length - 24; i < u.length; i++) {
      const changed = u.slice(0, i) + (u[i] === '0' ? '1' : '0') + u.slice(i + 1);
      expect(tailHash(changed)).not.toBe(tailHash(u));
    }
    expect(tailHash(u + '0')).not.toBe(tailHash(u));
    for (const v of [u, '', 'x', u.repeat(3)]) {
      const h = tailHash(v);
      expect(Number.isSafeInteger(h) && h >= 0 && h < 2 ** 44).toBe(true);
    }
  });

  it('an expired answer is gone, on the injected clock, from the first millisecond past the TTL', () => {
    const clock = new ManualClock();
    const set = new ExpiringSet({ ttlMs: 100, max: 10 }, clock);
    set.add(5, '', 'u');
    clock.advance(100);
    expect(set.has(5, '', 'u')).toBe(true);
    clock.advance(1);
    expect(set.has(5, '', 'u')).toBe(false);
    expect(set.size).toBe(0);
  });
});

describe('compactCopy', () => {
  it('is the same text, for one-byte and wider strings alike', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const long = 'https://bucket.example' + text + '/containers/images/sha256:' + '0'.repeat(64);
        expect(compactCopy(long.slice(22))).toBe(long.slice(22));
      }),
    );
  });
});

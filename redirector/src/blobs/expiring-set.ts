/**
 * The blob probe's caches: which (bucket base, blob URL) pairs are known to be there (or not), each answer expiring
 * after a TTL on the injected clock, at most `max` of them (least recently used evicted first, by lru-cache).
 *
 * Keys are numbers, not the URL strings. A cached decision looks its URL up once per request, and that URL is a fresh
 * string every time (built from the request's digest): a string-keyed Map hashes all ~130 characters of it on each
 * lookup, which measured ~250 ns, the largest single cost of a cached decision (docs/performance.md). A CacheKeys
 * number names the base exactly (its ordinal, in the bits from 2^44 up) plus a 44-bit hash of the rest of the URL
 * (its length and last 24 characters: for a blob URL, the end of its digest): ~25 ns.
 *
 * Each entry keeps the rest of its URL after the base (`/containers/images/<digest>`), as a compact copy: not the
 * ~165-character URL and the request strings it was built from (with 100,000 entries the redirector's settled heap
 * went from 43.3 to 38.5 MiB; docs/performance.md "Memory"), and a lookup only counts when the URL is its base
 * followed by exactly that rest. The base is exact by the key and the rest by the comparison, so two pairs that share
 * a number never answer for each other; the later one simply replaces the earlier (as an eviction would, costing one
 * more HEAD). Chance collisions are rare (44 bits: about one in 3,000 fills of 100,000 entries of one bucket, each
 * costing one HEAD), and a client choosing digests to collide gains nothing it could not get from asking for digests
 * that do not exist. A URL that does not start with its base, and the bases after the first 512 (a bucket map has a
 * few dozen), are never cached: each of their requests HEADs, which is slower but never wrong. The comparison is
 * skipped for a URL object the same entry already matched (see `has`), so a popular blob's remembered plan costs a
 * pointer comparison, as when the URL itself was kept.
 * Expiry: lru-cache's own TTL, on the injected clock (its `perf` option), read once per lookup.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from './clock.js';

export interface CacheOptions {
  /** entry lifetime in ms; 0 disables the cache */
  ttlMs: number;
  /** bound on the number of entries; 0 disables the cache */
  max: number;
}

/** How many characters at the end of a URL the key hashes. */
const TAIL = 24;
const TWO_32 = 4294967296;
/** the bits below the base's ordinal in a key */
const HASH_SPAN = 2 ** 44;
/** ordinals 0-511 keep a key below 2^53, where a double is still an exact integer */
const MAX_BASES = 512;
/** the key of a pair that is never cached */
export const NOT_CACHED = -1;

/** Numbers for (base, url) pairs; one instance is shared by the caches that are asked about the same pair. */
export class CacheKeys {
  private readonly baseIds = new Map<string, number>();

  constructor(
    /** the 44-bit hash of a URL; tests pass a colliding one */
    private readonly hash: (url: string) => number = tailHash,
  ) {}

  /** the key of (base, url), or NOT_CACHED past the 512th base */
  key(base: string, url: string): number {
    // bases are the bucket map's own strings, so this lookup hashes nothing new
    let id = this.baseIds.get(base);
    if (id === undefined) {
      if (this.baseIds.size >= MAX_BASES) return NOT_CACHED;
      id = this.baseIds.size;
      this.baseIds.set(base, id);
    }
    return id * HASH_SPAN + this.hash(url);
  }
}

/**
 * Two FNV-1a streams (different offsets) over the URL's length and its last TAIL UTF-16 code units, joined into a
 * 44-bit number: chance collisions among 100,000 URLs are about one in 3,000 fills, not a couple per fill as with
 * 32 bits.
 */
export function tailHash(url: string): number {
  let a = Math.imul(0x811c9dc5 ^ url.length, 0x01000193);
  let b = Math.imul(0x050c5d1f ^ url.length, 0x01000193);
  for (let i = Math.max(0, url.length - TAIL); i < url.length; i++) {
    const c = url.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  return (b & 0xfff) * TWO_32 + (a >>> 0);
}

/**
 * A copy of `s` that holds only its own characters. A substring in V8 is a view that keeps the whole string it was
 * cut from alive (here: the URL, and through it the request-target); a one-byte copy is as long as `s` and no more.
 * Strings with characters beyond U+00FF stay as they are (correct, only larger).
 */
export function compactCopy(s: string): string {
  const copy = Buffer.from(s, 'latin1').toString('latin1');
  return copy === s ? copy : s;
}

/**
 * lru-cache's TTL clock is the injected one, moved by a constant: lru-cache reads a start time of 0 as "no TTL", and
 * a ManualClock starts at 0. Only differences of the clock matter, so the constant changes nothing else.
 */
const CLOCK_OFFSET = 1;

/** How many confirmed URLs an ExpiringSet remembers (about 250 KB of strings at most: the URLs are shared with plans). */
const SEEN_SLOTS = 1024;
const SEEN_MASK = SEEN_SLOTS - 1;

export class ExpiringSet {
  /** key → the rest of its URL after the base; lru-cache keeps each entry's start time and TTL in typed arrays */
  private readonly lru: LRUCache<number, string> | null;
  /**
   * The time lru-cache sees: set from the injected clock before each call into it, or from the time the caller read
   * once for its whole request (`has(..., now)`), so a lookup reads the clock once, not again inside lru-cache
   * (~65 ns a read on this machine).
   */
  private now = 0;
  /** per slot (the key's low bits), the last URL a full comparison confirmed, with the key and rest it matched */
  private readonly seenKey = new Float64Array(SEEN_SLOTS).fill(NOT_CACHED);
  private readonly seenUrl: (string | undefined)[] = new Array<string | undefined>(SEEN_SLOTS).fill(undefined);
  private readonly seenRest: (string | undefined)[] = new Array<string | undefined>(SEEN_SLOTS).fill(undefined);

  constructor(
    private readonly opts: CacheOptions,
    private readonly clock: Clock,
  ) {
    this.lru =
      opts.ttlMs > 0 && opts.max > 0
        ? new LRUCache<number, string>({
            max: opts.max,
            ttl: opts.ttlMs,
            ttlResolution: 0,
            perf: { now: () => this.now + CLOCK_OFFSET },
          })
        : null;
  }

  /** True when (base, url), under `key` from CacheKeys, was added at most the TTL ago; an expired entry goes. */
  has(key: number, base: string, url: string, now: number = this.clock.now()): boolean {
    if (this.lru === null || key === NOT_CACHED) return false;
    this.now = now;
    const rest = this.lru.get(key);
    if (rest === undefined) return false;
    // The key names the base exactly, so the pair is this entry's when the URL is its base and then the rest. A URL
    // that matched the same key and rest before is taken as it is (under one key, the same rest means the same base
    // and rest, so the same URL); it is compared by `===`, and a remembered routing plan hands in the same string
    // object every time, which makes that a pointer comparison (building `base + rest` and comparing ~165
    // characters costs ~100 ns).
    const slot = key & SEEN_MASK;
    if (this.seenKey[slot] === key && this.seenRest[slot] === rest && this.seenUrl[slot] === url) return true;
    if (url !== base + rest) return false;
    this.seenKey[slot] = key;
    this.seenRest[slot] = rest;
    this.seenUrl[slot] = url;
    return true;
  }

  add(key: number, base: string, url: string): void {
    // a URL outside its base has no rest to keep: not cached (planned URLs always start with their base)
    if (this.lru === null || key === NOT_CACHED || !url.startsWith(base)) return;
    this.now = this.clock.now();
    this.lru.set(key, compactCopy(url.slice(base.length)));
  }

  delete(key: number, base: string, url: string): void {
    if (this.lru === null || key === NOT_CACHED) return;
    // peek: neither refreshes recency nor touches another URL's entry under the same key (expired ones included)
    const rest = this.lru.peek(key, { allowStale: true });
    if (rest !== undefined && url === base + rest) this.lru.delete(key);
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  get max(): number {
    return this.lru === null ? 0 : this.opts.max;
  }
}

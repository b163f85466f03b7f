/**
 * The blob probe's caches: which (bucket base, blob URL) pairs are known to be there (or not), each answer expiring
 * after a TTL on the injected clock, at most `max` of them (least recently used evicted first, by lru-cache).
 *
 * Keys are numbers, not the URL strings. A cached decision looks its URL up once per request, and that URL is a fresh
 * string every time (built from the request's digest): a string-keyed Map hashes all ~130 characters of it on each
 * lookup, which measured ~250 ns, the largest single cost of a cached decision (docs/performance.md). A CacheKeys
 * number is a 52-bit hash of the base's ordinal and the URL's last 24 characters (for a blob URL, the end of its
 * digest): ~25 ns. Each entry keeps its URL, and a lookup only counts when the URLs are equal, so two URLs that share a
 * number never answer for each other; the later one simply replaces the earlier (as an eviction would, costing one
 * more HEAD). Chance collisions are rare (52 bits: about one in 10^6 fills of 100,000 entries), and a client choosing
 * digests to collide gains nothing it could not get from asking for digests that do not exist.
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

/** Numbers for (base, url) pairs; one instance is shared by the caches that are asked about the same pair. */
export class CacheKeys {
  private readonly baseIds = new Map<string, number>();

  constructor(
    /** the 52-bit hash of (base ordinal, url); tests pass a colliding one */
    private readonly hash: (id: number, url: string) => number = tailHash,
  ) {}

  key(base: string, url: string): number {
    // bases are the bucket map's own strings, so this lookup hashes nothing new
    let id = this.baseIds.get(base);
    if (id === undefined) {
      id = this.baseIds.size;
      this.baseIds.set(base, id);
    }
    return this.hash(id, url);
  }
}

/**
 * Two FNV-1a streams (different offsets) over the base's ordinal, the URL's length and its last TAIL UTF-16 code
 * units, joined into a 52-bit number (exact in a double): chance collisions among 100,000 URLs are about one in a
 * million runs of filling the cache, not a couple per fill as with 32 bits.
 */
export function tailHash(id: number, url: string): number {
  let a = Math.imul(0x811c9dc5 ^ id, 0x01000193);
  let b = Math.imul(0x050c5d1f ^ id, 0x01000193);
  a = Math.imul(a ^ url.length, 0x01000193);
  b = Math.imul(b ^ url.length, 0x01000193);
  for (let i = Math.max(0, url.length - TAIL); i < url.length; i++) {
    const c = url.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  return (b & 0xfffff) * TWO_32 + (a >>> 0);
}

/**
 * lru-cache's TTL clock is the injected one, moved by a constant: lru-cache reads a start time of 0 as "no TTL", and
 * a ManualClock starts at 0. Only differences of the clock matter, so the constant changes nothing else.
 */
const CLOCK_OFFSET = 1;

export class ExpiringSet {
  /** key → the URL it stands for; lru-cache keeps each entry's start time and TTL in typed arrays (no object per entry) */
  private readonly lru: LRUCache<number, string> | null;
  /**
   * The time lru-cache sees: set from the injected clock before each call into it, or from the time the caller read
   * once for its whole request (`has(..., now)`), so a lookup reads the clock once, not again inside lru-cache
   * (~65 ns a read on this machine).
   */
  private now = 0;

  constructor(
    private readonly opts: CacheOptions,
    private readonly clock: Clock,
  ) {
    this.lru =
      opts.ttlMs > 0 && opts.max > 0
        ? new LRUCache<number, string>({ max: opts.max, ttl: opts.ttlMs, ttlResolution: 0, perf: { now: () => this.now + CLOCK_OFFSET } })
        : null;
  }

  /** True when `url` (under `key`, from CacheKeys) was added at most the TTL ago; an expired entry goes. */
  has(key: number, url: string, now: number = this.clock.now()): boolean {
    if (this.lru === null) return false;
    this.now = now;
    return this.lru.get(key) === url;
  }

  add(key: number, url: string): void {
    if (this.lru === null) return;
    this.now = this.clock.now();
    this.lru.set(key, url);
  }

  delete(key: number, url: string): void {
    // peek: neither refreshes recency nor touches another URL's entry under the same key (expired ones included)
    if (this.lru?.peek(key, { allowStale: true }) === url) this.lru.delete(key);
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  get max(): number {
    return this.lru === null ? 0 : this.opts.max;
  }
}

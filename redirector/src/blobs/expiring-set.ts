/**
 * The blob probe's caches: which (bucket base, blob URL) pairs are known to be there (or not), each answer expiring
 * after a TTL on the injected clock, at most `max` of them (least recently used evicted first, by lru-cache).
 *
 * Keys are numbers, not the URL strings. A cached decision looks its URL up once per request, and that URL is a fresh
 * string every time (built from the request's digest): a string-keyed Map hashes all ~130 characters of it on each
 * lookup, which measured ~250 ns, the largest single cost of a cached decision (docs/performance.md). A CacheKeys
 * number is the base's ordinal and a 32-bit hash of the URL's last 24 characters (for a blob URL, the end of its
 * digest): ~25 ns. Each entry keeps its URL, and a lookup only counts when the URLs are equal, so two URLs that share a
 * number never answer for each other; the later one simply replaces the earlier (as an eviction would). Chance
 * collisions among 100,000 entries of one bucket are about one in a million lookups' worth of extra HEADs, and a
 * client choosing digests to collide gains nothing it could not get from asking for digests that do not exist.
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
    /** the 32-bit hash of a URL (tests pass a colliding one) */
    private readonly hash: (url: string) => number = tailHash,
  ) {}

  key(base: string, url: string): number {
    // bases are the bucket map's own strings, so this lookup hashes nothing new
    let id = this.baseIds.get(base);
    if (id === undefined) {
      id = this.baseIds.size;
      this.baseIds.set(base, id);
    }
    // exact in a double while there are fewer than 2^21 bases
    return id * TWO_32 + (this.hash(url) >>> 0);
  }
}

/** FNV-1a over the length and the last TAIL UTF-16 code units. */
export function tailHash(url: string): number {
  let h = Math.imul(0x811c9dc5 ^ url.length, 0x01000193);
  for (let i = Math.max(0, url.length - TAIL); i < url.length; i++) h = Math.imul(h ^ url.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface Entry {
  readonly url: string;
  readonly expires: number;
}

export class ExpiringSet {
  private readonly lru: LRUCache<number, Entry> | null;

  constructor(
    private readonly opts: CacheOptions,
    private readonly clock: Clock,
  ) {
    this.lru = opts.ttlMs > 0 && opts.max > 0 ? new LRUCache<number, Entry>({ max: opts.max }) : null;
  }

  /** True when `url` (under `key`, from CacheKeys) was added less than the TTL before `now`; an expired entry goes. */
  has(key: number, url: string, now: number): boolean {
    if (this.lru === null) return false;
    const e = this.lru.get(key);
    if (e === undefined || e.url !== url) return false;
    if (e.expires > now) return true;
    this.lru.delete(key);
    return false;
  }

  add(key: number, url: string): void {
    this.lru?.set(key, { url, expires: this.clock.now() + this.opts.ttlMs });
  }

  delete(key: number, url: string): void {
    // peek: neither refreshes recency nor touches another URL's entry under the same key
    if (this.lru?.peek(key)?.url === url) this.lru.delete(key);
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  get max(): number {
    return this.lru === null ? 0 : this.opts.max;
  }
}

/**
 * The blob existence check: "is `<base>/containers/images/<digest>` in the bucket?", answered by HEAD.
 *
 * archeio (docs/reference/archeio.md#existence-check-and-cache, quirk Q14): a positive-only, unbounded sync.Map; every
 * miss costs a fresh HEAD; no coalescing (a thundering herd after a release); a hung bucket costs 5 s per request.
 * Here:
 *  - a HEAD with a deadline (BLOB_CHECK_TIMEOUT_MS), through an injected fetcher;
 *  - a positive and a negative cache, each an LRU with its own TTL and size bound (blobs are content-addressed, so a
 *    hit is stable; a miss may be filled by the mirror later, so it expires sooner);
 *  - single-flight: one HEAD per URL in flight, however many requests wait on it;
 *  - a breaker per bucket (its base URL; in production each bucket has its own host), see circuit-breaker.ts;
 *  - revalidation (`revalidateMs`): a cached "yes" needs no HEAD, so a bucket that starts failing while every answer
 *    for it is cached would never tell its breaker, and clients would be sent to it for the positive TTL (an hour;
 *    archeio: for the life of the instance). So a cached hit starts one background HEAD for its bucket when the
 *    bucket's last HEAD is older than `revalidateMs` (the cached answer is served meanwhile), and once a bucket's
 *    last HEAD failed, its cached hits are asked again (blocking, single-flight) until it answers or its breaker
 *    opens (resilience finding, docs/reliability.md).
 *
 * What counts as what: 200 is a hit. 4xx is a miss (S3 answers an anonymous HEAD for a missing key with 403 when the
 * bucket denies listing, 404 otherwise), negatively cached, and proof the bucket is healthy, except 408 and 429,
 * which are the bucket asking us to back off. Everything else (transport errors, timeouts, 5xx, 1xx/3xx and other
 * 2xx) is an error: not cached, counted by the breaker, routed upstream like a miss.
 */
import type { ProbeVerdict } from '../routing/decision.js';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js';
import type { Clock } from './clock.js';
import { CacheKeys, ExpiringSet, type CacheOptions } from './expiring-set.js';

export type { CacheOptions } from './expiring-set.js';

/** Sends one HEAD and resolves to its status code; rejects on a transport error or when `signal` aborts. */
export type HeadFetcher = (url: string, signal: AbortSignal) => Promise<number>;

/**
 * How an existence answer was reached; the decision log's `cache` field and `redirector_blob_checks_total{outcome}`
 * (docs/configuration.md "Decision log"). `head-*`: a HEAD sent for this request answered; `cached-*`: a cached
 * answer, no HEAD sent.
 */
export type ProbeOutcome =
  /** answered from the positive cache: the blob is there, no HEAD sent */
  | 'cached-found'
  /** answered from the negative cache: the blob is not there, no HEAD sent */
  | 'cached-missing'
  /** a HEAD answered 200 */
  | 'head-found'
  /** a HEAD answered 4xx (not 408/429) */
  | 'head-missing'
  /** a HEAD failed: transport error or another status */
  | 'error'
  | 'timeout'
  /** the bucket's breaker is open: no HEAD sent, the request goes upstream */
  | 'breaker-open';

export interface ProbeResult {
  readonly verdict: ProbeVerdict;
  readonly outcome: ProbeOutcome;
  /** HTTP status of the HEAD this answer came from, when one was sent */
  readonly status: number | null;
  /** duration of that HEAD in ms (for a coalesced waiter: of the HEAD it waited on) */
  readonly headMs: number | null;
  /** true when this caller waited on another caller's HEAD */
  readonly coalesced: boolean;
}

/** Reported after every HEAD (not for cache answers): feeds the latency histogram and outcome counters. */
export interface HeadEvent {
  readonly base: string;
  readonly url: string;
  readonly outcome: 'hit' | 'miss' | 'error' | 'timeout';
  readonly status: number | null;
  readonly ms: number;
  readonly error?: string;
}

export interface BlobProbeOptions {
  fetcher: HeadFetcher;
  clock: Clock;
  timeoutMs: number;
  positive: CacheOptions;
  negative: CacheOptions;
  breaker: { threshold: number; cooldownMs: number };
  /** at most one background re-check per bucket per this many ms while its answers come from the positive cache; 0 or absent: never */
  revalidateMs?: number;
  onHead?: (event: HeadEvent) => void;
  onBreakerChange?: (base: string, state: BreakerState) => void;
}

const CACHE_HIT: ProbeResult = Object.freeze({
  verdict: 'hit',
  outcome: 'cached-found',
  status: null,
  headMs: null,
  coalesced: false,
});
const CACHE_MISS: ProbeResult = Object.freeze({
  verdict: 'miss',
  outcome: 'cached-missing',
  status: null,
  headMs: null,
  coalesced: false,
});
const BREAKER_OPEN: ProbeResult = Object.freeze({
  verdict: 'breaker-open',
  outcome: 'breaker-open',
  status: null,
  headMs: null,
  coalesced: false,
});

export class BlobProbe {
  private readonly positive: ExpiringSet;
  private readonly negative: ExpiringSet;
  private readonly keys = new CacheKeys();
  private readonly inflight = new Map<string, Promise<ProbeResult>>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  /** base → when its last HEAD started (for revalidation) */
  private readonly lastHead = new Map<string, number>();

  constructor(private readonly opts: BlobProbeOptions) {
    this.positive = new ExpiringSet(opts.positive, opts.clock);
    this.negative = new ExpiringSet(opts.negative, opts.clock);
  }

  /**
   * The answer when it is known without waiting (open breaker, cached hit or miss), else undefined. Synchronous, so
   * a cached decision costs no promise on the hot path. A cached hit may start a background revalidation HEAD (see
   * the module comment); a cached hit of a bucket whose last HEAD failed is not an answer (undefined: ask again).
   */
  peek(base: string, url: string): ProbeResult | undefined {
    const breaker = this.breakers.get(base);
    if (breaker !== undefined && breaker.blocked()) return BREAKER_OPEN;
    const now = this.opts.clock.now();
    const key = this.keys.key(base, url);
    if (this.positive.has(key, base, url, now)) {
      if (breaker !== undefined && breaker.suspect()) return undefined;
      const every = this.opts.revalidateMs ?? 0;
      if (
        every > 0 &&
        now - (this.lastHead.get(base) ?? 0) >= every &&
        !this.inflight.has(url) &&
        breaker !== undefined &&
        breaker.allow()
      ) {
        void this.startHead(base, url, breaker);
      }
      return CACHE_HIT;
    }
    if (this.negative.has(key, base, url, now)) return CACHE_MISS;
    return undefined;
  }

  /** The full check: cache, then single-flight HEAD guarded by the bucket's breaker. Never rejects. */
  check(base: string, url: string): Promise<ProbeResult> {
    const known = this.peek(base, url);
    if (known !== undefined) return Promise.resolve(known);
    const pending = this.inflight.get(url);
    if (pending !== undefined) return pending.then(asCoalesced);
    const breaker = this.breakerFor(base);
    if (!breaker.allow()) return Promise.resolve(BREAKER_OPEN);
    return this.startHead(base, url, breaker);
  }

  /** One HEAD for `url`, registered for single-flight until it settles. */
  private startHead(base: string, url: string, breaker: CircuitBreaker): Promise<ProbeResult> {
    const p = this.head(base, url, breaker);
    this.inflight.set(url, p);
    void p.then(() => this.inflight.delete(url));
    return p;
  }

  /** Sizes for the cache gauges. */
  stats(): { positive: number; negative: number; inflight: number; positiveMax: number; negativeMax: number } {
    return {
      positive: this.positive.size,
      negative: this.negative.size,
      inflight: this.inflight.size,
      positiveMax: this.positive.max,
      negativeMax: this.negative.max,
    };
  }

  /** The state of every bucket's breaker that has seen a HEAD. */
  breakerStates(): { base: string; state: BreakerState }[] {
    return [...this.breakers].map(([base, b]) => ({ base, state: b.state }));
  }

  private breakerFor(base: string): CircuitBreaker {
    let b = this.breakers.get(base);
    if (b === undefined) {
      const onChange = this.opts.onBreakerChange;
      b = new CircuitBreaker(
        this.opts.breaker.threshold,
        this.opts.breaker.cooldownMs,
        this.opts.clock,
        onChange && ((s) => onChange(base, s)),
      );
      this.breakers.set(base, b);
    }
    return b;
  }

  private async head(base: string, url: string, breaker: CircuitBreaker): Promise<ProbeResult> {
    const { clock, timeoutMs } = this.opts;
    const started = clock.now();
    this.lastHead.set(base, started);
    const controller = new AbortController();
    let cancelTimer: () => void = () => {};
    // The race guarantees the deadline even if a fetcher ignores its signal.
    const deadline = new Promise<'timeout'>((resolve) => {
      cancelTimer = clock.setTimeout(() => {
        controller.abort();
        resolve('timeout');
      }, timeoutMs);
    });
    let status: number | null = null;
    let outcome: HeadEvent['outcome'];
    let error: string | undefined;
    try {
      const answer = await Promise.race([this.opts.fetcher(url, controller.signal), deadline]);
      if (answer === 'timeout') {
        outcome = 'timeout';
      } else {
        status = answer;
        outcome = classifyStatus(answer);
      }
    } catch (err) {
      outcome = controller.signal.aborted ? 'timeout' : 'error';
      error = (err as Error)?.message ?? String(err);
    } finally {
      cancelTimer();
    }
    const ms = clock.now() - started;
    const key = this.keys.key(base, url);
    if (outcome === 'hit') {
      this.positive.add(key, base, url);
      this.negative.delete(key, base, url);
      breaker.success();
    } else if (outcome === 'miss') {
      // (a revalidation can find a cached object gone: the "yes" must go too)
      this.positive.delete(key, base, url);
      this.negative.add(key, base, url);
      breaker.success();
    } else {
      breaker.failure();
    }
    this.opts.onHead?.({ base, url, outcome, status, ms, ...(error === undefined ? {} : { error }) });
    const verdict: ProbeVerdict = outcome === 'hit' ? 'hit' : outcome === 'miss' ? 'miss' : 'error';
    const answered: ProbeOutcome = outcome === 'hit' ? 'head-found' : outcome === 'miss' ? 'head-missing' : outcome;
    return { verdict, outcome: answered, status, headMs: ms, coalesced: false };
  }
}

/** 200 → hit; 4xx but 408/429 → miss; anything else → error (see the module comment). */
export function classifyStatus(status: number): 'hit' | 'miss' | 'error' {
  if (status === 200) return 'hit';
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return 'miss';
  return 'error';
}

function asCoalesced(r: ProbeResult): ProbeResult {
  return { ...r, coalesced: true };
}

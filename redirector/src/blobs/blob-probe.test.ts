// The existence check with a fake fetcher and a manual clock: caches and their TTLs and bounds, single-flight,
// the status classification, timeouts, and the breaker's open / half-open / close cycle. No sleeping.
import { describe, expect, it } from 'vitest';
import { BlobProbe, classifyStatus, type BlobProbeOptions, type HeadEvent, type HeadFetcher } from './blob-probe.js';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js';
import { ManualClock } from './manual-clock.js';
import { systemClock } from './clock.js';

const BASE = 'https://bucket.example';
const url = (n: number | string) => `${BASE}/containers/images/sha256:${String(n).padStart(64, '0')}`;

/** A fetcher whose answers the test controls: each call waits until resolved by the test. */
function controlledFetcher() {
  const calls: { url: string; signal: AbortSignal; resolve: (s: number) => void; reject: (e: Error) => void }[] = [];
  const fetcher: HeadFetcher = (u, signal) =>
    new Promise<number>((resolve, reject) => {
      calls.push({ url: u, signal, resolve, reject });
    });
  return { fetcher, calls };
}

function probeWith(fetcher: HeadFetcher, clock: ManualClock, over: Partial<BlobProbeOptions> = {}) {
  const heads: HeadEvent[] = [];
  const breakers: [string, BreakerState][] = [];
  const probe = new BlobProbe({
    fetcher,
    clock,
    timeoutMs: 1000,
    positive: { ttlMs: 60_000, max: 100 },
    negative: { ttlMs: 10_000, max: 100 },
    breaker: { threshold: 3, cooldownMs: 30_000 },
    onHead: (e) => heads.push(e),
    onBreakerChange: (b, s) => breakers.push([b, s]),
    ...over,
  });
  return { probe, heads, breakers };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('classifyStatus', () => {
  it.each([
    [200, 'hit'],
    [404, 'miss'],
    [403, 'miss'],
    [410, 'miss'],
    [400, 'miss'],
    [408, 'error'],
    [429, 'error'],
    [500, 'error'],
    [503, 'error'],
    [204, 'error'],
    [301, 'error'],
    [307, 'error'],
    [100, 'error'],
  ] as const)('%i → %s', (status, want) => expect(classifyStatus(status)).toBe(want));
});

describe('BlobProbe caches', () => {
  it('caches a hit for its TTL, synchronously visible through peek', async () => {
    const clock = new ManualClock();
    let n = 0;
    const { probe, heads } = probeWith(() => (n++, Promise.resolve(200)), clock);
    expect(probe.peek(BASE, url(1))).toBeUndefined();
    expect(await probe.check(BASE, url(1))).toMatchObject({
      verdict: 'hit',
      outcome: 'head-found',
      status: 200,
      coalesced: false,
    });
    expect(heads).toEqual([{ base: BASE, url: url(1), outcome: 'hit', status: 200, ms: 0 }]);
    expect(probe.peek(BASE, url(1))).toMatchObject({ verdict: 'hit', outcome: 'cached-found' });
    expect(await probe.check(BASE, url(1))).toMatchObject({ outcome: 'cached-found' });
    // an answer lives for the TTL (inclusive), and is gone a millisecond later
    clock.advance(60_000);
    expect(probe.peek(BASE, url(1))?.outcome).toBe('cached-found');
    clock.advance(1);
    expect(probe.peek(BASE, url(1))).toBeUndefined();
    expect(probe.stats().positive).toBe(0);
    await probe.check(BASE, url(1));
    expect(n).toBe(2);
  });

  it('caches a miss for the negative TTL, then asks again', async () => {
    const clock = new ManualClock();
    let status = 404;
    let n = 0;
    const { probe } = probeWith(() => (n++, Promise.resolve(status)), clock);
    expect(await probe.check(BASE, url(2))).toMatchObject({ verdict: 'miss', outcome: 'head-missing', status: 404 });
    expect(probe.peek(BASE, url(2))).toMatchObject({ verdict: 'miss', outcome: 'cached-missing' });
    clock.advance(10_001);
    status = 200;
    expect(await probe.check(BASE, url(2))).toMatchObject({ verdict: 'hit', outcome: 'head-found' });
    expect(n).toBe(2);
    expect(probe.stats()).toMatchObject({ positive: 1, negative: 0 });
  });

  it('bounds each cache (LRU)', async () => {
    const clock = new ManualClock();
    const { probe } = probeWith((u) => Promise.resolve(u.endsWith('1') ? 404 : 200), clock, {
      positive: { ttlMs: 1000, max: 3 },
      negative: { ttlMs: 1000, max: 2 },
    });
    for (let i = 0; i < 20; i++) await probe.check(BASE, url(i));
    expect(probe.stats()).toEqual({ positive: 3, negative: 2, inflight: 0, positiveMax: 3, negativeMax: 2 });
    expect(probe.peek(BASE, url(19))?.outcome).toBe('cached-found');
    expect(probe.peek(BASE, url(0))).toBeUndefined();
  });

  it('a TTL or size of 0 disables a cache', async () => {
    const clock = new ManualClock();
    let n = 0;
    const { probe } = probeWith((u) => (n++, Promise.resolve(u.endsWith('1') ? 404 : 200)), clock, {
      positive: { ttlMs: 0, max: 10 },
      negative: { ttlMs: 10, max: 0 },
    });
    await probe.check(BASE, url(0));
    await probe.check(BASE, url(0));
    await probe.check(BASE, url(1));
    await probe.check(BASE, url(1));
    expect(n).toBe(4);
    expect(probe.stats()).toMatchObject({ positive: 0, negative: 0, positiveMax: 0, negativeMax: 0 });
  });
});

describe('BlobProbe single-flight', () => {
  it('5,000 concurrent checks of one uncached URL send exactly 1 HEAD', async () => {
    const clock = new ManualClock();
    const { fetcher, calls } = controlledFetcher();
    const { probe } = probeWith(fetcher, clock);
    const waiting = Array.from({ length: 5000 }, () => probe.check(BASE, url(7)));
    expect(calls).toHaveLength(1);
    expect(probe.stats().inflight).toBe(1);
    calls[0]!.resolve(200);
    const results = await Promise.all(waiting);
    expect(calls).toHaveLength(1);
    expect(results[0]).toMatchObject({ verdict: 'hit', coalesced: false });
    expect(results.slice(1).every((r) => r.verdict === 'hit' && r.coalesced)).toBe(true);
    expect(probe.stats().inflight).toBe(0);
  });

  it('5,000 checks of an absent blob within the negative TTL send 1 HEAD', async () => {
    const clock = new ManualClock();
    let n = 0;
    const { probe } = probeWith(() => (n++, Promise.resolve(404)), clock);
    const first = await Promise.all(Array.from({ length: 2500 }, () => probe.check(BASE, url(8))));
    clock.advance(9_000);
    const later = await Promise.all(Array.from({ length: 2500 }, () => probe.check(BASE, url(8))));
    expect(n).toBe(1);
    expect([...first, ...later].every((r) => r.verdict === 'miss')).toBe(true);
  });

  it('different URLs do not wait on each other', () => {
    const clock = new ManualClock();
    const { fetcher, calls } = controlledFetcher();
    const { probe } = probeWith(fetcher, clock);
    void probe.check(BASE, url(1));
    void probe.check(BASE, url(2));
    expect(calls.map((c) => c.url)).toEqual([url(1), url(2)]);
  });
});

describe('BlobProbe failures', () => {
  it('a timeout aborts the HEAD, routes as an error and is not cached', async () => {
    const clock = new ManualClock();
    const { fetcher, calls } = controlledFetcher();
    const { probe, heads } = probeWith(fetcher, clock);
    const p = probe.check(BASE, url(3));
    clock.advance(999);
    expect(calls[0]!.signal.aborted).toBe(false);
    clock.advance(1);
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(await p).toMatchObject({ verdict: 'error', outcome: 'timeout', status: null, headMs: 1000 });
    expect(heads[0]).toMatchObject({ outcome: 'timeout', ms: 1000 });
    expect(probe.peek(BASE, url(3))).toBeUndefined();
    expect(clock.pending).toBe(0);
  });

  it('a fetcher that rejects after the abort is a timeout too', async () => {
    const clock = new ManualClock();
    const { probe } = probeWith(
      (_u, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      clock,
    );
    const p = probe.check(BASE, url(3));
    clock.advance(1000);
    expect((await p).outcome).toBe('timeout');
  });

  it('transport errors and 5xx are errors, carry their message, and are not cached', async () => {
    const clock = new ManualClock();
    const { probe, heads } = probeWith(
      (u) => (u.endsWith('1') ? Promise.reject(new Error('ECONNRESET')) : Promise.resolve(503)),
      clock,
    );
    expect(await probe.check(BASE, url(1))).toMatchObject({ verdict: 'error', outcome: 'error', status: null });
    expect(await probe.check(BASE, url(2))).toMatchObject({ verdict: 'error', outcome: 'error', status: 503 });
    expect(heads.map((h) => h.error)).toEqual(['ECONNRESET', undefined]);
    expect(probe.stats()).toMatchObject({ positive: 0, negative: 0 });
  });

  it('a non-Error rejection is still reported', async () => {
    const clock = new ManualClock();
    const { probe, heads } = probeWith(() => Promise.reject('plain string' as unknown as Error), clock);
    await probe.check(BASE, url(1));
    expect(heads[0]!.error).toBe('plain string');
  });
});

describe('BlobProbe breaker', () => {
  it('opens after N consecutive failures, skips the bucket, half-opens with one trial, then closes', async () => {
    const clock = new ManualClock();
    const { fetcher, calls } = controlledFetcher();
    const { probe, breakers } = probeWith(fetcher, clock);
    for (let i = 0; i < 3; i++) {
      const p = probe.check(BASE, url(i));
      calls[i]!.resolve(500);
      expect((await p).verdict).toBe('error');
    }
    expect(breakers).toEqual([[BASE, 'open']]);
    expect(probe.breakerStates()).toEqual([{ base: BASE, state: 'open' }]);
    // open: no HEAD, at once, even for a URL the positive cache knows
    expect(probe.peek(BASE, url(9))).toMatchObject({ verdict: 'breaker-open', outcome: 'breaker-open' });
    expect(await probe.check(BASE, url(10))).toMatchObject({ verdict: 'breaker-open' });
    expect(calls).toHaveLength(3);
    // another bucket is unaffected
    void probe.check('https://other.example', 'https://other.example/containers/images/x:y');
    expect(calls).toHaveLength(4);
    calls[3]!.resolve(200);

    clock.advance(30_000);
    const trial = probe.check(BASE, url(11));
    expect(breakers.at(-1)).toEqual([BASE, 'half-open']);
    expect(calls).toHaveLength(5);
    // while the trial is out, everyone else goes upstream
    expect(await probe.check(BASE, url(12))).toMatchObject({ verdict: 'breaker-open' });
    expect(probe.peek(BASE, url(12))?.verdict).toBe('breaker-open');
    calls[4]!.resolve(404);
    expect((await trial).verdict).toBe('miss');
    expect(breakers.at(-1)).toEqual([BASE, 'closed']);
    expect(probe.peek(BASE, url(12))).toBeUndefined();
  });

  it('a failed trial re-opens for another cool-down', async () => {
    const clock = new ManualClock();
    const { probe, breakers } = probeWith(() => Promise.resolve(503), clock, {
      breaker: { threshold: 1, cooldownMs: 100 },
    });
    await probe.check(BASE, url(1));
    clock.advance(100);
    await probe.check(BASE, url(2));
    expect(breakers.map((b) => b[1])).toEqual(['open', 'half-open', 'open']);
    clock.advance(99);
    expect((await probe.check(BASE, url(3))).verdict).toBe('breaker-open');
  });

  it('successes reset the failure count; threshold 0 never opens', async () => {
    const clock = new ManualClock();
    let status = 500;
    const { probe, breakers } = probeWith(() => Promise.resolve(status), clock, {
      breaker: { threshold: 2, cooldownMs: 100 },
    });
    await probe.check(BASE, url(1));
    status = 200;
    await probe.check(BASE, url(2));
    status = 500;
    await probe.check(BASE, url(3));
    expect(breakers).toEqual([]);
    const off = probeWith(() => Promise.resolve(500), clock, { breaker: { threshold: 0, cooldownMs: 100 } });
    for (let i = 0; i < 10; i++) await off.probe.check(BASE, url(i));
    expect(off.breakers).toEqual([]);
  });
});

// Resilience finding (docs/reliability.md): a bucket that starts failing after its blobs were cached as present was
// never asked again, so clients kept being sent to it for the positive TTL. Revalidation notices it.
describe('BlobProbe revalidation of cached hits', () => {
  const warm = async (probe: BlobProbe, calls: ReturnType<typeof controlledFetcher>['calls'], n: number) => {
    const p = probe.check(BASE, url(n));
    calls.at(-1)!.resolve(200);
    expect((await p).verdict).toBe('hit');
  };

  it('a bucket failing behind a warm cache: one background HEAD per interval notices, then cached hits are asked again until the breaker opens', async () => {
    const clock = new ManualClock();
    const { fetcher, calls } = controlledFetcher();
    const { probe, breakers } = probeWith(fetcher, clock, { revalidateMs: 1000 });
    await warm(probe, calls, 1);
    await warm(probe, calls, 2);
    expect(calls).toHaveLength(2);
    // within the interval: cached answers, no HEAD
    clock.advance(999);
    expect(probe.peek(BASE, url(1))?.outcome).toBe('cached-found');
    expect(calls).toHaveLength(2);
    // the interval passed: the cached answer is still served, and ONE background HEAD goes out
    clock.advance(1);
    expect(probe.peek(BASE, url(1))?.outcome).toBe('cached-found');
    expect(probe.peek(BASE, url(2))?.outcome).toBe('cached-found');
    expect(calls.map((c) => c.url)).toEqual([url(1), url(2), url(1)]);
    // the bucket now fails: its cached hits are no longer answers
    calls[2]!.resolve(503);
    await flush();
    expect(probe.peek(BASE, url(2))).toBeUndefined();
    // each check asks again (blocking) and goes upstream; after the threshold the breaker opens
    const p2 = probe.check(BASE, url(2));
    calls[3]!.resolve(503);
    expect(await p2).toMatchObject({ verdict: 'error' });
    const p1 = probe.check(BASE, url(1));
    calls[4]!.resolve(503);
    expect(await p1).toMatchObject({ verdict: 'error' });
    expect(breakers).toEqual([[BASE, 'open']]);
    expect(probe.peek(BASE, url(1))?.verdict).toBe('breaker-open');
    // recovered after the cool-down: the trial succeeds, the cache serves again
    clock.advance(30_000);
    const trial = probe.check(BASE, url(1));
    calls[5]!.resolve(200);
    expect((await trial).verdict).toBe('hit');
    expect(probe.peek(BASE, url(2))?.outcome).toBe('cached-found');
  });

  it('a revalidation that finds the object gone drops the cached yes', async () => {
    const clock = new ManualClock();
    const { fetcher, calls } = controlledFetcher();
    const { probe } = probeWith(fetcher, clock, { revalidateMs: 1000 });
    await warm(probe, calls, 1);
    clock.advance(1000);
    expect(probe.peek(BASE, url(1))?.outcome).toBe('cached-found');
    calls[1]!.resolve(404);
    await flush();
    expect(probe.peek(BASE, url(1))?.outcome).toBe('cached-missing');
    expect(probe.stats()).toMatchObject({ positive: 0, negative: 1 });
  });

  it('at most one background HEAD per bucket per interval, however many cached URLs are asked for', async () => {
    const clock = new ManualClock();
    const { fetcher, calls } = controlledFetcher();
    const { probe } = probeWith(fetcher, clock, { revalidateMs: 1000 });
    for (let i = 0; i < 5; i++) await warm(probe, calls, i);
    clock.advance(1000);
    for (let k = 0; k < 100; k++) expect(probe.peek(BASE, url(k % 5))?.outcome).toBe('cached-found');
    expect(calls).toHaveLength(6);
    calls[5]!.resolve(200);
    await flush();
    clock.advance(500);
    for (let k = 0; k < 100; k++) probe.peek(BASE, url(k % 5));
    expect(calls).toHaveLength(6);
  });

  it('revalidateMs 0 (or absent) never re-checks a cached hit', async () => {
    const clock = new ManualClock();
    const { fetcher, calls } = controlledFetcher();
    const { probe } = probeWith(fetcher, clock);
    await warm(probe, calls, 1);
    clock.advance(59_000);
    expect(probe.peek(BASE, url(1))?.outcome).toBe('cached-found');
    expect(calls).toHaveLength(1);
  });

  it('one failed HEAD makes the bucket suspect: its cached hits are asked again, and a success ends that', async () => {
    const clock = new ManualClock();
    const { fetcher, calls } = controlledFetcher();
    const { probe } = probeWith(fetcher, clock);
    await warm(probe, calls, 1);
    const failing = probe.check(BASE, url(2));
    calls[1]!.resolve(500);
    await failing;
    expect(probe.peek(BASE, url(1))).toBeUndefined();
    const again = probe.check(BASE, url(1));
    calls[2]!.resolve(200);
    expect((await again).outcome).toBe('head-found');
    expect(probe.peek(BASE, url(1))?.outcome).toBe('cached-found');
  });
});

describe('CircuitBreaker on its own', () => {
  it('reports state and works without a listener', () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker(1, 10, clock);
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.blocked()).toBe(true);
    expect(b.allow()).toBe(false);
    clock.advance(10);
    expect(b.blocked()).toBe(false);
    expect(b.allow()).toBe(true);
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(false);
    b.success();
    expect(b.state).toBe('closed');
    b.success();
    expect(b.state).toBe('closed');
  });
});

describe('clocks', () => {
  it('ManualClock fires due timers in order and skips cancelled ones', () => {
    const c = new ManualClock(5);
    const fired: string[] = [];
    c.setTimeout(() => fired.push('b'), 20);
    c.setTimeout(() => fired.push('a'), 10);
    const cancel = c.setTimeout(() => fired.push('x'), 15);
    cancel();
    c.setTimeout(() => c.setTimeout(() => fired.push('nested'), 1), 12);
    c.advance(30);
    expect(fired).toEqual(['a', 'nested', 'b']);
    expect(c.now()).toBe(35);
    expect(c.pending).toBe(0);
  });
  it('systemClock schedules and cancels real timers', async () => {
    let fired = false;
    const cancel = systemClock.setTimeout(() => (fired = true), 0);
    cancel();
    await flush();
    expect(fired).toBe(false);
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 0));
    expect(systemClock.now()).toBeGreaterThan(0);
  });
});

/**
 * Load: a sustained mixed load of manifests and blobs from all vantages, 60 s in CI (10 min with
 * RESILIENCE_SOAK=1, `npm run soak`), driven by autocannon at a fixed rate:
 *  - zero errors: no transport error, no timeout, and every response judged: status AND exact Location (load-mix.ts);
 *  - memory stays flat: after a warm-up of the same load (20 s; soak 60 s), the redirector's RSS (/proc/<pid>/status,
 *    sampled every second) grows < 10% from the first 10 s of the measured run to its last 10 s;
 *  - the blob caches stay within their bounds while a stream of distinct digests churns them
 *    (redirector_blob_cache_entries ≤ redirector_blob_cache_capacity on the admin port, sampled through the run).
 *
 * The redirector is our own in the stack's world, with production settings except LOG_LEVEL=warn (decision lines
 * would be a pipe write per request) and, in CI, cache bounds of 5,000 entries so the distinct-digest stream of a
 * 60 s run overfills them many times; the soak keeps the production bounds (100,000 / 50,000) and first feeds
 * 1,000,000 distinct digests as fast as the redirector answers (so the 10 min load runs with full caches). Those digests come from one region (af-south-1) whose bucket, in this redirector's bucket map,
 * is a stand-in that answers HEADs instantly (fake-bucket.ts): s3rver could not answer a million HEADs in time.
 */
import autocannon from 'autocannon';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBucket, type FakeBucket } from './support/fake-bucket.js';
import { FigureLog } from './support/figures.js';
import { distinctBlob, mixFor, type MixRequest } from './support/load-mix.js';
import { metricValue, scrape } from './support/metrics-scrape.js';
import { startOwnRedirector, type OwnRedirector } from './support/own-redirector.js';
import { rssKiB } from './support/proc-status.js';
import { round } from './support/timed-client.js';
import { vantage, world } from './support/world.js';

const W = world();
const target = W.target;
const SOAK = process.env.RESILIENCE_SOAK === '1';
const figures = new FigureLog(SOAK ? 'load-soak' : 'load');
const DURATION_S = Number(process.env.RESILIENCE_LOAD_S ?? (SOAK ? 600 : 60));
/** load before the measured run (the caches fill, V8 sizes its heap); in the soak the 1M-digest feed ran before too */
const WARMUP_S = Number(process.env.RESILIENCE_WARMUP_S ?? (SOAK ? 60 : 20));
const RATE = Number(process.env.RESILIENCE_LOAD_RATE ?? 2_000);
const CONNECTIONS = 32;
/** one request in DISTINCT_EVERY is a blob with a never-seen digest */
const DISTINCT_EVERY = 3;
const DISTINCT_TARGET = Number(process.env.RESILIENCE_DISTINCT_N ?? (SOAK ? 1_000_000 : 0));
const CACHE_ENV: Record<string, string> = SOAK
  ? {}
  : { BLOB_CACHE_POSITIVE_MAX: '5000', BLOB_CACHE_NEGATIVE_MAX: '5000' };
const FAKE_REGION = 'af-south-1';

let dir: string;
let fake: FakeBucket;
let r: OwnRedirector;
let mix: MixRequest[];
let distinctSent = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-canary-resilience-load-'));
  fake = await startFakeBucket();
  const bucketMap = { ...target.bucketMap, regions: { ...target.bucketMap.regions, [FAKE_REGION]: fake.base } };
  r = await startOwnRedirector(target, dir, { name: 'load', bucketMap, env: { LOG_LEVEL: 'warn', ...CACHE_ENV } });
  mix = mixFor(target, bucketMap);
});

afterAll(async () => {
  await r?.stop();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface CacheSample {
  t: number;
  positive: number;
  negative: number;
  positiveMax: number;
  negativeMax: number;
  /** V8 heap in use and old space in use (prom-client default metrics), MiB */
  heapUsedMiB: number;
  oldSpaceMiB: number;
}

async function cacheSample(t: number): Promise<CacheSample> {
  const m = await scrape(r.adminUrl);
  return {
    t,
    positive: metricValue(m, 'redirector_blob_cache_entries', { cache: 'positive' }),
    negative: metricValue(m, 'redirector_blob_cache_entries', { cache: 'negative' }),
    positiveMax: metricValue(m, 'redirector_blob_cache_capacity', { cache: 'positive' }),
    negativeMax: metricValue(m, 'redirector_blob_cache_capacity', { cache: 'negative' }),
    heapUsedMiB: round(metricValue(m, 'nodejs_heap_size_used_bytes') / 2 ** 20, 1),
    oldSpaceMiB: round(metricValue(m, 'nodejs_heap_space_size_used_bytes', { space: 'old' }) / 2 ** 20, 1),
  };
}

/** autocannon over the mix (and the distinct-digest stream), judging every response against its expected answer */
async function drive(opts: {
  durationS?: number;
  amount?: number;
  rate?: number;
  distinctOnly?: boolean;
  onTick?: (elapsedS: number) => void;
}) {
  const fakeVantage = vantage(target, `aws-${FAKE_REGION}`);
  let seq = 0;
  const wrong: string[] = [];
  let judged = 0;
  const next = (): MixRequest => {
    const i = seq++;
    if (opts.distinctOnly || i % DISTINCT_EVERY === DISTINCT_EVERY - 1)
      return distinctBlob(target, fakeVantage, fake.base, distinctSent++);
    return mix[i % mix.length]!;
  };
  const instance = autocannon({
    url: r.url,
    connections: CONNECTIONS,
    pipelining: 1,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.durationS ?? DURATION_S }),
    timeout: 10,
    requests: [
      {
        method: 'GET',
        setupRequest: (req: Record<string, unknown>, context: Record<string, unknown>) => {
          const spec = next();
          context.spec = spec;
          return { ...req, method: 'GET', path: spec.path, headers: { 'x-forwarded-for': spec.xff } };
        },
        onResponse: (
          status: number,
          _body: string,
          context: Record<string, unknown>,
          headers: Record<string, string>,
        ) => {
          const spec = context.spec as MixRequest;
          judged++;
          const location = headers.location ?? headers.Location ?? null;
          if (status !== spec.status || location !== spec.location) {
            if (wrong.length < 20)
              wrong.push(
                `${spec.kind} ${spec.path} (xff ${spec.xff}): got ${status} ${location}, want ${spec.status} ${spec.location}`,
              );
            else wrong.push('');
          }
        },
      },
    ],
  } as autocannon.Options);
  const started = performance.now();
  const tick = setInterval(() => opts.onTick?.((performance.now() - started) / 1000), 1_000);
  try {
    const result = await instance;
    return { result, wrong, judged };
  } finally {
    clearInterval(tick);
  }
}

describe.sequential('load', () => {
  it.runIf(DISTINCT_TARGET > 0)(
    `the caches stay within their bounds when fed ${DISTINCT_TARGET} distinct digests`,
    async () => {
      const before = await rssKiB(r.pid);
      const remaining = Math.max(0, DISTINCT_TARGET - distinctSent);
      const caches: CacheSample[] = [];
      let sampling = Promise.resolve();
      const { result, wrong } = await drive({
        amount: Math.max(remaining, CONNECTIONS),
        distinctOnly: true,
        onTick: (t) => {
          if (Math.round(t) % 10 === 0) sampling = sampling.then(async () => void caches.push(await cacheSample(t)));
        },
      });
      await sampling;
      caches.push(await cacheSample(-1));
      const after = await rssKiB(r.pid);
      const last = caches[caches.length - 1]!;
      const over = caches.filter((c) => c.positive > c.positiveMax || c.negative > c.negativeMax);
      figures.record({
        check: `caches fed ${distinctSent} distinct digests`,
        figure: `positive ${last.positive}/${last.positiveMax}, negative ${last.negative}/${last.negativeMax} (max over ${caches.length} samples: ${Math.max(...caches.map((c) => c.positive))}, ${Math.max(...caches.map((c) => c.negative))}); RSS ${round(before / 1024, 1)} → ${round(after / 1024, 1)} MiB; ${result.errors + result.timeouts} errors, ${wrong.length} wrong`,
        value: over.length,
        unit: 'samples over the bound',
        bar: '0 samples over the bound',
        ok: over.length === 0 && distinctSent >= DISTINCT_TARGET,
        details: { caches },
      });
      expect(over).toEqual([]);
      expect(wrong.filter(Boolean).slice(0, 10)).toEqual([]);
      expect(distinctSent).toBeGreaterThanOrEqual(DISTINCT_TARGET);
    },
  );

  it(`sustained mixed load from all vantages for ${DURATION_S} s: zero errors, flat RSS, bounded caches`, async () => {
    // warm-up: the same load, judged the same way, until V8 has sized its heap and the caches are full
    const warmUp = await drive({ rate: RATE, durationS: WARMUP_S });
    const warmUpErrors =
      warmUp.result.errors + warmUp.result.timeouts + warmUp.result.resets + warmUp.result.mismatches;
    expect(warmUp.wrong.filter(Boolean).slice(0, 10)).toEqual([]);
    expect(warmUpErrors).toBe(0);

    const rss: { t: number; kib: number }[] = [];
    const caches: CacheSample[] = [];
    let sampling = Promise.resolve();
    const { result, wrong, judged } = await drive({
      rate: RATE,
      onTick: (t) => {
        sampling = sampling.then(async () => {
          rss.push({ t, kib: await rssKiB(r.pid) });
          if (Math.round(t) % 5 === 0) caches.push(await cacheSample(t));
        });
      },
    });
    await sampling;
    caches.push(await cacheSample(DURATION_S));

    const errors = result.errors + result.timeouts + result.resets + result.mismatches;
    const statuses = Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([s, v]) => [s, (v as { count: number }).count]),
    );
    figures.record({
      check: `load: ${DURATION_S} s mixed load (autocannon, ${CONNECTIONS} connections, target ${RATE} req/s)`,
      figure: `${result.requests.total} requests (${round(result.requests.average, 0)} req/s) after a ${WARMUP_S} s warm-up of ${warmUp.result.requests.total}, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; ${errors} errors/timeouts, ${wrong.length} wrong answers of ${judged} judged; statuses ${JSON.stringify(statuses)}; ${distinctSent} distinct digests in all`,
      value: errors + wrong.length,
      unit: 'errors',
      bar: '0 errors, 0 wrong answers',
      ok: errors === 0 && wrong.length === 0 && judged > 0,
      details: {
        latency: result.latency,
        requests: result.requests,
        errors: result.errors,
        timeouts: result.timeouts,
        wrong: wrong.filter(Boolean).slice(0, 10),
      },
    });
    expect(wrong.filter(Boolean).slice(0, 10)).toEqual([]);
    expect(errors).toBe(0);
    expect(judged).toBeGreaterThanOrEqual(result.requests.total);

    // memory: RSS moves in a saw-tooth (V8's young generation fills and is collected every few seconds), so each
    // end is the median of a 10 s window: the first 10 s of the measured run against the last 10 s
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const warm = median(rss.filter((x) => x.t < 10).map((x) => x.kib));
    const end = median(rss.filter((x) => x.t >= DURATION_S - 10).map((x) => x.kib));
    const growth = (end - warm) / warm;
    const heap = caches.map((c) => c.heapUsedMiB);
    figures.record({
      check: 'load: redirector memory after warm-up',
      figure: `RSS ${round(warm / 1024, 1)} MiB (median of the first 10 s after the ${WARMUP_S} s warm-up) → ${round(end / 1024, 1)} MiB (last 10 s): ${growth >= 0 ? '+' : ''}${round(growth * 100, 1)}% (min ${round(Math.min(...rss.map((x) => x.kib)) / 1024, 1)}, max ${round(Math.max(...rss.map((x) => x.kib)) / 1024, 1)} MiB over ${rss.length} samples; V8 heap in use ${Math.min(...heap)}–${Math.max(...heap)} MiB)`,
      value: round(growth * 100, 1),
      unit: '%',
      bar: '< 10%',
      ok: growth < 0.1,
      details: { rss, heapUsedMiB: heap },
    });

    const overPositive = caches.filter((c) => c.positive > c.positiveMax);
    const overNegative = caches.filter((c) => c.negative > c.negativeMax);
    const last = caches[caches.length - 1]!;
    figures.record({
      check: 'load: blob caches under a stream of distinct digests',
      figure: `${distinctSent} distinct digests (${fake.heads()} HEADs at the stand-in bucket); positive cache max ${Math.max(...caches.map((c) => c.positive))} of ${last.positiveMax}, negative max ${Math.max(...caches.map((c) => c.negative))} of ${last.negativeMax} over ${caches.length} samples`,
      value: overPositive.length + overNegative.length,
      unit: 'samples over the bound',
      bar: '0 samples over the bound',
      ok: overPositive.length + overNegative.length === 0,
      details: { caches },
    });
    expect(growth).toBeLessThan(0.1);
    expect(overPositive).toEqual([]);
    expect(overNegative).toEqual([]);
    // the stream overfilled both caches: the bound, not the input, is what held them
    if (!SOAK) expect(distinctSent / 2).toBeGreaterThan(last.positiveMax);
  });
});

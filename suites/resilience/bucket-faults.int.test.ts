/**
 * Bucket faults: a bucket answers 403, 500 or 503, hangs, or resets connections.
 *
 * Per fault, against a fresh redirector (cold caches, closed breakers) configured like the stack's
 * (RESILIENCE_REDIRECTOR_ENV: 250 ms HEAD deadline, breaker after 5 failures, 2 s cool-down):
 *  1. every measured blob request is followed by a control request on the same connection pool: a redirect that
 *     needs no HEAD (a manifest). "Added latency at p99" is p99(blob redirects) − p99(controls), so the noise of a
 *     shared 2-core machine is in both and cancels;
 *  2. the fault goes on every bucket (`bucket:*`); while failing, every blob request (one vantage per bucket, all
 *     buckets at once, each bucket's first 5 blobs in sequence) must be a 307 upstream, and the latency a HEAD adds,
 *     p99, must stay within BLOB_CHECK_TIMEOUT_MS + 50 ms; a full pull through another vantage must succeed;
 *  3. then, every breaker being open: 40 more blobs per bucket, 4 requests at a time, well inside the cool-down: no
 *     HEAD reaches a bucket and the added latency is under 5 ms, p99;
 *  4. the fault is cleared: every bucket's blob redirects go back to the bucket (its breaker closes after the
 *     cool-down's trial HEAD); the time that takes is the figure.
 * A 403 is S3's "no such key" for anonymous clients, so it is a miss, not a failure: the breaker stays closed and
 * each miss is cached for BLOB_CACHE_NEGATIVE_TTL_S; recovery is that TTL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientForRoute,
  primaryImage,
  pullImage,
  splitRef,
  vantageRoute,
  type Fault,
  type Vantage,
} from '../../harness/src/index.js';
import { FigureLog } from './support/figures.js';
import { metricValue, scrape } from './support/metrics-scrape.js';
import { startOwnRedirector, type OwnRedirector } from './support/own-redirector.js';
import { TimedClient, round, runPool, sleep, summarize, type TimedAnswer } from './support/timed-client.js';
import {
  FaultsClient,
  bucketBaseOf,
  bucketNameOf,
  digestsIn,
  vantage,
  vantagePerBucket,
  world,
  xffFor,
} from './support/world.js';

const W = world();
const target = W.target;
const faults = new FaultsClient(W.faultsUrl);
const figures = new FigureLog('bucket-faults');
const TIMEOUT_MS = Number(W.redirectorEnv.BLOB_CHECK_TIMEOUT_MS);
const THRESHOLD = Number(W.redirectorEnv.BREAKER_FAILURE_THRESHOLD);
const COOLDOWN_MS = Number(W.redirectorEnv.BREAKER_COOLDOWN_MS);
const NEGATIVE_TTL_MS = Number(W.redirectorEnv.BLOB_CACHE_NEGATIVE_TTL_S) * 1000;
const CONCURRENCY = 4;
/** delay between the starts of the buckets' failing-phase streams */
const STAGGER_MS = 10;
/** blob requests per bucket after its breaker opened (all of them take well under the cool-down) */
const OPEN_PER_BUCKET = 40;

/** the vantage whose pull must succeed while its bucket fails; its bucket is left out of the latency samples */
const PULL_VANTAGE = 'aws-us-east-1';

const FAULTS: { label: string; fault: Fault; opensBreaker: boolean }[] = [
  { label: '403', fault: { kind: 'status', status: 403 }, opensBreaker: false },
  { label: '500', fault: { kind: 'status', status: 500 }, opensBreaker: true },
  { label: '503', fault: { kind: 'status', status: 503 }, opensBreaker: true },
  { label: 'hang', fault: { kind: 'hang' }, opensBreaker: true },
  { label: 'reset', fault: { kind: 'reset' }, opensBreaker: true },
];

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-canary-resilience-faults-'));
});

afterAll(async () => {
  await faults.clear();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const pullBase = bucketBaseOf(target, vantage(target, PULL_VANTAGE))!;
const measured = vantagePerBucket(target).filter(
  (b) => b.base !== pullBase && digestsIn(target, b.base).length >= THRESHOLD + 2,
);
const image = primaryImage(target)!;
const { repository: REPO, tag: TAG } = splitRef(image.ref);

function blobPath(digest: string): string {
  return `/v2/${REPO}/blobs/${digest}`;
}

async function sendFrom(client: TimedClient, v: Vantage, path: string): Promise<TimedAnswer> {
  return client.send(path, { headers: { 'x-forwarded-for': xffFor(target, v) } });
}

const sign = (x: number) => (x >= 0 ? '+' : '');

interface Sample {
  answer: TimedAnswer;
  control: TimedAnswer;
  /** the blob's position in its bucket's sequence: below THRESHOLD it paid a HEAD */
  k: number;
  bucket: string;
}

function isUpstream(a: TimedAnswer): boolean {
  return a.status === 307 && a.location !== null && a.location.startsWith(`${target.upstream}/v2/`);
}

/**
 * A redirect that needs no HEAD (a manifest, same client and connection pool): sent next to every measured blob
 * request, so both see the same machine. "Added latency at p99" is p99(blob) − p99(these controls).
 */
function control(client: TimedClient, v: Vantage): Promise<TimedAnswer> {
  return sendFrom(client, v, `/v2/${REPO}/manifests/${TAG}`);
}

/** p99 of the measured requests minus p99 of their interleaved controls (both in ms). */
function addedAtP99(
  measuredMs: number[],
  controlMs: number[],
): { added: number; measured: ReturnType<typeof summarize>; control: ReturnType<typeof summarize> } {
  const m = summarize(measuredMs);
  const c = summarize(controlMs);
  return { added: m.p99 - c.p99, measured: m, control: c };
}

describe.sequential('bucket faults: blob redirects fall back upstream, the breaker bounds the cost, and closes again', () => {
  for (const { label, fault, opensBreaker } of FAULTS) {
    it(`bucket ${label}`, async () => {
      const r: OwnRedirector = await startOwnRedirector(target, dir, { name: `faults-${label}`, env: W.redirectorEnv });
      const client = new TimedClient(r.url, { connections: measured.length + 2 });
      try {
        // warm the connections and the JIT before anything is measured
        await runPool(200, CONCURRENCY, (i) => control(client, measured[i % measured.length]!.vantage));
        await faults.resetLog();
        await faults.set('bucket:*', fault);

        // 2: every bucket at once, each in sequence: THRESHOLD distinct blobs pay a failing HEAD (for 403: a miss),
        // which opens its breaker. Meanwhile a full pull through PULL_VANTAGE.
        const pullV = vantage(r.target, PULL_VANTAGE);
        const pullP = pullImage(
          clientForRoute(vantageRoute(r.target, pullV), { headersTimeoutMs: 10_000 }),
          REPO,
          TAG,
          { failFast: false },
        );
        const phaseA = performance.now();
        const lastFailingSentAt: number[] = [];
        const streams = await runPool(measured.length, measured.length, async (b) => {
          // staggered starts: clients do not arrive in lock-step, and 31 HEAD deadlines expiring in the same
          // millisecond would measure the burst, not the deadline
          await sleep(b * STAGGER_MS);
          const { vantage: v, base: bucket } = measured[b]!;
          const digests = digestsIn(target, bucket);
          const out: Sample[] = [];
          for (let k = 0; k < THRESHOLD; k++) {
            // the breaker cannot open before the request that makes its THRESHOLD-th HEAD is sent
            if (k === THRESHOLD - 1) lastFailingSentAt[b] = performance.now();
            out.push({
              answer: await sendFrom(client, v, blobPath(digests[k]!)),
              control: await control(client, v),
              k,
              bucket,
            });
          }
          return out;
        });
        // 3: right after, OPEN_PER_BUCKET more per bucket, CONCURRENCY at a time: every breaker is open now, and
        // this phase ends long before the first cool-down does, so no half-open trial falls into it
        const open = await runPool(OPEN_PER_BUCKET * measured.length, CONCURRENCY, async (i): Promise<Sample> => {
          const { vantage: v, base: bucket } = measured[i % measured.length]!;
          const digests = digestsIn(target, bucket);
          const k = THRESHOLD + Math.floor(i / measured.length);
          return {
            answer: await sendFrom(client, v, blobPath(digests[k % digests.length]!)),
            control: await control(client, v),
            k,
            bucket,
          };
        });
        const phasesEnd = performance.now();
        const phasesMs = phasesEnd - phaseA;
        // from the earliest moment any breaker can have opened to the end of phase 3
        const sinceFirstOpenMs = phasesEnd - Math.min(...lastFailingSentAt);
        const samples = [...streams.flat(), ...open];
        const pull = await pullP;
        expect(
          samples
            .filter((s) => !isUpstream(s.answer))
            .map((s) => `${s.bucket} #${s.k}: ${s.answer.status} ${s.answer.location ?? s.answer.error}`),
        ).toEqual([]);

        const failing = samples.filter((s) => s.k < THRESHOLD);
        const p1 = addedAtP99(
          failing.map((s) => s.answer.ms),
          failing.map((s) => s.control.ms),
        );
        figures.record({
          check: `bucket ${label}: added latency while failing`,
          figure: `p99 ${sign(p1.added)}${round(p1.added, 1)} ms (${p1.measured.n} blob redirects that paid a HEAD: p50 ${round(p1.measured.p50, 1)}, p99 ${round(p1.measured.p99, 1)} ms; interleaved no-HEAD redirects: p99 ${round(p1.control.p99, 1)} ms); all ${samples.length} blob redirects went upstream`,
          value: round(p1.added, 1),
          unit: 'ms',
          bar: `≤ ${TIMEOUT_MS + 50} ms`,
          ok: p1.added <= TIMEOUT_MS + 50,
          details: p1,
        });
        expect(p1.added).toBeLessThanOrEqual(TIMEOUT_MS + 50);

        const pullErrors = pull.errors.map((e) => `${e.code}: ${e.message}`);
        const blobsUpstream = pull.blobs.filter((b) =>
          b.hops[0]?.location?.startsWith(`${target.upstream}/v2/`),
        ).length;
        figures.record({
          check: `bucket ${label}: a full pull while its bucket fails`,
          figure: `${pull.ok ? 'succeeded' : 'FAILED'}: ${pull.blobs.length} blobs (${blobsUpstream} redirected upstream), ${pull.bytes} bytes verified, in ${Math.round(pull.durationMs)} ms`,
          value: pull.ok ? 0 : 1,
          unit: 'failed pulls',
          bar: '0 failed pulls',
          ok: pull.ok,
          details: { errors: pullErrors },
        });
        expect(pullErrors).toEqual([]);
        expect(pull.ok).toBe(true);

        const heads = await faults.count({ front: 'buckets', method: 'HEAD' });
        const m = await scrape(r.adminUrl);
        if (opensBreaker) {
          const p2 = addedAtP99(
            open.map((s) => s.answer.ms),
            open.map((s) => s.control.ms),
          );
          // exactly THRESHOLD HEADs per measured bucket reached it; the breaker kept every later request away
          const perBucketHeads = await Promise.all(
            measured.map((b) => faults.count({ front: 'buckets', method: 'HEAD', scope: bucketNameOf(b.base) })),
          );
          const extra = perBucketHeads.reduce((n, h) => n + (h - THRESHOLD), 0);
          figures.record({
            check: `bucket ${label}: added latency once the breaker is open`,
            figure: `p99 ${sign(p2.added)}${round(p2.added, 2)} ms (${p2.measured.n} blob redirects: p50 ${round(p2.measured.p50, 2)}, p99 ${round(p2.measured.p99, 2)} ms; interleaved no-HEAD redirects: p50 ${round(p2.control.p50, 2)}, p99 ${round(p2.control.p99, 2)} ms); HEADs per bucket: ${THRESHOLD} while failing, ${extra} after the breaker opened`,
            value: round(p2.added, 2),
            unit: 'ms',
            bar: '< 5 ms, 0 HEADs while open',
            ok: p2.added < 5 && extra === 0,
            details: { ...p2, perBucketHeads, phasesMs, sinceFirstOpenMs },
          });
          // no breaker's cool-down ended within phase 3 (a half-open trial would send a HEAD): none opened before
          // its bucket's THRESHOLD-th failing request was sent
          expect(sinceFirstOpenMs).toBeLessThan(COOLDOWN_MS);
          expect(perBucketHeads).toEqual(measured.map(() => THRESHOLD));
          expect(p2.added).toBeLessThan(5);
          expect(metricValue(m, 'redirector_breaker_state', { state: 'open' })).toBeGreaterThanOrEqual(measured.length);
        } else {
          // a 4xx is a miss: each distinct blob paid one HEAD (repeats are negative-cache answers); no breaker opened
          const distinct = measured.reduce(
            (n, b) => n + Math.min(THRESHOLD + OPEN_PER_BUCKET, digestsIn(target, b.base).length),
            0,
          );
          expect(heads).toBeGreaterThanOrEqual(distinct);
          expect(metricValue(m, 'redirector_breaker_state', { state: 'open' })).toBe(0);
          figures.record({
            check: `bucket ${label}: breaker`,
            figure: `stayed closed (a 4xx is S3's answer for a missing key): ${heads} HEADs for ${samples.length} blob redirects of ${distinct} distinct blobs (+ the pull's), each miss cached for ${NEGATIVE_TTL_MS / 1000} s`,
            value: metricValue(m, 'redirector_breaker_state', { state: 'open' }),
            unit: 'open breakers',
            bar: '0 (4xx is a miss, not a failure)',
            ok: true,
          });
        }

        // 4: recovery. Poll each bucket with a blob it holds until the redirect points at the bucket again.
        await faults.clear('bucket:*');
        const cleared = performance.now();
        const recoveredAfter = await runPool(measured.length, CONCURRENCY, async (b) => {
          const { vantage: v, base: bucket } = measured[b]!;
          const digest = digestsIn(target, bucket)[0]!;
          for (;;) {
            const a = await sendFrom(client, v, blobPath(digest));
            expect(a.status, a.error).toBe(307);
            if (a.location === `${bucket}/containers/images/${digest}`) return performance.now() - cleared;
            if (performance.now() - cleared > COOLDOWN_MS + NEGATIVE_TTL_MS + 5_000) return Number.POSITIVE_INFINITY;
            await sleep(50);
          }
        });
        const slowest = Math.max(...recoveredAfter);
        const bound = opensBreaker ? COOLDOWN_MS + TIMEOUT_MS + 500 : NEGATIVE_TTL_MS + 500;
        const after = await scrape(r.adminUrl);
        const stillOpen =
          metricValue(after, 'redirector_breaker_state', { state: 'open' }) +
          metricValue(after, 'redirector_breaker_state', { state: 'half-open' });
        figures.record({
          check: `bucket ${label}: recovery after the fault is cleared`,
          figure: `every bucket's blob redirects went back to the bucket within ${Math.round(slowest)} ms (${opensBreaker ? `breaker cool-down ${COOLDOWN_MS} ms` : `negative TTL ${NEGATIVE_TTL_MS} ms`}); ${stillOpen} breakers left open`,
          value: Math.round(slowest),
          unit: 'ms',
          bar: `≤ ${bound} ms, 0 breakers open`,
          ok: slowest <= bound && stillOpen === 0,
        });
        expect(slowest).toBeLessThanOrEqual(bound);
        expect(stillOpen).toBe(0);
      } finally {
        await faults.clear();
        await client.close();
        await r.stop();
      }
    });
  }
});

/**
 * The case a cold redirector never shows: the bucket starts failing AFTER its blobs were cached as present. A
 * cached "yes" needs no HEAD, so nothing tells the breaker; the redirector keeps sending clients to a bucket that
 * answers 503 (archeio: for the life of the instance; a positive TTL: for up to that TTL). The figure is how long
 * blob redirects keep pointing at the failing bucket, and whether a pull started after that succeeds.
 */
describe.sequential('a bucket that fails after its blobs were cached as present', () => {
  it('stops receiving blob redirects within the revalidation interval plus the HEAD deadline', async () => {
    const env = { ...W.redirectorEnv, BLOB_CACHE_REVALIDATE_MS: '500' };
    const revalidateMs = Number(env.BLOB_CACHE_REVALIDATE_MS);
    const r = await startOwnRedirector(target, dir, { name: 'faults-warm', env });
    const client = new TimedClient(r.url, { connections: 4 });
    const v = vantage(r.target, 'aws-eu-west-1');
    const bucket = bucketBaseOf(target, v)!;
    try {
      const warm = await pullImage(clientForRoute(vantageRoute(r.target, v)), REPO, TAG);
      expect(warm.ok).toBe(true);
      const digests = warm.blobs.map((b) => b.digest);
      for (const d of digests) {
        const a = await sendFrom(client, v, blobPath(d));
        expect(a.location, 'cached as present before the fault').toBe(`${bucket}/containers/images/${d}`);
      }

      await faults.set(`bucket:${bucketNameOf(bucket)}`, { kind: 'status', status: 503 });
      const faultOn = performance.now();
      const limitMs = revalidateMs + TIMEOUT_MS + 4_000;
      let lastToBucket = -1;
      let sent = 0;
      let toBucket = 0;
      // a client fetching the cached blobs every 20 ms, for as long as the redirector keeps pointing at the bucket
      while (performance.now() - faultOn < limitMs) {
        const d = digests[sent % digests.length]!;
        const a = await sendFrom(client, v, blobPath(d));
        sent++;
        expect(a.status, a.error).toBe(307);
        if (a.location === `${bucket}/containers/images/${d}`) {
          toBucket++;
          lastToBucket = performance.now() - faultOn;
        } else if (performance.now() - faultOn > lastToBucket + 1_000 && sent > 20) break;
        await sleep(20);
      }
      const exposureMs = lastToBucket < 0 ? 0 : lastToBucket;
      const pull = await pullImage(clientForRoute(vantageRoute(r.target, v)), REPO, TAG, { failFast: false });
      const bound = revalidateMs + TIMEOUT_MS + 250;
      figures.record({
        check: 'bucket 503 after its blobs were cached: exposure',
        figure: `blob redirects kept pointing at the failing bucket for ${Math.round(exposureMs)} ms (${toBucket} of ${sent} redirects; BLOB_CACHE_REVALIDATE_MS ${revalidateMs}); a pull started afterwards ${pull.ok ? 'succeeded' : `FAILED (${pull.errors.map((e) => e.code).join(', ')})`}`,
        value: Math.round(exposureMs),
        unit: 'ms',
        bar: `≤ ${bound} ms, and the pull after it succeeds`,
        ok: exposureMs <= bound && pull.ok,
        details: { toBucket, sent, errors: pull.errors.map((e) => e.message) },
      });
      expect(exposureMs).toBeLessThanOrEqual(bound);
      expect(pull.ok).toBe(true);
    } finally {
      await faults.clear();
      await client.close();
      await r.stop();
    }
  });
});

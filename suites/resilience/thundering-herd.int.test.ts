/**
 * Thundering herd: 5,000 concurrent requests for one uncached blob cause exactly 1 HEAD at the bucket;
 * 5,000 for an absent blob within the negative TTL cause 1 HEAD. archeio sends one HEAD per request for a miss and
 * has no coalescing (docs/reference/archeio.md#existence-check-and-cache).
 *
 * The HEAD count is read at the bucket's faults front (what the bucket saw), not from the redirector. The bucket is
 * made slow for that one digest (a `delay` fault) so that all 5,000 requests are in flight while the single HEAD is:
 * the single-flight path is what answers them, not the cache the HEAD fills afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FigureLog } from './support/figures.js';
import { metricValue, scrape } from './support/metrics-scrape.js';
import { startOwnRedirector, type OwnRedirector } from './support/own-redirector.js';
import { round, summarize } from './support/timed-client.js';
import {
  FaultsClient,
  bucketBaseOf,
  bucketNameOf,
  digestsIn,
  syntheticDigest,
  vantage,
  world,
  xffFor,
} from './support/world.js';

const W = world();
const target = W.target;
const faults = new FaultsClient(W.faultsUrl);
const figures = new FigureLog('thundering-herd');
const HERD = 5_000;
const BUCKET_DELAY_MS = 3_000;

let dir: string;
let r: OwnRedirector;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-canary-resilience-herd-'));
  // production's cache settings (300 s negative TTL); a HEAD deadline above the injected bucket delay
  r = await startOwnRedirector(target, dir, {
    name: 'herd',
    env: { BLOB_CHECK_TIMEOUT_MS: '5000', LOG_LEVEL: 'warn' },
  });
});

afterAll(async () => {
  await faults.clear();
  await r?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * `count` requests at once, each on its own connection (node answers pipelined requests one at a time), or over
 * `connections` connections when fewer are enough (a later wave, answered from the cache).
 */
async function herd(url: string, path: string, xff: string, count: number, connections = count) {
  const pool = new Pool(url, {
    connections,
    pipelining: Math.ceil(count / connections),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const started = performance.now();
  try {
    const answers = await Promise.all(
      Array.from({ length: count }, async () => {
        const t = performance.now();
        try {
          const res = await pool.request({ path, method: 'GET', headers: { 'x-forwarded-for': xff } });
          await res.body.dump();
          return { status: res.statusCode, location: String(res.headers.location ?? ''), ms: performance.now() - t };
        } catch (err) {
          return { status: 0, location: (err as Error).message, ms: performance.now() - t };
        }
      }),
    );
    return { answers, wallMs: performance.now() - started };
  } finally {
    await pool.close();
  }
}

describe.sequential('thundering herd', () => {
  const v = vantage(target, 'aws-us-east-1');
  const bucket = bucketBaseOf(target, v)!;
  const xff = xffFor(target, v);

  it(`${HERD} concurrent requests for one uncached blob: exactly 1 HEAD at the bucket`, async () => {
    const digest = digestsIn(target, bucket)[0]!;
    await faults.set(`bucket:${bucketNameOf(bucket)}`, { kind: 'delay', ms: BUCKET_DELAY_MS, digest });
    const before = await faults.count({ front: 'buckets', method: 'HEAD', digest });
    const { answers, wallMs } = await herd(r.url, `/v2/pause/blobs/${digest}`, xff, HERD);
    const heads = (await faults.count({ front: 'buckets', method: 'HEAD', digest })) - before;
    const m = await scrape(r.adminUrl);
    const coalesced = metricValue(m, 'redirector_blob_checks_coalesced_total');
    const wrong = answers.filter((a) => a.status !== 307 || a.location !== `${bucket}/containers/images/${digest}`);
    const lat = summarize(answers.map((a) => a.ms));
    figures.record({
      check: 'herd: one uncached blob',
      figure: `${heads} HEAD at the bucket for ${HERD} concurrent requests (${coalesced} waited on the HEAD in flight, the rest answered from the cache it filled); all ${HERD - wrong.length} redirected to the bucket; wall ${Math.round(wallMs)} ms, p99 ${round(lat.p99, 0)} ms with the bucket delayed ${BUCKET_DELAY_MS} ms`,
      value: heads,
      unit: 'HEADs',
      bar: '= 1',
      ok: heads === 1 && wrong.length === 0,
      details: { latency: lat, coalesced, wrong: wrong.slice(0, 5) },
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(heads).toBe(1);
    // most of the herd arrived while the HEAD was in flight (the bucket took BUCKET_DELAY_MS to answer)
    expect(coalesced).toBeGreaterThan(HERD / 2);
  });

  it(`${HERD} concurrent requests for an absent blob, then ${HERD} more within the negative TTL: 1 HEAD`, async () => {
    const digest = syntheticDigest(6, 5000);
    expect(digestsIn(target, bucket)).not.toContain(digest);
    await faults.set(`bucket:${bucketNameOf(bucket)}`, { kind: 'delay', ms: BUCKET_DELAY_MS, digest });
    const before = await faults.count({ front: 'buckets', method: 'HEAD', digest });
    const coalescedBefore = metricValue(await scrape(r.adminUrl), 'redirector_blob_checks_coalesced_total');
    const first = await herd(r.url, `/v2/pause/blobs/${digest}`, xff, HERD);
    const second = await herd(r.url, `/v2/pause/blobs/${digest}`, xff, HERD, 500);
    const heads = (await faults.count({ front: 'buckets', method: 'HEAD', digest })) - before;
    const m = await scrape(r.adminUrl);
    const coalesced = metricValue(m, 'redirector_blob_checks_coalesced_total') - coalescedBefore;
    const upstream = `${target.upstream}/v2/pause/blobs/${digest}`;
    const wrong = [...first.answers, ...second.answers].filter((a) => a.status !== 307 || a.location !== upstream);
    const negative = metricValue(m, 'redirector_blob_checks_total', { outcome: 'cached-missing' });
    figures.record({
      check: 'herd: one absent blob',
      figure: `${heads} HEAD at the bucket for ${2 * HERD} requests (${HERD} concurrent: ${coalesced} waited on the HEAD in flight; then ${HERD} more, ${negative} answered from the negative cache); all redirected upstream; walls ${Math.round(first.wallMs)} ms and ${Math.round(second.wallMs)} ms`,
      value: heads,
      unit: 'HEADs',
      bar: '= 1',
      ok: heads === 1 && wrong.length === 0,
      details: {
        first: summarize(first.answers.map((a) => a.ms)),
        second: summarize(second.answers.map((a) => a.ms)),
        coalesced,
        negative,
      },
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(heads).toBe(1);
    expect(negative).toBeGreaterThanOrEqual(HERD);
  });
});

/**
 * Shutdown: SIGTERM under load → 0 failed in-flight requests, and the process exits within the drain
 * limit (DRAIN_TIMEOUT_MS; Cloud Run sends SIGKILL 10 s after SIGTERM).
 *
 * A redirector of our own under two kinds of traffic when the signal arrives:
 *  - 16 keep-alive clients sending the mixed load back to back (load-mix.ts), every answer judged;
 *  - 50 blob requests that are certainly in flight: their bucket delays the existence HEAD by 1.5 s (a `delay`
 *    fault on that digest), and SIGTERM is sent while they wait.
 * Every request sent on an established connection must get its complete, correct answer. A connection attempt
 * refused after the listener closed is not an in-flight request (a load balancer sends those elsewhere); those are
 * counted apart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FigureLog } from './support/figures.js';
import { mixFor } from './support/load-mix.js';
import { startOwnRedirector, type OwnRedirector } from './support/own-redirector.js';
import { sleep } from './support/timed-client.js';
import { FaultsClient, bucketBaseOf, bucketNameOf, digestsIn, vantage, world, xffFor } from './support/world.js';

const W = world();
const target = W.target;
const faults = new FaultsClient(W.faultsUrl);
const figures = new FigureLog('shutdown');
const DRAIN_TIMEOUT_MS = 5_000;
const HEAD_DELAY_MS = 1_500;
const SLOW = 50;

let dir: string;
let r: OwnRedirector;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-canary-resilience-shutdown-'));
  r = await startOwnRedirector(target, dir, {
    name: 'shutdown',
    env: { DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS), BLOB_CHECK_TIMEOUT_MS: '4000', LOG_LEVEL: 'warn' },
  });
});

afterAll(async () => {
  await faults.clear();
  await r?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const errCode = (err: unknown): string => {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  return e.cause?.code ?? e.code ?? e.message ?? String(err);
};

describe.sequential('shutdown', () => {
  it('SIGTERM under load: no in-flight request fails, and the process exits within DRAIN_TIMEOUT_MS', async () => {
    const mix = mixFor(target, target.bucketMap);
    const v = vantage(target, 'aws-us-east-1');
    const bucket = bucketBaseOf(target, v)!;
    const slowDigest = digestsIn(target, bucket)[1]!;
    await faults.set(`bucket:${bucketNameOf(bucket)}`, { kind: 'delay', ms: HEAD_DELAY_MS, digest: slowDigest });

    const pool = new Pool(r.url, { connections: 16, keepAliveTimeout: 10_000 });
    const slowPool = new Pool(r.url, { connections: SLOW });
    let stop = false;
    let signalled = -1;
    const outcome = { ok: 0, wrong: [] as string[], refused: 0, failedInFlight: [] as string[], afterSignal: 0 };

    // 16 clients, back to back, until the listener refuses them
    let n = 0;
    const loops = Array.from({ length: 16 }, async () => {
      while (!stop) {
        const spec = mix[n++ % mix.length]!;
        const sentAt = performance.now();
        try {
          const res = await pool.request({ path: spec.path, method: 'GET', headers: { 'x-forwarded-for': spec.xff } });
          await res.body.dump();
          if (signalled >= 0 && sentAt >= signalled) outcome.afterSignal++;
          const loc = res.headers.location ?? null;
          if (res.statusCode === spec.status && loc === spec.location) outcome.ok++;
          else outcome.wrong.push(`${spec.path}: ${res.statusCode} ${String(loc)}`);
        } catch (err) {
          const code = errCode(err);
          if (code === 'ECONNREFUSED') {
            outcome.refused++;
            return; // the listener is gone: this client is done
          }
          outcome.failedInFlight.push(
            `${spec.kind} ${spec.path} sent ${signalled < 0 ? 'before' : `${Math.round(sentAt - signalled)} ms after`} SIGTERM: ${code}`,
          );
        }
      }
    });

    await sleep(2_000); // under load
    // 50 requests that will be waiting on the delayed HEAD when the signal arrives
    const slow = Array.from({ length: SLOW }, async () => {
      try {
        const res = await slowPool.request({
          path: `/v2/pause/blobs/${slowDigest}`,
          method: 'GET',
          headers: { 'x-forwarded-for': xffFor(target, v) },
        });
        await res.body.dump();
        return res.statusCode === 307 && res.headers.location === `${bucket}/containers/images/${slowDigest}`
          ? 'ok'
          : `${res.statusCode} ${String(res.headers.location)}`;
      } catch (err) {
        return errCode(err);
      }
    });
    await sleep(300);
    signalled = performance.now();
    process.kill(r.pid, 'SIGTERM');
    const exit = await r.process.exited;
    const exitMs = performance.now() - signalled;
    const slowResults = await Promise.all(slow);
    stop = true;
    await Promise.all(loops);
    await pool.close().catch(() => {});
    await slowPool.close().catch(() => {});

    const slowFailed = slowResults.filter((s) => s !== 'ok');
    const failed = outcome.failedInFlight.length + slowFailed.length + outcome.wrong.length;
    figures.record({
      check: 'shutdown: SIGTERM under load',
      figure: `${failed} failed in-flight requests: ${outcome.ok} answered correctly (${outcome.afterSignal} of them sent after SIGTERM, on open connections), ${SLOW - slowFailed.length}/${SLOW} requests waiting on a ${HEAD_DELAY_MS} ms HEAD completed; ${outcome.refused} connection attempts refused after the listener closed; exit ${Math.round(exitMs)} ms after SIGTERM (${exit})`,
      value: failed,
      unit: 'failed in-flight requests',
      bar: `0, exit ≤ ${DRAIN_TIMEOUT_MS} ms`,
      ok: failed === 0 && exitMs <= DRAIN_TIMEOUT_MS && /code 0/.test(exit),
      details: {
        failedInFlight: outcome.failedInFlight.slice(0, 10),
        slowFailed,
        wrong: outcome.wrong.slice(0, 10),
        exitMs,
      },
    });
    expect(outcome.failedInFlight.slice(0, 10)).toEqual([]);
    expect(slowFailed).toEqual([]);
    expect(outcome.wrong.slice(0, 10)).toEqual([]);
    expect(exit).toMatch(/code 0/);
    expect(exitMs).toBeLessThanOrEqual(DRAIN_TIMEOUT_MS);
    // the drain waited for the delayed HEADs, not less
    expect(exitMs).toBeGreaterThanOrEqual(HEAD_DELAY_MS - 300 - 100);
  });
});

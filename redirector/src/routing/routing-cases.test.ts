// Runs every case of fixtures/routing-cases/*.json through the real handler (real range data, real router), with
// a fake bucket (the case's `bucket`), a manual clock and the log captured. Format: docs/request-handling.md.
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../blobs/index.js';
import { loadConfig } from '../config.js';
import { BUNDLED_RANGE_SOURCES, loadRangeData, type RangeData } from '../ranges/index.js';
import { readRoutingCases, type RoutingCase } from './routing-cases.js';
import { assembleRedirector, type Redirector } from '../server/index.js';

let data: RangeData;
beforeAll(() => {
  data = loadRangeData(BUNDLED_RANGE_SOURCES);
});

for (const { file, doc } of readRoutingCases()) {
  describe(`routing cases: ${file}`, () => {
    let r: Redirector;
    const clock = new ManualClock();
    const lines: string[] = [];
    let bucket: NonNullable<RoutingCase['bucket']> = 'present';
    const env = {
      BLOB_CACHE_POSITIVE_TTL_S: '0',
      BLOB_CACHE_NEGATIVE_TTL_S: '0',
      BREAKER_FAILURE_THRESHOLD: '1',
      ...doc.env,
    };

    beforeAll(() => {
      r = assembleRedirector(loadConfig(env), {
        rangeData: data,
        clock,
        logDestination: { write: (s: string) => void lines.push(s) },
        fetcher: (_url, signal) => {
          switch (bucket) {
            case 'present':
              return Promise.resolve(200);
            case 'absent':
              return Promise.resolve(404);
            case 'forbidden':
              return Promise.resolve(403);
            case 'timeout':
              return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
            default:
              return Promise.resolve(503);
          }
        },
      });
    });

    const send = async (c: RoutingCase) => {
      const pending = r.handler({
        method: c.method,
        target: c.path,
        xff: c.xff,
        remoteAddress: c.remote ?? '127.0.0.1',
      });
      if (bucket === 'timeout') clock.advance(r.config.blobCheckTimeoutMs);
      return pending;
    };

    it('has cases', () => expect(doc.cases.length).toBeGreaterThan(0));

    for (const c of doc.cases) {
      it(c.name, async () => {
        if (c.bucket === 'breaker-open') {
          bucket = 'error';
          await send(c);
        }
        bucket = c.bucket === 'breaker-open' ? 'present' : (c.bucket ?? 'present');
        lines.length = 0;
        const reply = await send(c);
        // let open breakers half-open again before the next case
        clock.advance(r.config.breakerCooldownMs + 1);

        const decisions = lines
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((l) => l.msg === 'decision');
        expect(decisions).toHaveLength(1);
        const logged = decisions[0]!;
        expect({ reason: logged.reason, status: reply.status }).toEqual({
          reason: c.expect.reason,
          status: c.expect.status,
        });
        const headers = new Map<string, string>();
        for (let i = 0; i < reply.headers.length; i += 2)
          headers.set(reply.headers[i]!.toLowerCase(), reply.headers[i + 1]!);
        if (c.expect.location !== undefined) expect(headers.get('location')).toBe(c.expect.location);
        if (reply.status !== 307) expect(headers.has('location')).toBe(false);
        for (const [name, value] of Object.entries(c.expect.headers ?? {}))
          expect(headers.get(name) ?? null).toBe(value);
        if (c.expect.ociCode !== undefined)
          expect((JSON.parse(reply.body) as { errors: { code: string }[] }).errors[0]!.code).toBe(c.expect.ociCode);
        if (c.expect.body !== undefined) expect(reply.body).toBe(c.expect.body);
        if (c.expect.client !== undefined) {
          expect({ cloud: logged.cloud, region: logged.region, prefix: logged.prefix }).toEqual(c.expect.client);
        }
      });
    }
  });
}

/**
 * Range data: a refresh with corrupt, truncated, older or suspiciously shrunken data is
 * rejected, the old table keeps serving, and `redirector_range_refresh_total{result="reject"}` shows it; a valid
 * refresh is picked up without a restart and without a failed request.
 *
 * A redirector of our own reads its range data from files in a temp dir, and re-reads them as its refresh sources
 * every RANGES_REFRESH_INTERVAL_S=1 s (docs/configuration.md). Each bad publication is written over the AWS file
 * (atomically: write then rename, as a downloader would), held until the redirector has rejected it, then the good
 * file goes back. Every bad publication would MOVE the probe vantage (aws-eu-west-1) to eu-west-3 if it were taken,
 * so "the old table keeps serving" is visible in the Location. Traffic runs the whole time.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRangeFiles } from '../../harness/src/index.js';
import { FigureLog } from './support/figures.js';
import { metricValue, scrape, type Sample } from './support/metrics-scrape.js';
import { startOwnRedirector, type OwnRedirector } from './support/own-redirector.js';
import { TimedClient, sleep, summarize } from './support/timed-client.js';
import { bucketBaseOf, digestsIn, vantage, world, xffFor } from './support/world.js';

const W = world();
const target = W.target;
const figures = new FigureLog('range-refresh');
const PROBE = vantage(target, 'aws-eu-west-1');
const FROM_REGION = 'eu-west-1';
const TO_REGION = 'eu-west-3';

interface AwsPrefix {
  ip_prefix: string;
  region: string;
  service: string;
  network_border_group: string;
}
interface AwsDoc {
  syncToken: string;
  createDate: string;
  prefixes: AwsPrefix[];
  ipv6_prefixes: unknown[];
}

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function contains(cidr: string, ip: string): boolean {
  const [net, len] = cidr.split('/') as [string, string];
  const bits = Number(len);
  const size = 2 ** (32 - bits);
  const start = Math.floor(v4ToInt(net) / size) * size;
  const x = v4ToInt(ip);
  return x >= start && x < start + size;
}
/** createDate text for a syncToken (Unix seconds), as AWS writes it */
function createDateOf(token: number): string {
  const d = new Date(token * 1000).toISOString();
  return `${d.slice(0, 10)}-${d.slice(11, 13)}-${d.slice(14, 16)}-${d.slice(17, 19)}`;
}
/** the publication with every prefix that holds the probe's address moved from FROM_REGION to TO_REGION */
function moved(doc: AwsDoc, syncToken: number): AwsDoc {
  return {
    ...doc,
    syncToken: String(syncToken),
    createDate: createDateOf(syncToken),
    prefixes: doc.prefixes.map((p) =>
      p.region === FROM_REGION && contains(p.ip_prefix, PROBE.ip)
        ? { ...p, region: TO_REGION, network_border_group: TO_REGION }
        : p,
    ),
  };
}

let dir: string;
let r: OwnRedirector;
let good: string;
let doc: AwsDoc;
let awsFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-canary-resilience-ranges-'));
  const bundled = projectRangeFiles();
  good = await readFile(bundled.aws, 'utf8');
  doc = JSON.parse(good) as AwsDoc;
  awsFile = join(dir, 'aws-ip-ranges.json');
  const gcpFile = join(dir, 'gcp-cloud.json');
  const azureFile = join(dir, 'azure-service-tags.json');
  await writeFile(awsFile, good);
  await writeFile(gcpFile, await readFile(bundled.gcp));
  await writeFile(azureFile, await readFile(bundled.azure));
  r = await startOwnRedirector(target, dir, {
    name: 'ranges',
    env: {
      AWS_IP_RANGES: awsFile,
      GCP_IP_RANGES: gcpFile,
      AZURE_IP_RANGES: azureFile,
      AWS_IP_RANGES_URL: awsFile,
      GCP_IP_RANGES_URL: gcpFile,
      AZURE_IP_RANGES_URL: azureFile,
      RANGES_REFRESH_INTERVAL_S: '1',
      LOG_LEVEL: 'warn',
    },
  });
});

afterAll(async () => {
  await r?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function publish(text: string): Promise<void> {
  const tmp = `${awsFile}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, awsFile);
}

const rejects = (m: Sample[]) => metricValue(m, 'redirector_range_refresh_total', { result: 'reject' });
const swaps = (m: Sample[]) => metricValue(m, 'redirector_range_refresh_total', { result: 'swap' });
const awsVersion = (m: Sample[]) =>
  m.find((s) => s.name === 'redirector_range_data_info' && s.labels.cloud === 'AWS')?.labels.version;

async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await read();
    if (done(value)) return { value, ms: performance.now() - started };
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe.sequential('range data refresh', () => {
  it('rejects corrupt, truncated, older and shrunken publications, keeps serving the old table, then swaps in a valid one without a failed request', async () => {
    const fromBase = bucketBaseOf(target, PROBE)!;
    const toBase = target.bucketMap.regions[TO_REGION]!;
    const digest = digestsIn(target, fromBase).find((d) => digestsIn(target, toBase).includes(d))!;
    const path = `/v2/pause/blobs/${digest}`;
    const atFrom = `${fromBase}/containers/images/${digest}`;
    const atTo = `${toBase}/containers/images/${digest}`;
    const client = new TimedClient(r.url, { connections: 4 });
    const xff = xffFor(target, PROBE);

    // traffic for the whole test: blob requests from the probe vantage and manifests, 4 at a time
    let phase: 'old' | 'either' | 'new' = 'old';
    let stop = false;
    const failures: string[] = [];
    const latencies: number[] = [];
    let sent = 0;
    const traffic = Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        while (!stop) {
          const blob = w % 2 === 0;
          const expectNow = phase;
          const a = await client.send(blob ? path : '/v2/pause/manifests/latest', {
            headers: { 'x-forwarded-for': xff },
          });
          sent++;
          latencies.push(a.ms);
          const okLocation =
            !blob ||
            (expectNow === 'old'
              ? a.location === atFrom
              : expectNow === 'new'
                ? a.location === atTo
                : a.location === atFrom || a.location === atTo);
          if (a.status !== 307 || !okLocation)
            failures.push(`${blob ? 'blob' : 'manifest'} in phase ${expectNow}: ${a.status} ${a.location ?? a.error}`);
        }
      }),
    );

    try {
      const m0 = await scrape(r.adminUrl);
      const version0 = awsVersion(m0);
      const token = Number(doc.syncToken);
      const shrunk: AwsDoc = {
        ...moved(doc, token + 60),
        prefixes: moved(doc, token + 60).prefixes.filter((_, i) => i % 2 === 0 || contains(_.ip_prefix, PROBE.ip)),
      };
      const bad: { label: string; text: string; reason: RegExp }[] = [
        {
          label: 'corrupt (not JSON)',
          text: `{"syncToken": "${token + 60}", "prefixes": [ {"ip_prefix": `,
          reason: /JSON/i,
        },
        {
          label: 'truncated (first half of a newer file)',
          text: JSON.stringify(moved(doc, token + 60), null, 2).slice(0, Math.floor(good.length / 2)),
          reason: /JSON/i,
        },
        { label: 'older (syncToken − 1 day)', text: JSON.stringify(moved(doc, token - 86_400)), reason: /older/ },
        {
          label: `shrunken (newer, ${Math.round((1 - shrunk.prefixes.length / doc.prefixes.length) * 100)}% of the IPv4 prefixes gone)`,
          text: JSON.stringify(shrunk),
          reason: /fewer/,
        },
      ];
      for (const b of bad) {
        const before = rejects(await scrape(r.adminUrl));
        const logFrom = r.process.lines().length;
        await publish(b.text);
        const { value: m, ms } = await waitFor(
          `${b.label} rejected`,
          () => scrape(r.adminUrl),
          (s) => rejects(s) > before,
        );
        const answer = await client.send(path, { headers: { 'x-forwarded-for': xff } });
        const kept = awsVersion(m) === version0 && answer.location === atFrom;
        // the redirector's own account (a warn line): why it refused
        const { value: line } = await waitFor(
          'the rejection logged',
          async () =>
            r.process
              .lines()
              .slice(logFrom)
              .find((l) => l.includes('range refresh rejected')) ?? '',
          (l) => l !== '',
          3_000,
        );
        const reason = (() => {
          try {
            return String((JSON.parse(line) as { reason?: unknown }).reason ?? '');
          } catch {
            return line;
          }
        })();
        figures.record({
          check: `range refresh: ${b.label}`,
          figure: `rejected ${Math.round(ms)} ms after it was written (redirector_range_refresh_total{result="reject"} ${before} → ${rejects(m)}; "${reason.slice(0, 140)}"); AWS version still ${awsVersion(m)}; the probe vantage's blob still routes to ${FROM_REGION}`,
          value: rejects(m) - before,
          unit: 'rejections',
          bar: '≥ 1 rejection, old table serving',
          ok: kept && b.reason.test(reason),
        });
        expect(awsVersion(m)).toBe(version0);
        expect(answer.location).toBe(atFrom);
        expect(reason).toMatch(b.reason);
        await publish(good);
      }
      expect(swaps(await scrape(r.adminUrl))).toBe(0);

      // the valid refresh: newer, same size, the probe's prefixes moved to TO_REGION
      const valid = moved(doc, token + 120);
      const swapsBefore = swaps(await scrape(r.adminUrl));
      phase = 'either';
      await publish(JSON.stringify(valid));
      const picked = await waitFor(
        'valid refresh picked up',
        () => client.send(path, { headers: { 'x-forwarded-for': xff } }),
        (a) => a.location === atTo,
      );
      phase = 'new';
      await sleep(500); // traffic on the new table for a while
      const m = await scrape(r.adminUrl);
      stop = true;
      await traffic;
      const lat = summarize(latencies);
      figures.record({
        check: 'range refresh: a valid publication',
        figure: `picked up ${Math.round(picked.ms)} ms after it was written, without a restart (AWS version ${version0} → ${awsVersion(m)}, swaps ${swapsBefore} → ${swaps(m)}); ${failures.length} failed or misrouted of ${sent} requests sent during the whole test (p99 ${Math.round(lat.p99 * 10) / 10} ms)`,
        value: failures.length,
        unit: 'failed requests',
        bar: '0 failed requests; picked up within 3 s (1 s interval + read, parse, build)',
        ok: failures.length === 0 && picked.ms <= 3_000,
        details: { failures: failures.slice(0, 10), latency: lat },
      });
      expect(awsVersion(m)).toBe(valid.createDate);
      expect(swaps(m)).toBe(swapsBefore + 1);
      expect(failures.slice(0, 10)).toEqual([]);
      expect(picked.ms).toBeLessThanOrEqual(3_000);
    } finally {
      stop = true;
      await traffic;
      await client.close();
    }
  });
});

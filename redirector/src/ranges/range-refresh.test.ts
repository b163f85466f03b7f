import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_RANGE_SOURCES } from './bundled-range-sources.js';
import { IpClassifier } from './ip-classifier.js';
import { loadRangeData, parseRangeTexts } from './load-range-data.js';
import type { RangeData, RangeSources } from './range-data.js';
import { RangeRefreshOptionsError, RangeRefresher, mergeRangeData, validateRefresh } from './range-refresh.js';
import type { RangeRefresherOptions } from './range-refresh.js';

// ---- small publications ----------------------------------------------------------------------------------------

function awsText(syncToken: number, prefixes: Array<[string, string]>): string {
  return JSON.stringify({
    syncToken: String(syncToken),
    createDate: '2026-07-29-08-27-05',
    prefixes: prefixes
      .filter(([p]) => !p.includes(':'))
      .map(([p, region]) => ({ ip_prefix: p, region, service: 'AMAZON' })),
    ipv6_prefixes: prefixes
      .filter(([p]) => p.includes(':'))
      .map(([p, region]) => ({ ipv6_prefix: p, region, service: 'AMAZON' })),
  });
}
function gcpText(syncToken: number, prefixes: Array<[string, string]>): string {
  return JSON.stringify({
    syncToken: String(syncToken),
    prefixes: prefixes.map(([p, scope]) => ({ [p.includes(':') ? 'ipv6Prefix' : 'ipv4Prefix']: p, scope })),
  });
}
function azureText(changeNumber: number, prefixes: Array<[string, string]>): string {
  const regions = [...new Set(prefixes.map(([, r]) => r))];
  return JSON.stringify({
    changeNumber,
    values: regions.map((r) => ({
      name: `AzureCloud.${r}`,
      properties: { region: r, addressPrefixes: prefixes.filter(([, x]) => x === r).map(([p]) => p) },
    })),
  });
}

const AWS_PREFIXES: Array<[string, string]> = Array.from({ length: 20 }, (_, i) => [
  `3.${i}.0.0/16`,
  i % 2 ? 'us-east-1' : 'eu-west-3',
]);
const SOURCES: RangeSources = { aws: 'mem:aws', gcp: 'mem:gcp', azure: 'mem:azure' };

interface Texts {
  aws: string;
  gcp: string;
  azure: string;
}
const BASE: Texts = {
  aws: awsText(100, AWS_PREFIXES),
  gcp: gcpText(1000, [['35.220.26.0/24', 'europe-north1']]),
  azure: azureText(0, [['13.69.0.0/17', 'westeurope']]),
};
const baseData = (): RangeData => parseRangeTexts(BASE, SOURCES);

// ---- validateRefresh ---------------------------------------------------------------------------------------------

describe('validateRefresh', () => {
  const prev = baseData();
  const next = (over: Partial<Texts>): RangeData => parseRangeTexts({ ...BASE, ...over }, SOURCES);

  it('equal versions everywhere: ok, unchanged', () => {
    expect(validateRefresh(prev, next({}), { maxShrink: 0.1 })).toEqual({ ok: true, changed: false });
  });

  it('one newer cloud: ok, changed', () => {
    expect(
      validateRefresh(prev, next({ gcp: gcpText(1001, [['35.220.26.0/24', 'europe-north1']]) }), { maxShrink: 0.1 }),
    ).toEqual({ ok: true, changed: true });
    expect(
      validateRefresh(prev, next({ azure: azureText(7, [['13.69.0.0/17', 'westeurope']]) }), { maxShrink: 0.1 }),
    ).toEqual({ ok: true, changed: true });
  });

  it('an older cloud is rejected, naming it and both versions', () => {
    const v = validateRefresh(prev, next({ aws: awsText(99, AWS_PREFIXES) }), { maxShrink: 0.1 });
    expect(v).toEqual({
      ok: false,
      reason:
        'AWS publication 2026-07-29-08-27-05 (order 99) is older than the serving 2026-07-29-08-27-05 (order 100)',
    });
  });

  it('an empty cloud is rejected', () => {
    expect(validateRefresh(prev, next({ gcp: gcpText(2000, []) }), { maxShrink: 1 })).toEqual({
      ok: false,
      reason: 'GCP publication 2000 has no prefixes',
    });
  });

  it('a cloud that shrinks by more than maxShrink is rejected; exactly maxShrink passes', () => {
    const shrunk = (n: number) => next({ aws: awsText(101, AWS_PREFIXES.slice(0, n)) });
    expect(validateRefresh(prev, shrunk(18), { maxShrink: 0.1 })).toEqual({ ok: true, changed: true }); // -10%
    expect(validateRefresh(prev, shrunk(17), { maxShrink: 0.1 })).toEqual({
      ok: false,
      reason:
        'AWS publication 2026-07-29-08-27-05 has 17 prefixes, 15.0% fewer than the serving 20; at most 10.0% may go at once',
    });
    // Shrinking without a new version is just as suspect.
    expect(validateRefresh(prev, next({ aws: awsText(100, AWS_PREFIXES.slice(0, 5)) }), { maxShrink: 0.1 }).ok).toBe(
      false,
    );
  });

  it('growth is fine', () => {
    expect(
      validateRefresh(prev, next({ aws: awsText(101, [...AWS_PREFIXES, ['99.0.0.0/8', 'us-west-2']]) }), {
        maxShrink: 0,
      }),
    ).toEqual({ ok: true, changed: true });
  });
});

describe('mergeRangeData', () => {
  it('takes each cloud from the newer side, the serving side on a tie', () => {
    const prev = baseData();
    const next = parseRangeTexts(
      {
        aws: awsText(101, [['4.0.0.0/8', 'us-west-2']]),
        gcp: gcpText(1000, [['34.0.0.0/8', 'global']]),
        azure: BASE.azure,
      },
      SOURCES,
    );
    const merged = mergeRangeData(prev, next);
    expect(merged.entries.filter((e) => e.cloud === 'AWS').map((e) => e.prefix)).toEqual(['4.0.0.0/8']);
    expect(merged.entries.filter((e) => e.cloud === 'GCP').map((e) => e.prefix)).toEqual(['35.220.26.0/24']);
    expect(merged.order).toEqual({ aws: 101, gcp: 1000, azure: 0 });
    expect(merged.versions).toEqual(prev.versions);
  });
});

// ---- RangeRefresher ----------------------------------------------------------------------------------------------

/** A refresher over an in-memory "server" whose publications the test edits; timers are captured, never run. */
function harness(opts: Partial<RangeRefresherOptions> = {}) {
  const texts: Texts = { ...BASE };
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const swaps: IpClassifier[] = [];
  const rejects: string[] = [];
  const initial = IpClassifier.build(baseData(), 'most-specific');
  const refresher = new RangeRefresher({
    sources: SOURCES,
    semantics: 'most-specific',
    initial,
    intervalMs: 60_000,
    maxShrink: 0.1,
    readText: async (source) => texts[source.slice(4) as keyof Texts],
    onSwap: (c) => swaps.push(c),
    onReject: (r) => rejects.push(r),
    setTimer: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (t) => {
      (t as { cleared: boolean }).cleared = true;
    },
    ...opts,
  });
  return { texts, timers, swaps, rejects, initial, refresher };
}

describe('RangeRefresher', () => {
  it('keeps serving the old table on corrupt, truncated, older or shrunken data', async () => {
    const h = harness();
    const bad: Array<[Partial<Texts>, RegExp]> = [
      [{ aws: '{"syncToken": "200", "prefixes": [}' }, /^AWS ranges mem:aws: invalid JSON at line 1 column 35: /],
      [
        { gcp: BASE.gcp.slice(0, 30) },
        /^GCP ranges mem:gcp: invalid JSON at line 1 column 31, where the text ends \(truncated\?\)/,
      ],
      [
        {
          azure: JSON.stringify({
            changeNumber: 5,
            values: [{ name: 'AzureCloud.x', properties: { region: 'x', addressPrefixes: ['300.0.0.0/8'] } }],
          }),
        },
        /values\[0\]\.properties\.addressPrefixes\[0\]: expected a CIDR prefix/,
      ],
      [
        { aws: awsText(50, AWS_PREFIXES) },
        /^AWS publication .* \(order 50\) is older than the serving .* \(order 100\)$/,
      ],
      [
        { aws: awsText(200, AWS_PREFIXES.slice(0, 10)) },
        /^AWS publication .* has 10 prefixes, 50\.0% fewer than the serving 20/,
      ],
      [{ gcp: gcpText(2000, []) }, /^GCP publication 2000 has no prefixes$/],
    ];
    for (const [over, reason] of bad) {
      Object.assign(h.texts, BASE, over);
      const r = await h.refresher.refreshOnce();
      expect(r.outcome).toBe('rejected');
      expect(r.reason).toMatch(reason);
      expect(h.refresher.current).toBe(h.initial);
      expect(h.refresher.current.classify('3.1.2.3')).toEqual({
        cloud: 'AWS',
        region: 'us-east-1',
        prefix: '3.1.0.0/16',
      });
    }
    expect(h.rejects).toHaveLength(bad.length);
    expect(h.swaps).toHaveLength(0);
  });

  it('swaps in a valid newer publication; the same version again is unchanged', async () => {
    const h = harness();
    h.texts.aws = awsText(101, [...AWS_PREFIXES, ['99.0.0.0/8', 'us-west-2']]);
    expect(h.refresher.current.classify('99.1.1.1')).toBeNull();
    expect(await h.refresher.refreshOnce()).toEqual({ outcome: 'swapped' });
    expect(h.swaps).toEqual([h.refresher.current]);
    expect(h.refresher.current).not.toBe(h.initial);
    expect(h.refresher.current.classify('99.1.1.1')).toEqual({
      cloud: 'AWS',
      region: 'us-west-2',
      prefix: '99.0.0.0/8',
    });
    expect(h.refresher.current.semantics).toBe('most-specific');
    expect(h.refresher.current.data.order.aws).toBe(101);
    expect(await h.refresher.refreshOnce()).toEqual({ outcome: 'unchanged' });
    expect(h.swaps).toHaveLength(1);
  });

  it('ignores changed content behind an unchanged version (per cloud)', async () => {
    const h = harness();
    h.texts.gcp = gcpText(1000, [
      ['35.220.26.0/24', 'europe-north1'],
      ['34.0.0.0/8', 'global'],
    ]);
    h.texts.aws = awsText(101, AWS_PREFIXES);
    expect((await h.refresher.refreshOnce()).outcome).toBe('swapped');
    expect(h.refresher.current.classify('34.1.1.1')).toBeNull();
  });

  it('rejects when a source cannot be read, and survives throwing listeners', async () => {
    const h = harness({
      readText: async (s) => {
        if (s === 'mem:gcp') throw new Error('connection refused');
        return BASE[s.slice(4) as keyof Texts];
      },
      onReject: () => {
        throw new Error('listener bug');
      },
    });
    expect(await h.refresher.refreshOnce()).toEqual({
      outcome: 'rejected',
      reason: 'cannot read the publications: connection refused',
    });
    const h2 = harness({
      onSwap: () => {
        throw new Error('listener bug');
      },
    });
    h2.texts.azure = azureText(1, [['13.69.0.0/17', 'westeurope']]);
    expect((await h2.refresher.refreshOnce()).outcome).toBe('swapped');
    expect(h2.refresher.current.data.versions.azure).toBe('1');
  });

  it('shares one attempt between concurrent callers', async () => {
    let reads = 0;
    const h = harness({
      readText: async (s) => {
        reads++;
        return BASE[s.slice(4) as keyof Texts];
      },
    });
    const [a, b] = [h.refresher.refreshOnce(), h.refresher.refreshOnce()];
    expect(a).toBe(b);
    await a;
    expect(reads).toBe(3);
    await h.refresher.refreshOnce();
    expect(reads).toBe(6);
  });

  it('runs on its timer, reschedules after each attempt, and stops', async () => {
    const h = harness();
    h.refresher.start();
    h.refresher.start(); // idempotent
    expect(h.timers).toHaveLength(1);
    expect(h.timers[0]!.ms).toBe(60_000);
    h.texts.aws = awsText(101, AWS_PREFIXES);
    h.timers[0]!.fn();
    await new Promise((r) => setImmediate(r));
    await h.refresher.refreshOnce(); // joins or follows the timer's attempt
    expect(h.swaps).toHaveLength(1);
    expect(h.timers).toHaveLength(2); // rescheduled
    h.refresher.stop();
    expect(h.timers[1]!.cleared).toBe(true);
    // A timer callback that was already running when stop() came does not reschedule.
    h.timers[1]!.fn();
    await h.refresher.refreshOnce();
    await new Promise((r) => setImmediate(r));
    expect(h.timers).toHaveLength(2);
  });

  it('stop() abandons an in-flight read', async () => {
    const started: AbortSignal[] = [];
    const h = harness({
      readText: (_s, signal) =>
        new Promise((_resolve, reject) => {
          started.push(signal);
          signal.addEventListener('abort', () => reject(signal.reason as Error));
        }),
    });
    const pending = h.refresher.refreshOnce();
    await new Promise((r) => setImmediate(r));
    expect(started).toHaveLength(3);
    h.refresher.stop();
    expect(await pending).toEqual({
      outcome: 'rejected',
      reason: 'cannot read the publications: range refresher stopped',
    });
    expect(h.refresher.current).toBe(h.initial);
  });

  it('validates its options', () => {
    const initial = IpClassifier.build(baseData(), 'archeio');
    const make = (o: Partial<RangeRefresherOptions>) => () =>
      new RangeRefresher({ sources: SOURCES, semantics: 'archeio', initial, intervalMs: 1000, maxShrink: 0.1, ...o });
    expect(make({ intervalMs: 0 })).toThrow(RangeRefreshOptionsError);
    expect(make({ intervalMs: Number.NaN })).toThrow(
      /refresh interval must be a positive number of milliseconds, got NaN/,
    );
    expect(make({ maxShrink: 1.5 })).toThrow(/maximum shrink must be a fraction from 0 to 1, got 1.5/);
    expect(make({ maxShrink: -1 })).toThrow(expect.objectContaining({ code: 'RANGE_REFRESH_OPTIONS_INVALID' }));
    expect(make({ maxShrink: 0 })).not.toThrow();
  });
});

// ---- with files, the default reader and the default timer -----------------------------------------------------

describe('RangeRefresher on files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'range-refresh-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sources: RangeSources = {
    aws: join(dir, 'aws.json'),
    gcp: join(dir, 'gcp.json'),
    azure: join(dir, 'azure.json'),
  };
  const raw = {
    aws: readFileSync(BUNDLED_RANGE_SOURCES.aws, 'utf8'),
    gcp: readFileSync(BUNDLED_RANGE_SOURCES.gcp, 'utf8'),
    azure: readFileSync(BUNDLED_RANGE_SOURCES.azure, 'utf8'),
  };
  for (const k of ['aws', 'gcp', 'azure'] as const) writeFileSync(sources[k], raw[k]);

  it('over the bundled data: rejects a shrunken AWS file, swaps a newer complete one', async () => {
    const initial = IpClassifier.build(loadRangeData(sources), 'archeio');
    const refresher = new RangeRefresher({
      sources,
      semantics: 'archeio',
      initial,
      intervalMs: 3_600_000,
      maxShrink: 0.1,
    });
    expect((await refresher.refreshOnce()).outcome).toBe('unchanged');

    const aws = JSON.parse(raw.aws) as { syncToken: string; prefixes: unknown[]; ipv6_prefixes: unknown[] };
    const newer = { ...aws, syncToken: String(Number(aws.syncToken) + 3600) };
    writeFileSync(
      sources.aws,
      JSON.stringify({ ...newer, prefixes: aws.prefixes.slice(0, aws.prefixes.length / 2), ipv6_prefixes: [] }),
    );
    const rejected = await refresher.refreshOnce();
    expect(rejected.outcome).toBe('rejected');
    expect(rejected.reason).toMatch(/^AWS publication .* has \d+ prefixes, \d+\.\d% fewer than the serving 10762/);
    expect(refresher.current).toBe(initial);
    expect(refresher.current.classify('15.193.0.1')).toEqual({
      cloud: 'AWS',
      region: 'GLOBAL',
      prefix: '15.193.0.0/19',
    });

    writeFileSync(
      sources.aws,
      JSON.stringify({
        ...newer,
        prefixes: [...aws.prefixes, { ip_prefix: '198.51.100.0/24', region: 'us-west-2', service: 'EC2' }],
      }),
    );
    expect(await refresher.refreshOnce()).toEqual({ outcome: 'swapped' });
    expect(refresher.current.classify('198.51.100.7')).toEqual({
      cloud: 'AWS',
      region: 'us-west-2',
      prefix: '198.51.100.0/24',
    });
    expect(refresher.current.semantics).toBe('archeio');
    expect(refresher.current.classify('15.193.0.1')?.region).toBe('GLOBAL');

    // The default (unref'd) timer can be started and stopped without keeping the process alive.
    refresher.start();
    refresher.stop();
  });
});

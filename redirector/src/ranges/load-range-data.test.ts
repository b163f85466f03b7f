import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_RANGE_SOURCES, bundledRangeSources, findPackageRoot } from './bundled-range-sources.js';
import { loadRangeData, parseRangeJson, parseRangeTexts } from './load-range-data.js';
import { RangeDataError } from './range-data-error.js';
import { awsRegionsIn, cloudKey, countPrefixes, isGlobalRegion } from './range-data.js';
import type { RangeSources } from './range-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'range-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const AWS = JSON.stringify({
  syncToken: '100',
  prefixes: [{ ip_prefix: '1.0.0.0/8', region: 'us-east-1' }],
  ipv6_prefixes: [{ ipv6_prefix: '2600::/16', region: 'GLOBAL' }],
});
const GCP = JSON.stringify({ syncToken: '200', prefixes: [{ ipv4Prefix: '2.0.0.0/8', scope: 'us-central1' }] });
const AZURE = JSON.stringify({
  changeNumber: 3,
  values: [{ name: 'AzureCloud.eastus', properties: { region: 'eastus', addressPrefixes: ['3.0.0.0/8'] } }],
});

function files(name: string, texts: Partial<Record<keyof RangeSources, string>> = {}): RangeSources {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const sources = { aws: join(dir, 'aws.json'), gcp: join(dir, 'gcp.json'), azure: join(dir, 'azure.json') };
  writeFileSync(sources.aws, texts.aws ?? AWS);
  writeFileSync(sources.gcp, texts.gcp ?? GCP);
  writeFileSync(sources.azure, texts.azure ?? AZURE);
  return sources;
}

function rangeError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RangeDataError);
    expect((err as RangeDataError).code).toBe('RANGE_DATA_INVALID');
    return (err as Error).message;
  }
  throw new Error('expected a RangeDataError');
}

describe('loadRangeData', () => {
  it('reads and merges the three publications', () => {
    const data = loadRangeData(files('ok'));
    expect(data.entries).toEqual([
      { prefix: '1.0.0.0/8', cloud: 'AWS', region: 'us-east-1' },
      { prefix: '2600::/16', cloud: 'AWS', region: 'GLOBAL' },
      { prefix: '2.0.0.0/8', cloud: 'GCP', region: 'us-central1' },
      { prefix: '3.0.0.0/8', cloud: 'Azure', region: 'eastus' },
    ]);
    expect(data.versions).toEqual({ aws: '100', gcp: '200', azure: '3' });
    expect(data.order).toEqual({ aws: 100, gcp: 200, azure: 3 });
    expect(awsRegionsIn(data)).toEqual(['GLOBAL', 'us-east-1']);
    expect(countPrefixes(data)).toEqual({ AWS: { v4: 1, v6: 1 }, GCP: { v4: 1, v6: 0 }, Azure: { v4: 1, v6: 0 } });
  });

  it('accepts a byte-order mark (Microsoft downloads may carry one)', () => {
    expect(loadRangeData(files('bom', { azure: `\ufeff${AZURE}` })).versions.azure).toBe('3');
  });

  it('names the file of a missing publication', () => {
    const sources = files('missing');
    rmSync(sources.gcp);
    expect(rangeError(() => loadRangeData(sources))).toMatch(
      new RegExp(`^GCP ranges ${sources.gcp}: cannot read the file: ENOENT`),
    );
  });

  it('names the file, line and column of invalid JSON', () => {
    const sources = files('corrupt', { aws: '{\n  "syncToken": "1",\n  "prefixes": [}\n}' });
    expect(rangeError(() => loadRangeData(sources))).toMatch(
      new RegExp(`^AWS ranges ${sources.aws}: invalid JSON at line 3 column 16: Unexpected token`),
    );
  });

  it('says a truncated file is truncated', () => {
    const sources = files('truncated', { azure: AZURE.slice(0, 40) });
    expect(rangeError(() => loadRangeData(sources))).toMatch(
      /^Azure ranges .*azure\.json: invalid JSON at line 1 column 41, where the text ends \(truncated\?\): /,
    );
  });

  it('rejects an empty file', () => {
    const sources = files('empty', { gcp: '  \n' });
    expect(rangeError(() => loadRangeData(sources))).toMatch(/^GCP ranges .*gcp\.json: the file is empty$/);
  });

  it('passes schema errors through with the file name', () => {
    const sources = files('schema', {
      aws: JSON.stringify({
        syncToken: '1',
        prefixes: [{ ip_prefix: '1.0.0.0/8', region: 'r' }],
        ipv6_prefixes: [{ ipv6_prefix: 'bad', region: 'r' }],
      }),
    });
    expect(rangeError(() => loadRangeData(sources))).toBe(
      `AWS ranges ${sources.aws}: ipv6_prefixes[0].ipv6_prefix: expected an IPv6 CIDR prefix, got "bad"`,
    );
  });

  it('parseRangeJson returns the value of valid JSON', () => {
    expect(parseRangeJson('AWS', '{"a":[1,true,null]}', 'x')).toEqual({ a: [1, true, null] });
  });

  it('parseRangeTexts labels errors with the given sources', () => {
    expect(
      rangeError(() =>
        parseRangeTexts(
          { aws: AWS, gcp: '{', azure: AZURE },
          { aws: 'A', gcp: 'https://example.test/cloud.json', azure: 'C' },
        ),
      ),
    ).toMatch(/^GCP ranges https:\/\/example\.test\/cloud\.json: invalid JSON/);
  });
});

describe('bundled snapshots', () => {
  it('resolve to fixtures/ip-ranges/raw under the package root', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const root = join(here, '..', '..', '..');
    expect(BUNDLED_RANGE_SOURCES).toEqual(bundledRangeSources(root));
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name).toBe('registry-canary');
  });

  it('are found from the dist layout too, and a nested package.json without fixtures is skipped', () => {
    const root = join(tmp, 'pkg');
    mkdirSync(join(root, 'fixtures', 'ip-ranges', 'raw'), { recursive: true });
    writeFileSync(join(root, 'package.json'), '{}');
    writeFileSync(join(root, 'fixtures', 'ip-ranges', 'raw', 'aws-ip-ranges.json'), '{}');
    const distRanges = join(root, 'dist', 'redirector', 'src', 'ranges');
    mkdirSync(distRanges, { recursive: true });
    writeFileSync(join(root, 'dist', 'package.json'), '{"type":"module"}');
    expect(findPackageRoot(distRanges)).toBe(root);
    expect(findPackageRoot(join(root, 'redirector', 'src', 'ranges'))).toBe(root);
  });

  it('fall back to the nearest package.json, then to the start directory', () => {
    const lone = join(tmp, 'lone', 'a', 'b');
    mkdirSync(lone, { recursive: true });
    writeFileSync(join(tmp, 'lone', 'package.json'), '{}');
    expect(findPackageRoot(lone)).toBe(join(tmp, 'lone'));
    // Above tmp there is (normally) no package.json with our fixtures and no package.json at all.
    const bare = mkdtempSync(join(tmpdir(), 'no-pkg-'));
    try {
      const found = findPackageRoot(bare);
      expect([bare, dirname(bare), '/']).toContain(found);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});

describe('range-data helpers', () => {
  it('cloudKey and isGlobalRegion', () => {
    expect([cloudKey('AWS'), cloudKey('GCP'), cloudKey('Azure')]).toEqual(['aws', 'gcp', 'azure']);
    expect(isGlobalRegion('GLOBAL')).toBe(true);
    expect(isGlobalRegion('global')).toBe(true);
    expect(isGlobalRegion('us-east-1')).toBe(false);
  });
});

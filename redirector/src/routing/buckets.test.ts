import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BucketMapError,
  BucketRouter,
  assertBucketCoverage,
  bundledBucketMapPath,
  isExemptRegion,
  loadBucketMap,
  normalizeBaseUrl,
  parseBucketMap,
  unmappedRegions,
  withDefaultBase,
} from './buckets.js';
import { BUNDLED_RANGE_SOURCES, awsRegionsIn, loadRangeData } from '../ranges/index.js';

const bucket = (r: string) => `https://prod-registry-k8s-io-${r}.s3.dualstack.${r}.amazonaws.com`;

// docs/reference/archeio.md#bucket-map: archeio's awsRegionToHostURL at 093d55a, case by case
const PRODUCTION: Record<string, string> = {
  'af-south-1': bucket('af-south-1'),
  'ap-east-1': bucket('ap-east-1'),
  'cn-northwest-1': bucket('ap-east-1'),
  'cn-north-1': bucket('ap-east-1'),
  'ap-east-2': bucket('ap-east-1'),
  'ap-northeast-1': bucket('ap-northeast-1'),
  'ap-northeast-2': bucket('ap-northeast-2'),
  'ap-northeast-3': bucket('ap-northeast-3'),
  'ap-southeast-1': bucket('ap-southeast-1'),
  'ap-southeast-2': bucket('ap-southeast-2'),
  'ap-southeast-3': bucket('ap-southeast-3'),
  'ap-southeast-4': bucket('ap-southeast-4'),
  'ap-southeast-5': bucket('ap-southeast-5'),
  'ap-southeast-6': bucket('ap-southeast-6'),
  'ap-southeast-7': bucket('ap-southeast-7'),
  'ap-south-1': bucket('ap-south-1'),
  'ap-south-2': bucket('ap-south-2'),
  'ca-central-1': bucket('ca-central-1'),
  'ca-west-1': bucket('ca-west-1'),
  'eu-central-1': bucket('eu-central-1'),
  'eu-central-2': bucket('eu-central-2'),
  'eu-north-1': bucket('eu-north-1'),
  'eu-south-1': bucket('eu-south-1'),
  'eu-south-2': bucket('eu-south-2'),
  'eu-west-1': bucket('eu-west-1'),
  'eu-west-2': 'https://767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2.s3.dualstack.eu-west-2.amazonaws.com',
  'eu-west-3': bucket('eu-west-3'),
  'il-central-1': bucket('il-central-1'),
  'me-central-1': bucket('me-central-1'),
  'me-south-1': bucket('me-central-1'),
  'mx-central-1': bucket('mx-central-1'),
  'sa-east-1': bucket('sa-east-1'),
  'us-east-1': bucket('us-east-1'),
  'us-east-2': bucket('us-east-2'),
  'us-west-1': bucket('us-west-1'),
  'us-west-2': bucket('us-west-2'),
};

const tmp = mkdtempSync(join(tmpdir(), 'bucket-map-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the bundled bucket map', () => {
  const map = loadBucketMap('');

  it("equals production's map exactly: 36 regions, 32 hosts, CloudFront default", () => {
    expect(map.regions).toEqual(PRODUCTION);
    expect(Object.keys(map.regions)).toHaveLength(36);
    expect(new Set(Object.values(map.regions)).size).toBe(32);
    expect(map.default).toBe('https://d1be1w964nk82h.cloudfront.net');
    expect(bundledBucketMapPath()).toMatch(/fixtures[/\\]bucket-map\.json$/);
  });

  it('covers every AWS region of the bundled data but GLOBAL, GovCloud, eusc-* and the unreleased ones', () => {
    const regions = awsRegionsIn(loadRangeData(BUNDLED_RANGE_SOURCES));
    expect(unmappedRegions(map, regions, [])).toEqual(['me-west-1', 'sa-west-1', 'us-south-1']);
    expect(() => assertBucketCoverage(map, regions, ['me-west-1', 'sa-west-1', 'us-south-1'])).not.toThrow();
  });
});

describe('parseBucketMap', () => {
  it('normalises trailing slashes and keeps the spelling', () => {
    const m = parseBucketMap(
      '{"default":"http://127.0.0.1:4569/default/","regions":{"us-east-1":"http://127.0.0.1:4569/b-us-east-1"}}',
      'x.json',
    );
    expect(m).toEqual({
      default: 'http://127.0.0.1:4569/default',
      regions: { 'us-east-1': 'http://127.0.0.1:4569/b-us-east-1' },
    });
  });

  it.each([
    ['not json', /not JSON/],
    ['[]', /expected an object/],
    ['{"default":"https://a","regions":{},"extra":1}', /unknown key "extra"/],
    ['{"regions":{}}', /"default" must be a URL/],
    ['{"default":"https://a"}', /"regions" must be an object/],
    ['{"default":"https://a","regions":[]}', /"regions" must be an object/],
    ['{"default":"https://a","regions":{"US_EAST":"https://b"}}', /not an AWS region name/],
    ['{"default":"https://a","regions":{"us-east-1":5}}', /regions.us-east-1 must be a URL string/],
    ['{"default":"ftp://a","regions":{}}', /must be an http or https URL/],
    ['{"default":"nope","regions":{}}', /is not an absolute URL/],
    ['{"default":"https://a/?x=1","regions":{}}', /must not carry/],
    ['{"default":"https://u:p@a","regions":{}}', /must not carry/],
  ])('%s is refused', (text, message) => {
    let err: unknown;
    try {
      parseBucketMap(text, 'm.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BucketMapError);
    expect((err as BucketMapError).code).toBe('BUCKET_MAP_INVALID');
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain('BUCKET_MAP m.json');
  });

  it('reports an unreadable file', () => {
    expect(() => loadBucketMap(join(tmp, 'missing.json'))).toThrow(/BUCKET_MAP .*missing.json: cannot read \(ENOENT\)/);
  });

  it('reads a file', () => {
    const f = join(tmp, 'm.json');
    writeFileSync(f, '{"default":"https://d","regions":{"us-east-1":"https://e"}}');
    expect(loadBucketMap(f).regions['us-east-1']).toBe('https://e');
  });
});

describe('coverage', () => {
  const map = parseBucketMap('{"default":"https://d","regions":{"us-east-1":"https://e"}}', 'm');
  it('exempts GLOBAL, us-gov-* and eusc-*', () => {
    expect(['GLOBAL', 'us-gov-west-1', 'eusc-de-east-1'].every(isExemptRegion)).toBe(true);
    expect(isExemptRegion('us-east-1')).toBe(false);
    expect(unmappedRegions(map, ['GLOBAL', 'us-gov-east-1', 'eusc-de-east-1', 'us-east-1'], [])).toEqual([]);
  });
  it('names every missing region, unless allowed', () => {
    let err: BucketMapError | undefined;
    try {
      assertBucketCoverage(map, ['us-west-2', 'us-east-1', 'af-south-1'], []);
    } catch (e) {
      err = e as BucketMapError;
    }
    expect(err?.code).toBe('BUCKET_MAP_INCOMPLETE');
    expect(err?.regions).toEqual(['af-south-1', 'us-west-2']);
    expect(err?.message).toMatch(/no bucket for AWS regions af-south-1, us-west-2 .*ALLOW_UNMAPPED_REGIONS/);
    expect(() => assertBucketCoverage(map, ['us-west-2'], [])).toThrow(/region us-west-2 found .*add it/);
    expect(() => assertBucketCoverage(map, ['us-west-2', 'af-south-1'], ['us-west-2', 'af-south-1'])).not.toThrow();
    expect(() => assertBucketCoverage(map, ['us-west-2'], '*')).not.toThrow();
  });
});

describe('BucketRouter', () => {
  const map = withDefaultBase(
    parseBucketMap('{"default":"https://d","regions":{"us-east-1":"https://e","eastus":"https://azure-name"}}', 'm'),
    'https://override/',
  );
  it('maps AWS regions and sends everyone else to the (overridden) default', () => {
    const r = new BucketRouter(map);
    expect(r.baseFor('AWS', 'us-east-1')).toBe('https://e');
    expect(r.baseFor('AWS', 'GLOBAL')).toBe('https://override');
    expect(r.baseFor('Azure', 'eastus')).toBe('https://override');
    expect(r.baseFor(null, null)).toBe('https://override');
    expect(r.bases()).toEqual(['https://override', 'https://e', 'https://azure-name']);
  });
  it("archeio's way: the region name whatever the cloud", () => {
    expect(new BucketRouter(map, true).baseFor('Azure', 'eastus')).toBe('https://azure-name');
  });
  it('normalizeBaseUrl keeps the exact spelling', () => {
    expect(normalizeBaseUrl('https://Example.com:443/a//', 'x')).toBe('https://Example.com:443/a');
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RoutingOracle } from '../oracle/routing-oracle.js';
import { readPublishedRanges } from '../oracle/published-ranges.js';
import type { TargetDescription } from '../target/target-description.js';
import { localBuckets } from './bucket-map.js';
import { bucketsOf, resolveBucket, withExtraContent } from './extra-content.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const FRONT = 'http://127.0.0.1:9000';
const local = localBuckets(FRONT);
const US_EAST_1 = local.bases['us-east-1']!;
const AP_EAST_1 = local.bases['ap-east-1']!;
const DEFAULT = local.bases.default!;

function makeTarget(over: Partial<TargetDescription> = {}): TargetDescription {
  const plan: Record<string, string[]> = {};
  for (const base of Object.values(local.bases)) plan[base] = [d('1')];
  return {
    name: 'local',
    url: 'http://127.0.0.1:8080',
    ipMode: 'xff',
    semantics: 'most-specific',
    upstream: 'http://127.0.0.1:5000',
    upstreamPath: '',
    signatureUpstream: null,
    infoUrl: 'http://127.0.0.1:1/info',
    privacyUrl: 'http://127.0.0.1:1/privacy',
    bucketMap: local.bucketMap,
    s3: { endpoint: FRONT, buckets: Object.values(local.names) },
    vantages: [{ name: 'aws-us-east-1', ip: '44.192.0.1', cloud: 'AWS', region: 'us-east-1', url: null }],
    images: [{ ref: 'pause:3.10', digest: d('a'), kind: ['oci-manifest'] }],
    mirrorPlan: { buckets: plan, notes: ['built-in'] },
    lbIp: '34.96.108.209',
    ...over,
  };
}

describe('bucketsOf / resolveBucket', () => {
  const target = makeTarget();

  it('lists each distinct base once, with its name and every key that uses it', () => {
    const all = bucketsOf(target);
    expect(all).toHaveLength(33);
    const hk = all.find((b) => b.base === AP_EAST_1)!;
    expect(hk.name).toBe('prod-registry-k8s-io-ap-east-1');
    expect(hk.keys.sort()).toEqual(['ap-east-1', 'ap-east-2', 'cn-north-1', 'cn-northwest-1']);
    expect(all.find((b) => b.base === DEFAULT)!.keys).toEqual(['default']);
  });

  it('accepts "default", a region (grouped regions give the shared bucket), a bucket name or a base URL', () => {
    expect(resolveBucket(target, 'default').base).toBe(DEFAULT);
    expect(resolveBucket(target, 'us-east-1').base).toBe(US_EAST_1);
    expect(resolveBucket(target, 'cn-north-1').base).toBe(AP_EAST_1);
    expect(resolveBucket(target, '767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2').keys).toEqual(['eu-west-2']);
    expect(resolveBucket(target, `${US_EAST_1}/`).name).toBe('prod-registry-k8s-io-us-east-1');
  });

  it('names a virtual-host style base by its first host label', () => {
    const remote = makeTarget({
      bucketMap: {
        default: 'https://cdn.example.org',
        regions: { 'us-east-1': 'https://prod-registry-k8s-io-us-east-1.s3.dualstack.us-east-1.amazonaws.com' },
      },
    });
    expect(resolveBucket(remote, 'us-east-1').name).toBe('prod-registry-k8s-io-us-east-1');
  });

  it('rejects a bucket the description does not have, listing the ones it has', () => {
    expect(() => resolveBucket(target, 'us-gov-west-1')).toThrow(
      /"us-gov-west-1" is no bucket of target "local".*prod-registry-k8s-io-af-south-1/,
    );
  });
});

describe('withExtraContent', () => {
  const extraDigest = d('b');
  const config = d('c');
  const layer = d('e');

  it('appends the image and adds the blobs to the plan under each bucket’s base, leaving the input alone', () => {
    const target = makeTarget();
    const before = JSON.stringify(target);
    const out = withExtraContent(target, {
      images: [{ ref: 'extra/hello:v1', digest: extraDigest, kind: ['extra'] }],
      buckets: { 'us-east-1': [layer, config], default: [config], 'cn-north-1': [layer] },
    });
    expect(JSON.stringify(target)).toBe(before);
    expect(out.images.map((i) => i.ref)).toEqual(['pause:3.10', 'extra/hello:v1']);
    const plan = out.mirrorPlan as { buckets: Record<string, string[]>; notes: string[] };
    expect(plan.buckets[US_EAST_1]).toEqual([d('1'), config, layer].sort());
    expect(plan.buckets[DEFAULT]).toEqual([d('1'), config]);
    expect(plan.buckets[AP_EAST_1]).toEqual([d('1'), layer]);
    expect(plan.buckets[local.bases['eu-west-1']!]).toEqual([d('1')]);
    expect(plan.notes).toEqual(['built-in']);
  });

  it('replaces an image whose ref is already listed (the tag moved) and does not duplicate digests', () => {
    const target = makeTarget();
    const once = withExtraContent(target, {
      images: [{ ref: 'pause:3.10', digest: extraDigest }],
      buckets: { 'us-east-1': [d('1'), config] },
    });
    const twice = withExtraContent(once, { buckets: { 'us-east-1': [config] } });
    expect(twice.images).toEqual([{ ref: 'pause:3.10', digest: extraDigest }]);
    expect((twice.mirrorPlan as { buckets: Record<string, string[]> }).buckets[US_EAST_1]).toEqual(
      [d('1'), config].sort(),
    );
  });

  it('a plan keyed with a trailing slash keeps its key', () => {
    const target = makeTarget({ mirrorPlan: { buckets: { [`${US_EAST_1}/`]: [d('1')] } } });
    const out = withExtraContent(target, { buckets: { 'us-east-1': [config] } });
    expect((out.mirrorPlan as { buckets: Record<string, string[]> }).buckets).toEqual({
      [`${US_EAST_1}/`]: [d('1'), config].sort(),
    });
  });

  it('adds nothing to a null plan (presence is then learned by HEAD)', () => {
    const out = withExtraContent(makeTarget({ mirrorPlan: null }), {
      images: [{ ref: 'extra/hello:v1', digest: extraDigest }],
      buckets: { 'us-east-1': [config] },
    });
    expect(out.mirrorPlan).toBeNull();
    expect(out.images).toHaveLength(2);
  });

  describe('a plan given as a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'extra-content-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('is read relative to baseDir and inlined; the file is not changed', () => {
      const file = join(dir, 'plan.json');
      writeFileSync(file, JSON.stringify({ buckets: { [US_EAST_1]: [d('1')] } }));
      const out = withExtraContent(
        makeTarget({ mirrorPlan: 'plan.json' }),
        { buckets: { 'us-east-1': [config] } },
        { baseDir: dir },
      );
      expect(out.mirrorPlan).toEqual({ buckets: { [US_EAST_1]: [d('1'), config].sort() } });
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ buckets: { [US_EAST_1]: [d('1')] } });
    });
  });

  it('rejects bad refs, digests and buckets with the field named', () => {
    const target = makeTarget();
    expect(() => withExtraContent(target, { images: [{ ref: 'no-tag', digest: extraDigest }] })).toThrow(
      /extra images\[0\]\.ref must be "<repository>:<tag>"/,
    );
    expect(() => withExtraContent(target, { images: [{ ref: 'host:5000/x', digest: extraDigest }] })).toThrow(
      /images\[0\]\.ref/,
    );
    expect(() => withExtraContent(target, { images: [{ ref: 'x:v1', digest: 'sha256' }] })).toThrow(
      /images\[0\]\.digest must be an OCI digest/,
    );
    expect(() => withExtraContent(target, { buckets: { 'us-east-1': ['nope'] } })).toThrow(
      /buckets\["us-east-1"\]: "nope" is not an OCI digest/,
    );
    expect(() => withExtraContent(target, { buckets: { mars: [config] } })).toThrow(/"mars" is no bucket/);
  });

  it('gives the routing oracle the new ground truth: the bucket now holds the blob, other buckets still do not', async () => {
    const out = withExtraContent(makeTarget(), {
      images: [{ ref: 'extra/hello:v1', digest: extraDigest }],
      buckets: { 'us-east-1': [layer] },
    });
    const oracle = new RoutingOracle(out, { prefixes: readPublishedRanges() });
    const vantage = out.vantages[0]!;
    const hit = await oracle.expect(vantage, { method: 'GET', path: `/v2/extra/hello/blobs/${layer}` });
    expect(hit).toMatchObject({ reason: 'blob-bucket-hit', location: `${US_EAST_1}/containers/images/${layer}` });
    expect(await oracle.holds(DEFAULT, layer)).toBe(false);
  });
});

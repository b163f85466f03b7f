/**
 * The loopback twin's description rewrite and the prefix proxy's path rule (the twin against a running stack is
 * loopback-twin.int.test.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { localBuckets } from '../stack/bucket-map.js';
import { parseTargetDescription, type TargetDescription } from '../target/target-description.js';
import { bucketNameOf } from './location-shape.js';
import { LoopbackTwinError, twinDescription } from './loopback-twin.js';
import { stripRepositoryPrefix } from './path-prefix-proxy.js';

const production = parseTargetDescription(
  JSON.parse(
    readFileSync(fileURLToPath(new URL('../../../fixtures/targets/production.json', import.meta.url)), 'utf8'),
  ),
  'production',
);
const buckets = localBuckets('http://127.0.0.1:9000');
const world = {
  ...production,
  name: 'local',
  url: 'http://127.0.0.1:8080',
  ipMode: 'xff',
  semantics: 'most-specific',
  upstream: 'http://127.0.0.1:5000',
  upstreamPath: '',
  signatureUpstream: 'http://127.0.0.1:5001',
  infoUrl: 'http://127.0.0.1:7000/info',
  privacyUrl: 'http://127.0.0.1:7000/privacy',
  bucketMap: buckets.bucketMap,
  images: [{ ref: 'pause:3.10', digest: `sha256:${'b'.repeat(64)}` }],
} as TargetDescription;
const urls = {
  url: 'http://127.0.0.1:8081',
  upstream: 'http://127.0.0.1:6000',
  signatureUpstream: 'http://127.0.0.1:6001',
};

describe("twinDescription: a built-in target onto a local stack's world", () => {
  const twin = twinDescription(production, world, urls);

  it('keeps every bucket name, region by region, on loopback (eu-west-2 included)', () => {
    expect(Object.keys(twin.bucketMap.regions)).toEqual(Object.keys(production.bucketMap.regions));
    for (const [region, base] of Object.entries(production.bucketMap.regions)) {
      expect(twin.bucketMap.regions[region]).toBe(`http://127.0.0.1:9000/${bucketNameOf(base)}`);
    }
    expect(twin.bucketMap.regions['eu-west-2']).toBe(
      'http://127.0.0.1:9000/767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2',
    );
    expect(twin.bucketMap.default).toBe('http://127.0.0.1:9000/prod-registry-k8s-io-default');
  });

  it("keeps semantics, upstream path, vantages, known issues and tolerances; takes the world's content", () => {
    expect(twin).toMatchObject({
      name: 'production-twin',
      url: urls.url,
      ipMode: 'egress',
      semantics: 'archeio',
      upstream: urls.upstream,
      upstreamPath: 'k8s-artifacts-prod/images',
      signatureUpstream: urls.signatureUpstream,
      mirrorPlan: null,
      s3: null,
    });
    expect(twin.vantages).toEqual(production.vantages);
    expect(twin.knownIssues).toEqual(production.knownIssues);
    expect(twin.locationMatch).toEqual(production.locationMatch);
    expect(twin.images).toEqual(world.images);
    expect(twin.knownBlobs).toBeUndefined();
    expect(twin.twinOf).toEqual({ name: 'production', url: 'https://registry.k8s.io' });
  });

  it('refuses a bucket the stack does not have', () => {
    const odd = {
      ...production,
      bucketMap: {
        ...production.bucketMap,
        regions: {
          ...production.bucketMap.regions,
          'xx-new-1': 'https://prod-registry-k8s-io-xx-new-1.s3.dualstack.xx-new-1.amazonaws.com',
        },
      },
    };
    expect(() => twinDescription(odd, world, urls)).toThrow(LoopbackTwinError);
    expect(() => twinDescription(odd, world, urls)).toThrow(
      /bucket prod-registry-k8s-io-xx-new-1 \(region xx-new-1\) has no loopback counterpart/,
    );
  });
});

describe('stripRepositoryPrefix', () => {
  it('serves /v2/<prefix>/<name>/... from /v2/<name>/..., and passes everything else', () => {
    expect(
      stripRepositoryPrefix('/v2/k8s-artifacts-prod/images/pause/manifests/3.10', 'k8s-artifacts-prod/images'),
    ).toBe('/v2/pause/manifests/3.10');
    expect(
      stripRepositoryPrefix(
        '/v2/k8s-artifacts-prod/images/e2e-test-images/busybox/tags/list?n=2',
        '/k8s-artifacts-prod/images/',
      ),
    ).toBe('/v2/e2e-test-images/busybox/tags/list?n=2');
    expect(stripRepositoryPrefix('/v2/', 'k8s-artifacts-prod/images')).toBe('/v2/');
    expect(stripRepositoryPrefix('/v2/pause/manifests/3.10', 'k8s-artifacts-prod/images')).toBe(
      '/v2/pause/manifests/3.10',
    );
    expect(stripRepositoryPrefix('/v2/pause/manifests/3.10', '')).toBe('/v2/pause/manifests/3.10');
  });
});

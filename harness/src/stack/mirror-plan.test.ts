import { describe, expect, it } from 'vitest';
import { localBuckets, PRODUCTION_BUCKET_REGIONS, bucketNameFor } from './bucket-map.js';
import { parseMirrorPlanSpec, readMirrorPlanSpec, resolveMirrorPlan, type PlanBlob } from './mirror-plan.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const BLOBS: PlanBlob[] = [
  { repo: 'pause', digest: d('1'), size: 10, role: 'pause:layer' },
  { repo: 'pause', digest: d('2'), size: 10, role: 'pause:config' },
  { repo: 'big', digest: d('3'), size: 10_000_000, role: 'big:layer' },
  { repo: 'e2e-test-images/busybox', digest: d('4'), size: 10, role: 'index:arm64:layer' },
  { repo: 'e2e-test-images/busybox', digest: d('5'), size: 10, role: 'index:amd64:layer' },
  { repo: 'docker-list', digest: d('6'), size: 10, role: 'list:amd64:layer' },
  { repo: 'conformance', digest: d('7'), size: 10, role: 'conformance:layer' },
  // the same bytes in two repositories: one digest
  { repo: 'docker-list', digest: d('1'), size: 10, role: 'list:arm64:layer' },
];
const buckets = localBuckets('http://127.0.0.1:9');

describe('bucket map', () => {
  it('matches production: 36 regions, 32 distinct buckets plus the default, eu-west-2’s odd name, grouped regions', () => {
    expect(Object.keys(PRODUCTION_BUCKET_REGIONS)).toHaveLength(36);
    expect(Object.keys(buckets.names)).toHaveLength(33);
    expect(buckets.bucketMap.regions['eu-west-2']).toBe(
      'http://127.0.0.1:9/767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2',
    );
    for (const r of ['cn-north-1', 'cn-northwest-1', 'ap-east-2'])
      expect(buckets.bucketMap.regions[r]).toBe('http://127.0.0.1:9/prod-registry-k8s-io-ap-east-1');
    expect(buckets.bucketMap.regions['me-south-1']).toBe('http://127.0.0.1:9/prod-registry-k8s-io-me-central-1');
    expect(buckets.bucketMap.default).toBe('http://127.0.0.1:9/prod-registry-k8s-io-default');
    expect(bucketNameFor('us-east-1')).toBe('prod-registry-k8s-io-us-east-1');
    for (const name of Object.values(buckets.names)) expect(name).toMatch(/^[a-z0-9][a-z0-9-]{2,62}$/);
  });
});

describe('fixtures/mirror-plan.json', () => {
  const spec = readMirrorPlanSpec();

  it('resolves against blobs named like the fixture set’s roles, leaving the promised gaps', () => {
    const resolved = resolveMirrorPlan(spec, BLOBS, buckets.bases);
    const all = [...new Set(BLOBS.map((b) => b.digest))].sort();
    expect(resolved.byKey['us-east-1']).toEqual(all);
    // the default base lacks exactly one blob (pause's layer; its bytes are also docker-list's arm64 layer here)
    expect(all.filter((x) => !resolved.byKey.default!.includes(x))).toEqual([d('1')]);
    // some region lacks some blobs; one bucket is empty
    expect(resolved.byKey['eu-west-2']).not.toContain(d('4'));
    expect(resolved.byKey['ap-east-1']).not.toContain(d('6'));
    expect(resolved.byKey['me-central-1']).toEqual([]);
    // the large layer only where the plan puts it
    expect(
      Object.entries(resolved.byKey)
        .filter(([, ds]) => ds.includes(d('3')))
        .map(([k]) => k)
        .sort(),
    ).toEqual(['default', 'us-east-1']);
    // keyed by base URL in the description's form, every bucket present
    expect(Object.keys(resolved.plan.buckets).sort()).toEqual(Object.values(buckets.bases).sort());
    expect(resolved.plan.notes!.length).toBeGreaterThan(3);
  });
});

describe('resolveMirrorPlan', () => {
  it('lets lacks win over holds', () => {
    const spec = parseMirrorPlanSpec({
      version: 1,
      buckets: { '*': { holds: ['all'], lacks: [{ role: 'pause:layer' }] } },
    });
    const r = resolveMirrorPlan(spec, BLOBS, { a: 'http://x/a' });
    expect(r.byKey.a).not.toContain(d('1'));
    expect(r.plan.buckets['http://x/a']).toEqual(r.byKey.a);
  });

  it('rejects a selector that matches nothing, so a renamed fixture role cannot silently close a gap', () => {
    const spec = parseMirrorPlanSpec({
      version: 1,
      buckets: { '*': { holds: ['all'], lacks: [{ role: 'pause:layr' }] } },
    });
    expect(() => resolveMirrorPlan(spec, BLOBS, { a: 'http://x/a' })).toThrow(
      /selector \{"role":"pause:layr"\} matches no fixture blob/,
    );
  });

  it('rejects keys that are not buckets, and buckets without a rule', () => {
    expect(() =>
      resolveMirrorPlan(parseMirrorPlanSpec({ version: 1, buckets: { 'us-east-9': { holds: [] } } }), BLOBS, {
        a: 'http://x/a',
      }),
    ).toThrow(/us-east-9.*is not a bucket/);
    expect(() =>
      resolveMirrorPlan(parseMirrorPlanSpec({ version: 1, buckets: { a: { holds: [] } } }), BLOBS, {
        a: 'http://x/a',
        b: 'http://x/b',
      }),
    ).toThrow(/no rule for bucket "b"/);
  });

  it.each([
    [{ version: 2, buckets: {} }, /version must be 1/],
    [{ version: 1, buckets: { a: {} } }, /holds must be an array/],
    [{ version: 1, buckets: { a: { holds: ['some'] } } }, /must be "all" or/],
    [{ version: 1, buckets: { a: { holds: [{ size: 3 }] } } }, /unknown field\(s\) size/],
    [{ version: 1, buckets: { a: { holds: [{}] } } }, /must name a repo or a role/],
  ])('parse rejects %j', (doc, message) => {
    expect(() => parseMirrorPlanSpec(doc)).toThrow(message);
  });
});

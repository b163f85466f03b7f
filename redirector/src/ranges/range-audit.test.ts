import { describe, expect, it } from 'vitest';
import { parseIp } from '../net/index.js';
import { IpClassifier, type Classification } from './ip-classifier.js';
import { BUNDLED_RANGE_SOURCES } from './bundled-range-sources.js';
import { loadRangeData } from './load-range-data.js';
import { auditOwnership, auditRanges, rangeDrift, type ClassifierLike } from './range-audit.js';
import type { RangeData, RangeEntry } from './range-data.js';

const bundled = loadRangeData(BUNDLED_RANGE_SOURCES);
const exempt = (r: string) => r === 'GLOBAL' || r.startsWith('us-gov-') || r.startsWith('eusc-');
// archeio's map (docs/reference/archeio.md#bucket-map): every AWS region of the data except the exempt and the three
// unreleased ones
const mapped = [...new Set(bundled.entries.filter((e) => e.cloud === 'AWS').map((e) => e.region))].filter(
  (r) => !exempt(r) && !['me-west-1', 'sa-west-1', 'us-south-1'].includes(r),
);

const data = (entries: RangeEntry[], order = 1): RangeData => ({
  entries,
  versions: { aws: `v${order}`, gcp: `v${order}`, azure: `v${order}` },
  order: { aws: order, gcp: order, azure: order },
});
const aws = (prefix: string, region: string): RangeEntry => ({ prefix, cloud: 'AWS', region });

describe('ranges audit of the bundled data', () => {
  const audit = auditRanges({
    data: bundled,
    bucketRegions: mapped,
    isExempt: exempt,
    allowedUnmapped: ['me-west-1', 'sa-west-1', 'us-south-1'],
  });

  it("finds the 150 IPv4 and 97 IPv6 regional prefixes GLOBAL shadows, with both semantics' routes", () => {
    expect(audit.shadowed.filter((s) => s.family === 4)).toHaveLength(150);
    expect(audit.shadowed.filter((s) => s.family === 6)).toHaveLength(97);
    expect(audit.shadowed[0]).toEqual({
      prefix: '15.193.0.0/24',
      family: 4,
      owner: { cloud: 'AWS', region: 'ap-south-1' },
      shadowedBy: { prefix: '15.193.0.0/19', cloud: 'AWS', region: 'GLOBAL' },
      route: { 'most-specific': 'bucket for ap-south-1', archeio: 'default base' },
    });
  });

  it('lists the AWS regions without a bucket, allowed ones marked', () => {
    expect(audit.unmapped.map((u) => [u.region, u.allowed])).toEqual([
      ['me-west-1', true],
      ['sa-west-1', true],
      ['us-south-1', true],
    ]);
    expect(audit.problems).toEqual([]);
  });

  it('resolves every published prefix to its owner, v4 also as ::ffff:', () => {
    expect(audit.ownership.prefixes).toBeGreaterThan(26_000);
    expect(audit.ownership.mismatches).toEqual([]);
    expect(audit.ownership.multiOwner).toEqual([]); // PROVENANCE.md: no prefix has two owners
    expect(audit.ownership.lookups).toBeGreaterThan(3 * audit.ownership.prefixes);
  });

  it('an unmapped region that is not allowed is a problem', () => {
    const a = auditRanges({
      data: bundled,
      bucketRegions: mapped.filter((r) => r !== 'eu-west-3'),
      isExempt: exempt,
      allowedUnmapped: ['me-west-1', 'sa-west-1', 'us-south-1'],
    });
    expect(a.unmapped.find((u) => u.region === 'eu-west-3')).toMatchObject({ allowed: false });
    expect(a.problems[0]).toMatch(/^1 AWS region without a bucket entry: eu-west-3 \(\d+ prefixes\)/);
  });
});

describe("ownership: the check that would have caught archeio's dedupe bug (docs/reference/archeio.md#quirks Q16)", () => {
  const small = data([
    aws('15.193.0.0/19', 'GLOBAL'),
    aws('15.193.0.0/24', 'ap-south-1'),
    aws('35.180.0.0/16', 'eu-west-3'),
    aws('52.94.76.0/22', 'us-west-2'),
    aws('52.94.80.0/22', 'us-west-2'),
    aws('2600:1f14::/35', 'us-west-2'),
  ]);

  it('a correct classifier passes', () => {
    expect(auditOwnership(small).mismatches).toEqual([]);
  });

  it('a classifier built from data that lost one prefix per region (the dedupe off-by-one) is caught, prefix by prefix', () => {
    // archeio's dedupe dropped the last prefix of each region's sorted list
    const byRegion = new Map<string, RangeEntry[]>();
    for (const e of small.entries) byRegion.set(e.region, [...(byRegion.get(e.region) ?? []), e]);
    const dropped = [...byRegion.values()].map((es) => es[es.length - 1]!);
    const lossy = IpClassifier.build(data(small.entries.filter((e) => !dropped.includes(e))), 'most-specific');
    const found = new Set(auditOwnership(small, lossy).mismatches.map((m) => m.prefix));
    expect(found).toEqual(new Set(dropped.map((e) => e.prefix)));
  });

  it('a classifier that does not unmap ::ffff: addresses is caught for IPv4 prefixes', () => {
    const inner = IpClassifier.build(small, 'most-specific');
    const noUnmap: ClassifierLike = {
      classifyIp: (ip) =>
        ip.family === 6 && ip.w0 === 0 && ip.w1 === 0 && ip.w2 === 0xffff ? null : inner.classifyIp(ip),
    };
    const m = auditOwnership(small, noUnmap).mismatches;
    expect(m.length).toBeGreaterThan(0);
    expect(m.every((x) => x.address.startsWith('::ffff:'))).toBe(true);
  });

  it('an archeio classifier disagrees exactly on the shadowed prefix (expected: it is not the owner)', () => {
    const archeio = IpClassifier.build(small, 'archeio');
    const wrong = auditOwnership(small, archeio).mismatches.filter((m) => !m.address.startsWith('::ffff:'));
    // every disagreement is an address whose longest match is the shadowed /24 (probed from the /24 or its GLOBAL parent)
    expect([...new Set(wrong.map((m) => m.expected.prefix))]).toEqual(['15.193.0.0/24']);
    expect(wrong[0]!.got).toMatchObject({
      region: 'GLOBAL',
      prefix: '15.193.0.0/19',
    } satisfies Partial<Classification>);
    expect(parseIp(wrong[0]!.address)).not.toBeNull();
  });
});

describe('drift between two snapshots', () => {
  it('regions and prefixes added, removed and moved', () => {
    const before = data(
      [aws('3.5.0.0/16', 'eu-west-1'), aws('13.152.0.0/16', 'me-south-1'), aws('44.192.0.0/11', 'us-east-1')],
      1,
    );
    const after = data(
      [aws('3.5.0.0/16', 'eu-west-2'), aws('44.192.0.0/11', 'us-east-1'), aws('40.176.0.0/16', 'ca-west-1')],
      2,
    );
    const d = rangeDrift(before, after);
    expect(d.regionsAdded).toEqual([
      { cloud: 'AWS', region: 'ca-west-1' },
      { cloud: 'AWS', region: 'eu-west-2' },
    ]);
    expect(d.regionsRemoved).toEqual([
      { cloud: 'AWS', region: 'eu-west-1' },
      { cloud: 'AWS', region: 'me-south-1' },
    ]);
    expect(d.prefixesAdded).toEqual([{ prefix: '40.176.0.0/16', cloud: 'AWS', region: 'ca-west-1' }]);
    expect(d.prefixesRemoved).toEqual([{ prefix: '13.152.0.0/16', cloud: 'AWS', region: 'me-south-1' }]);
    expect(d.prefixesMoved).toEqual([{ prefix: '3.5.0.0/16', cloud: 'AWS', from: 'eu-west-1', to: 'eu-west-2' }]);
    const a = auditRanges({
      data: after,
      bucketRegions: ['us-east-1', 'eu-west-2'],
      isExempt: exempt,
      allowedUnmapped: [],
      previous: before,
    });
    expect(a.drift?.from.aws).toBe('v1');
    expect(a.unmapped).toEqual([{ region: 'ca-west-1', prefixes: 1, allowed: false }]);
  });
});

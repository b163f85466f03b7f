/**
 * The classifier over the bundled publications: one case table run against the fast table and the brute-force twin
 * under both semantics, the every-prefix golden test, and the GLOBAL-shadowing count.
 */
import { describe, expect, it } from 'vitest';
import { formatIp, ipFromBigInt, parseIp } from '../net/ip.js';
import { parseIpPrefix, prefixBounds } from '../net/ip-prefix.js';
import { BUNDLED_RANGE_SOURCES } from './bundled-range-sources.js';
import { IpClassifier } from './ip-classifier.js';
import type { Classification, LookupEngine, Semantics } from './ip-classifier.js';
import { loadRangeData } from './load-range-data.js';
import { PARSED_PREFIXES } from './publication-reader.js';
import { RangeDataError } from './range-data-error.js';
import type { RangeData, RangeEntry } from './range-data.js';

const DATA = loadRangeData(BUNDLED_RANGE_SOURCES);
const ENGINES: LookupEngine[] = ['table', 'brute-force'];
const built = new Map<string, IpClassifier>();
function classifier(semantics: Semantics, engine: LookupEngine): IpClassifier {
  const key = `${semantics}/${engine}`;
  if (!built.has(key)) built.set(key, IpClassifier.build(DATA, semantics, { engine }));
  return built.get(key)!;
}

const c = (cloud: Classification['cloud'], region: string, prefix: string): Classification => ({
  cloud,
  region,
  prefix,
});

// [address, most-specific, archeio] — expectations read from fixtures/ip-ranges/raw and
// docs/reference/archeio.md (sections "Client IP", "IP classification" and "Test vectors").
const CASES: Array<[string, Classification | null, Classification | null]> = [
  // archeio's own vectors (handlers_test.go@093d55a, docs/reference/archeio.md#test-vectors vectors 10, 11 and 13)
  ['35.180.1.1', c('AWS', 'eu-west-3', '35.180.0.0/16'), c('AWS', 'eu-west-3', '35.180.0.0/16')],
  ['35.220.26.1', c('GCP', 'europe-north1', '35.220.26.0/24'), c('GCP', 'europe-north1', '35.220.26.0/24')],
  ['192.168.0.1', null, null],
  // docs/reference/archeio.md#ip-classification: regional prefixes inside AWS GLOBAL ones
  // (docs/reference/archeio.md#test-vectors vector 14)
  ['15.193.0.0', c('AWS', 'ap-south-1', '15.193.0.0/24'), c('AWS', 'GLOBAL', '15.193.0.0/19')],
  ['15.193.0.255', c('AWS', 'ap-south-1', '15.193.0.0/24'), c('AWS', 'GLOBAL', '15.193.0.0/19')],
  ['15.193.7.9', c('AWS', 'us-west-2', '15.193.7.0/24'), c('AWS', 'GLOBAL', '15.193.0.0/19')],
  ['2600:9000:5200::', c('AWS', 'eu-west-1', '2600:9000:5200::/48'), c('AWS', 'GLOBAL', '2600:9000:5200::/40')],
  [
    '2600:9000:5200:ffff:ffff:ffff:ffff:ffff',
    c('AWS', 'eu-west-1', '2600:9000:5200::/48'),
    c('AWS', 'GLOBAL', '2600:9000:5200::/40'),
  ],
  ['2600:9000:5201::1', c('AWS', 'us-east-1', '2600:9000:5201::/48'), c('AWS', 'GLOBAL', '2600:9000:5200::/40')],
  // IPv4-mapped IPv6: unmapped under most-specific only (docs/reference/archeio.md#quirks Q11,
  // docs/reference/archeio.md#test-vectors vector 21)
  ['::ffff:35.180.1.1', c('AWS', 'eu-west-3', '35.180.0.0/16'), null],
  ['::ffff:15.193.0.1', c('AWS', 'ap-south-1', '15.193.0.0/24'), null],
  ['::FFFF:192.168.0.1', null, null],
  // zones are stripped
  ['2600:9000:5200::1%eth0', c('AWS', 'eu-west-1', '2600:9000:5200::/48'), c('AWS', 'GLOBAL', '2600:9000:5200::/40')],
  // every cloud and family, /32 and /128 hosts
  ['3.4.12.4', c('AWS', 'eu-west-1', '3.4.12.4/32'), c('AWS', 'eu-west-1', '3.4.12.4/32')],
  ['3.4.12.5', c('AWS', 'us-east-1', '3.4.12.5/32'), c('AWS', 'us-east-1', '3.4.12.5/32')],
  [
    '2a01:578:0:7301::1',
    c('AWS', 'eu-west-3', '2a01:578:0:7301::1/128'),
    c('AWS', 'eu-west-3', '2a01:578:0:7301::1/128'),
  ],
  ['13.69.0.1', c('Azure', 'westeurope', '13.69.0.0/17'), c('Azure', 'westeurope', '13.69.0.0/17')],
  ['2603:1020:200::1', c('Azure', 'westeurope', '2603:1020:200::/46'), c('Azure', 'westeurope', '2603:1020:200::/46')],
  ['34.35.0.1', c('GCP', 'africa-south1', '34.35.0.0/16'), c('GCP', 'africa-south1', '34.35.0.0/16')],
  [
    '2600:1900:8000::1',
    c('GCP', 'africa-south1', '2600:1900:8000::/44'),
    c('GCP', 'africa-south1', '2600:1900:8000::/44'),
  ],
  ['8.228.224.1', c('GCP', 'global', '8.228.224.0/20'), c('GCP', 'global', '8.228.224.0/20')],
  // nobody's
  ['8.8.8.8', null, null],
  ['0.0.0.0', null, null],
  ['255.255.255.255', null, null],
  ['::', null, null],
  ['2001:db8::1', null, null],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null, null],
  // not addresses
  ['not-an-ip', null, null],
  ['35.180.1.1%eth0', null, null],
  ['[2600:9000:5200::1]', null, null],
  ['035.180.1.1', null, null],
];

describe.each(ENGINES)('shared case table (%s)', (engine) => {
  it.each(CASES)('%s', (address, mostSpecific, archeio) => {
    expect(classifier('most-specific', engine).classify(address)).toEqual(mostSpecific);
    expect(classifier('archeio', engine).classify(address)).toEqual(archeio);
  });
});

describe('the bundled data', () => {
  it('has ~26.9k prefixes from all three clouds', () => {
    expect(DATA.entries.length).toBe(26_867);
    expect(DATA.versions).toEqual({ aws: '2026-07-29-08-27-05', gcp: '2026-07-29T07:05:53.849365', azure: '0' });
  });

  it('every published prefix resolves to its owner under most-specific (guards archeio’s old dedupe bug, docs/reference/archeio.md#ip-classification)', () => {
    const ms = classifier('most-specific', 'table');
    // Sort so that each prefix's direct children follow it; an address not covered by a child must answer the
    // prefix itself, and the first/last address must answer the prefix or something strictly inside it.
    const parsed = DATA.entries.map((e) => ({
      e,
      p: parseIpPrefix(e.prefix)!,
      ...prefixBounds(parseIpPrefix(e.prefix)!),
    }));
    parsed.sort(
      (a, b) =>
        a.p.network.family - b.p.network.family ||
        (a.first < b.first ? -1 : a.first > b.first ? 1 : 0) ||
        a.p.length - b.p.length,
    );
    let exactHits = 0;
    let fullyCovered = 0;
    const wrong: string[] = [];
    const show = (family: 4 | 6, v: bigint): string => formatIp(ipFromBigInt(family, v));
    parsed.forEach((x, i) => {
      const family = x.p.network.family;
      for (const edge of [x.first, x.last]) {
        const got = ms.classifyIp(ipFromBigInt(family, edge));
        const inner = got && parseIpPrefix(got.prefix)!;
        const gb = inner && prefixBounds(inner);
        if (!inner || !gb || gb.first < x.first || gb.last > x.last)
          wrong.push(`${x.e.prefix}: ${show(family, edge)} → ${got?.prefix ?? 'nothing'}`);
      }
      // The first address of x that no more specific prefix covers (x's descendants follow it in this order).
      let cursor = x.first;
      for (let j = i + 1; j < parsed.length; j++) {
        const y = parsed[j]!;
        if (y.p.network.family !== family || y.first > x.last || y.first > cursor) break;
        if (y.last >= cursor) cursor = y.last + 1n;
      }
      if (cursor > x.last) {
        fullyCovered++;
        return;
      }
      const got = ms.classifyIp(ipFromBigInt(family, cursor));
      if (got?.cloud !== x.e.cloud || got.region !== x.e.region || got.prefix !== x.e.prefix) {
        wrong.push(`${x.e.prefix} (${x.e.cloud} ${x.e.region}): ${show(family, cursor)} → ${JSON.stringify(got)}`);
      }
      exactHits++;
    });
    expect(wrong).toEqual([]);
    expect(exactHits + fullyCovered).toBe(DATA.entries.length);
    // A prefix entirely tiled by more specific ones can never answer; the bundled data has only a few.
    expect(fullyCovered).toBeLessThan(DATA.entries.length * 0.01);
  });

  it('exactly 150 IPv4 and 97 IPv6 regional AWS prefixes lie inside AWS GLOBAL prefixes (brute-force count = shadowed())', () => {
    const aws = DATA.entries.filter((e) => e.cloud === 'AWS').map((e) => ({ e, p: parseIpPrefix(e.prefix)! }));
    const globals = aws.filter((x) => x.e.region === 'GLOBAL').map((x) => ({ ...x, ...prefixBounds(x.p) }));
    const inside = aws.filter((x) => {
      if (x.e.region === 'GLOBAL') return false;
      const b = prefixBounds(x.p);
      return globals.some(
        (g) =>
          g.p.network.family === x.p.network.family &&
          g.p.length < x.p.length &&
          g.first <= b.first &&
          b.last <= g.last,
      );
    });
    const count = (list: RangeEntry[]) => ({
      v4: list.filter((e) => !e.prefix.includes(':')).length,
      v6: list.filter((e) => e.prefix.includes(':')).length,
    });
    const brute = count(inside.map((x) => x.e));
    expect(brute).toEqual({ v4: 150, v6: 97 });

    for (const semantics of ['most-specific', 'archeio'] as const) {
      const shadowed = classifier(semantics, 'table').shadowed();
      const byGlobal = shadowed.filter(
        (s) => s.owner.cloud === 'AWS' && s.shadowedBy.cloud === 'AWS' && s.shadowedBy.region === 'GLOBAL',
      );
      expect(count(byGlobal.map((s) => ({ ...s.owner })))).toEqual(brute);
      expect(new Set(byGlobal.map((s) => s.prefix))).toEqual(new Set(inside.map((x) => x.e.prefix)));
      // Nothing else is shadowed in the bundled data (no cross-cloud nesting, no prefix with two owners).
      expect(shadowed.length).toBe(247);
      expect(classifier(semantics, 'table').shadowed()).toBe(shadowed); // computed once
    }
  });

  it('the shadowed prefixes are exactly where the two semantics disagree on the owner', () => {
    const ms = classifier('most-specific', 'table');
    const ar = classifier('archeio', 'table');
    for (const s of ms.shadowed()) {
      const first = s.prefix.replace(/\/\d+$/, '');
      expect(ms.classify(first)).toEqual(s.owner);
      expect(ar.classify(first)).toEqual(s.shadowedBy);
    }
  });

  it('exposes interval counts for the table only', () => {
    expect(classifier('most-specific', 'table').intervals).toEqual({ v4: expect.any(Number), v6: expect.any(Number) });
    expect(classifier('most-specific', 'brute-force').intervals).toBeNull();
    expect(classifier('archeio', 'table').engine).toBe('table');
    expect(classifier('archeio', 'table').semantics).toBe('archeio');
    expect(classifier('archeio', 'table').data).toBe(DATA);
  });
});

describe('precedence and hand-made data', () => {
  const data = (entries: RangeEntry[]): RangeData => ({
    entries,
    versions: { aws: 'a', gcp: 'g', azure: 'z' },
    order: { aws: 1, gcp: 1, azure: 1 },
  });

  it.each(ENGINES)(
    'one prefix, several owners: regional before global, then AWS, GCP, Azure, then region (%s)',
    (engine) => {
      const entries: RangeEntry[] = [
        { prefix: '10.0.0.0/8', cloud: 'Azure', region: 'b' },
        { prefix: '10.0.0.0/8', cloud: 'GCP', region: 'global' },
        { prefix: '10.0.0.0/8', cloud: 'AWS', region: 'GLOBAL' },
        { prefix: '10.0.0.0/8', cloud: 'Azure', region: 'a' },
        { prefix: '11.0.0.0/8', cloud: 'Azure', region: 'z' },
        { prefix: '11.0.0.0/8', cloud: 'GCP', region: 'z' },
        { prefix: '11.0.0.0/8', cloud: 'AWS', region: 'GLOBAL' },
        { prefix: '12.0.0.0/8', cloud: 'GCP', region: 'global' },
        { prefix: '12.0.0.0/8', cloud: 'AWS', region: 'GLOBAL' },
      ];
      for (const semantics of ['most-specific', 'archeio'] as const) {
        const k = IpClassifier.build(data(entries), semantics, { engine });
        expect(k.classify('10.1.1.1')).toEqual(c('Azure', 'a', '10.0.0.0/8'));
        expect(k.classify('11.1.1.1')).toEqual(c('GCP', 'z', '11.0.0.0/8'));
        expect(k.classify('12.1.1.1')).toEqual(c('AWS', 'GLOBAL', '12.0.0.0/8'));
        // The losers are reported as shadowed by the winner.
        expect(
          k.shadowed().map((s) => `${s.owner.cloud}/${s.owner.region} by ${s.shadowedBy.cloud}/${s.shadowedBy.region}`),
        ).toEqual([
          'Azure/b by Azure/a',
          'AWS/GLOBAL by Azure/a',
          'GCP/global by Azure/a',
          'Azure/z by GCP/z',
          'AWS/GLOBAL by GCP/z',
          'GCP/global by AWS/GLOBAL',
        ]);
      }
    },
  );

  it('normalises hand-written prefixes and reports a bad one with its index', () => {
    const k = IpClassifier.build(
      data([
        { prefix: '2600:9000:5200:0:0::/48', cloud: 'AWS', region: 'x' },
        { prefix: '10.9.9.9/8', cloud: 'GCP', region: 'y' },
      ]),
      'most-specific',
    );
    expect(k.classify('2600:9000:5200::5')?.prefix).toBe('2600:9000:5200::/48');
    expect(k.classify('10.0.0.1')?.prefix).toBe('10.0.0.0/8');
    expect(() =>
      IpClassifier.build(
        data([
          { prefix: '10.0.0.0/8', cloud: 'AWS', region: 'x' },
          { prefix: '10.0.0.0', cloud: 'GCP', region: 'y' },
        ]),
        'archeio',
      ),
    ).toThrow(new RangeDataError('range entry 1 (GCP y): "10.0.0.0" is not a CIDR prefix'));
  });

  it('a regional prefix inside another cloud’s prefix is shadowed across clouds too', () => {
    const k = IpClassifier.build(
      data([
        { prefix: '20.0.0.0/8', cloud: 'Azure', region: 'eastus' },
        { prefix: '20.1.0.0/16', cloud: 'AWS', region: 'us-east-1' },
        { prefix: '20.1.2.0/24', cloud: 'Azure', region: 'eastus' },
        { prefix: '21.0.0.0/8', cloud: 'AWS', region: 'GLOBAL' },
        { prefix: '21.0.0.0/16', cloud: 'AWS', region: 'GLOBAL' },
      ]),
      'archeio',
    );
    // 20.1.2.0/24's outermost container has the same owner: no routing difference, not listed.
    expect(k.shadowed().map((s) => s.prefix)).toEqual(['20.1.0.0/16']);
    expect(parseIp('20.1.2.3')).not.toBeNull();
    expect(k.classify('20.1.2.3')).toEqual(c('Azure', 'eastus', '20.0.0.0/8'));
  });
});

describe('what a classifier keeps', () => {
  it("releases the reader's parsed prefixes once the table is built, and answers the same from a rebuild", () => {
    const data = loadRangeData(BUNDLED_RANGE_SOURCES);
    const sample = [data.entries[0]!, data.entries[Math.floor(data.entries.length / 2)]!, data.entries.at(-1)!];
    expect(sample.every((e) => PARSED_PREFIXES.has(e))).toBe(true);
    const first = IpClassifier.build(data, 'archeio');
    // nothing keeps ~27k parsed prefixes alive beside the table
    expect(sample.some((e) => PARSED_PREFIXES.has(e))).toBe(false);
    // a second build (a range refresh merges the old entries) parses them again and answers alike
    const second = IpClassifier.build(data, 'archeio');
    for (const e of sample) {
      const first4 = e.prefix.split('/')[0]!;
      expect(second.classify(first4)).toEqual(first.classify(first4));
    }
    expect(second.shadowed()).toEqual(first.shadowed());
    expect(first.shadowed().length).toBeGreaterThan(0);
  });
});

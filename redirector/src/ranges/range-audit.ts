/**
 * An audit of the range data the redirector classifies clients with, against the bucket map it routes them by
 * (`registry-canary ranges audit`). Pure: the data, the map and an optional older snapshot come in, a report
 * comes out. What it finds:
 *
 * 1. **Shadowed prefixes**: regional prefixes inside a larger prefix of another owner (today: regional AWS inside AWS
 *    GLOBAL, docs/reference/archeio.md#ip-classification), with both semantics' answers and where each sends a blob:
 *    under most-specific the region's bucket, under archeio the default base. The cost of that choice is
 *    `registry-canary cost`'s business.
 * 2. **Unmapped regions**: AWS regions in the data with no bucket entry. GLOBAL, us-gov-* and eusc-* go to the default
 *    by design; unreleased regions may be allowed (ALLOW_UNMAPPED_REGIONS). Any other is a problem: its clients
 *    silently use the default (docs/reference/incidents.md#routing-and-client-ip R2, the drift that made
 *    production drop and re-add buckets).
 * 3. **Ownership**: every published prefix resolves to its owner through the redirector's own classifier: the first,
 *    middle and last address of each prefix, and the same under `::ffff:` for IPv4, are looked up and compared with an
 *    independent longest-match over the publications (a hash per prefix length). archeio's dedupe dropped one prefix
 *    per region for four years (docs/reference/archeio.md#quirks Q16; fixed in f348d6a) and nothing noticed: this is
 *    the check that would have.
 * 4. **Drift** against an older snapshot: regions and prefixes added, removed, or moved to another region.
 */
import { formatIp, ipFromBigInt, ipToBigInt, parseIpPrefix, type Ip } from '../net/index.js';
import { IpClassifier, type Classification } from './ip-classifier.js';
import type { Cloud, RangeData, RangeVersions } from './range-data.js';
import { countPrefixes } from './range-data.js';

export interface Owner {
  cloud: Cloud;
  region: string;
}

export interface ShadowedPrefixAudit {
  prefix: string;
  family: 4 | 6;
  owner: Owner;
  /** the larger prefix archeio's shortest-prefix rule answers with */
  shadowedBy: { prefix: string } & Owner;
  /** where a blob goes under each semantics: `bucket for <region>` or `default base` (AWS only; others: upstream or default) */
  route: { 'most-specific': string; archeio: string };
}

export interface UnmappedRegion {
  region: string;
  prefixes: number;
  /** allowed to be unmapped (unreleased regions: ALLOW_UNMAPPED_REGIONS) */
  allowed: boolean;
}

export interface OwnershipMismatch {
  prefix: string;
  owner: Owner;
  /** the address looked up */
  address: string;
  /** what the independent longest match says the address belongs to (the prefix itself, or a more specific one) */
  expected: { prefix: string; owners: Owner[] };
  got: Classification | null;
}

export interface OwnershipAudit {
  /** distinct published prefixes */
  prefixes: number;
  /** addresses looked up */
  lookups: number;
  /** prefixes none of whose sample addresses is answered by the prefix itself (every sample lies in a more specific prefix) */
  unobservable: string[];
  /** prefixes published by more than one owner (the classifier's precedence decides) */
  multiOwner: { prefix: string; owners: Owner[] }[];
  mismatches: OwnershipMismatch[];
}

export interface RangeDrift {
  from: RangeVersions;
  to: RangeVersions;
  regionsAdded: Owner[];
  regionsRemoved: Owner[];
  prefixesAdded: ({ prefix: string } & Owner)[];
  prefixesRemoved: ({ prefix: string } & Owner)[];
  prefixesMoved: { prefix: string; cloud: Cloud; from: string; to: string }[];
}

export interface RangeAudit {
  versions: RangeVersions;
  counts: Record<Cloud, { v4: number; v6: number }>;
  shadowed: ShadowedPrefixAudit[];
  unmapped: UnmappedRegion[];
  ownership: OwnershipAudit;
  drift: RangeDrift | null;
  /** what makes the audit fail (exit 1): unmapped regions that are not allowed, ownership mismatches */
  problems: string[];
}

/** Anything that answers like the classifier (tests pass a deliberately broken one). */
export interface ClassifierLike {
  classifyIp(ip: Ip): Classification | null;
}

export interface RangeAuditInput {
  data: RangeData;
  /** AWS regions that have a bucket entry (the bucket map's `regions` keys) */
  bucketRegions: readonly string[];
  /** regions that go to the default base by design (routing/buckets.ts isExemptRegion: GLOBAL, us-gov-*, eusc-*) */
  isExempt: (region: string) => boolean;
  /** regions allowed to be unmapped (config ALLOW_UNMAPPED_REGIONS), or `*` */
  allowedUnmapped: '*' | readonly string[];
  /** the older snapshot for the drift section */
  previous?: RangeData;
  /** the most-specific classifier to audit (default: IpClassifier.build(data, 'most-specific')) */
  classifier?: ClassifierLike;
}

const ownerKey = (o: Owner) => `${o.cloud} ${o.region}`;
const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface ParsedEntry {
  prefix: string;
  family: 4 | 6;
  length: number;
  first: bigint;
  owners: Owner[];
}

/** Distinct prefixes with all their owners. */
function distinctPrefixes(data: RangeData): ParsedEntry[] {
  const byPrefix = new Map<string, ParsedEntry>();
  for (const e of data.entries) {
    let p = byPrefix.get(e.prefix);
    if (!p) {
      const parsed = parseIpPrefix(e.prefix);
      if (parsed === null) continue; // the classifier refuses such data at build time; nothing to audit
      p = {
        prefix: e.prefix,
        family: parsed.network.family,
        length: parsed.length,
        first: ipToBigInt(parsed.network),
        owners: [],
      };
      byPrefix.set(e.prefix, p);
    }
    if (!p.owners.some((o) => o.cloud === e.cloud && o.region === e.region))
      p.owners.push({ cloud: e.cloud, region: e.region });
  }
  return [...byPrefix.values()];
}

/**
 * The independent longest match: per family, per published length, the networks of that length. A lookup masks the
 * address at each length from the longest down and takes the first hit. Slow and obviously right, unlike the table.
 */
class LongestMatch {
  private readonly byFamily = new Map<4 | 6, { lengths: number[]; nets: Map<number, Map<bigint, ParsedEntry>> }>();

  constructor(entries: readonly ParsedEntry[]) {
    for (const e of entries) {
      let f = this.byFamily.get(e.family);
      if (!f) {
        f = { lengths: [], nets: new Map() };
        this.byFamily.set(e.family, f);
      }
      let m = f.nets.get(e.length);
      if (!m) {
        m = new Map();
        f.nets.set(e.length, m);
        f.lengths.push(e.length);
      }
      m.set(e.first, e);
    }
    for (const f of this.byFamily.values()) f.lengths.sort((a, b) => b - a);
  }

  find(family: 4 | 6, address: bigint): ParsedEntry | undefined {
    const f = this.byFamily.get(family);
    if (!f) return undefined;
    const bits = family === 4 ? 32 : 128;
    for (const len of f.lengths) {
      const shift = BigInt(bits - len);
      const hit = f.nets.get(len)!.get((address >> shift) << shift);
      if (hit) return hit;
    }
    return undefined;
  }
}

/** Every published prefix, looked up at its first, middle and last address (and as `::ffff:` for IPv4). */
export function auditOwnership(
  data: RangeData,
  classifier: ClassifierLike = IpClassifier.build(data, 'most-specific'),
): OwnershipAudit {
  const entries = distinctPrefixes(data);
  const match = new LongestMatch(entries);
  const mismatches: OwnershipMismatch[] = [];
  const unobservable: string[] = [];
  let lookups = 0;
  const agrees = (got: Classification | null, expected: ParsedEntry) =>
    got !== null &&
    got.prefix === expected.prefix &&
    expected.owners.some((o) => o.cloud === got.cloud && o.region === got.region);
  for (const e of entries) {
    const size = 1n << BigInt((e.family === 4 ? 32 : 128) - e.length);
    const samples = [...new Set([e.first, e.first + size / 2n, e.first + size - 1n])];
    let observed = false;
    for (const address of samples) {
      const expected = match.find(e.family, address)!;
      if (expected === e) observed = true;
      const ip = ipFromBigInt(e.family, address);
      const lookupsHere: Ip[] = [ip];
      // an IPv4 client seen as IPv4-mapped IPv6 (a dual-stack socket) must classify the same
      if (e.family === 4) lookupsHere.push(ipFromBigInt(6, (0xffffn << 32n) | address));
      for (const q of lookupsHere) {
        lookups++;
        const got = classifier.classifyIp(q);
        if (!agrees(got, expected)) {
          mismatches.push({
            prefix: e.prefix,
            owner: e.owners[0]!,
            address: formatIp(q),
            expected: { prefix: expected.prefix, owners: expected.owners },
            got,
          });
        }
      }
    }
    if (!observed) unobservable.push(e.prefix);
  }
  return {
    prefixes: entries.length,
    lookups,
    unobservable: unobservable.sort(cmpStr),
    multiOwner: entries.filter((e) => e.owners.length > 1).map((e) => ({ prefix: e.prefix, owners: e.owners })),
    mismatches,
  };
}

/** Regional prefixes shadowed by larger ones, with both semantics' answers and routes. */
export function auditShadowed(data: RangeData, bucketRegions: readonly string[]): ShadowedPrefixAudit[] {
  const mapped = new Set(bucketRegions);
  const routeFor = (o: Owner) =>
    o.cloud === 'GCP'
      ? 'upstream'
      : o.cloud === 'AWS' && mapped.has(o.region)
        ? `bucket for ${o.region}`
        : 'default base';
  return IpClassifier.build(data, 'archeio')
    .shadowed()
    .map((s) => ({
      prefix: s.prefix,
      family: (s.prefix.includes(':') ? 6 : 4) as 4 | 6,
      owner: { cloud: s.owner.cloud, region: s.owner.region },
      shadowedBy: { prefix: s.shadowedBy.prefix, cloud: s.shadowedBy.cloud, region: s.shadowedBy.region },
      route: { 'most-specific': routeFor(s.owner), archeio: routeFor(s.shadowedBy) },
    }));
}

/** AWS regions in the data without a bucket entry (exempt regions excluded). */
export function auditUnmapped(
  data: RangeData,
  bucketRegions: readonly string[],
  isExempt: (r: string) => boolean,
  allowed: '*' | readonly string[],
): UnmappedRegion[] {
  const mapped = new Set(bucketRegions);
  const counts = new Map<string, number>();
  for (const e of data.entries)
    if (e.cloud === 'AWS' && !isExempt(e.region) && !mapped.has(e.region))
      counts.set(e.region, (counts.get(e.region) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => cmpStr(a, b))
    .map(([region, prefixes]) => ({ region, prefixes, allowed: allowed === '*' || allowed.includes(region) }));
}

/** Regions and prefixes added, removed or moved between two snapshots. */
export function rangeDrift(previous: RangeData, current: RangeData): RangeDrift {
  const index = (d: RangeData) => {
    const prefixes = new Map<string, Owner>();
    const regions = new Map<string, Owner>();
    for (const e of d.entries) {
      prefixes.set(`${e.cloud} ${e.prefix}`, { cloud: e.cloud, region: e.region });
      regions.set(ownerKey(e), { cloud: e.cloud, region: e.region });
    }
    return { prefixes, regions };
  };
  const a = index(previous);
  const b = index(current);
  const prefixOf = (key: string) => key.slice(key.indexOf(' ') + 1);
  const sortOwners = (xs: Owner[]) => xs.sort((x, y) => cmpStr(ownerKey(x), ownerKey(y)));
  const sortPrefixes = <T extends { prefix: string } & Owner>(xs: T[]) =>
    xs.sort((x, y) => cmpStr(`${x.cloud} ${x.region} ${x.prefix}`, `${y.cloud} ${y.region} ${y.prefix}`));
  return {
    from: previous.versions,
    to: current.versions,
    regionsAdded: sortOwners([...b.regions].filter(([k]) => !a.regions.has(k)).map(([, o]) => o)),
    regionsRemoved: sortOwners([...a.regions].filter(([k]) => !b.regions.has(k)).map(([, o]) => o)),
    prefixesAdded: sortPrefixes(
      [...b.prefixes].filter(([k]) => !a.prefixes.has(k)).map(([k, o]) => ({ prefix: prefixOf(k), ...o })),
    ),
    prefixesRemoved: sortPrefixes(
      [...a.prefixes].filter(([k]) => !b.prefixes.has(k)).map(([k, o]) => ({ prefix: prefixOf(k), ...o })),
    ),
    prefixesMoved: [...b.prefixes]
      .filter(([k, o]) => a.prefixes.has(k) && a.prefixes.get(k)!.region !== o.region)
      .map(([k, o]) => ({ prefix: prefixOf(k), cloud: o.cloud, from: a.prefixes.get(k)!.region, to: o.region }))
      .sort((x, y) => cmpStr(`${x.cloud} ${x.prefix}`, `${y.cloud} ${y.prefix}`)),
  };
}

export function auditRanges(input: RangeAuditInput): RangeAudit {
  const shadowed = auditShadowed(input.data, input.bucketRegions);
  const unmapped = auditUnmapped(input.data, input.bucketRegions, input.isExempt, input.allowedUnmapped);
  const ownership = auditOwnership(input.data, input.classifier);
  const drift = input.previous ? rangeDrift(input.previous, input.data) : null;
  const problems: string[] = [];
  const bad = unmapped.filter((u) => !u.allowed);
  if (bad.length > 0)
    problems.push(
      `${bad.length} AWS region${bad.length === 1 ? '' : 's'} without a bucket entry: ${bad.map((u) => `${u.region} (${u.prefixes} prefixes)`).join(', ')}; their clients silently get the default base`,
    );
  if (ownership.mismatches.length > 0) {
    const prefixes = new Set(ownership.mismatches.map((m) => m.prefix));
    problems.push(
      `${prefixes.size} published prefix${prefixes.size === 1 ? '' : 'es'} do not resolve to their owner (${ownership.mismatches.length} lookups), e.g. ${ownership.mismatches[0]!.address} in ${ownership.mismatches[0]!.prefix}`,
    );
  }
  return {
    versions: input.data.versions,
    counts: countPrefixes(input.data),
    shadowed,
    unmapped,
    ownership,
    drift,
    problems,
  };
}

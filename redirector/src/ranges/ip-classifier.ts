/**
 * Which cloud and region an address belongs to, by the clouds' own publications.
 *
 * Two semantics (ROUTING_SEMANTICS):
 *  - `most-specific` (default): IPv4-mapped IPv6 is unmapped first, then the longest containing prefix wins. A
 *    client in 15.193.0.0/24 (AWS ap-south-1) is ap-south-1 even though 15.193.0.0/19 is AWS GLOBAL.
 *  - `archeio`: what registry.k8s.io does today. No unmapping (`::ffff:35.180.1.1` is looked up as IPv6 and is
 *    unknown), and the SHORTEST containing prefix wins, because archeio's trie returns the first valued node on the
 *    way down from the root (kubernetes/registry.k8s.io:pkg/net/cidrs/triemap.go@093d55a;
 *    docs/reference/archeio.md#ip-classification). The 150 IPv4 and 97 IPv6 regional AWS prefixes nested in AWS GLOBAL
 *    prefixes therefore classify as GLOBAL.
 *
 * When the very same prefix is published by two owners (it is not, in the bundled data), the winner is chosen
 * deterministically: a regional owner before a global one (AWS GLOBAL, GCP global), then AWS before GCP before
 * Azure, then the lexically smaller region. archeio leaves this to Go map order, i.e. to chance.
 */
import { parseIp, unmapV4 } from '../net/ip.js';
import type { Ip } from '../net/ip.js';
import { formatIpPrefix, parseIpPrefix, prefixBounds } from '../net/ip-prefix.js';
import type { IpPrefix } from '../net/ip-prefix.js';
import type { PrefixLookup, RankedPrefix } from '../net/prefix-lookup.js';
import { RangeBruteForce } from '../net/range-brute-force.js';
import { RangeTable } from '../net/range-table.js';
import { PARSED_PREFIXES } from './publication-reader.js';
import { RangeDataError } from './range-data-error.js';
import { CLOUDS, isGlobalRegion } from './range-data.js';
import type { Cloud, RangeData, RangeEntry } from './range-data.js';

export type Semantics = 'most-specific' | 'archeio';

export const SEMANTICS: readonly Semantics[] = ['most-specific', 'archeio'];

export interface Classification {
  readonly cloud: Cloud;
  readonly region: string;
  /** the matched prefix, canonical CIDR text */
  readonly prefix: string;
}

export interface Shadowing {
  /** the shadowed prefix (= owner.prefix) */
  prefix: string;
  owner: Classification;
  /** what archeio's shortest-prefix rule answers for addresses in `prefix` instead */
  shadowedBy: Classification;
}

/** `table`: the fast structure (default). `brute-force`: the linear-scan twin, for tests and benchmarks. */
export type LookupEngine = 'table' | 'brute-force';

/**
 * Precedence ranks for owners, per cloud then region: the lower rank wins when two owners publish the same prefix.
 * (Nested maps rather than "cloud/region" keys: building runs over ~27k entries at start-up.)
 */
function rankOwners(data: RangeData): Map<Cloud, Map<string, number>> {
  const owners: Array<{ cloud: Cloud; region: string }> = [];
  const byCloud = new Map<Cloud, Map<string, number>>(CLOUDS.map((c) => [c, new Map()]));
  for (const e of data.entries) {
    const regions = byCloud.get(e.cloud)!;
    if (!regions.has(e.region)) {
      regions.set(e.region, -1);
      owners.push({ cloud: e.cloud, region: e.region });
    }
  }
  owners.sort(
    (a, b) =>
      Number(isGlobalRegion(a.region)) - Number(isGlobalRegion(b.region)) ||
      CLOUDS.indexOf(a.cloud) - CLOUDS.indexOf(b.cloud) ||
      (a.region < b.region ? -1 : a.region > b.region ? 1 : 0),
  );
  owners.forEach((o, rank) => byCloud.get(o.cloud)!.set(o.region, rank));
  return byCloud;
}

/**
 * Each entry's parsed prefix with its owner's rank, in entry order. `fromReader`: use (and release) the parse the
 * publication reader made of an entry, if any; `onEntry` sees each entry with its prefix and whether that parse was
 * the reader's. Throws RangeDataError for an entry whose prefix is not a CIDR prefix.
 */
function rankedPrefixes(
  data: RangeData,
  fromReader: boolean,
  onEntry?: (e: RangeEntry, prefix: IpPrefix, canonical: boolean) => void,
): RankedPrefix[] {
  const ranks = rankOwners(data);
  const items: RankedPrefix[] = [];
  data.entries.forEach((e, i) => {
    const cached = fromReader ? PARSED_PREFIXES.get(e) : undefined;
    if (cached !== undefined) PARSED_PREFIXES.delete(e);
    const prefix = cached ?? parseIpPrefix(e.prefix);
    if (prefix === null)
      throw new RangeDataError(
        `range entry ${i} (${e.cloud} ${e.region}): ${JSON.stringify(e.prefix)} is not a CIDR prefix`,
      );
    items.push({ prefix, rank: ranks.get(e.cloud)!.get(e.region)! });
    onEntry?.(e, prefix, cached !== undefined);
  });
  return items;
}

export class IpClassifier {
  private shadowCache: Shadowing[] | undefined;
  /** most-specific unmaps IPv4-mapped IPv6 before the lookup; archeio does not */
  private readonly unmap: boolean;

  private constructor(
    readonly semantics: Semantics,
    readonly data: RangeData,
    readonly engine: LookupEngine,
    private readonly lookup: PrefixLookup,
    /** the fast table, or null for the twin; called directly on the hot path */
    private readonly table: RangeTable | null,
    private readonly results: Classification[],
  ) {
    this.unmap = semantics === 'most-specific';
  }

  /**
   * Builds the lookup structure. Throws RangeDataError when an entry's prefix is not a CIDR prefix.
   *
   * The parsed prefixes are needed only while the table is built (it keeps typed arrays): the reader's parse of an
   * entry is used and released here, so ~27k address and prefix objects do not stay alive beside the table for as
   * long as the data does (about 4 MiB: docs/performance.md "Memory"). `shadowed()` parses again when it is asked.
   */
  static build(data: RangeData, semantics: Semantics, opts: { engine?: LookupEngine } = {}): IpClassifier {
    const engine = opts.engine ?? 'table';
    const results: Classification[] = [];
    const items = rankedPrefixes(data, true, (e, prefix, canonical) => {
      // Entries from our parsers already hold canonical text; others are normalised here.
      results.push(
        Object.freeze({ cloud: e.cloud, region: e.region, prefix: canonical ? e.prefix : formatIpPrefix(prefix) }),
      );
    });
    const match = semantics === 'archeio' ? 'shortest' : 'longest';
    const table = engine === 'table' ? RangeTable.build(items, match) : null;
    const lookup = table ?? RangeBruteForce.build(items, match);
    return new IpClassifier(semantics, data, engine, lookup, table, results);
  }

  /** Interval counts of the fast table (null for the twin). */
  get intervals(): { v4: number; v6: number } | null {
    return this.table?.intervals ?? null;
  }

  /** Classifies address text (parseIp's rules); null for invalid text or an address no cloud publishes. */
  classify(ip: string): Classification | null {
    const parsed = parseIp(ip);
    return parsed === null ? null : this.classifyIp(parsed);
  }

  classifyIp(ip: Ip): Classification | null {
    const t = this.table;
    let i: number;
    if (t === null) i = this.lookup.lookup(this.unmap ? unmapV4(ip) : ip);
    else if (ip.family === 4) i = t.lookupV4(ip.v4);
    // ::ffff:0:0/96 (IPv4-mapped), unmapped in place: no allocation on the hot path.
    else if (this.unmap && ip.w0 === 0 && ip.w1 === 0 && ip.w2 === 0xffff) i = t.lookupV4(ip.w3);
    else i = t.lookupV6(ip.w0, ip.w1, ip.w2, ip.w3);
    return i < 0 ? null : this.results[i]!;
  }

  /**
   * Every published prefix for which archeio's shortest-prefix rule answers a different (cloud, region) than the
   * prefix's owner: the prefix lies inside a larger prefix of another owner (today: regional AWS prefixes inside AWS
   * GLOBAL ones), or the same prefix is also published by an owner that wins the tie. Under `most-specific` these
   * clients get their own region; under `archeio` they get `shadowedBy`. Sorted by family, then address.
   */
  shadowed(): Shadowing[] {
    if (this.shadowCache) return this.shadowCache;
    const order = rankedPrefixes(this.data, false).map((item, index) => ({
      item,
      index,
      ...prefixBounds(item.prefix),
    }));
    const family = (p: IpPrefix): number => p.network.family;
    order.sort(
      (a, b) =>
        family(a.item.prefix) - family(b.item.prefix) ||
        (a.first < b.first ? -1 : a.first > b.first ? 1 : 0) ||
        a.item.prefix.length - b.item.prefix.length ||
        a.item.rank - b.item.rank ||
        a.index - b.index,
    );
    const out: Shadowing[] = [];
    // Prefixes are laminar, so the open prefixes form a chain; its bottom is the outermost container.
    const open: typeof order = [];
    for (const o of order) {
      while (open.length > 0) {
        const top = open[open.length - 1]!;
        if (family(top.item.prefix) === family(o.item.prefix) && top.last >= o.first) break;
        open.pop();
      }
      if (open.length > 0) {
        const owner = this.results[o.index]!;
        const outer = this.results[open[0]!.index]!;
        if (outer.cloud !== owner.cloud || outer.region !== owner.region)
          out.push({ prefix: owner.prefix, owner, shadowedBy: outer });
      }
      open.push(o);
    }
    this.shadowCache = out;
    return out;
  }
}

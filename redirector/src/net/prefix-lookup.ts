/**
 * The contract shared by the fast range table (range-table.ts) and its brute-force twin (range-brute-force.ts), so
 * tests and benchmarks can swap one for the other.
 */
import type { Ip } from './ip.js';
import type { IpPrefix } from './ip-prefix.js';

/**
 * Which containing prefix answers a lookup.
 *  - `longest`: the most specific one (ordinary longest-prefix match).
 *  - `shortest`: the least specific one. This is what archeio's binary trie does: its lookup walks from the root
 *    and returns the first node holding a value (kubernetes/registry.k8s.io:pkg/net/cidrs/triemap.go@093d55a).
 */
export type PrefixMatch = 'longest' | 'shortest';

/**
 * A prefix to put in a table. When the same prefix is listed more than once, the entry with the lower `rank` wins,
 * then the one listed first. (archeio lets the last insert win, in Go map order, which is random; we make the tie
 * deterministic and let the caller decide precedence.)
 */
export interface RankedPrefix {
  readonly prefix: IpPrefix;
  readonly rank: number;
}

export interface PrefixLookup {
  /** Index (into the list the lookup was built from) of the answering prefix, or -1 when none contains `ip`. */
  lookup(ip: Ip): number;
}

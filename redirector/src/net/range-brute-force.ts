/**
 * The brute-force twin of RangeTable: a linear scan over every prefix of the address's family, keeping the longest
 * (or shortest) one that contains the address. It exists for tests and benchmarks only, in the spirit of archeio's
 * pkg/net/cidrs/bruteforce.go ("exists purely for testing and benchmarking"): it is short enough to be evidently
 * right, and the fast table is checked against it on every published prefix.
 *
 * The scan is over typed arrays of (network, mask) words rather than prefix objects only so that the differential
 * test, which makes a few hundred thousand lookups over ~27k prefixes, finishes in seconds.
 */
import type { Ip } from './ip.js';
import type { PrefixLookup, PrefixMatch, RankedPrefix } from './prefix-lookup.js';

/** The top `bits` bits of a 32-bit word (bits may be outside 0-32), as an unsigned mask. */
function wordMask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

class FamilyScan {
  /** `words` network words and `words` mask words per prefix */
  readonly net: Uint32Array;
  readonly mask: Uint32Array;
  readonly length: Int32Array;
  readonly rank: Float64Array;
  readonly index: Int32Array;

  constructor(
    readonly words: 1 | 4,
    items: ReadonlyArray<{ item: RankedPrefix; index: number }>,
  ) {
    this.net = new Uint32Array(items.length * words);
    this.mask = new Uint32Array(items.length * words);
    this.length = new Int32Array(items.length);
    this.rank = new Float64Array(items.length);
    this.index = new Int32Array(items.length);
    items.forEach(({ item, index }, i) => {
      const n = item.prefix.network;
      const w = n.family === 4 ? [n.v4] : [n.w0, n.w1, n.w2, n.w3];
      for (let k = 0; k < words; k++) {
        this.net[i * words + k] = w[k]!;
        this.mask[i * words + k] = wordMask(item.prefix.length - 32 * k);
      }
      this.length[i] = item.prefix.length;
      this.rank[i] = item.rank;
      this.index[i] = index;
    });
  }

  /** Index (in the original list) of the answer for an IPv4 address, or -1. */
  scan4(match: PrefixMatch, a: number): number {
    const { net, mask } = this;
    let best = -1;
    for (let i = 0; i < net.length; i++) {
      // Containment: the address masked to the prefix length equals the network.
      if ((a & mask[i]!) >>> 0 === net[i]) best = this.better(match, i, best);
    }
    return best < 0 ? -1 : this.index[best]!;
  }

  /** Index (in the original list) of the answer for an IPv6 address, or -1. */
  scan6(match: PrefixMatch, a0: number, a1: number, a2: number, a3: number): number {
    const { net, mask } = this;
    let best = -1;
    for (let k = 0; k < net.length; k += 4) {
      if ((a0 & mask[k]!) >>> 0 !== net[k]) continue;
      if ((a1 & mask[k + 1]!) >>> 0 !== net[k + 1]) continue;
      if ((a2 & mask[k + 2]!) >>> 0 !== net[k + 2]) continue;
      if ((a3 & mask[k + 3]!) >>> 0 !== net[k + 3]) continue;
      best = this.better(match, k / 4, best);
    }
    return best < 0 ? -1 : this.index[best]!;
  }

  /** Of two containing prefixes (positions i and best, best may be -1), the one that answers. */
  private better(match: PrefixMatch, i: number, best: number): number {
    if (best < 0) return i;
    const a = this.length[i]!;
    const b = this.length[best]!;
    if (match === 'longest' ? a > b : a < b) return i;
    // Equal lengths, both containing the address: the same prefix listed twice. The lower rank wins, then the
    // earlier entry (which is already `best`).
    return a === b && this.rank[i]! < this.rank[best]! ? i : best;
  }
}

export class RangeBruteForce implements PrefixLookup {
  private constructor(
    private readonly v4: FamilyScan,
    private readonly v6: FamilyScan,
    readonly match: PrefixMatch,
  ) {}

  static build(items: readonly RankedPrefix[], match: PrefixMatch): RangeBruteForce {
    const indexed = items.map((item, index) => ({ item, index }));
    return new RangeBruteForce(
      new FamilyScan(
        1,
        indexed.filter((x) => x.item.prefix.network.family === 4),
      ),
      new FamilyScan(
        4,
        indexed.filter((x) => x.item.prefix.network.family === 6),
      ),
      match,
    );
  }

  lookup(ip: Ip): number {
    if (ip.family === 4) return this.v4.scan4(this.match, ip.v4);
    return this.v6.scan6(this.match, ip.w0, ip.w1, ip.w2, ip.w3);
  }
}

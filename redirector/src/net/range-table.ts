/**
 * The fast prefix table: every prefix of a family is flattened, once, into sorted disjoint intervals that cover the
 * whole address space, each labelled with the prefix that answers for it under the chosen match rule (or -1). A
 * lookup is then a binary search for the last interval starting at or before the address.
 *
 * Why this shape (see docs/ip-classification.md for measurements):
 *  - CIDR prefixes are laminar (any two are nested or disjoint), so a single sweep with a stack labels every
 *    interval: under `longest` the answer is the innermost open prefix, under `shortest` the outermost one.
 *  - IPv4 starts live in one Uint32Array; IPv6 starts in one Uint32Array of four words per interval, compared
 *    lexicographically. AWS publishes IPv6 prefixes down to /128, so all 128 bits take part.
 *  - A 65,537-entry index on the top 16 bits of the address (of the first word for IPv6) narrows each search to the
 *    intervals starting inside that /16 (resp. /16 of IPv6 space), so most IPv4 searches take a handful of steps.
 *  - Lookups allocate nothing and touch only typed arrays.
 */
import type { Ip } from './ip.js';
import type { PrefixLookup, PrefixMatch, RankedPrefix } from './prefix-lookup.js';

/**
 * How the sweep handles a family's addresses while building: IPv4 as plain numbers; IPv6 as three exact doubles
 * (48 + 48 + 32 bits), because bigint arithmetic made building the IPv6 half several times slower (start-up budget).
 */
interface PositionOps<K> {
  zero: K;
  max: K;
  compare(a: K, b: K): number;
  /** the next address (never called on max) */
  next(k: K): K;
}

interface SweepItem<K> {
  start: K;
  end: K;
  length: number;
  rank: number;
  index: number;
}

/** Sorted interval starts (the first is always the zero address) and each interval's answer (item index or -1). */
interface Flattened<K> {
  starts: K[];
  values: number[];
}

function flattenPrefixes<K>(items: SweepItem<K>[], match: PrefixMatch, ops: PositionOps<K>): Flattened<K> {
  const { compare } = ops;
  // Outer prefixes before the prefixes they contain; for one prefix listed twice, the winner first.
  items.sort((a, b) => compare(a.start, b.start) || a.length - b.length || a.rank - b.rank || a.index - b.index);
  const starts: K[] = [ops.zero];
  const values: number[] = [-1];
  const emit = (at: K, value: number): void => {
    const last = starts.length - 1;
    if (compare(starts[last]!, at) === 0) {
      // Several prefixes opened or closed at the same address: the last word on it stands. (It never equals the
      // interval before: an answer that held before this address was either closed here or is still the answer,
      // in which case nothing was emitted. Were it equal, lookups would still be right, just one interval longer.)
      values[last] = value;
    } else if (values[last] !== value) {
      starts.push(at);
      values.push(value);
    }
  };
  const stack: SweepItem<K>[] = [];
  const answer = (): number => {
    if (stack.length === 0) return -1;
    return match === 'longest' ? stack[stack.length - 1]!.index : stack[0]!.index;
  };
  /** Closes the open prefixes that end before `at` (`at` = null: all of them). */
  const closeBefore = (at: K | null): void => {
    while (stack.length > 0 && (at === null || compare(stack[stack.length - 1]!.end, at) < 0)) {
      const done = stack.pop()!;
      if (compare(done.end, ops.max) < 0) emit(ops.next(done.end), answer());
    }
  };
  let previous: SweepItem<K> | undefined;
  for (const item of items) {
    if (previous !== undefined && previous.length === item.length && compare(previous.start, item.start) === 0)
      continue;
    previous = item;
    closeBefore(item.start);
    stack.push(item);
    emit(item.start, answer());
  }
  closeBefore(null);
  return { starts, values };
}

const V4_OPS: PositionOps<number> = {
  zero: 0,
  max: 0xffffffff,
  compare: (a, b) => a - b,
  next: (k) => k + 1,
};

/** An IPv6 address as h = bits 127..80, m = bits 79..32, l = bits 31..0; each exact in a double. */
interface Pos6 {
  h: number;
  m: number;
  l: number;
}
const P32 = 2 ** 32;
const P48 = 2 ** 48;
const V6_OPS: PositionOps<Pos6> = {
  zero: { h: 0, m: 0, l: 0 },
  max: { h: P48 - 1, m: P48 - 1, l: P32 - 1 },
  compare: (a, b) => a.h - b.h || a.m - b.m || a.l - b.l,
  next: (k) => {
    if (k.l < P32 - 1) return { h: k.h, m: k.m, l: k.l + 1 };
    if (k.m < P48 - 1) return { h: k.h, m: k.m + 1, l: 0 };
    return { h: k.h + 1, m: 0, l: 0 };
  },
};
function pos6(w0: number, w1: number, w2: number, w3: number): Pos6 {
  return { h: w0 * 65536 + (w1 >>> 16), m: (w1 & 0xffff) * P32 + w2, l: w3 };
}

/** The host bits of word k (0-3) of a prefix of the given length, as an unsigned mask. */
function hostMask(length: number, k: number): number {
  const bits = length - 32 * k; // network bits in this word
  if (bits <= 0) return 0xffffffff;
  if (bits >= 32) return 0;
  return 0xffffffff >>> bits;
}

/**
 * index[h] = the interval holding the first address of the h-th 65,536th of the address space; index[65536] = the
 * last interval. `ceil16(j)` is the first h whose boundary lies at or after interval j's start.
 */
function buildIndex(count: number, ceil16: (j: number) => number): Uint32Array {
  const index = new Uint32Array(65537);
  for (let j = 0; j < count; j++) {
    const from = ceil16(j);
    const to = j + 1 < count ? ceil16(j + 1) : 65536;
    index.fill(j, from, to);
  }
  index[65536] = count - 1;
  return index;
}

export class RangeTable implements PrefixLookup {
  private constructor(
    readonly match: PrefixMatch,
    private readonly starts4: Uint32Array,
    private readonly values4: Int32Array,
    private readonly index4: Uint32Array,
    /** four words per interval */
    private readonly starts6: Uint32Array,
    private readonly values6: Int32Array,
    private readonly index6: Uint32Array,
  ) {}

  static build(items: readonly RankedPrefix[], match: PrefixMatch): RangeTable {
    const v4: SweepItem<number>[] = [];
    const v6: SweepItem<Pos6>[] = [];
    items.forEach((item, index) => {
      const { network: n, length } = item.prefix;
      if (n.family === 4) {
        v4.push({ start: n.v4, end: (n.v4 | hostMask(length, 0)) >>> 0, length, rank: item.rank, index });
      } else {
        const end = pos6(
          (n.w0 | hostMask(length, 0)) >>> 0,
          (n.w1 | hostMask(length, 1)) >>> 0,
          (n.w2 | hostMask(length, 2)) >>> 0,
          (n.w3 | hostMask(length, 3)) >>> 0,
        );
        v6.push({ start: pos6(n.w0, n.w1, n.w2, n.w3), end, length, rank: item.rank, index });
      }
    });
    const f4 = flattenPrefixes(v4, match, V4_OPS);
    const f6 = flattenPrefixes(v6, match, V6_OPS);
    const starts4 = Uint32Array.from(f4.starts);
    const starts6 = new Uint32Array(f6.starts.length * 4);
    f6.starts.forEach((p, i) => {
      starts6[i * 4] = Math.floor(p.h / 65536);
      starts6[i * 4 + 1] = (p.h % 65536) * 65536 + Math.floor(p.m / P32);
      starts6[i * 4 + 2] = p.m % P32;
      starts6[i * 4 + 3] = p.l;
    });
    const ceil4 = (j: number): number => Math.ceil(starts4[j]! / 65536);
    const ceil6 = (j: number): number => {
      const k = j * 4;
      const w0 = starts6[k]!;
      const exact = (w0 & 0xffff) === 0 && starts6[k + 1] === 0 && starts6[k + 2] === 0 && starts6[k + 3] === 0;
      return (w0 >>> 16) + (exact ? 0 : 1);
    };
    return new RangeTable(
      match,
      starts4,
      Int32Array.from(f4.values),
      buildIndex(f4.starts.length, ceil4),
      starts6,
      Int32Array.from(f6.values),
      buildIndex(f6.starts.length, ceil6),
    );
  }

  /** Number of intervals per family (for benchmarks and docs). */
  get intervals(): { v4: number; v6: number } {
    return { v4: this.values4.length, v6: this.values6.length };
  }

  /** Bytes held in typed arrays. */
  get byteLength(): number {
    return [this.starts4, this.values4, this.index4, this.starts6, this.values6, this.index6].reduce(
      (n, a) => n + a.byteLength,
      0,
    );
  }

  lookup(ip: Ip): number {
    return ip.family === 4 ? this.lookupV4(ip.v4) : this.lookupV6(ip.w0, ip.w1, ip.w2, ip.w3);
  }

  /** `v` is an unsigned 32-bit address. */
  lookupV4(v: number): number {
    const starts = this.starts4;
    const h = v >>> 16;
    // The answer lies between the interval holding this /16's first address and the one holding the next /16's.
    let lo = this.index4[h]!;
    let hi = this.index4[h + 1]!;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= v) lo = mid;
      else hi = mid - 1;
    }
    return this.values4[lo]!;
  }

  /** The address as four unsigned 32-bit words, most significant first. */
  lookupV6(w0: number, w1: number, w2: number, w3: number): number {
    const s = this.starts6;
    const h = w0 >>> 16;
    let lo = this.index6[h]!;
    let hi = this.index6[h + 1]!;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const k = mid * 4;
      const s0 = s[k]!;
      let le: boolean;
      if (s0 !== w0) le = s0 < w0;
      else {
        const s1 = s[k + 1]!;
        if (s1 !== w1) le = s1 < w1;
        else {
          const s2 = s[k + 2]!;
          le = s2 !== w2 ? s2 < w2 : s[k + 3]! <= w3;
        }
      }
      if (le) lo = mid;
      else hi = mid - 1;
    }
    return this.values6[lo]!;
  }
}

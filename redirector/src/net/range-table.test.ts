/**
 * The fast table and its brute-force twin on synthetic prefix sets: a shared hand-made case table, then random
 * nested prefix sets checked three ways (table, twin, and a bigint reference written here).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp, ipFromBigInt, ipToBigInt, parseIp } from './ip.js';
import type { Ip } from './ip.js';
import { parseIpPrefix, prefixBounds } from './ip-prefix.js';
import type { PrefixLookup, PrefixMatch, RankedPrefix } from './prefix-lookup.js';
import { RangeBruteForce } from './range-brute-force.js';
import { RangeTable } from './range-table.js';

const ENGINES: Array<[string, (items: readonly RankedPrefix[], match: PrefixMatch) => PrefixLookup]> = [
  ['table', (items, match) => RangeTable.build(items, match)],
  ['brute-force', (items, match) => RangeBruteForce.build(items, match)],
];

function items(list: Array<string | [string, number]>): RankedPrefix[] {
  return list.map((x) => {
    const [text, rank] = typeof x === 'string' ? [x, 0] : x;
    const prefix = parseIpPrefix(text);
    if (!prefix) throw new Error(text);
    return { prefix, rank };
  });
}

/** Index of the answer by definition, over bigints. */
function reference(list: readonly RankedPrefix[], ip: Ip, match: PrefixMatch): number {
  const a = ipToBigInt(ip);
  let best = -1;
  list.forEach((it, i) => {
    if (it.prefix.network.family !== ip.family) return;
    const { first, last } = prefixBounds(it.prefix);
    if (a < first || a > last) return;
    if (best < 0) {
      best = i;
      return;
    }
    const b = list[best]!;
    const longer = it.prefix.length > b.prefix.length;
    const shorter = it.prefix.length < b.prefix.length;
    if ((match === 'longest' ? longer : shorter) || (it.prefix.length === b.prefix.length && it.rank < b.rank))
      best = i;
  });
  return best;
}

const SAMPLE = items([
  '10.0.0.0/8', // 0
  '10.1.0.0/16', // 1
  '10.1.2.0/24', // 2
  '10.1.2.3/32', // 3
  '192.0.2.0/24', // 4
  '0.0.0.0/0', // 5
  '255.255.255.255/32', // 6
  '2600:9000:5200::/40', // 7
  '2600:9000:5200::/48', // 8
  '2600:9000:5201::/48', // 9
  '2600:9000:5200::1/128', // 10
  '::ffff:0:0/96', // 11
  'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120', // 12
]);

// [address, longest, shortest]
const CASES: Array<[string, number, number]> = [
  ['10.0.0.0', 0, 5],
  ['9.255.255.255', 5, 5],
  ['10.1.2.3', 3, 5],
  ['10.1.2.2', 2, 5],
  ['10.1.2.4', 2, 5],
  ['10.1.3.0', 1, 5],
  ['10.1.255.255', 1, 5],
  ['10.2.0.0', 0, 5],
  ['10.255.255.255', 0, 5],
  ['11.0.0.0', 5, 5],
  ['192.0.2.255', 4, 5],
  ['255.255.255.254', 5, 5],
  ['255.255.255.255', 6, 5],
  ['0.0.0.0', 5, 5],
  ['2600:9000:5200::', 8, 7],
  ['2600:9000:5200::1', 10, 7],
  ['2600:9000:5200::2', 8, 7],
  ['2600:9000:5201:ffff:ffff:ffff:ffff:ffff', 9, 7],
  ['2600:9000:5202::', 7, 7],
  ['2600:9000:52ff:ffff:ffff:ffff:ffff:ffff', 7, 7],
  ['2600:9000:5300::', -1, -1],
  ['2600:9000:51ff:ffff:ffff:ffff:ffff:ffff', -1, -1],
  ['::ffff:10.1.2.3', 11, 11], // IPv4-mapped is IPv6 to the table: unmapping is the caller's choice
  ['::', -1, -1],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 12, 12],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff', -1, -1],
];

describe.each(ENGINES)('%s: shared case table', (_name, build) => {
  const longest = build(SAMPLE, 'longest');
  const shortest = build(SAMPLE, 'shortest');
  it.each(CASES)('%s → longest %i, shortest %i', (address, l, s) => {
    const ip = parseIp(address)!;
    expect(longest.lookup(ip)).toBe(l);
    expect(shortest.lookup(ip)).toBe(s);
    expect(reference(SAMPLE, ip, 'longest')).toBe(l);
    expect(reference(SAMPLE, ip, 'shortest')).toBe(s);
  });

  it('answers -1 everywhere when empty', () => {
    const empty = build([], 'longest');
    for (const a of ['0.0.0.0', '255.255.255.255', '::', '2600::1']) expect(empty.lookup(parseIp(a)!)).toBe(-1);
  });

  it('breaks ties on the same prefix by rank, then by list order', () => {
    const dup = items([
      ['1.2.3.0/24', 2],
      ['1.2.3.0/24', 1],
      ['1.2.3.0/24', 1],
      ['1.2.0.0/16', 0],
      ['2001:db8::/32', 5],
      ['2001:db8::/32', 4],
    ]);
    for (const match of ['longest', 'shortest'] as const) {
      const t = build(dup, match);
      expect(t.lookup(parseIp('1.2.3.4')!)).toBe(match === 'longest' ? 1 : 3);
      expect(t.lookup(parseIp('2001:db8::1')!)).toBe(5);
    }
  });
});

describe('RangeTable internals', () => {
  it('merges adjacent intervals with the same answer and reports its size', () => {
    const t = RangeTable.build(items(['10.0.0.0/8', '10.0.0.0/9', '10.128.0.0/9']), 'shortest');
    // Under shortest-match the two halves are invisible: [0, 10.0.0.0) none, [10/8] → 0, after → none.
    expect(t.intervals).toEqual({ v4: 3, v6: 1 });
    expect(t.byteLength).toBeGreaterThan(65537 * 4 * 2);
    const l = RangeTable.build(items(['10.0.0.0/8', '10.0.0.0/9', '10.128.0.0/9']), 'longest');
    expect(l.intervals.v4).toBe(4);
  });

  it('handles prefixes that start or end exactly on the /16 index boundaries', () => {
    const list = items([
      '1.2.0.0/16',
      '1.3.255.255/32',
      '1.4.0.0/32',
      '2001:db8::/32',
      '2001:db9::/128',
      '2001:dba::/16',
    ]);
    const t = RangeTable.build(list, 'longest');
    for (const a of [
      '1.1.255.255',
      '1.2.0.0',
      '1.2.255.255',
      '1.3.0.0',
      '1.3.255.254',
      '1.3.255.255',
      '1.4.0.0',
      '1.4.0.1',
      '2001:db8::',
      '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff',
      '2001:db9::',
      '2001:db9::1',
      '2001::',
      '2002::',
    ]) {
      const ip = parseIp(a)!;
      expect(t.lookup(ip), a).toBe(reference(list, ip, 'longest'));
    }
  });
});

// ---- random nested prefix sets ---------------------------------------------------------------------------------

/**
 * Prefixes drawn inside a small window of the address space (so that nesting, adjacency and duplicates are common),
 * for one family.
 */
function prefixSet(family: 4 | 6) {
  const bits = family === 4 ? 32 : 128;
  const windowBits = 12; // all prefixes live in one /(bits-12)
  const base = family === 4 ? 0x0a000000n : 0x2600_9000_5200n << 80n;
  const prefix = fc
    .record({
      offset: fc.bigInt({ min: 0n, max: (1n << BigInt(windowBits)) - 1n }),
      len: fc.integer({ min: bits - windowBits - 2, max: bits }),
      rank: fc.integer({ min: 0, max: 3 }),
    })
    .map(({ offset, len, rank }) => {
      const net = ((base + offset) >> BigInt(bits - len)) << BigInt(bits - len);
      return { text: `${formatIp(ipFromBigInt(family, net))}/${len}`, rank };
    });
  return fc.array(prefix, { maxLength: 40 }).map((list) => items(list.map((p) => [p.text, p.rank])));
}

function probes(list: readonly RankedPrefix[], extra: bigint[], family: 4 | 6): Ip[] {
  const max = family === 4 ? (1n << 32n) - 1n : (1n << 128n) - 1n;
  const out: bigint[] = [0n, max, ...extra];
  for (const it of list) {
    const { first, last } = prefixBounds(it.prefix);
    out.push(first, last, first - 1n, last + 1n, (first + last) / 2n);
  }
  return out.filter((v) => v >= 0n && v <= max).map((v) => ipFromBigInt(family, v));
}

describe.each([4, 6] as const)('IPv%i: table = twin = reference on random nested prefix sets', (family) => {
  it.each(['longest', 'shortest'] as const)('%s', (match) => {
    const base = family === 4 ? 0x0a000000n : 0x2600_9000_5200n << 80n;
    fc.assert(
      fc.property(
        prefixSet(family),
        fc.array(fc.bigInt({ min: 0n, max: 1n << 13n }), { maxLength: 20 }),
        (list, offsets) => {
          const table = RangeTable.build(list, match);
          const twin = RangeBruteForce.build(list, match);
          for (const ip of probes(
            list,
            offsets.map((o) => base + o - 2n),
            family,
          )) {
            const expected = reference(list, ip, match);
            expect(twin.lookup(ip), formatIp(ip)).toBe(expected);
            expect(table.lookup(ip), formatIp(ip)).toBe(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

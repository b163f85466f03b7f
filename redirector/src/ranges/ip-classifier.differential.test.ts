/**
 * Seeded randomised differential test: the fast table against its brute-force twin over the bundled publications,
 * under both semantics, on the first and last address of every published prefix, the addresses just outside them,
 * and random IPv4, IPv6 and IPv4-mapped addresses. Every disagreement is listed.
 */
import { describe, expect, it } from 'vitest';
import { formatIp, ipFromBigInt, ipv4, ipv6 } from '../net/ip.js';
import type { Ip } from '../net/ip.js';
import { parseIpPrefix, prefixBounds } from '../net/ip-prefix.js';
import { BUNDLED_RANGE_SOURCES } from './bundled-range-sources.js';
import { IpClassifier } from './ip-classifier.js';
import { loadRangeData } from './load-range-data.js';

/** mulberry32: a small, well-known 32-bit PRNG, so failures reproduce from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const SEED = 0x5eed_2026;
const DATA = loadRangeData(BUNDLED_RANGE_SOURCES);

function addresses(): Ip[] {
  const out: Ip[] = [];
  for (const e of DATA.entries) {
    const p = parseIpPrefix(e.prefix)!;
    const family = p.network.family;
    const max = family === 4 ? 0xffffffffn : (1n << 128n) - 1n;
    const { first, last } = prefixBounds(p);
    for (const v of [first, last, first - 1n, last + 1n]) if (v >= 0n && v <= max) out.push(ipFromBigInt(family, v));
  }
  const rand = prng(SEED);
  const prefixes = DATA.entries.map((e) => parseIpPrefix(e.prefix)!);
  for (let i = 0; i < 20_000; i++) out.push(ipv4(rand()));
  for (let i = 0; i < 5_000; i++) out.push(ipv6(rand(), rand(), rand(), rand()));
  for (let i = 0; i < 5_000; i++) out.push(ipv6(0, 0, 0xffff, rand())); // IPv4-mapped: the semantics differ here
  // Random addresses near published IPv6 space: a random prefix's network with random low bits.
  const v6 = prefixes.filter((p) => p.network.family === 6);
  for (let i = 0; i < 10_000; i++) {
    const p = v6[rand() % v6.length]!;
    const n = p.network as { w0: number; w1: number; w2: number; w3: number };
    out.push(ipv6(n.w0 ^ (rand() & 0xff), n.w1 ^ (i % 3 === 0 ? rand() : 0), rand(), rand()));
  }
  // And IPv4 addresses within a /16 of published space.
  const v4 = prefixes.filter((p) => p.network.family === 4);
  for (let i = 0; i < 10_000; i++) {
    const p = v4[rand() % v4.length]!;
    out.push(ipv4(((p.network as { v4: number }).v4 & 0xffff0000) | (rand() & 0xffff)));
  }
  return out;
}

const ADDRESSES = addresses();

describe.each(['most-specific', 'archeio'] as const)('%s: table = brute-force twin', (semantics) => {
  it(`agrees on ${ADDRESSES.length} addresses (seed ${SEED.toString(16)})`, () => {
    expect(ADDRESSES.length).toBeGreaterThanOrEqual(100_000);
    const table = IpClassifier.build(DATA, semantics);
    const twin = IpClassifier.build(DATA, semantics, { engine: 'brute-force' });
    const key = (x: { cloud: string; region: string; prefix: string } | null): string =>
      x ? `${x.cloud} ${x.region} ${x.prefix}` : '-';
    const differences: string[] = [];
    let hits = 0;
    for (const ip of ADDRESSES) {
      const a = key(table.classifyIp(ip));
      const b = key(twin.classifyIp(ip));
      if (a !== b) differences.push(`${formatIp(ip)}: table ${a}, twin ${b}`);
      if (a !== '-') hits++;
    }
    expect(differences.slice(0, 20)).toEqual([]);
    // The sample must exercise both answers and misses.
    expect(hits).toBeGreaterThan(ADDRESSES.length / 3);
    expect(ADDRESSES.length - hits).toBeGreaterThan(ADDRESSES.length / 10);
  });
});

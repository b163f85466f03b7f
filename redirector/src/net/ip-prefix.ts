/**
 * CIDR prefixes (`192.0.2.0/24`, `2600:9000:5200::/48`).
 *
 * The clouds publish prefixes as text. A published prefix with host bits set (`10.0.0.1/8`) is accepted and masked
 * to its network, which is what Go's netip.ParsePrefix plus archeio's bit-by-bit trie insert amount to; the
 * canonical text of such a prefix is the masked one.
 */
import { formatIp, ipFromBigInt, ipToBigInt, ipv4, ipv6, parseIpText } from './ip.js';
import type { Ip } from './ip.js';

export interface IpPrefix {
  /** the network address (host bits cleared) */
  readonly network: Ip;
  /** prefix length: 0-32 for IPv4, 0-128 for IPv6 */
  readonly length: number;
}

/**
 * Parses `address/length`. The address follows parseIp's rules except that a zone id is refused; the length is a
 * decimal number without leading zeros and no larger than the family's width. Returns null on anything else.
 */
export function parseIpPrefix(text: string): IpPrefix | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1 || text.length - slash > 4) return null;
  let length = 0;
  for (let i = slash + 1; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9 || (i > slash + 1 && length === 0)) return null; // not a digit, or a leading zero
    length = length * 10 + d;
  }
  const ip = parseIpText(text, slash, false);
  if (ip === null || length > (ip.family === 4 ? 32 : 128)) return null;
  return { network: maskIp(ip, length), length };
}

/** Canonical text: the network's canonical address text, a slash, the length. */
export function formatIpPrefix(prefix: IpPrefix): string {
  return `${formatIp(prefix.network)}/${prefix.length}`;
}

/** The top `bits` bits of a 32-bit word (0 ≤ bits ≤ 32), as an unsigned mask. */
function wordMask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** Clears every bit of `ip` after the first `length` bits. */
export function maskIp(ip: Ip, length: number): Ip {
  if (ip.family === 4) {
    const v = (ip.v4 & wordMask(length)) >>> 0;
    return v === ip.v4 ? ip : ipv4(v);
  }
  const w0 = (ip.w0 & wordMask(length)) >>> 0;
  const w1 = (ip.w1 & wordMask(length - 32)) >>> 0;
  const w2 = (ip.w2 & wordMask(length - 64)) >>> 0;
  const w3 = (ip.w3 & wordMask(length - 96)) >>> 0;
  if (w0 === ip.w0 && w1 === ip.w1 && w2 === ip.w2 && w3 === ip.w3) return ip;
  return ipv6(w0, w1, w2, w3);
}

/** True when `ip` lies inside `prefix` (families must match; IPv4-mapped IPv6 is not IPv4 here). */
export function prefixContains(prefix: IpPrefix, ip: Ip): boolean {
  const n = prefix.network;
  const len = prefix.length;
  if (n.family === 4) return ip.family === 4 && (ip.v4 & wordMask(len)) >>> 0 === n.v4;
  if (ip.family !== 6) return false;
  return (
    (ip.w0 & wordMask(len)) >>> 0 === n.w0 &&
    (ip.w1 & wordMask(len - 32)) >>> 0 === n.w1 &&
    (ip.w2 & wordMask(len - 64)) >>> 0 === n.w2 &&
    (ip.w3 & wordMask(len - 96)) >>> 0 === n.w3
  );
}

/** The number of address bits in the prefix's family. */
export function familyBits(prefix: IpPrefix): 32 | 128 {
  return prefix.network.family === 4 ? 32 : 128;
}

/** First and last address of the prefix as bigints (used to build tables and in tests). */
export function prefixBounds(prefix: IpPrefix): { first: bigint; last: bigint } {
  const first = ipToBigInt(prefix.network);
  const hostBits = BigInt(familyBits(prefix) - prefix.length);
  return { first, last: first + (1n << hostBits) - 1n };
}

/** The last address of the prefix. */
export function prefixLast(prefix: IpPrefix): Ip {
  return ipFromBigInt(prefix.network.family, prefixBounds(prefix).last);
}

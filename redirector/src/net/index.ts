/** The net package's public surface: addresses, prefixes, the client-IP rule, the range table and its twin. */
export { formatIp, ipEquals, ipFromBigInt, ipToBigInt, ipv4, ipv6, isV4Mapped, parseIp, unmapV4 } from './ip.js';
export type { Ip, Ipv4, Ipv6 } from './ip.js';
export { formatIpPrefix, maskIp, parseIpPrefix, prefixBounds, prefixContains, prefixLast } from './ip-prefix.js';
export type { IpPrefix } from './ip-prefix.js';
export { ClientIpRuleError, MAX_XFF_HOPS, clientIp, formatClientIpRule, parseClientIpRule } from './client-ip.js';
export type { ClientIpResult, ClientIpRule } from './client-ip.js';
export type { PrefixLookup, PrefixMatch, RankedPrefix } from './prefix-lookup.js';
export { RangeTable } from './range-table.js';
export { RangeBruteForce } from './range-brute-force.js';

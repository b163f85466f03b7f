/**
 * IP addresses as small, allocation-light values.
 *
 * An IPv4 address is one unsigned 32-bit number; an IPv6 address is four unsigned 32-bit words, most significant
 * first. Keeping the words as plain numbers (not a bigint, not a byte array) lets the range table compare them with
 * integer operations on its hot path (see range-table.ts). Every value is built by `ipv4()` / `ipv6()` so all
 * addresses of a family share one object shape, which keeps V8's property access monomorphic.
 *
 * Parsing is strict on purpose: the client-IP rule feeds attacker-controlled header text into it.
 *  - IPv4: exactly four dotted decimal octets, 0-255, no leading zeros (the same rule as Go's netip.ParseAddr, which
 *    archeio uses, and as node:net isIP). Shorthand forms such as `127.1` or `0x7f.0.0.1` are rejected.
 *  - IPv6: every RFC 4291 §2.2 text form: eight groups, `::` compression (at most once, standing for one or more
 *    zero groups), and an embedded dotted IPv4 tail. Hex digits in either case, at most four per group.
 *  - An IPv6 zone id (RFC 4007 §11, `fe80::1%eth0`) is accepted and dropped: a zone never matters for routing, and
 *    Go's ParseAddr accepts it too. An empty zone, or a zone on an IPv4 address, is rejected.
 *  - Brackets, ports, prefixes and surrounding whitespace are rejected.
 */

export interface Ipv4 {
  readonly family: 4;
  /** the address as an unsigned 32-bit integer */
  readonly v4: number;
}

export interface Ipv6 {
  readonly family: 6;
  /** bits 127..96, unsigned */
  readonly w0: number;
  /** bits 95..64, unsigned */
  readonly w1: number;
  /** bits 63..32, unsigned */
  readonly w2: number;
  /** bits 31..0, unsigned */
  readonly w3: number;
}

export type Ip = Ipv4 | Ipv6;

/** Builds an IPv4 address from its 32-bit value (taken modulo 2^32, as an unsigned number). */
export function ipv4(value: number): Ipv4 {
  return { family: 4, v4: value >>> 0 };
}

/** Builds an IPv6 address from four 32-bit words, most significant first. */
export function ipv6(w0: number, w1: number, w2: number, w3: number): Ipv6 {
  return { family: 6, w0: w0 >>> 0, w1: w1 >>> 0, w2: w2 >>> 0, w3: w3 >>> 0 };
}

const DOT = 0x2e;
const COLON = 0x3a;
const PERCENT = '%';

/**
 * Parses a dotted-quad IPv4 address in text[start, end). Returns the unsigned value, or -1 when the text is not
 * exactly four canonical decimal octets.
 */
function parseV4(text: string, start: number, end: number): number {
  let value = 0;
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || text.charCodeAt(i) !== DOT) return -1;
      i++;
    }
    if (i >= end) return -1;
    let c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    let octet = c;
    i++;
    while (i < end) {
      c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      // A leading zero ("01") is ambiguous (octal in inet_aton), so it is refused, as Go and node:net do.
      if (octet === 0) return -1;
      octet = octet * 10 + c;
      if (octet > 255) return -1;
      i++;
    }
    // Multiplication instead of `<<` keeps the value unsigned past 2^31.
    value = value * 256 + octet;
  }
  return i === end ? value : -1;
}

/** Hex digit values for char codes below 128 (-1: not a hex digit). */
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[97 + c] = 10 + c; // a-f
  HEX[65 + c] = 10 + c; // A-F
}

// Scratch space for the eight 16-bit groups; parsing and formatting are synchronous, so one buffer is enough.
const groups = new Uint16Array(8);

/** Parses an IPv6 address (no zone) in text[0, end). */
function parseV6(text: string, end: number): Ipv6 | null {
  let n = 0; // groups written so far
  let gap = -1; // index in `groups` where "::" stands, or -1
  let i = 0;
  if (end < 2) return null;
  if (text.charCodeAt(0) === COLON) {
    // Only "::" may start an address; a single leading colon is malformed.
    if (text.charCodeAt(1) !== COLON) return null;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    // One group: 1-4 hex digits, or the embedded IPv4 tail (RFC 4291 §2.2 form 3).
    let value = 0;
    let j = i;
    while (j < end) {
      const c = text.charCodeAt(j);
      const h = c < 128 ? HEX[c]! : -1;
      if (h < 0) break;
      value = value * 16 + h;
      j++;
      if (j - i > 4) break;
    }
    if (j < end && text.charCodeAt(j) === DOT) {
      if (n > 6) return null;
      const v4 = parseV4(text, i, end);
      if (v4 < 0) return null;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    const digits = j - i;
    if (digits === 0 || digits > 4 || n === 8) return null;
    groups[n++] = value;
    i = j;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return null;
    i++;
    if (i === end) return null; // a trailing single colon
    if (text.charCodeAt(i) === COLON) {
      if (gap >= 0) return null; // "::" may appear once
      gap = n;
      i++;
    }
  }
  if (gap >= 0) {
    // "::" stands for at least one zero group (RFC 4291 §2.2: "one or more groups of 16 bits of zeros").
    if (n > 7) return null;
    const shift = 8 - n;
    for (let k = n - 1; k >= gap; k--) groups[k + shift] = groups[k]!;
    for (let k = gap; k < gap + shift; k++) groups[k] = 0;
  } else if (n !== 8) {
    return null;
  }
  return ipv6(
    groups[0]! * 0x10000 + groups[1]!,
    groups[2]! * 0x10000 + groups[3]!,
    groups[4]! * 0x10000 + groups[5]!,
    groups[6]! * 0x10000 + groups[7]!,
  );
}

/**
 * Parses an IP address strictly (see the module comment). Returns null for anything that is not an address; never
 * throws, whatever the input.
 */
export function parseIp(text: string): Ip | null {
  if (typeof text !== 'string') return null;
  return parseIpText(text, text.length, true);
}

/**
 * Parses text[0, end) as an address; `zones` says whether an IPv6 zone id may follow. Shared with parseIpPrefix,
 * which parses the part before the slash without copying it.
 */
export function parseIpText(text: string, end: number, zones: boolean): Ip | null {
  const zone = text.indexOf(PERCENT);
  if (zone >= 0 && zone < end) {
    if (!zones || zone === end - 1) return null; // an empty zone id, or a zone where none may be
    end = zone;
    if (text.lastIndexOf(':', end) < 0) return null; // zones exist only on IPv6 addresses
    return end > 45 ? null : parseV6(text, end);
  }
  // 45 characters is the longest address text ("0000:0000:0000:0000:0000:ffff:255.255.255.255").
  if (end > 45 || end === 0) return null;
  const colon = text.indexOf(':');
  if (colon >= 0 && colon < end) return parseV6(text, end);
  const v4 = parseV4(text, 0, end);
  return v4 < 0 ? null : ipv4(v4);
}

function dotted(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** True for ::ffff:0:0/96, the IPv4-mapped IPv6 block (RFC 4291 §2.5.5.2). */
export function isV4Mapped(ip: Ip): boolean {
  return ip.family === 6 && ip.w0 === 0 && ip.w1 === 0 && ip.w2 === 0xffff;
}

/**
 * Canonical text. IPv4: dotted quad. IPv6: RFC 5952 §4 (lowercase, no leading zeros, the longest run of two or more
 * zero groups compressed, the first such run on a tie) and RFC 5952 §5's mixed notation for IPv4-mapped addresses
 * (`::ffff:192.0.2.1`), which is also how Go's netip prints them, so logs match archeio's.
 */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) return dotted(ip.v4);
  if (ip.w0 === 0 && ip.w1 === 0 && ip.w2 === 0xffff) return `::ffff:${dotted(ip.w3)}`;
  const g = groups;
  g[0] = ip.w0 >>> 16;
  g[1] = ip.w0;
  g[2] = ip.w1 >>> 16;
  g[3] = ip.w1;
  g[4] = ip.w2 >>> 16;
  g[5] = ip.w2;
  g[6] = ip.w3 >>> 16;
  g[7] = ip.w3; // Uint16Array keeps the low 16 bits
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      out += '::';
      k += bestLen - 1;
      continue;
    }
    if (k > 0 && k !== bestStart + bestLen) out += ':';
    out += g[k]!.toString(16);
  }
  return out;
}

/** `::ffff:a.b.c.d` → `a.b.c.d`; every other address is returned unchanged (the same object). */
export function unmapV4(ip: Ip): Ip {
  return ip.family === 6 && ip.w0 === 0 && ip.w1 === 0 && ip.w2 === 0xffff ? ipv4(ip.w3) : ip;
}

/** Value equality. */
export function ipEquals(a: Ip, b: Ip): boolean {
  if (a.family === 4) return b.family === 4 && a.v4 === b.v4;
  return b.family === 6 && a.w0 === b.w0 && a.w1 === b.w1 && a.w2 === b.w2 && a.w3 === b.w3;
}

/** The address as a bigint (32 or 128 bits). For building tables and for tests, never for the hot path. */
export function ipToBigInt(ip: Ip): bigint {
  if (ip.family === 4) return BigInt(ip.v4);
  return (BigInt(ip.w0) << 96n) | (BigInt(ip.w1) << 64n) | (BigInt(ip.w2) << 32n) | BigInt(ip.w3);
}

/** The inverse of ipToBigInt; `value` is taken modulo 2^32 or 2^128. */
export function ipFromBigInt(family: 4 | 6, value: bigint): Ip {
  if (family === 4) return ipv4(Number(BigInt.asUintN(32, value)));
  const v = BigInt.asUintN(128, value);
  return ipv6(
    Number(v >> 96n),
    Number((v >> 64n) & 0xffffffffn),
    Number((v >> 32n) & 0xffffffffn),
    Number(v & 0xffffffffn),
  );
}

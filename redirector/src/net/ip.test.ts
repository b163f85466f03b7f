import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatIp,
  ipEquals,
  ipFromBigInt,
  ipToBigInt,
  ipv4,
  ipv6,
  isV4Mapped,
  parseIp,
  parseIpText,
  unmapV4,
} from './ip.js';
import type { Ip } from './ip.js';

/** Reference canonical form of an IPv6 address: the WHATWG URL serializer, which follows RFC 5952 §4. */
function urlCanonical(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

function groupsOf(ip: Ip): number[] {
  if (ip.family === 4) throw new Error('v6 expected');
  return [
    ip.w0 >>> 16,
    ip.w0 & 0xffff,
    ip.w1 >>> 16,
    ip.w1 & 0xffff,
    ip.w2 >>> 16,
    ip.w2 & 0xffff,
    ip.w3 >>> 16,
    ip.w3 & 0xffff,
  ];
}

describe('parseIp: IPv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['35.180.1.1', (35 << 24) + (180 << 16) + (1 << 8) + 1],
    ['192.168.0.1', 0xc0a80001],
    ['10.0.0.10', 0x0a00000a],
  ])('%s', (text, value) => {
    expect(parseIp(text)).toEqual({ family: 4, v4: value >>> 0 });
  });

  it.each([
    '',
    '1',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4', // leading zero: octal in inet_aton, refused by Go's netip and node:net
    '1.2.3.04',
    '1.2.3.00',
    '256.1.1.1',
    '1.2.3.1000',
    '1..2.3',
    '1.2.3.4.',
    '.1.2.3.4',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '0x7f.0.0.1',
    '127.1',
    '1.2.3.4/32',
    '1.2.3.4:80',
    '1.2.3.4%eth0', // zones are for IPv6 only
    '1.2.3.-4',
    '1.2.3.a',
    '１.2.3.4', // a full-width digit
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe('parseIp: IPv6', () => {
  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['1::', [1, 0, 0, 0, 0, 0, 0, 0]],
    ['2001:db8::ff00:42:8329', [0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329]],
    ['2001:0DB8:0000:0000:0000:FF00:0042:8329', [0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329]],
    ['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['1:2:3:4:5:6:7::', [1, 2, 3, 4, 5, 6, 7, 0]],
    ['::2:3:4:5:6:7:8', [0, 2, 3, 4, 5, 6, 7, 8]],
    ['1::8', [1, 0, 0, 0, 0, 0, 0, 8]],
    ['::ffff:35.180.1.1', [0, 0, 0, 0, 0, 0xffff, 0x23b4, 0x0101]],
    ['::FFFF:1.2.3.4', [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]],
    ['::1.2.3.4', [0, 0, 0, 0, 0, 0, 0x0102, 0x0304]],
    ['1:2:3:4:5:6:1.2.3.4', [1, 2, 3, 4, 5, 6, 0x0102, 0x0304]],
    ['64:ff9b::192.0.2.33', [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221]],
    ['fe80::1%eth0', [0xfe80, 0, 0, 0, 0, 0, 0, 1]], // zone stripped
    ['fe80::1%25', [0xfe80, 0, 0, 0, 0, 0, 0, 1]],
    ['fe80::1%eth0%', [0xfe80, 0, 0, 0, 0, 0, 0, 1]], // a zone is any non-empty text after the first '%', as in Go
    ['::ffff:1.2.3.4%x', [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', [0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff]],
    ['0000:0000:0000:0000:0000:ffff:255.255.255.255', [0, 0, 0, 0, 0, 0xffff, 0xffff, 0xffff]],
  ])('%s', (text, groups) => {
    const ip = parseIp(text);
    expect(ip?.family).toBe(6);
    expect(groupsOf(ip!)).toEqual(groups);
  });

  it.each([
    ':',
    ':::',
    ':1',
    '1:',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '1::2::3',
    '12345::',
    'g::',
    '[::1]', // brackets belong to URLs, not addresses
    '::1/128',
    'fe80::1%', // empty zone
    '%eth0',
    '::1.2.3', // short embedded IPv4
    '::1.2.3.4.5',
    '::01.2.3.4',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '1:2:3:4:5:6:7:1.2.3.4', // 7 groups plus 32 bits is too many
    ':: ',
    'fe80::1 %eth0',
    '0000:0000:0000:0000:0000:ffff:255.255.255.2550', // one character too long for any address
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });

  it('never throws, even on non-strings', () => {
    expect(parseIp(undefined as unknown as string)).toBeNull();
    expect(parseIp(42 as unknown as string)).toBeNull();
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const r = parseIp(s);
        return r === null || r.family === 4 || r.family === 6;
      }),
    );
  });

  it('rejects a zone followed by a v4 address (no colon before the %)', () => {
    expect(parseIpText('1.2.3.4%a:b', 11, true)).toBeNull();
    expect(parseIpText('fe80::1%eth0', 12, false)).toBeNull();
  });
});

describe('formatIp', () => {
  it.each([
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:0DB8:0000:0000:0000:FF00:0042:8329', '2001:db8::ff00:42:8329'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // RFC 5952 §4.2.2: one zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // RFC 5952 §4.2.3: the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 §4.2.3: the first of equal runs
    ['::ffff:35.180.1.1', '::ffff:35.180.1.1'], // RFC 5952 §5: mixed notation for IPv4-mapped
    ['::ffff:0:0', '::ffff:0.0.0.0'],
    ['::1.2.3.4', '::102:304'], // IPv4-compatible (deprecated) is not mixed, as in Go
    ['fe80::1%eth0', 'fe80::1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['0:0:1:0:0:0:0:0', '0:0:1::'],
  ])('%s → %s', (text, canonical) => {
    expect(formatIp(parseIp(text)!)).toBe(canonical);
  });
});

describe('unmapV4 and helpers', () => {
  it('unmaps ::ffff:a.b.c.d only', () => {
    expect(unmapV4(parseIp('::ffff:35.180.1.1')!)).toEqual(parseIp('35.180.1.1'));
    const others = ['::1.2.3.4', '::fffe:1.2.3.4', '1::ffff:1.2.3.4', '35.180.1.1', '2600::1'].map((t) => parseIp(t)!);
    for (const ip of others) expect(unmapV4(ip)).toBe(ip);
    expect(isV4Mapped(parseIp('::ffff:1.2.3.4')!)).toBe(true);
    expect(isV4Mapped(parseIp('1.2.3.4')!)).toBe(false);
  });

  it('ipEquals compares by value and family', () => {
    expect(ipEquals(parseIp('1.2.3.4')!, ipv4(0x01020304))).toBe(true);
    expect(ipEquals(parseIp('1.2.3.4')!, parseIp('::ffff:1.2.3.4')!)).toBe(false);
    expect(ipEquals(parseIp('::ffff:1.2.3.4')!, parseIp('1.2.3.4')!)).toBe(false);
    expect(ipEquals(parseIp('::1')!, ipv6(0, 0, 0, 1))).toBe(true);
    expect(ipEquals(parseIp('::1')!, ipv6(0, 0, 0, 2))).toBe(false);
  });

  it('bigint conversions round-trip', () => {
    expect(ipToBigInt(parseIp('255.255.255.255')!)).toBe(0xffffffffn);
    expect(ipToBigInt(parseIp('ffff::1')!)).toBe((0xffffn << 112n) | 1n);
    expect(ipFromBigInt(6, (1n << 128n) + 5n)).toEqual(ipv6(0, 0, 0, 5));
    expect(ipFromBigInt(4, -1n)).toEqual(ipv4(0xffffffff));
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => ipToBigInt(ipFromBigInt(6, v)) === v));
  });
});

// ---- properties against node:net and the WHATWG URL serializer ------------------------------------------------

const hexGroup = fc.integer({ min: 0, max: 0xffff });
const words = fc.array(hexGroup, { minLength: 8, maxLength: 8 });

/** Renders eight groups in one of RFC 4291 §2.2's text forms, chosen by the other arguments. */
function render(groups: number[], opts: { upper: boolean; pad: number[]; compress: number; v4tail: boolean }): string {
  const hex = groups.map((g, i) => {
    let h = g.toString(16);
    const width = opts.pad[i] ?? 0;
    while (h.length < width) h = `0${h}`;
    return opts.upper ? h.toUpperCase() : h;
  });
  let parts: string[] = hex;
  let tail = '';
  if (opts.v4tail) {
    tail = `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
    parts = hex.slice(0, 6);
  }
  // Compress the zero run starting at the run index `compress` (if any run exists).
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < parts.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let e = i;
    while (e < parts.length && groups[e] === 0) e++;
    runs.push([i, e]);
    i = e;
  }
  let text: string;
  if (runs.length > 0 && opts.compress >= 0) {
    const [s, e] = runs[opts.compress % runs.length]!;
    const head = parts.slice(0, s).join(':');
    const rest = parts.slice(e).join(':');
    text = `${head}::${rest}`;
    if (tail) text += rest === '' ? tail : `:${tail}`;
  } else {
    text = parts.join(':');
    if (tail) text += `:${tail}`;
  }
  return text;
}

const v6Text = fc
  .record({
    groups: fc.oneof(words, fc.array(fc.oneof(fc.constant(0), hexGroup), { minLength: 8, maxLength: 8 })),
    upper: fc.boolean(),
    pad: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 8, maxLength: 8 }),
    compress: fc.integer({ min: -1, max: 3 }),
    v4tail: fc.boolean(),
  })
  .map((r) => ({ groups: r.groups, text: render(r.groups, r) }));

const v4Text = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }).map((o) => o.join('.'));

/** A near-miss: a valid address with a few characters inserted, deleted or replaced. */
const mutated = fc
  .tuple(
    fc.oneof(
      v6Text.map((x) => x.text),
      v4Text,
    ),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom('ins', 'del', 'rep'),
        fc.constantFrom(...'0123456789abcdefABCDEF:.%gz/ '.split('')),
      ),
      {
        maxLength: 3,
      },
    ),
  )
  .map(([text, edits]) => {
    let t = text;
    for (const [at, op, ch] of edits) {
      const i = t.length === 0 ? 0 : at % (t.length + 1);
      if (op === 'ins') t = t.slice(0, i) + ch + t.slice(i);
      else if (op === 'del') t = t.slice(0, i) + t.slice(i + 1);
      else t = t.slice(0, i) + ch + t.slice(i + 1);
    }
    return t;
  });

describe('parseIp/formatIp properties', () => {
  it('parses every RFC 4291 rendering of an address to that address', () => {
    fc.assert(
      fc.property(v6Text, ({ groups, text }) => {
        const ip = parseIp(text);
        expect(ip, text).not.toBeNull();
        expect(groupsOf(ip!)).toEqual(groups);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts exactly what node:net isIP accepts (zones restricted to node’s zone alphabet)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          mutated,
          v4Text,
          v6Text.map((x) => x.text),
          fc.string({ maxLength: 50 }),
        ),
        (text) => {
          const zone = text.indexOf('%');
          // node:net only accepts zone ids made of [0-9a-zA-Z-.:]; Go (and we) accept any non-empty zone text.
          fc.pre(zone < 0 || /^[0-9a-zA-Z\-.:]+$/.test(text.slice(zone + 1)));
          const ours = parseIp(text);
          expect(ours === null ? 0 : ours.family, text).toBe(isIP(text));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('formats IPv6 exactly as the WHATWG URL serializer (RFC 5952), except the mixed notation for ::ffff:0:0/96', () => {
    fc.assert(
      fc.property(v6Text, ({ text }) => {
        const ip = parseIp(text)!;
        const ours = formatIp(ip);
        if (isV4Mapped(ip)) {
          expect(ours).toMatch(/^::ffff:\d+\.\d+\.\d+\.\d+$/);
          expect(isIP(ours)).toBe(6);
        } else {
          expect(ours).toBe(urlCanonical(text));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips: parse(format(ip)) = ip, and format is a fixed point', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          v6Text.map((x) => x.text),
          v4Text,
        ),
        (text) => {
          const ip = parseIp(text)!;
          const canonical = formatIp(ip);
          const again = parseIp(canonical)!;
          expect(ipEquals(again, ip)).toBe(true);
          expect(formatIp(again)).toBe(canonical);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('formats IPv4 as the dotted quad node:net accepts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        const text = formatIp(ipv4(v));
        expect(isIP(text)).toBe(4);
        expect(parseIp(text)).toEqual(ipv4(v));
      }),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp, ipFromBigInt, ipToBigInt, parseIp } from './ip.js';
import {
  familyBits,
  formatIpPrefix,
  maskIp,
  parseIpPrefix,
  prefixBounds,
  prefixContains,
  prefixLast,
} from './ip-prefix.js';

describe('parseIpPrefix / formatIpPrefix', () => {
  it.each([
    ['35.180.0.0/16', '35.180.0.0/16'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['1.2.3.4/32', '1.2.3.4/32'],
    ['10.0.0.1/8', '10.0.0.0/8'], // host bits are masked, as archeio's trie insert does
    ['2600:9000:5200::/48', '2600:9000:5200::/48'],
    ['2600:1F00:0::/24', '2600:1f00::/24'],
    ['2a05:d07a:a000::/40', '2a05:d07a:a000::/40'],
    ['2001:db8::1/128', '2001:db8::1/128'],
    ['2001:db8:ffff::1/33', '2001:db8:8000::/33'],
    ['::/0', '::/0'],
    ['::ffff:1.2.3.0/120', '::ffff:1.2.3.0/120'],
  ])('%s → %s', (text, canonical) => {
    const p = parseIpPrefix(text);
    expect(p).not.toBeNull();
    expect(formatIpPrefix(p!)).toBe(canonical);
  });

  it.each([
    '',
    '/24',
    '1.2.3.0',
    '1.2.3.0/',
    '1.2.3.0/33',
    '1.2.3.0/024',
    '1.2.3.0/1000',
    '1.2.3.0/-1',
    '1.2.3.0/ 8',
    '::/129',
    'fe80::%eth0/64',
    '1.2.3.0/8/8',
    'x/8',
    '1.2.3.0/8a',
  ])('rejects %j', (text) => {
    expect(parseIpPrefix(text)).toBeNull();
  });

  it('never throws on non-strings', () => {
    expect(parseIpPrefix(null as unknown as string)).toBeNull();
  });
});

describe('masking, containment and bounds', () => {
  it('maskIp keeps the first `length` bits', () => {
    expect(formatIp(maskIp(parseIp('255.255.255.255')!, 0))).toBe('0.0.0.0');
    expect(formatIp(maskIp(parseIp('255.255.255.255')!, 20))).toBe('255.255.240.0');
    expect(formatIp(maskIp(parseIp('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')!, 100))).toBe(
      'ffff:ffff:ffff:ffff:ffff:ffff:f000:0',
    );
    const ip = parseIp('1.2.3.4')!;
    expect(maskIp(ip, 32)).toBe(ip);
  });

  it('prefixContains agrees with bigint arithmetic', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        fc.integer({ min: 0, max: 128 }),
        (a, b, len) => {
          const p = parseIpPrefix(`${formatIp(ipFromBigInt(6, a))}/${len}`)!;
          const shift = BigInt(128 - len);
          const expected = a >> shift === b >> shift;
          expect(prefixContains(p, ipFromBigInt(6, b))).toBe(expected);
          // IPv4 too, on the low 32 bits
          const a4 = a & 0xffffffffn;
          const b4 = b & 0xffffffffn;
          const l4 = len % 33;
          const p4 = parseIpPrefix(`${formatIp(ipFromBigInt(4, a4))}/${l4}`)!;
          expect(prefixContains(p4, ipFromBigInt(4, b4))).toBe(a4 >> BigInt(32 - l4) === b4 >> BigInt(32 - l4));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('families never contain each other (IPv4-mapped is IPv6)', () => {
    expect(prefixContains(parseIpPrefix('0.0.0.0/0')!, parseIp('::ffff:1.2.3.4')!)).toBe(false);
    expect(prefixContains(parseIpPrefix('::/0')!, parseIp('1.2.3.4')!)).toBe(false);
  });

  it('bounds and last address', () => {
    const p = parseIpPrefix('15.193.0.0/19')!;
    expect(prefixBounds(p)).toEqual({
      first: ipToBigInt(parseIp('15.193.0.0')!),
      last: ipToBigInt(parseIp('15.193.31.255')!),
    });
    expect(formatIp(prefixLast(p))).toBe('15.193.31.255');
    expect(formatIp(prefixLast(parseIpPrefix('2600:9000:5200::/40')!))).toBe('2600:9000:52ff:ffff:ffff:ffff:ffff:ffff');
    expect(familyBits(p)).toBe(32);
    expect(familyBits(parseIpPrefix('::/0')!)).toBe(128);
  });
});

import { describe, expect, it } from 'vitest';
import { addressToBigInt, bigIntToAddress, classifyByScan, readPublishedRanges } from './published-ranges.js';

const prefixes = readPublishedRanges();

describe('published ranges (oracle ground truth)', () => {
  it('reads all three clouds, deduplicating AWS per-service entries', () => {
    const clouds = new Set(prefixes.map((p) => p.cloud));
    expect(clouds).toEqual(new Set(['AWS', 'GCP', 'Azure']));
    const keys = prefixes.map((p) => `${p.cloud}|${p.region}|${p.prefix}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('parses addresses of both families and formats them back', () => {
    expect(addressToBigInt('1.2.3.4')).toEqual({ family: 4, value: 0x01020304n });
    expect(addressToBigInt('::ffff:1.2.3.4')).toEqual({ family: 6, value: 0xffff01020304n });
    expect(addressToBigInt('2001:db8::1').value).toBe(0x20010db8000000000000000000000001n);
    expect(bigIntToAddress(0x01020304n, 4)).toBe('1.2.3.4');
    expect(bigIntToAddress(addressToBigInt('2001:db8::1').value, 6)).toBe('2001:db8:0:0:0:0:0:1');
    expect(() => addressToBigInt('fe80::1%eth0')).toThrow(/not an IP/);
    expect(() => addressToBigInt('300.1.1.1')).toThrow(/not an IP/);
  });

  it("classifies archeio's test vectors", () => {
    expect(classifyByScan(prefixes, '35.180.1.1', 'archeio')).toMatchObject({ cloud: 'AWS', region: 'eu-west-3' });
    expect(classifyByScan(prefixes, '35.220.26.1', 'archeio')).toMatchObject({ cloud: 'GCP' });
    expect(classifyByScan(prefixes, '192.168.0.1', 'archeio')).toBeNull();
  });

  it('differs between semantics exactly where a regional prefix sits inside GLOBAL', () => {
    expect(classifyByScan(prefixes, '15.193.0.5', 'most-specific')).toEqual({
      cloud: 'AWS',
      region: 'ap-south-1',
      prefix: '15.193.0.0/24',
    });
    expect(classifyByScan(prefixes, '15.193.0.5', 'archeio')).toEqual({
      cloud: 'AWS',
      region: 'GLOBAL',
      prefix: '15.193.0.0/19',
    });
    expect(classifyByScan(prefixes, '2600:9000:5200::1', 'most-specific')).toMatchObject({ region: 'eu-west-1' });
    expect(classifyByScan(prefixes, '2600:9000:5200::1', 'archeio')).toMatchObject({ region: 'GLOBAL' });
  });

  it('unmaps IPv4-mapped IPv6 only under most-specific', () => {
    expect(classifyByScan(prefixes, '::ffff:35.180.1.1', 'most-specific')).toMatchObject({ region: 'eu-west-3' });
    expect(classifyByScan(prefixes, '::ffff:35.180.1.1', 'archeio')).toBeNull();
  });
});

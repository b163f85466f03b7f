import { describe, expect, it } from 'vitest';
import { parseAwsRanges } from './parse-aws-ranges.js';
import { parseAzureRanges } from './parse-azure-ranges.js';
import { parseGcpRanges } from './parse-gcp-ranges.js';
import { PARSED_PREFIXES } from './publication-reader.js';
import { RangeDataError } from './range-data-error.js';

function error(fn: () => unknown): RangeDataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RangeDataError);
    expect((err as RangeDataError).code).toBe('RANGE_DATA_INVALID');
    expect((err as RangeDataError).name).toBe('RangeDataError');
    return err as RangeDataError;
  }
  throw new Error('expected a RangeDataError');
}

const aws = (over: Record<string, unknown> = {}) => ({
  syncToken: '1785313625',
  createDate: '2026-07-29-08-27-05',
  prefixes: [
    { ip_prefix: '3.4.12.4/32', region: 'eu-west-1', service: 'AMAZON', network_border_group: 'eu-west-1' },
    { ip_prefix: '3.4.12.4/32', region: 'eu-west-1', service: 'EC2', network_border_group: 'eu-west-1' },
    { ip_prefix: '15.193.0.0/19', region: 'GLOBAL', service: 'AMAZON', network_border_group: 'GLOBAL' },
    { ip_prefix: '15.193.0.0/24', region: 'ap-south-1', service: 'AMAZON', network_border_group: 'ap-south-1' },
    { ip_prefix: '15.193.0.1/24', region: 'ap-south-1', service: 'EC2', network_border_group: 'ap-south-1' },
  ],
  ipv6_prefixes: [
    { ipv6_prefix: '2600:9000:5200::/40', region: 'GLOBAL', service: 'AMAZON', network_border_group: 'GLOBAL' },
    {
      ipv6_prefix: '2600:9000:5200:0::/48',
      region: 'eu-west-1',
      service: 'CLOUDFRONT',
      network_border_group: 'eu-west-1',
    },
    { ipv6_prefix: '2600:9000:5200::/48', region: 'eu-west-1', service: 'AMAZON', network_border_group: 'eu-west-1' },
  ],
  ...over,
});

describe('parseAwsRanges', () => {
  it('takes every service, v4 and v6, once per (region, canonical prefix)', () => {
    const r = parseAwsRanges(aws(), 'aws.json');
    expect(r.entries).toEqual([
      { prefix: '3.4.12.4/32', cloud: 'AWS', region: 'eu-west-1' },
      { prefix: '15.193.0.0/19', cloud: 'AWS', region: 'GLOBAL' },
      { prefix: '15.193.0.0/24', cloud: 'AWS', region: 'ap-south-1' },
      { prefix: '2600:9000:5200::/40', cloud: 'AWS', region: 'GLOBAL' },
      { prefix: '2600:9000:5200::/48', cloud: 'AWS', region: 'eu-west-1' },
    ]);
    expect(r.version).toBe('2026-07-29-08-27-05');
    expect(r.order).toBe(1785313625);
    for (const e of r.entries) expect(PARSED_PREFIXES.get(e)).toBeDefined();
  });

  it('keeps a prefix published under two regions (both owners are reported)', () => {
    const r = parseAwsRanges(
      aws({
        prefixes: [
          { ip_prefix: '1.0.0.0/8', region: 'a' },
          { ip_prefix: '1.0.0.0/8', region: 'b' },
        ],
        ipv6_prefixes: [],
      }),
      's',
    );
    expect(r.entries.map((e) => e.region)).toEqual(['a', 'b']);
  });

  it('orders by syncToken, or by createDate when there is no syncToken', () => {
    expect(parseAwsRanges(aws({ syncToken: undefined }), 's')).toMatchObject({
      order: Date.UTC(2026, 6, 29, 8, 27, 5) / 1000,
      version: '2026-07-29-08-27-05',
    });
    expect(parseAwsRanges(aws({ createDate: undefined }), 's')).toMatchObject({
      order: 1785313625,
      version: '1785313625',
    });
  });

  it.each([
    [null, /^AWS ranges aws\.json: expected an object, got null$/],
    [[], /expected an object, got an array/],
    [aws({ syncToken: undefined, createDate: undefined }), /neither syncToken nor createDate/],
    [aws({ syncToken: 1785313625 }), /syncToken: expected a string of digits, got number 1785313625/],
    [aws({ syncToken: '17x' }), /syncToken: expected a string of digits, got "17x"/],
    [aws({ createDate: '2026-07-29' }), /createDate: expected YYYY-MM-DD-hh-mm-ss, got "2026-07-29"/],
    [aws({ createDate: 5 }), /createDate: expected YYYY-MM-DD-hh-mm-ss, got 5/],
    [aws({ prefixes: undefined }), /prefixes: expected an array, got nothing/],
    [aws({ prefixes: {} }), /prefixes: expected an array, got an object/],
    [aws({ ipv6_prefixes: 'x' }), /ipv6_prefixes: expected an array, got "x"/],
    [aws({ prefixes: [7] }), /prefixes\[0\]: expected an object, got number 7/],
    [
      aws({ prefixes: [{ ip_prefix: '1.2.3.0/24' }] }),
      /prefixes\[0\]\.region: expected a non-empty string, got nothing/,
    ],
    [
      aws({ prefixes: [{ ip_prefix: '1.2.3.0/24', region: '' }] }),
      /prefixes\[0\]\.region: expected a non-empty string, got ""/,
    ],
    [
      aws({ prefixes: [{ ip_prefix: '1.2.3.0/33', region: 'r' }] }),
      /prefixes\[0\]\.ip_prefix: expected an IPv4 CIDR prefix, got "1\.2\.3\.0\/33"/,
    ],
    [
      aws({ prefixes: [{ ip_prefix: '2600::/32', region: 'r' }] }),
      /prefixes\[0\]\.ip_prefix: expected an IPv4 CIDR prefix/,
    ],
    [
      aws({ ipv6_prefixes: [{ ipv6_prefix: '1.2.3.0/24', region: 'r' }] }),
      /ipv6_prefixes\[0\]\.ipv6_prefix: expected an IPv6 CIDR prefix/,
    ],
    [
      aws({ prefixes: [{ ip_prefix: null, region: 'r' }] }),
      /prefixes\[0\]\.ip_prefix: expected a non-empty string, got null/,
    ],
    [aws({ prefixes: [{ ip_prefix: 'x'.repeat(60), region: 'r' }] }), /got "x{40}…"/],
    [aws({ prefixes: [{ ip_prefix: true, region: 'r' }] }), /got boolean true/],
  ])('rejects %#, naming the file and the field', (json, message) => {
    expect(error(() => parseAwsRanges(json, 'aws.json')).message).toMatch(message);
  });
});

const gcp = (over: Record<string, unknown> = {}) => ({
  syncToken: '1785333953849',
  creationTime: '2026-07-29T07:05:53.849365',
  prefixes: [
    { ipv4Prefix: '34.1.208.0/20', service: 'Google Cloud', scope: 'africa-south1' },
    { ipv6Prefix: '2600:1900:8000::/44', service: 'Google Cloud', scope: 'africa-south1' },
    { ipv4Prefix: '35.220.26.0/24', service: 'Google Cloud', scope: 'europe-north1' },
    { ipv4Prefix: '35.220.26.0/24', service: 'Google Cloud', scope: 'europe-north1' },
    { ipv4Prefix: '34.0.0.0/15', service: 'Google Cloud', scope: 'global' },
  ],
  ...over,
});

describe('parseGcpRanges', () => {
  it('uses scope as the region', () => {
    const r = parseGcpRanges(gcp(), 'gcp.json');
    expect(r.entries).toEqual([
      { prefix: '34.1.208.0/20', cloud: 'GCP', region: 'africa-south1' },
      { prefix: '2600:1900:8000::/44', cloud: 'GCP', region: 'africa-south1' },
      { prefix: '35.220.26.0/24', cloud: 'GCP', region: 'europe-north1' },
      { prefix: '34.0.0.0/15', cloud: 'GCP', region: 'global' },
    ]);
    expect(r).toMatchObject({ version: '2026-07-29T07:05:53.849365', order: 1785333953849 });
  });

  it('orders by creationTime (UTC unless a zone is given) when there is no syncToken', () => {
    expect(parseGcpRanges(gcp({ syncToken: undefined }), 's').order).toBe(Date.parse('2026-07-29T07:05:53.849Z'));
    expect(parseGcpRanges(gcp({ syncToken: undefined, creationTime: '2026-07-29T07:05:53+02:00' }), 's').order).toBe(
      Date.parse('2026-07-29T05:05:53Z'),
    );
    expect(parseGcpRanges(gcp({ creationTime: undefined }), 's')).toMatchObject({ version: '1785333953849' });
  });

  it.each([
    [gcp({ syncToken: undefined, creationTime: undefined }), /neither syncToken nor creationTime/],
    [gcp({ creationTime: 'yesterday' }), /creationTime: expected an ISO 8601 date, got "yesterday"/],
    [gcp({ creationTime: 17 }), /creationTime: expected an ISO 8601 date, got 17/],
    [gcp({ prefixes: [{ scope: 'x' }] }), /prefixes\[0\]: expected exactly one of ipv4Prefix and ipv6Prefix/],
    [
      gcp({ prefixes: [{ scope: 'x', ipv4Prefix: '1.0.0.0/8', ipv6Prefix: '::/0' }] }),
      /prefixes\[0\]: expected exactly one/,
    ],
    [gcp({ prefixes: [{ ipv4Prefix: '1.0.0.0/8' }] }), /prefixes\[0\]\.scope: expected a non-empty string/],
    [
      gcp({ prefixes: [{ scope: 'x', ipv6Prefix: '1.0.0.0/8' }] }),
      /prefixes\[0\]\.ipv6Prefix: expected an IPv6 CIDR prefix/,
    ],
    [
      gcp({ prefixes: [{ scope: 'x', ipv4Prefix: '::/8' }] }),
      /prefixes\[0\]\.ipv4Prefix: expected an IPv4 CIDR prefix/,
    ],
  ])('rejects %#', (json, message) => {
    const m = error(() => parseGcpRanges(json, 'gcp.json')).message;
    expect(m).toMatch(/^GCP ranges gcp\.json: /);
    expect(m).toMatch(message);
  });
});

const azure = (over: Record<string, unknown> = {}) => ({
  changeNumber: 12,
  cloud: 'Public',
  values: [
    { name: 'AzureCloud', id: 'AzureCloud', properties: { region: '', addressPrefixes: ['13.0.0.0/8'] } },
    {
      name: 'AzureCloud.westeurope',
      properties: { region: 'westeurope', addressPrefixes: ['13.69.0.0/17', '2603:1020:200::/46', '13.69.0.0/17'] },
    },
    { name: 'Storage.WestEurope', properties: { region: 'westeurope', addressPrefixes: ['13.69.40.0/24'] } },
    { name: 'AzureCloud.eastus', properties: { region: 'eastus', addressPrefixes: ['20.42.0.0/17'] } },
    { name: 'AzureCloud.nowhere', properties: { addressPrefixes: ['1.1.1.0/24'] } },
  ],
  ...over,
});

describe('parseAzureRanges', () => {
  it('reads regional AzureCloud.* tags only, mixed families', () => {
    const r = parseAzureRanges(azure(), 'azure.json');
    expect(r.entries).toEqual([
      { prefix: '13.69.0.0/17', cloud: 'Azure', region: 'westeurope' },
      { prefix: '2603:1020:200::/46', cloud: 'Azure', region: 'westeurope' },
      { prefix: '20.42.0.0/17', cloud: 'Azure', region: 'eastus' },
    ]);
    expect(r).toMatchObject({ version: '12', order: 12 });
    expect(parseAzureRanges(azure({ changeNumber: 0 }), 's').order).toBe(0);
  });

  it.each([
    [azure({ changeNumber: undefined }), /changeNumber: expected a whole number >= 0, got nothing/],
    [azure({ changeNumber: '3' }), /changeNumber: expected a whole number >= 0, got "3"/],
    [azure({ changeNumber: -1 }), /changeNumber/],
    [azure({ changeNumber: 1.5 }), /changeNumber/],
    [azure({ values: null }), /values: expected an array, got null/],
    [azure({ values: [{ properties: {} }] }), /values\[0\]\.name: expected a non-empty string/],
    [azure({ values: [{ name: 'AzureCloud.x' }] }), /values\[0\]\.properties: expected an object, got nothing/],
    [
      azure({ values: [{ name: 'AzureCloud.x', properties: { region: 7, addressPrefixes: [] } }] }),
      /values\[0\]\.properties\.region: expected a non-empty string, got number 7/,
    ],
    [
      azure({ values: [{ name: 'AzureCloud.x', properties: { region: 'x' } }] }),
      /values\[0\]\.properties\.addressPrefixes: expected an array/,
    ],
    [
      azure({
        values: [{ name: 'AzureCloud.x', properties: { region: 'x', addressPrefixes: ['1.0.0.0/8', 'nope'] } }],
      }),
      /values\[0\]\.properties\.addressPrefixes\[1\]: expected a CIDR prefix, got "nope"/,
    ],
  ])('rejects %#', (json, message) => {
    const m = error(() => parseAzureRanges(json, 'azure.json')).message;
    expect(m).toMatch(/^Azure ranges azure\.json: /);
    expect(m).toMatch(message);
  });
});

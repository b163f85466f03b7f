import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';
import { formatExplanation } from './explain.js';

const run = async (args: string[], stdin = '', env: NodeJS.ProcessEnv = {}) => {
  const io = captureIo(stdin, env);
  const code = await main(['node', 'registry-canary', 'explain', ...args], io);
  return { code, out: io.out(), err: io.err() };
};
const PARIS = 'https://prod-registry-k8s-io-eu-west-3.s3.dualstack.eu-west-3.amazonaws.com';
const CDN = 'https://d1be1w964nk82h.cloudfront.net';
const tmp = mkdtempSync(join(tmpdir(), 'explain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('registry-canary explain', () => {
  it('--json: one object per IP with cloud, region, prefix and blobBase', async () => {
    const r = await run(['--json', '35.180.1.1', '35.220.26.1', '192.168.0.1', '15.193.0.5']);
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({
      ip: '35.180.1.1',
      semantics: 'most-specific',
      cloud: 'AWS',
      region: 'eu-west-3',
      prefix: '35.180.0.0/16',
      blobBase: PARIS,
    });
    expect(lines[1]).toMatchObject({ cloud: 'GCP', region: 'europe-north1', prefix: '35.220.26.0/24', blobBase: null });
    expect(lines[2]).toEqual({
      ip: '192.168.0.1',
      semantics: 'most-specific',
      cloud: null,
      region: null,
      prefix: null,
      blobBase: CDN,
    });
    expect(lines[3]).toMatchObject({
      region: 'ap-south-1',
      prefix: '15.193.0.0/24',
      other: { semantics: 'archeio', cloud: 'AWS', region: 'GLOBAL', prefix: '15.193.0.0/19', blobBase: CDN },
      shadowedBy: '15.193.0.0/19',
    });
  });

  it('text: both semantics and the shadowing prefix when they disagree', async () => {
    const r = await run(['15.193.0.5', '::ffff:35.180.1.1', '35.180.1.1']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      '15.193.0.5  most-specific: AWS ap-south-1 15.193.0.0/24; blobs → https://prod-registry-k8s-io-ap-south-1',
    );
    expect(r.out).toMatch(
      /archeio: AWS GLOBAL 15\.193\.0\.0\/19; blobs → https:\/\/d1be1w964nk82h\.cloudfront\.net {2}\(15\.193\.0\.0\/24 is shadowed by 15\.193\.0\.0\/19/,
    );
    expect(r.out).toContain('archeio: unknown (no cloud publishes it)');
    expect(r.out).toContain('(archeio does not unmap IPv4-mapped IPv6)');
    expect(r.out).toContain(`35.180.1.1  AWS eu-west-3 35.180.0.0/16; blobs → ${PARIS}\n`);
  });

  it('--semantics archeio leads with archeio', async () => {
    const r = await run(['--semantics', 'archeio', '15.193.0.5']);
    expect(r.out).toMatch(/^15\.193\.0\.5 {2}archeio: AWS GLOBAL/);
    expect(r.out).toContain('most-specific: AWS ap-south-1');
    expect(r.out).toContain('(15.193.0.0/24 is shadowed by 15.193.0.0/19');
  });

  it('reads stdin, one per line, skipping blanks and comments; a bad IP is an error line and exit 64', async () => {
    const r = await run(['--json'], '# vantages\n35.180.1.1\n\n  not-an-ip  \n2600:1f14::1\n');
    expect(r.code).toBe(64);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.ip)).toEqual(['35.180.1.1', 'not-an-ip', '2600:1f14::1']);
    expect(lines[1]).toEqual({
      ip: 'not-an-ip',
      error: '"not-an-ip" is not an IP address, ip:port, [IPv6]:port or CIDR',
    });
    expect(lines[2]).toMatchObject({ region: 'us-west-2' });
    expect(r.err).toBe('registry-canary explain: "not-an-ip" is not an IP address, ip:port, [IPv6]:port or CIDR\n');
    const text = await run(['1.2.3', '8.8.8.8']);
    expect(text.code).toBe(64);
    expect(text.out).toContain('8.8.8.8  unknown');
  });

  it('accepts ip:port, [v6], [v6]:port and a CIDR (its first and last address), and refuses near misses', async () => {
    const r = await run(['--json', '35.180.1.1:443', '[2600:1f14::1]', '[2600:1f14::1]:8080', '15.193.0.0/24']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ input: '35.180.1.1:443', ip: '35.180.1.1', region: 'eu-west-3' });
    expect(lines[1]).toMatchObject({ input: '[2600:1f14::1]', ip: '2600:1f14::1', region: 'us-west-2' });
    expect(lines[2]).toMatchObject({ input: '[2600:1f14::1]:8080', ip: '2600:1f14::1', region: 'us-west-2' });
    expect(lines.slice(3).map((l) => [l.input, l.ip, l.region])).toEqual([
      ['15.193.0.0/24', '15.193.0.0', 'ap-south-1'],
      ['15.193.0.0/24', '15.193.0.255', 'ap-south-1'],
    ]);
    const text = await run(['15.193.0.0/24']);
    expect(text.out).toMatch(/^15\.193\.0\.0\/24 \(first address\): 15\.193\.0\.0 {2}most-specific: AWS ap-south-1/m);
    expect(text.out).toMatch(/^15\.193\.0\.0\/24 \(last address\): 15\.193\.0\.255 /m);
    for (const bad of ['35.180.1.1:99999', '[35.180.1.1]:80', '2600:1f14::1:80:', '10.0.0.0/33', '[2600:1f14::1]:']) {
      const b = await run([bad]);
      expect(b.code, bad).toBe(64);
      expect(b.err).toContain(`${JSON.stringify(bad)} is not an IP address, ip:port, [IPv6]:port or CIDR`);
    }
  });

  it('says which production default host an answer names, once, on stderr', async () => {
    const r = await run(['192.168.0.1', '8.8.8.8']);
    expect(r.code).toBe(0);
    expect(
      r.err.match(/note: https:\/\/d1be1w964nk82h\.cloudfront\.net is archeio's compiled-in default host/g),
    ).toHaveLength(1);
    expect(r.err).toContain("production's deployment sets DEFAULT_AWS_BASE_URL=https://cdn.registry.k8s.io");
    const prod = await run(['--default-aws-base-url', 'https://cdn.registry.k8s.io', '192.168.0.1']);
    expect(prod.out).toContain('blobs → https://cdn.registry.k8s.io');
    expect(prod.err).toMatch(/note: https:\/\/cdn\.registry\.k8s\.io is the default host production's deployment sets/);
    const regional = await run(['35.180.1.1']);
    expect(regional.err).toBe('');
  });

  it('takes the data and map options (and their environment variables)', async () => {
    const aws = join(tmp, 'aws.json');
    writeFileSync(
      aws,
      JSON.stringify({
        syncToken: '1',
        createDate: '2020-01-01-00-00-00',
        prefixes: [{ ip_prefix: '198.51.100.0/24', region: 'us-east-1', service: 'EC2' }],
        ipv6_prefixes: [],
      }),
    );
    const map = join(tmp, 'map.json');
    writeFileSync(
      map,
      JSON.stringify({
        default: 'http://127.0.0.1:4569/default',
        regions: { 'us-east-1': 'http://127.0.0.1:4569/b-us-east-1' },
      }),
    );
    const r = await run(['--json', '--aws-ranges', aws, '--bucket-map', map, '198.51.100.1', '35.180.1.1']);
    expect(
      r.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    ).toEqual([
      {
        ip: '198.51.100.1',
        semantics: 'most-specific',
        cloud: 'AWS',
        region: 'us-east-1',
        prefix: '198.51.100.0/24',
        blobBase: 'http://127.0.0.1:4569/b-us-east-1',
      },
      {
        ip: '35.180.1.1',
        semantics: 'most-specific',
        cloud: null,
        region: null,
        prefix: null,
        blobBase: 'http://127.0.0.1:4569/default',
      },
    ]);
    const viaEnv = await run(['--json', '--default-aws-base-url', 'https://cdn.example', '198.51.100.1'], '', {
      AWS_IP_RANGES: aws,
      BUCKET_MAP: map,
    });
    expect(JSON.parse(viaEnv.out)).toMatchObject({ region: 'us-east-1' });
    const def = await run(['--json', '--default-aws-base-url', 'https://cdn.example', '8.8.8.8']);
    expect(JSON.parse(def.out)).toMatchObject({ blobBase: 'https://cdn.example' });
  });

  it('usage and data errors', async () => {
    const bad = await run(['--semantics', 'longest', '1.1.1.1']);
    expect(bad.code).toBe(64);
    expect(bad.err).toContain(
      'invalid option: --semantics (ROUTING_SEMANTICS): expected one of most-specific, archeio, got "longest"',
    );
    // the same setting from the environment is configuration, not the command line: 2, naming the variable
    const fromEnv = await run(['1.1.1.1'], '', { ROUTING_SEMANTICS: 'longest' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.err).toContain('invalid configuration in the environment: ROUTING_SEMANTICS: expected one of');
    const none = await run([], '\n# nothing\n');
    expect(none.code).toBe(64);
    expect(none.err).toContain('give IP addresses as arguments or on stdin');
    const missing = await run(['--gcp-ranges', join(tmp, 'missing.json'), '1.1.1.1']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/missing\.json/);
  });

  it('formatExplanation names the other semantics when this one is archeio', () => {
    const text = formatExplanation({
      ip: '15.193.0.5',
      semantics: 'archeio',
      cloud: 'AWS',
      region: 'GLOBAL',
      prefix: '15.193.0.0/19',
      blobBase: CDN,
      other: {
        semantics: 'most-specific',
        cloud: 'AWS',
        region: 'ap-south-1',
        prefix: '15.193.0.0/24',
        blobBase: 'https://b',
      },
      shadowedBy: '15.193.0.0/19',
    });
    expect(text).toBe(
      `15.193.0.5  archeio: AWS GLOBAL 15.193.0.0/19; blobs → ${CDN}\n            most-specific: AWS ap-south-1 15.193.0.0/24; blobs → https://b  (15.193.0.0/24 is shadowed by 15.193.0.0/19 under archeio's shortest-prefix rule)\n`,
    );
  });
});

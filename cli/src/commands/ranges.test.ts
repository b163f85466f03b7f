/**
 * `registry-canary ranges audit` on the bundled data and on doctored copies, and `ranges update` against a local
 * HTTP server serving copies of the publications (never the internet).
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLED_RANGE_SOURCES } from '../../../redirector/src/ranges/index.js';
import { bundledBucketMapPath } from '../../../redirector/src/routing/index.js';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';
import { publicationCloud } from './ranges.js';

let dir: string;
let awsJson: {
  syncToken: string;
  createDate: string;
  prefixes: { ip_prefix: string; region: string; service: string; network_border_group: string }[];
  ipv6_prefixes: { region: string }[];
};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ranges-cmd-'));
  awsJson = JSON.parse(await readFile(BUNDLED_RANGE_SOURCES.aws, 'utf8'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const cli = async (...args: string[]) => {
  const io = captureIo();
  const code = await main(['node', 'registry-canary', 'ranges', ...args], io);
  return { code, out: io.out(), err: io.err() };
};

describe('ranges audit', () => {
  it('the bundled data against the bundled map: shadowed prefixes, allowed unmapped regions, every prefix owned; exit 0', async () => {
    const r = await cli('audit');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/shadowed prefixes: 247 \(150 IPv4, 97 IPv6\)/);
    expect(r.out).toMatch(
      /15\.193\.0\.0\/24 +AWS ap-south-1 +inside 15\.193\.0\.0\/19 \(AWS GLOBAL\): most-specific bucket for ap-south-1; archeio default base/,
    );
    expect(r.out).toMatch(/me-west-1 \(52 prefixes\): allowed/);
    expect(r.out).toMatch(/every prefix resolves to its owner/);
    expect(r.out).toMatch(/audit: no problem found/);
  });

  it('a bucket map without eu-west-3 (or no allowance for unreleased regions) fails with exit 1', async () => {
    const map = JSON.parse(await readFile(bundledBucketMapPath(), 'utf8'));
    delete map.regions['eu-west-3'];
    const file = join(dir, 'map.json');
    await writeFile(file, JSON.stringify(map));
    const r = await cli('audit', '--bucket-map', file, '--json');
    expect(r.code).toBe(1);
    const audit = JSON.parse(r.out);
    expect(
      audit.unmapped.filter((u: { allowed: boolean }) => !u.allowed).map((u: { region: string }) => u.region),
    ).toEqual(['eu-west-3']);
    expect((await cli('audit', '--allow-unmapped', 'none')).code).toBe(1);
  });

  it('--against an older snapshot reports the drift (a directory, or files recognised by shape)', async () => {
    const old = join(dir, 'old');
    await mkdir(old, { recursive: true });
    const older = {
      ...awsJson,
      syncToken: '1',
      createDate: '2020-01-01-00-00-00',
      prefixes: [
        ...awsJson.prefixes.filter((p) => p.region !== 'ca-west-1'),
        { ip_prefix: '198.51.100.0/24', region: 'eu-west-1', service: 'AMAZON', network_border_group: 'eu-west-1' },
      ],
      ipv6_prefixes: awsJson.ipv6_prefixes.filter((p) => p.region !== 'ca-west-1'),
    };
    await writeFile(join(old, 'aws-ip-ranges.json'), JSON.stringify(older));
    const r = await cli('audit', '--against', old);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/--against has no gcp, azure publication/);
    expect(r.out).toMatch(/drift from AWS 2020-01-01-00-00-00/);
    expect(r.out).toMatch(/regions added: AWS ca-west-1/);
    expect(r.out).toMatch(/- 198\.51\.100\.0\/24 AWS eu-west-1/);
    const byFile = await cli(
      'audit',
      '--against',
      `${join(old, 'aws-ip-ranges.json')},${BUNDLED_RANGE_SOURCES.gcp}`,
      '--json',
    );
    expect(JSON.parse(byFile.out).drift.regionsAdded).toEqual([{ cloud: 'AWS', region: 'ca-west-1' }]);
    expect((await cli('audit', '--against', bundledBucketMapPath())).code).toBe(2);
  });

  it('recognises publications by shape', () => {
    expect(publicationCloud({ prefixes: [{ ip_prefix: '1.0.0.0/8' }] })).toBe('aws');
    expect(publicationCloud({ prefixes: [{ ipv4Prefix: '1.0.0.0/8' }] })).toBe('gcp');
    expect(publicationCloud({ values: [] })).toBe('azure');
    expect(publicationCloud({ default: 'x' })).toBeNull();
  });
});

describe('ranges update against a local server serving copies', () => {
  let server: Server;
  let base: string;
  const served: Record<string, string> = {};
  const requested: string[] = [];
  let out: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requested.push(req.url!);
      const body = served[req.url!];
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(body ?? 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(async () => {
    out = await mkdtemp(join(dir, 'out-'));
    for (const k of ['aws', 'gcp', 'azure'] as const)
      await copyFile(BUNDLED_RANGE_SOURCES[k], join(out, BUNDLED_RANGE_SOURCES[k].split('/').pop()!));
    served['/gcp.json'] = await readFile(BUNDLED_RANGE_SOURCES.gcp, 'utf8');
    requested.length = 0;
  });

  const update = (...extra: string[]) =>
    cli('update', '--out', out, '--aws-url', `${base}/aws.json`, '--gcp-url', `${base}/gcp.json`, ...extra);

  it('the same publications: unchanged, nothing written (Azure, without a URL, is kept)', async () => {
    served['/aws.json'] = JSON.stringify(awsJson);
    const r = await update();
    expect(r.code, r.err).toBe(0);
    expect(requested.sort()).toEqual(['/aws.json', '/gcp.json']);
    expect(r.err).toMatch(/no azure URL .* keeping/);
    expect(r.err).toMatch(/unchanged/);
    expect(await readFile(join(out, 'aws-ip-ranges.json'), 'utf8')).toBe(
      await readFile(BUNDLED_RANGE_SOURCES.aws, 'utf8'),
    );
  });

  it('a newer AWS publication is validated and written; the drift is summarised', async () => {
    const newer = {
      ...awsJson,
      syncToken: String(Number(awsJson.syncToken) + 3600),
      createDate: '2026-12-01-00-00-00',
      prefixes: [
        ...awsJson.prefixes,
        { ip_prefix: '203.0.113.0/24', region: 'xx-test-1', service: 'AMAZON', network_border_group: 'xx-test-1' },
      ],
    };
    served['/aws.json'] = JSON.stringify(newer);
    const r = await update();
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/1 regions added \(AWS xx-test-1\)/);
    expect(r.err).toMatch(/wrote .*aws-ip-ranges\.json \(AWS 2026-12-01-00-00-00/);
    expect(JSON.parse(await readFile(join(out, 'aws-ip-ranges.json'), 'utf8')).createDate).toBe('2026-12-01-00-00-00');
    // and the new region shows up in the audit as unmapped: exit 1
    expect((await cli('audit', '--ranges', out)).code).toBe(1);
  });

  it('rejects a shrunken or older publication (exit 1), writing nothing; --dry-run writes nothing either', async () => {
    served['/aws.json'] = JSON.stringify({
      ...awsJson,
      syncToken: String(Number(awsJson.syncToken) + 60),
      prefixes: awsJson.prefixes.slice(0, 1000),
      ipv6_prefixes: [],
    });
    const shrunk = await update();
    expect(shrunk.code).toBe(1);
    expect(shrunk.err).toMatch(/rejected: AWS publication .* fewer than the serving/);
    served['/aws.json'] = JSON.stringify({ ...awsJson, syncToken: '1', createDate: '2020-01-01-00-00-00' });
    const older = await update();
    expect(older.code).toBe(1);
    expect(older.err).toMatch(/rejected: AWS publication .* is older than the serving/);
    served['/aws.json'] = JSON.stringify({
      ...awsJson,
      syncToken: String(Number(awsJson.syncToken) + 60),
      createDate: '2026-12-02-00-00-00',
    });
    const dry = await update('--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.err).toMatch(/would write .*aws-ip-ranges\.json \(--dry-run\)/);
    expect(await readFile(join(out, 'aws-ip-ranges.json'), 'utf8')).toBe(
      await readFile(BUNDLED_RANGE_SOURCES.aws, 'utf8'),
    );
  });

  it('an unreachable source exits 2; bad options exit 64', async () => {
    const r = await cli('update', '--out', out, '--aws-url', `${base}/missing.json`, '--gcp-url', `${base}/gcp.json`);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/HTTP 404/);
    expect((await update('--max-shrink', '2')).code).toBe(64);
    expect((await update('--timeout', '0')).code).toBe(64);
  });
});

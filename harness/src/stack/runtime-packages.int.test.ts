// The container engine's build context holds only the redirector's runtime packages (runtime-packages.ts): proven
// here without a container engine, by running the redirector from a staged context, where node can find no package
// but the staged ones, through every code path that imports one (pino at start, prom-client on a scrape, undici on a
// blob HEAD).
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRepoRoot } from '../images/fixture-cache.js';
import { containerfileSources, stageBuildContext } from './image-build.js';
import { startRedirectorProcess, type StartedRedirector } from './redirector-process.js';
import { withRuntimePackagesOnly } from './runtime-packages.js';

const root = findRepoRoot();
const DIGEST = `sha256:${'c'.repeat(64)}`;

describe('the redirector runs from a build context staged with its runtime packages only', () => {
  let stage: string;
  let sources: string[];
  let bucket: http.Server;
  const heads: string[] = [];
  let redirector: StartedRedirector;

  beforeAll(async () => {
    stage = await mkdtemp(join(tmpdir(), 'runtime-packages-stage-'));
    const containerfile = join(root, 'redirector', 'Containerfile');
    sources = await withRuntimePackagesOnly(root, containerfileSources(await readFile(containerfile, 'utf8')));
    await stageBuildContext(root, containerfile, sources, stage);
    bucket = http.createServer((req, res) => {
      heads.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'Content-Length': '0' }).end();
    });
    await new Promise<void>((r) => bucket.listen(0, '127.0.0.1', r));
    const bucketUrl = `http://127.0.0.1:${(bucket.address() as AddressInfo).port}`;
    const bucketMap = join(stage, 'bucket-map.json');
    await writeFile(bucketMap, JSON.stringify({ default: `${bucketUrl}/default-bucket`, regions: {} }));
    redirector = await startRedirectorProcess({
      entry: join(stage, 'dist', 'redirector', 'src', 'main.js'),
      // every AWS region to the local bucket: nothing leaves loopback
      env: {
        PORT: '0',
        ADMIN_PORT: '0',
        UPSTREAM_REGISTRY_ENDPOINT: 'http://127.0.0.1:9',
        BUCKET_MAP: bucketMap,
        ALLOW_UNMAPPED_REGIONS: '*',
        LOG_LEVEL: 'warn',
      },
      timeoutMs: 30_000,
    });
  }, 60_000);

  afterAll(async () => {
    await redirector?.stop();
    await new Promise((r) => bucket?.close(r));
    await rm(stage, { recursive: true, force: true });
  });

  it('stages a few packages instead of the whole node_modules', async () => {
    const staged = sources.filter((s) => s.startsWith('node_modules/'));
    expect(staged).toEqual(
      expect.arrayContaining([
        'node_modules/pino',
        'node_modules/prom-client',
        'node_modules/undici',
        'node_modules/lru-cache',
      ]),
    );
    const installed = (await readdir(join(root, 'node_modules'))).filter((n) => !n.startsWith('.'));
    expect(staged.length).toBeLessThan(installed.length / 4);
    // the harness's and the test tools' packages stay out
    for (const name of ['vitest', 'testcontainers', 'playwright-core', '@aws-sdk/client-s3', 's3rver', 'typescript'])
      expect(staged).not.toContain(`node_modules/${name}`);
  });

  it('answers the registry ping, a blob redirect after a bucket HEAD, and a metrics scrape', async () => {
    const ping = await request(`${redirector.url}/v2/`);
    await ping.body.dump();
    expect(ping.statusCode).toBe(200);

    // an AWS client (eu-west-3): the HEAD goes to the bucket through undici
    const blob = await request(`${redirector.url}/v2/pause/blobs/${DIGEST}`, {
      headers: { 'x-forwarded-for': '35.180.1.1, 130.211.0.1' },
    });
    await blob.body.dump();
    expect(blob.statusCode).toBe(307);
    expect(blob.headers.location).toMatch(/\/default-bucket\/containers\/images\/sha256:c{64}$/);
    expect(heads).toContain(`HEAD /default-bucket/containers/images/${DIGEST}`);

    const metrics = await request(`${redirector.adminUrl}/metrics`);
    const text = await metrics.body.text();
    expect(metrics.statusCode).toBe(200);
    expect(text).toMatch(/^# TYPE \w+ counter$/m);
  });
});

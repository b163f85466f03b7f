/**
 * Full pulls of every fixture image from the embedded registry, directly and through a redirecting front, plus
 * the failure modes a pull must report: corrupted layers, and a manifest served with the wrong Content-Type.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureImages, type FixtureSet } from '../images/fixture-images.js';
import { startEmbeddedRegistry, type StartedEmbeddedRegistry } from '../registry/embedded-registry.js';
import { createOciClient, type OciClient } from './oci-client.js';
import { OciError } from './oci-error.js';
import { pullImage } from './pull-image.js';

let dir: string;
let set: FixtureSet;
let registry: StartedEmbeddedRegistry;
let dispatcher: Agent;
let client: OciClient;
const closers: (() => Promise<void>)[] = [];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function fixture(ref: string) {
  const i = set.images.find((x) => x.ref === ref);
  if (i === undefined) throw new Error(ref);
  return i;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pull-image-'));
  set = await buildFixtureImages(path.join(dir, 'root'), { bigLayerMiB: 2 });
  registry = await startEmbeddedRegistry({ root: set.root });
  closers.push(() => registry.close());
  dispatcher = new Agent();
  client = createOciClient({ baseUrl: registry.url, dispatcher });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await dispatcher.close();
  await rm(dir, { recursive: true, force: true });
});

describe('pullImage against the embedded registry', () => {
  it('pulls and verifies every fixture image', async () => {
    for (const image of set.images) {
      const r = await pullImage(client, image.repo, image.tag, { expected: { digest: image.digest } });
      expect(r.ok, image.ref).toBe(true);
      expect(r.digest).toBe(image.digest);
      expect(r.mediaType).toBe(image.mediaType);
      expect(r.blobs.every((b) => b.ok && b.hops.at(-1)!.status === 200)).toBe(true);
      const expectedBlobs = new Set(
        set.blobs
          .filter((b) => b.repo === image.repo)
          .map((b) => b.digest)
          .filter((d) => r.blobs.some((x) => x.digest === d)),
      );
      expect(r.blobs.length).toBe(expectedBlobs.size);
    }
  });

  it('walks an index: every platform manifest, its config and layer', async () => {
    const r = await pullImage(client, 'e2e-test-images/busybox', '1.36.1-1');
    expect(r.manifests.map((m) => m.platform ?? 'root')).toEqual([
      'root',
      'linux/amd64',
      'linux/arm64',
      'linux/arm/v7',
      'linux/ppc64le',
      'linux/s390x',
    ]);
    expect(r.manifests.slice(1).every((m) => m.parent === r.digest)).toBe(true);
    expect(r.blobs).toHaveLength(10);
    const roles = set.blobs
      .filter((b) => b.repo === 'e2e-test-images/busybox')
      .map((b) => b.digest)
      .sort();
    expect(r.blobs.map((b) => b.digest).sort()).toEqual(roles);
    expect(r.bytes).toBe(r.blobs.reduce((n, b) => n + b.size, 0));
  });

  it('a Docker manifest list with schema2 children', async () => {
    const r = await pullImage(client, 'docker-list', 'v1');
    expect(r.manifests.map((m) => m.mediaType)).toEqual([
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ]);
    expect(r.blobs.map((b) => b.kind).sort()).toEqual(['config', 'config', 'layer', 'layer']);
  });

  it('platform selection', async () => {
    const r = await pullImage(client, 'e2e-test-images/busybox', '1.36.1-1', { platforms: ['linux/arm/v7'] });
    expect(r.manifests.map((m) => m.platform)).toEqual([undefined, 'linux/arm/v7']);
    expect(r.blobs.every((b) => b.platform === 'linux/arm/v7')).toBe(true);
  });

  it('a sha512-addressed layer and a referrer artifact (pulled by digest)', async () => {
    const sha = await pullImage(client, 'conformance', 'sha512');
    expect(sha.blobs.find((b) => b.kind === 'layer')!.digest.startsWith('sha512:')).toBe(true);
    const ref = set.referrers[0]!;
    const art = await pullImage(client, 'conformance', ref.digest);
    expect(art.ok).toBe(true);
    expect(art.blobs.find((b) => b.kind === 'config')!.mediaType).toBe('application/vnd.oci.empty.v1+json');
  });

  it('sinks get the bytes of each blob', async () => {
    const sizes = new Map<string, number>();
    const { Writable } = await import('node:stream');
    const r = await pullImage(client, 'pause', '3.10', {
      sink: (b) =>
        new Writable({
          write(chunk: Buffer, _e, cb) {
            sizes.set(b.descriptor.digest, (sizes.get(b.descriptor.digest) ?? 0) + chunk.length);
            cb();
          },
        }),
    });
    for (const b of r.blobs) expect(sizes.get(b.digest)).toBe(b.size);
  });

  it('an unexpected root digest fails the pull', async () => {
    const wrong = fixture('pause:3.10');
    await expect(pullImage(client, 'docker-list', 'v1', { expected: { digest: wrong.digest } })).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
  });
});

describe('pullImage through a redirecting front', () => {
  it('records the first hop of every manifest and blob', async () => {
    const front = await listen(
      createServer((req, res) => {
        if (req.url === '/v2/' || req.url === '/v2') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{}');
          return;
        }
        res.writeHead(307, { location: `${registry.url}${req.url}`, 'cache-control': 'private, max-age=0' });
        res.end();
      }),
    );
    const c = createOciClient({
      baseUrl: front,
      dispatcher,
      headers: { 'x-forwarded-for': '203.0.113.9' },
      originBoundHeaders: ['x-forwarded-for'],
    });
    const r = await pullImage(c, 'e2e-test-images/busybox', '1.36.1-1');
    for (const item of [...r.manifests, ...r.blobs]) {
      expect(item.hops.map((h) => h.status)).toEqual([307, 200]);
      expect(item.hops[0]!.url.startsWith(front)).toBe(true);
      expect(item.hops[0]!.location!.startsWith(registry.url)).toBe(true);
      expect(item.hops[0]!.requestHeaders['x-forwarded-for']).toBe('203.0.113.9');
      expect(item.hops[1]!.requestHeaders['x-forwarded-for']).toBeUndefined();
    }
  });

  it('a manifest answered with the wrong Content-Type fails BAD_MANIFEST (docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 1)', async () => {
    const pause = fixture('pause:3.10');
    const bytes = await readFile(path.join(set.root, 'pause', 'blobs', 'sha256', pause.digest.slice(7)));
    const bucket = await listen(
      createServer((req, res) => {
        if (!req.url!.includes('/manifests/')) {
          res.writeHead(404);
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'binary/octet-stream', 'content-length': String(bytes.length) });
        res.end(bytes);
      }),
    );
    const c = createOciClient({ baseUrl: bucket, dispatcher });
    const e = await pullImage(c, 'pause', pause.digest).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OciError);
    expect((e as OciError).code).toBe('BAD_MANIFEST');
    // without the strict check the manifest is accepted (the bucket then has no blobs: 404s, reported per blob)
    const lax = await pullImage(c, 'pause', pause.digest, { strictContentType: false, failFast: false });
    expect(lax.manifests.map((m) => m.contentType)).toEqual(['binary/octet-stream']);
    expect(lax.errors.map((x) => [x.code, x.status])).toEqual([
      ['HTTP_STATUS', 404],
      ['HTTP_STATUS', 404],
    ]);
  });
});

describe('corrupted content', () => {
  it('failFast stops at the first bad blob; failFast:false reports each one and pulls the rest', async () => {
    const root = path.join(dir, 'corrupt');
    await cp(set.root, root, { recursive: true });
    const layer = set.blobs.find((b) => b.role === 'index:arm64:layer')!;
    const file = path.join(root, 'e2e-test-images/busybox', 'blobs', 'sha256', layer.digest.slice(7));
    const bytes = await readFile(file);
    bytes[bytes.length - 20] ^= 0x01;
    await writeFile(file, bytes);
    const bad = await startEmbeddedRegistry({ root });
    closers.push(() => bad.close());
    const c = createOciClient({ baseUrl: bad.url, dispatcher });

    const e = await pullImage(c, 'e2e-test-images/busybox', '1.36.1-1').catch((x: unknown) => x);
    expect((e as OciError).code).toBe('DIGEST_MISMATCH');
    expect((e as OciError).hops[0]!.url).toBe(`${bad.url}/v2/e2e-test-images/busybox/blobs/${layer.digest}`);

    const r = await pullImage(c, 'e2e-test-images/busybox', '1.36.1-1', { failFast: false });
    expect(r.ok).toBe(false);
    expect(r.errors.map((x) => x.code)).toEqual(['DIGEST_MISMATCH']);
    const failed = r.blobs.filter((b) => !b.ok);
    expect(failed.map((b) => b.digest)).toEqual([layer.digest]);
    expect(failed[0]!.error!.code).toBe('DIGEST_MISMATCH');
    expect(r.blobs.filter((b) => b.ok)).toHaveLength(9);
  });
});

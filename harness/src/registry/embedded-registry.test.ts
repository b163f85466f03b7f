/**
 * The embedded registry over real sockets, read through the harness's own OCI client: HEAD/GET parity, Range with
 * slice digests, pagination via Link, referrers, raw paths, read-only refusals; and the same server run as a
 * process (`main.ts`), which must print its JSON "listening" line and exit cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRepoRoot } from '../images/fixture-cache.js';
import { buildFixtureImages, type FixtureSet } from '../images/fixture-images.js';
import { createOciClient, type OciClient } from '../oci/oci-client.js';
import { MediaType } from '../oci/media-types.js';
import { startEmbeddedRegistry, type StartedEmbeddedRegistry } from './embedded-registry.js';

let dir: string;
let set: FixtureSet;
let registry: StartedEmbeddedRegistry;
let dispatcher: Agent;
let client: OciClient;

function fixture(ref: string) {
  return set.images.find((x) => x.ref === ref)!;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'embedded-registry-'));
  set = await buildFixtureImages(dir, { bigLayerMiB: 1 });
  await mkdir(path.join(dir, 'Bad_Name'), { recursive: true });
  await buildFixtureImages(path.join(dir, 'Bad_Name'), { bigLayerMiB: 0 }).catch(() => undefined);
  registry = await startEmbeddedRegistry({ root: dir });
  dispatcher = new Agent();
  client = createOciClient({ baseUrl: registry.url, dispatcher });
});

afterAll(async () => {
  await registry.close();
  await dispatcher.close();
  await rm(dir, { recursive: true, force: true });
});

describe('served over HTTP', () => {
  it('listens on 127.0.0.1 and skips layouts whose path is not a valid repository name', () => {
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(registry.catalog.skipped.map((s) => path.relative(dir, s.dir).split(path.sep)[0])).toContain('Bad_Name');
    expect(registry.catalog.repos.has('pause')).toBe(true);
  });

  it('ping answers 200 with Docker-Distribution-Api-Version', async () => {
    const r = await client.ping();
    expect(r).toMatchObject({ status: 200, apiVersion: 'registry/2.0' });
  });

  it('HEAD and GET agree for every manifest and blob (docs/reference/oci-distribution.md#edge-cases E18)', async () => {
    for (const i of set.images) {
      const p = await client.headGetParity('manifest', i.repo, i.tag);
      expect(p.mismatches, i.ref).toEqual([]);
      expect(p.head).toMatchObject({
        status: 200,
        contentType: i.mediaType,
        contentLength: i.size,
        dockerContentDigest: i.digest,
      });
      expect(p.get.bodyDigest).toBe(i.digest);
    }
    for (const b of set.blobs) {
      const p = await client.headGetParity('blob', b.repo, b.digest);
      expect(p.mismatches, b.role).toEqual([]);
      expect(p.get.bodyDigest).toBe(b.digest);
      expect(p.head.contentLength).toBe(b.size);
    }
  });

  it('Range: slices verified against their own digest; 416 carries bytes */size', async () => {
    const b = set.blobs.find((x) => x.role === 'conformance:layer')!;
    const whole = await readFile(path.join(dir, 'conformance', 'blobs', 'sha256', b.digest.slice(7)));
    const sliceDigest = (s: number, e: number) =>
      `sha256:${createHash('sha256')
        .update(whole.subarray(s, e + 1))
        .digest('hex')}`;
    const mid = await client.getBlobRange(
      'conformance',
      b.digest,
      { start: 500, end: 1499 },
      { sliceDigest: sliceDigest(500, 1499) },
    );
    expect(mid).toMatchObject({ status: 206, contentRange: `bytes 500-1499/${b.size}`, size: 1000, verified: 'slice' });
    const suffix = await client.getBlobRange(
      'conformance',
      b.digest,
      { suffix: 500 },
      { sliceDigest: sliceDigest(b.size - 500, b.size - 1) },
    );
    expect(suffix.contentRange).toBe(`bytes ${b.size - 500}-${b.size - 1}/${b.size}`);
    const none = await client.getBlobRange('conformance', b.digest, 'bytes=5000-10000');
    expect(none).toMatchObject({ status: 416, parsedContentRange: { kind: 'unsatisfied', size: b.size } });
    const ignored = await client.getBlobRange('conformance', b.digest, 'bytes=0-1,5-6', { blobSize: b.size });
    expect(ignored).toMatchObject({ status: 200, verified: 'full', size: b.size });
  });

  it('tag list pages, followed by Link, add up to every tag', async () => {
    const all = set.images
      .filter((i) => i.repo === 'conformance')
      .map((i) => i.tag)
      .sort((a, c) => (a < c ? -1 : 1));
    const r = await client.listTags('conformance', { n: 3 });
    expect(r.tags).toEqual(all);
    expect(r.pages.length).toBe(Math.ceil(all.length / 3));
    expect(r.pages.slice(0, -1).every((p) => p.tags.length === 3 && p.next !== undefined)).toBe(true);
  });

  it('referrers, filtered and by fallback tag, agree', async () => {
    const subject = fixture('conformance:tagtest0').digest;
    const api = await client.referrers('conformance', subject);
    expect(api.contentType).toBe(MediaType.OciIndex);
    expect(api.manifests.map((m) => m.digest).sort()).toEqual(set.referrers.map((r) => r.digest).sort());
    const filtered = await client.referrers('conformance', subject, { artifactType: set.referrers[1]!.artifactType });
    expect(filtered.filtersApplied).toEqual(['artifactType']);
    expect(filtered.manifests.map((m) => m.digest)).toEqual([set.referrers[1]!.digest]);
    const viaTag = await client.getManifest('conformance', `sha256-${subject.slice(7)}`);
    expect((viaTag.json.manifests as { digest: string }[]).map((m) => m.digest).sort()).toEqual(
      api.manifests.map((m) => m.digest).sort(),
    );
  });

  it('raw paths are judged as sent; writes are refused with 405', async () => {
    expect((await client.rawProbe('GET', '/v2/../v2/pause/manifests/3.10')).status).toBe(400);
    expect(
      (await client.rawProbe('GET', '/v2/pause/manifests/3.10', { headers: { accept: MediaType.OciManifest } })).status,
    ).toBe(200);
    for (const method of ['PUT', 'DELETE', 'POST', 'PATCH']) {
      const r = await client.rawProbe(method, '/v2/pause/manifests/3.10');
      expect(r.status, method).toBe(405);
      expect(JSON.parse(r.body.toString()).errors[0].code).toBe('UNSUPPORTED');
    }
  });

  it('HEAD of a missing manifest is 404 with no body', async () => {
    const r = await client.rawProbe('HEAD', '/v2/pause/manifests/missing');
    expect(r.status).toBe(404);
    expect(r.bodyBytes).toBe(0);
  });
});

describe('as a process', () => {
  it('prints {"msg":"listening","url"} on stdout, serves, and exits 0 on SIGTERM', async () => {
    const repoRoot = findRepoRoot();
    const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--root', dir, '--port', '0'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise<string>((resolve, reject) => {
        lines.once('line', resolve);
        child.once('exit', () => reject(new Error(`registry process exited early: ${stderr}`)));
      });
      const msg = JSON.parse(first) as { msg: string; url: string; repositories: string[] };
      expect(msg.msg).toBe('listening');
      expect(msg.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(msg.repositories).toContain('e2e-test-images/busybox');
      const c = createOciClient({ baseUrl: msg.url, dispatcher });
      const m = await c.getManifest('pause', '3.10');
      expect(m.digest).toBe(fixture('pause:3.10').digest);
      expect(stderr).toContain('skipped layout');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('exits 64 on bad usage', async () => {
    const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', 'x'], {
      cwd: findRepoRoot(),
      stdio: 'ignore',
    });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(64);
  });
});

// The ggcr upstream (harness/go/upstream-registry on go-containerregistry's registry), seeded with the fixture set:
// the referrers API and tag pagination are answered by the real registry, blob ranges follow RFC 9110, and every
// seeded image pulls with every digest verified. Int tier: it builds (once) and runs the Go command. Needs Go.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtureImages } from '../images/fixture-cache.js';
import { SBOM_ARTIFACT_TYPE, SIGNATURE_ARTIFACT_TYPE, type FixtureSet } from '../images/fixture-images.js';
import { createOciClient } from '../oci/oci-client.js';
import { pullImage } from '../oci/pull-image.js';
import { ggcrBinaryPath, goOnPath, startGgcrUpstream, type StartedGgcrUpstream } from './ggcr-upstream.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const runnable = goOnPath() || existsSync(ggcrBinaryPath());

describe.runIf(runnable || process.env.CI === 'true')('ggcr upstream', () => {
  let dir: string;
  let fixtures: FixtureSet;
  let reg: StartedGgcrUpstream;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ggcr-upstream-'));
    fixtures = await ensureFixtureImages({ bigLayerMiB: 1 });
    reg = await startGgcrUpstream({
      dir,
      name: 'ggcr-test',
      fixturesRoot: fixtures.root,
      repos: fixtures.repos,
      contentKey: null,
      snapshots: null,
      timeoutMs: 30_000,
    });
  }, 900_000);
  afterAll(async () => {
    await reg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${reg.url}${path}`, { headers });

  it("lists a subject's referrers with their own artifactType, filters by it, answers an unknown one", async () => {
    expect(fixtures.referrers.length).toBeGreaterThanOrEqual(2);
    const { repo, subject } = fixtures.referrers[0]!;
    const all = await get(`/v2/${repo}/referrers/${subject}`);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe(INDEX);
    const listed = ((await all.json()) as { manifests: { digest: string; artifactType?: string; size: number }[] })
      .manifests;
    for (const r of fixtures.referrers.filter((x) => x.subject === subject)) {
      expect(listed).toContainEqual(
        expect.objectContaining({ digest: r.digest, artifactType: r.artifactType, size: r.size }),
      );
    }
    const filtered = await get(
      `/v2/${repo}/referrers/${subject}?artifactType=${encodeURIComponent(SBOM_ARTIFACT_TYPE)}`,
    );
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    const only = ((await filtered.json()) as { manifests: { artifactType?: string }[] }).manifests;
    expect(only.length).toBeGreaterThan(0);
    expect(only.every((m) => m.artifactType === SBOM_ARTIFACT_TYPE)).toBe(true);
    expect(only.some((m) => m.artifactType === SIGNATURE_ARTIFACT_TYPE)).toBe(false);
    const random = `sha256:${createHash('sha256').update(String(Math.random())).digest('hex')}`;
    const none = await get(`/v2/${repo}/referrers/${random}`);
    expect(none.status).toBe(200);
    expect(((await none.json()) as { manifests: unknown[] }).manifests).toEqual([]);
    expect((await get(`/v2/${repo}/referrers/sha256:nothex`)).status).toBe(400);
  });

  it('paginates tags/list with n, last and a Link that walks the whole sorted list', async () => {
    const repo = 'conformance';
    const seeded = fixtures.images.filter((i) => i.repo === repo).map((i) => i.tag);
    const whole = ((await (await get(`/v2/${repo}/tags/list`)).json()) as { tags: string[] }).tags;
    expect(new Set(whole)).toEqual(new Set(seeded));
    expect(whole).toEqual([...whole].sort());
    const walked: string[] = [];
    let next: string | null = `/v2/${repo}/tags/list?n=2`;
    for (let pages = 0; next !== null; pages++) {
      expect(pages).toBeLessThan(whole.length + 1);
      const res = await get(next);
      const page = ((await res.json()) as { tags: string[] }).tags;
      expect(page.length).toBeLessThanOrEqual(2);
      walked.push(...page);
      const link = res.headers.get('link');
      next = link === null ? null : /^<([^>]+)>;\s*rel="next"$/.exec(link)![1]!;
    }
    expect(walked).toEqual(whole);
    const mid = whole[Math.floor(whole.length / 2)]!;
    expect(
      ((await (await get(`/v2/${repo}/tags/list?last=${encodeURIComponent(mid)}`)).json()) as { tags: string[] }).tags,
    ).toEqual(whole.filter((t) => t > mid));
    // the library alone returns the whole list for a `last` at the end; the spec wants none
    expect(
      (
        (await (await get(`/v2/${repo}/tags/list?last=${encodeURIComponent(whole.at(-1)!)}`)).json()) as {
          tags: string[];
        }
      ).tags,
    ).toEqual([]);
    const zero = await get(`/v2/${repo}/tags/list?n=0`);
    expect(((await zero.json()) as { tags: string[] }).tags).toEqual([]);
    expect(zero.headers.get('link')).toBeNull();
  });

  it('answers every Range form on blobs as RFC 9110 says', async () => {
    const blob = fixtures.blobs.filter((b) => b.size >= 2048).sort((a, b) => a.size - b.size)[0]!;
    const [alg, hex] = blob.digest.split(':') as [string, string];
    const bytes = await readFile(join(fixtures.root, blob.repo, 'blobs', alg, hex));
    const path = `/v2/${blob.repo}/blobs/${blob.digest}`;
    const suffix = await get(path, { range: 'bytes=-500' });
    expect(suffix.status).toBe(206);
    expect(Buffer.from(await suffix.arrayBuffer())).toEqual(bytes.subarray(bytes.length - 500));
    const open = await get(path, { range: 'bytes=500-' });
    expect(open.status).toBe(206);
    expect(open.headers.get('content-range')).toBe(`bytes 500-${bytes.length - 1}/${bytes.length}`);
    expect(Buffer.from(await open.arrayBuffer())).toEqual(bytes.subarray(500));
    const past = await get(path, { range: `bytes=${bytes.length - 48}-${bytes.length + 2952}` });
    expect(past.status).toBe(206);
    expect(Buffer.from(await past.arrayBuffer())).toEqual(bytes.subarray(bytes.length - 48));
    const beyond = await get(path, { range: `bytes=${bytes.length + 10}-` });
    expect(beyond.status).toBe(416);
    await beyond.arrayBuffer();
    const head = await fetch(`${reg.url}${path}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    expect(head.headers.get('docker-content-digest')).toBe(blob.digest);
  });

  it('serves every seeded image, each digest and size verified', async () => {
    const client = createOciClient({ baseUrl: reg.url });
    for (const image of fixtures.images) {
      const pulled = await pullImage(client, image.repo, image.tag, { expected: { digest: image.digest } });
      expect(pulled.ok, `${image.ref}: ${pulled.errors.map((e) => e.message).join('; ')}`).toBe(true);
      expect(pulled.digest, image.ref).toBe(image.digest);
      expect(pulled.bytes).toBeGreaterThan(0);
    }
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureImages, type FixtureSet } from '../images/fixture-images.js';
import { OciLayoutWriter } from '../images/oci-layout-writer.js';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import { loadLayoutCatalog } from './layout-catalog.js';
import { createRegistryHandler, type RegistryHandler, type RegistryResponse } from './registry-handler.js';

let dir: string;
let set: FixtureSet;
let handle: RegistryHandler;

const ALL = [MediaType.OciIndex, MediaType.OciManifest, MediaType.DockerManifestList, MediaType.DockerManifest].join(
  ', ',
);

function get(
  target: string,
  headers: Record<string, string | string[]> = {},
  method = 'GET',
): Promise<RegistryResponse> {
  return handle({ method, target, headers });
}

function bodyOf(r: RegistryResponse): Buffer {
  if (r.body === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(r.body)) return r.body;
  return readFileSync(r.body.file).subarray(r.body.start, r.body.end + 1);
}

function jsonOf(r: RegistryResponse): any {
  return JSON.parse(bodyOf(r).toString('utf8'));
}

function image(ref: string) {
  const i = set.images.find((x) => x.ref === ref);
  if (i === undefined) throw new Error(`no fixture ${ref}`);
  return i;
}

function blob(role: string) {
  const b = set.blobs.find((x) => x.role === role);
  if (b === undefined) throw new Error(`no blob ${role}`);
  return b;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'registry-handler-'));
  set = await buildFixtureImages(dir, { bigLayerMiB: 1 });
  // extra content dropped into the root before start is served too (seeding with standard tools);
  // its name contains the route words, which must parse from the right (docs/reference/oci-distribution.md#edge-cases E14)
  const w = new OciLayoutWriter(path.join(dir, 'a', 'blobs', 'manifests'));
  const layer = await w.putBlob(Buffer.from('extra'), MediaType.OciLayer);
  const config = await w.putJson(
    { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } },
    MediaType.OciConfig,
  );
  const m = await w.putJson(
    { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] },
    MediaType.OciManifest,
  );
  w.addManifest(m, 'extra');
  await w.finish();
  handle = createRegistryHandler(await loadLayoutCatalog(dir));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('catalog', () => {
  it('finds every layout, nested names included', async () => {
    const c = await loadLayoutCatalog(dir);
    expect([...c.repos.keys()].sort()).toEqual([
      'a/blobs/manifests',
      'big',
      'conformance',
      'docker-list',
      'e2e-test-images/busybox',
      'pause',
    ]);
    expect(c.skipped).toEqual([]);
  });
});

describe('/v2/ (spec "Determining Support")', () => {
  it.each(['/v2/', '/v2'])('GET %s → 200 with the API version header', async (p) => {
    const r = await get(p);
    expect(r.status).toBe(200);
    expect(r.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(jsonOf(r)).toEqual({});
  });
});

describe('manifests (spec "Pulling manifests")', () => {
  it('by tag: exact Content-Type, Content-Length, Docker-Content-Digest, bytes', async () => {
    const i = image('pause:3.10');
    const r = await get('/v2/pause/manifests/3.10', { accept: ALL });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(MediaType.OciManifest);
    expect(r.headers['docker-content-digest']).toBe(i.digest);
    expect(r.headers['content-length']).toBe(String(i.size));
    expect(digestOf(bodyOf(r))).toBe(i.digest);
  });

  it('by digest, every fixture image', async () => {
    for (const i of set.images) {
      const r = await get(`/v2/${i.repo}/manifests/${i.digest}`, { accept: ALL });
      expect(r.status, i.ref).toBe(200);
      expect(r.headers['content-type']).toBe(i.mediaType);
      expect(digestOf(bodyOf(r))).toBe(i.digest);
    }
  });

  it('Accept as distribution 2.8: OCI types missing from Accept → 404 MANIFEST_UNKNOWN', async () => {
    const none = await get('/v2/pause/manifests/3.10');
    expect(none.status).toBe(404);
    expect(jsonOf(none).errors[0].code).toBe('MANIFEST_UNKNOWN');
    const idx = await get('/v2/e2e-test-images/busybox/manifests/1.36.1-1', { accept: MediaType.OciManifest });
    expect(idx.status).toBe(404);
    // G1 sends only the OCI manifest type (docs/reference/oci-distribution.md#g1-pull-checks): the conformance image must
    // be an image manifest
    expect((await get('/v2/conformance/manifests/tagtest0', { accept: MediaType.OciManifest })).status).toBe(200);
  });

  it('reads every Accept line, each split on ","', async () => {
    const r = await get('/v2/e2e-test-images/busybox/manifests/1.36.1-1', {
      accept: [MediaType.OciManifest, `text/plain, ${MediaType.OciIndex}; q=0.5`],
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(MediaType.OciIndex);
  });

  it('Docker list by tag without list support → its linux/amd64 schema2 child; by digest → the list', async () => {
    const child = image('docker-list:v1-amd64');
    const r = await get('/v2/docker-list/manifests/v1', { accept: MediaType.DockerManifest });
    expect(r.status).toBe(200);
    expect(r.headers['docker-content-digest']).toBe(child.digest);
    const list = image('docker-list:v1');
    const byDigest = await get(`/v2/docker-list/manifests/${list.digest}`, { accept: MediaType.DockerManifest });
    expect(byDigest.headers['docker-content-digest']).toBe(list.digest);
  });

  it.each([
    ['missing tag', '/v2/pause/manifests/missing-abc', 404, 'MANIFEST_UNKNOWN'],
    ['missing digest', `/v2/pause/manifests/sha256:${'0'.repeat(64)}`, 404, 'MANIFEST_UNKNOWN'],
    ['unknown repository', '/v2/nope/manifests/latest', 404, 'MANIFEST_UNKNOWN'],
    ['invalid tag (G1 check 5/9 requires 404)', '/v2/pause/manifests/.INVALID_MANIFEST_NAME', 404, 'MANIFEST_UNKNOWN'],
    ['malformed digest (G1 check 13)', '/v2/pause/manifests/sha256:totallywrong', 400, 'DIGEST_INVALID'],
    [
      'upper-case hex (a MUST NOT of the digest grammar)',
      `/v2/pause/manifests/sha256:${'A'.repeat(64)}`,
      400,
      'DIGEST_INVALID',
    ],
    ['manifest of another repository', '/v2/big/manifests/3.10', 404, 'MANIFEST_UNKNOWN'],
  ])('%s → %i %s', async (_name, target, status, code) => {
    const r = await get(target, { accept: ALL });
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe('application/json');
    expect(jsonOf(r).errors[0].code).toBe(code);
  });

  it('If-None-Match with the digest → 304', async () => {
    const i = image('pause:3.10');
    const r = await get('/v2/pause/manifests/3.10', { accept: ALL, 'if-none-match': `"${i.digest}"` });
    expect(r.status).toBe(304);
    expect(r.body).toBeUndefined();
  });

  it('serves layouts added to the root, names with route words parsed from the right', async () => {
    const r = await get('/v2/a/blobs/manifests/manifests/extra', { accept: ALL });
    expect(r.status).toBe(200);
    const tags = await get('/v2/a/blobs/manifests/tags/list');
    expect(jsonOf(tags)).toEqual({ name: 'a/blobs/manifests', tags: ['extra'] });
  });
});

describe('blobs (spec "Pulling blobs")', () => {
  it('GET: octet-stream, Content-Length, Docker-Content-Digest, Accept-Ranges, exact bytes', async () => {
    const b = blob('pause:layer');
    const r = await get(`/v2/pause/blobs/${b.digest}`);
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-length': String(b.size),
      'docker-content-digest': b.digest,
      'accept-ranges': 'bytes',
    });
    expect(digestOf(bodyOf(r))).toBe(b.digest);
  });

  it('serves a sha512-addressed layer', async () => {
    const b = blob('sha512:layer');
    expect(b.digest.startsWith('sha512:')).toBe(true);
    const r = await get(`/v2/conformance/blobs/${b.digest}`);
    expect(r.status).toBe(200);
    expect(digestOf(bodyOf(r), 'sha512')).toBe(b.digest);
  });

  it('a blob of another repository is unknown here (docs/reference/oci-distribution.md#edge-cases E7)', async () => {
    const r = await get(`/v2/conformance/blobs/${blob('pause:layer').digest}`);
    expect(r.status).toBe(404);
    expect(jsonOf(r).errors[0].code).toBe('BLOB_UNKNOWN');
  });

  it('missing blob → 404 BLOB_UNKNOWN; malformed digest → 400 DIGEST_INVALID', async () => {
    expect((await get(`/v2/pause/blobs/sha256:${'1'.repeat(64)}`)).status).toBe(404);
    const bad = await get('/v2/pause/blobs/sha256:xyz');
    expect(bad.status).toBe(400);
    expect(jsonOf(bad).errors[0].code).toBe('DIGEST_INVALID');
  });

  describe('Range (RFC 9110 §14; docs/reference/oci-distribution.md#edge-cases E8, G2 R7–R12)', () => {
    // the conformance layer: an uncompressed tar of 3072 bytes
    const cases: [string, (size: number) => string, number, ((size: number) => [number, number]) | null][] = [
      ['first byte', () => 'bytes=0-0', 206, () => [0, 0]],
      ['a middle slice', () => 'bytes=500-1499', 206, () => [500, 1499]],
      ['open-ended', () => 'bytes=500-', 206, (s) => [500, s - 1]],
      ['suffix', () => 'bytes=-500', 206, (s) => [s - 500, s - 1]],
      ['suffix longer than the blob', (s) => `bytes=-${s + 10}`, 206, (s) => [0, s - 1]],
      ['end past the blob', (s) => `bytes=${s - 48}-${s + 2000}`, 206, (s) => [s - 48, s - 1]],
      ['start at the size', (s) => `bytes=${s}-${s + 10}`, 416, null],
      ['start past the size', () => 'bytes=5000-10000', 416, null],
      ['inverted (G2 R11)', () => 'bytes=500-0', 416, null],
      ['empty suffix', () => 'bytes=-0', 416, null],
    ];
    it.each(cases)('%s', async (_name, header, status, slice) => {
      const b = blob('conformance:layer');
      const whole = bodyOf(await get(`/v2/conformance/blobs/${b.digest}`));
      const r = await get(`/v2/conformance/blobs/${b.digest}`, { range: header(b.size) });
      expect(r.status).toBe(status);
      if (slice === null) {
        expect(r.headers['content-range']).toBe(`bytes */${b.size}`);
        expect(bodyOf(r).length).toBe(0);
        return;
      }
      const [start, end] = slice(b.size);
      expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/${b.size}`);
      expect(r.headers['content-length']).toBe(String(end - start + 1));
      expect(bodyOf(r).equals(whole.subarray(start, end + 1))).toBe(true);
    });

    it.each([
      ['several ranges', 'bytes=0-1,5-6'],
      ['another unit', 'items=0-1'],
      ['garbage', 'bytes=abc'],
    ])('%s: ignored, 200 with the whole blob', async (_name, header) => {
      const b = blob('conformance:layer');
      const r = await get(`/v2/conformance/blobs/${b.digest}`, { range: header });
      expect(r.status).toBe(200);
      expect(digestOf(bodyOf(r))).toBe(b.digest);
    });

    it('If-Range with another validator → the whole blob', async () => {
      const b = blob('conformance:layer');
      expect(
        (await get(`/v2/conformance/blobs/${b.digest}`, { range: 'bytes=0-0', 'if-range': '"other"' })).status,
      ).toBe(200);
      expect(
        (await get(`/v2/conformance/blobs/${b.digest}`, { range: 'bytes=0-0', 'if-range': `"${b.digest}"` })).status,
      ).toBe(206);
    });
  });
});

describe('tags/list (spec "Listing Tags")', () => {
  const all = () =>
    set.images
      .filter((i) => i.repo === 'conformance')
      .map((i) => i.tag)
      .sort((a, b) => (a < b ? -1 : 1));

  it('lists every tag in ASCII order', async () => {
    const r = await get('/v2/conformance/tags/list');
    expect(jsonOf(r)).toEqual({ name: 'conformance', tags: all() });
    expect(r.headers.link).toBeUndefined();
  });

  it('n and last paginate with Link rel="next" until the end', async () => {
    const seen: string[] = [];
    let target: string | undefined = '/v2/conformance/tags/list?n=4';
    let pages = 0;
    while (target !== undefined) {
      const r = await get(target);
      const page = jsonOf(r).tags as string[];
      expect(page.length).toBeLessThanOrEqual(4);
      seen.push(...page);
      pages++;
      target = /<([^>]+)>;\s*rel="next"/.exec(r.headers.link ?? '')?.[1];
    }
    expect(seen).toEqual(all());
    expect(pages).toBe(Math.ceil(all().length / 4));
  });

  it('last is exclusive; n=0 is an empty list without Link; a bad n is 400', async () => {
    const tags = all();
    expect(jsonOf(await get(`/v2/conformance/tags/list?last=${tags[2]}`)).tags).toEqual(tags.slice(3));
    const zero = await get('/v2/conformance/tags/list?n=0');
    expect(jsonOf(zero).tags).toEqual([]);
    expect(zero.headers.link).toBeUndefined();
    expect((await get('/v2/conformance/tags/list?n=-1')).status).toBe(400);
  });

  it('unknown repository → 404 NAME_UNKNOWN', async () => {
    const r = await get('/v2/nope/tags/list');
    expect(r.status).toBe(404);
    expect(jsonOf(r).errors[0].code).toBe('NAME_UNKNOWN');
  });
});

describe('referrers (spec "Listing Referrers")', () => {
  it("lists the subject's referrers as an OCI index with artifactType and annotations", async () => {
    const subject = image('conformance:tagtest0').digest;
    const r = await get(`/v2/conformance/referrers/${subject}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(MediaType.OciIndex);
    const body = jsonOf(r);
    expect(body.schemaVersion).toBe(2);
    const expected = set.referrers.map((x) => ({
      digest: x.digest,
      artifactType: x.artifactType,
      annotations: x.annotations,
    }));
    expect(
      body.manifests.map((m: any) => ({ digest: m.digest, artifactType: m.artifactType, annotations: m.annotations })),
    ).toEqual(expect.arrayContaining(expected));
    expect(body.manifests).toHaveLength(2);
    expect(r.headers['oci-filters-applied']).toBeUndefined();
  });

  it('filters by artifactType and says so (OCI-Filters-Applied)', async () => {
    const subject = image('conformance:tagtest0').digest;
    const want = set.referrers[0]!;
    const r = await get(`/v2/conformance/referrers/${subject}?artifactType=${encodeURIComponent(want.artifactType)}`);
    expect(r.headers['oci-filters-applied']).toBe('artifactType');
    expect(jsonOf(r).manifests.map((m: any) => m.digest)).toEqual([want.digest]);
  });

  it('no referrers → 200 and an empty index; invalid digest → 400', async () => {
    const r = await get(`/v2/conformance/referrers/sha256:${'b'.repeat(64)}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(MediaType.OciIndex);
    expect(jsonOf(r).manifests).toEqual([]);
    expect((await get('/v2/conformance/referrers/sha256:nothex')).status).toBe(400);
  });
});

describe('_catalog', () => {
  it('is served, sorted and paginated like distribution', async () => {
    const r = await get('/v2/_catalog?n=2');
    expect(jsonOf(r).repositories).toEqual(['a/blobs/manifests', 'big']);
    expect(r.headers.link).toBe('</v2/_catalog?n=2&last=big>; rel="next"');
  });
});

describe('read-only and malformed requests', () => {
  it.each([
    ['PUT', '/v2/pause/manifests/3.10'],
    ['DELETE', '/v2/pause/manifests/3.10'],
    ['PATCH', '/v2/pause/blobs/uploads/abc'],
    ['POST', '/v2/pause/blobs/uploads/'],
    ['GET', '/v2/pause/blobs/uploads/abc'],
    ['OPTIONS', '/v2/'],
  ])('%s %s → 405 UNSUPPORTED with Allow', async (method, target) => {
    const r = await get(target, {}, method);
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
    expect(jsonOf(r).errors[0].code).toBe('UNSUPPORTED');
  });

  it.each([
    ['/v2/Pause/manifests/3.10', 400],
    ['/v2/../v2/pause/manifests/3.10', 400],
    ['/v2/%2e%2e/pause/manifests/3.10', 400],
    ['/v2//pause/manifests/3.10', 400],
    ['/v2/a%2Fb/tags/list', 400],
    ['/v2foo/pause/manifests/3.10', 404],
    ['/V2/pause/manifests/3.10', 404],
    ['/v2/pause/manifests/3.10/', 404],
    ['/', 404],
  ])('%s → %i, never served as another path', async (target, status) => {
    const r = await get(target, { accept: ALL });
    expect(r.status).toBe(status);
    expect(Array.isArray(jsonOf(r).errors)).toBe(true);
  });

  it('accepts an absolute-form target (a proxy in front)', async () => {
    expect((await get('http://upstream.test/v2/pause/manifests/3.10', { accept: ALL })).status).toBe(200);
  });
});

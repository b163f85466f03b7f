import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { ensureFixtureImages, fixtureCacheKey } from './fixture-cache.js';
import { digestRecordOf, fixtureDigestsFile, type FixtureDigestRecord } from './fixture-digests.js';
import { buildFixtureImages, DEFAULT_BIG_LAYER_MIB, FIXTURE_SET_FILE } from './fixture-images.js';
import { keystream, keystreamBytes } from './keystream.js';
import { storedGzip } from './stored-gzip.js';
import { buildTar, singleFileTarSize, tarHeader } from './tar-archive.js';

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'fixture-images-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** every file under blobs/<alg>/ hashes to its name */
function checkLayoutBlobs(layout: string): number {
  let n = 0;
  for (const alg of readdirSync(path.join(layout, 'blobs'))) {
    for (const hex of readdirSync(path.join(layout, 'blobs', alg))) {
      expect(
        createHash(alg)
          .update(readFileSync(path.join(layout, 'blobs', alg, hex)))
          .digest('hex'),
        `${layout} ${alg}:${hex}`,
      ).toBe(hex);
      n++;
    }
  }
  return n;
}

describe('building blocks', () => {
  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[{"y":2,"z":1}]},"b":1}');
  });

  it.each([0, 1, 65_535, 65_536, 200_000])('stored gzip of %i bytes round-trips through zlib', (n) => {
    const data = keystreamBytes(`gz${n}`, n);
    const gz = storedGzip(data);
    expect(gunzipSync(gz).equals(data)).toBe(true);
    expect(gz.subarray(0, 10).equals(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]))).toBe(true);
  });

  it('tar headers carry a valid checksum, a fixed mtime and octal sizes', () => {
    const h = tarHeader({ name: 'x/y', type: 'file', size: 1234 });
    const stored = parseInt(h.subarray(148, 154).toString('ascii'), 8);
    const copy = Buffer.from(h);
    copy.fill(0x20, 148, 156);
    expect(copy.reduce((s, b) => s + b, 0)).toBe(stored);
    expect(parseInt(h.subarray(124, 135).toString('ascii'), 8)).toBe(1234);
    expect(parseInt(h.subarray(136, 147).toString('ascii'), 8)).toBe(1_704_067_200);
    expect(h.subarray(257, 263).toString('latin1')).toBe('ustar\0');
  });

  it('a single-file archive has the size singleFileTarSize predicts', () => {
    expect(buildTar([{ name: 'f', type: 'file', data: Buffer.alloc(1000) }]).length).toBe(singleFileTarSize(1000));
    expect(buildTar([{ name: 'f', type: 'file', data: Buffer.alloc(1024) }]).length).toBe(512 + 1024 + 1024);
  });

  it('the keystream depends on the seed only, not on chunking', () => {
    const whole = keystreamBytes('seed', 300_000);
    const chunked = Buffer.concat([...keystream('seed', 300_000, 7_777)]);
    expect(chunked.equals(whole)).toBe(true);
    expect(keystreamBytes('other', 64).equals(whole.subarray(0, 64))).toBe(false);
  });
});

describe('fixture set', () => {
  it('the default set regenerates to exactly fixtures/images/digests.json', async () => {
    const recorded = JSON.parse(await readFile(fixtureDigestsFile(), 'utf8')) as FixtureDigestRecord;
    expect(recorded.bigLayerMiB).toBe(DEFAULT_BIG_LAYER_MIB);
    const set = await buildFixtureImages(path.join(tmp, 'default'), { bigLayerMiB: DEFAULT_BIG_LAYER_MIB });
    expect(digestRecordOf(set)).toEqual(recorded);
    const big = set.blobs.find((b) => b.role === 'big:layer')!;
    expect(big.size).toBe(singleFileTarSize(DEFAULT_BIG_LAYER_MIB * 1024 * 1024));
  });

  it('has every image kind the stack needs, one layout per repository', async () => {
    const set = await buildFixtureImages(path.join(tmp, 'small'), { bigLayerMiB: 1 });
    const kinds = new Set(set.images.flatMap((i) => i.kind));
    for (const k of [
      'conformance',
      'index',
      'multi-platform',
      'nested-repository',
      'docker-manifest-list',
      'docker-schema2',
      'pause',
      'large-layer',
      'signature',
      'referrers-fallback-tag',
      'sha512-layer',
    ]) {
      expect(kinds.has(k), k).toBe(true);
    }
    expect(set.repos).toEqual(['conformance', 'pause', 'e2e-test-images/busybox', 'docker-list', 'big']);
    expect(set.images.filter((i) => i.repo === 'conformance').length).toBeGreaterThanOrEqual(10);
    const pause = set.images.find((i) => i.ref === 'pause:3.10')!;
    expect(set.images.some((i) => i.tag === `sha256-${pause.digest.slice(7)}.sig`)).toBe(true);
    expect(set.referrers.map((r) => r.artifactType).sort()).toEqual([
      'application/vnd.example.sbom.v1+json',
      'application/vnd.example.signature.v1',
    ]);
    for (const repo of set.repos) {
      const layout = path.join(set.root, repo);
      expect(JSON.parse(readFileSync(path.join(layout, 'oci-layout'), 'utf8'))).toEqual({
        imageLayoutVersion: '1.0.0',
      });
      const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'));
      const tags = index.manifests
        .map((m: any) => m.annotations?.['org.opencontainers.image.ref.name'])
        .filter(Boolean);
      expect(tags.sort()).toEqual(
        set.images
          .filter((i) => i.repo === repo)
          .map((i) => i.tag)
          .sort(),
      );
      expect(checkLayoutBlobs(layout)).toBeGreaterThan(0);
    }
    // the big layer's size follows the option, and nothing else does
    const small = digestRecordOf(set);
    const recorded = JSON.parse(await readFile(fixtureDigestsFile(), 'utf8')) as FixtureDigestRecord;
    const notBig = (r: FixtureDigestRecord) => r.images.filter((i) => !i.ref.startsWith('big:'));
    expect(notBig(small)).toEqual(notBig(recorded));
  });

  it('rejects a negative or fractional big layer size', async () => {
    await expect(buildFixtureImages(path.join(tmp, 'bad'), { bigLayerMiB: -1 })).rejects.toThrow(RangeError);
    await expect(buildFixtureImages(path.join(tmp, 'bad'), { bigLayerMiB: 1.5 })).rejects.toThrow(RangeError);
  });
});

describe('ensureFixtureImages (cache)', () => {
  it('builds once, reuses a complete directory, rebuilds an incomplete one', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const first = await ensureFixtureImages({ bigLayerMiB: 1, cacheDir });
    expect(first.root).toBe(path.join(cacheDir, fixtureCacheKey(1)));
    const marker = path.join(first.root, 'marker');
    await writeFile(marker, 'kept');
    const second = await ensureFixtureImages({ bigLayerMiB: 1, cacheDir });
    expect(second.root).toBe(first.root);
    expect(digestRecordOf(second)).toEqual(digestRecordOf(first));
    expect((await stat(marker)).isFile()).toBe(true); // reused, not rebuilt

    const layer = second.blobs.find((b) => b.role === 'pause:layer')!;
    await unlink(path.join(second.root, 'pause', 'blobs', 'sha256', layer.digest.slice(7)));
    const third = await ensureFixtureImages({ bigLayerMiB: 1, cacheDir });
    expect(digestRecordOf(third)).toEqual(digestRecordOf(first));
    await expect(stat(marker)).rejects.toThrow(); // rebuilt from scratch
    expect(readdirSync(cacheDir)).toEqual([fixtureCacheKey(1)]); // no temporary directories left
    expect(readdirSync(third.root)).toContain(FIXTURE_SET_FILE);
  });

  it('rebuilds a complete set cached before the generator gained an image (same generator version)', async () => {
    const cacheDir = path.join(tmp, 'stale');
    const first = await ensureFixtureImages({ bigLayerMiB: 1, cacheDir });
    const file = path.join(first.root, FIXTURE_SET_FILE);
    const recorded = JSON.parse(await readFile(file, 'utf8')) as { images: { ref: string }[] };
    const dropped = recorded.images.pop()!;
    await writeFile(file, JSON.stringify(recorded));
    const marker = path.join(first.root, 'marker');
    await writeFile(marker, 'stale');
    const again = await ensureFixtureImages({ bigLayerMiB: 1, cacheDir });
    await expect(stat(marker)).rejects.toThrow(); // rebuilt from scratch
    expect(again.images.map((i) => i.ref)).toContain(dropped.ref);
    expect(digestRecordOf(again)).toEqual(digestRecordOf(first));
  });

  it('concurrent callers agree on one directory', async () => {
    const cacheDir = path.join(tmp, 'race');
    const [a, b] = await Promise.all([
      ensureFixtureImages({ bigLayerMiB: 0, cacheDir }),
      ensureFixtureImages({ bigLayerMiB: 0, cacheDir }),
    ]);
    expect(a.root).toBe(b.root);
    expect(digestRecordOf(a)).toEqual(digestRecordOf(b));
    expect(readdirSync(cacheDir)).toEqual([fixtureCacheKey(0)]);
  });
});

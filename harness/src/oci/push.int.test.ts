/**
 * Both local upstreams serve the same fixtures: the fixtures are pushed into a real Debian
 * docker-registry (distribution 2.8) with pushLayout, then every ref, tag list and blob is compared with what the
 * embedded registry serves from the layouts directly. Where distribution 2.8.2 behaves differently (no referrers
 * API, unsorted tags without pagination, schema1 conversion, 500 on a malformed digest) the difference is asserted
 * explicitly, so a change on either side shows up here; docs/oci-client.md lists them.
 *
 * Needs /usr/bin/docker-registry. With CI=true a missing binary fails the test; otherwise it is skipped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureImages, type FixtureSet } from '../images/fixture-images.js';
import {
  distributionRegistryInstalled,
  startDistributionRegistry,
  type StartedDistributionRegistry,
} from '../registry/distribution-registry.js';
import { startEmbeddedRegistry, type StartedEmbeddedRegistry } from '../registry/embedded-registry.js';
import { createOciClient, type OciClient } from './oci-client.js';
import { MediaType } from './media-types.js';
import { OciError } from './oci-error.js';
import { pullImage } from './pull-image.js';
import { pushLayout } from './push.js';

const installed = distributionRegistryInstalled();
const ci = process.env.CI === 'true';
const SKIP_REASON =
  'docker-registry is not installed (apt-get install docker-registry); set CI=true to make this a failure';

let dir: string;
let set: FixtureSet;
let embedded: StartedEmbeddedRegistry;
let distribution: StartedDistributionRegistry | undefined;
let dispatcher: Agent;
let emb: OciClient;
let dist: OciClient;

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof OciError && e.status !== undefined) return e.status;
    throw e;
  }
}

beforeAll(async () => {
  if (!installed) {
    if (ci) throw new Error(`CI=true: ${SKIP_REASON}`);
    return;
  }
  dir = await mkdtemp(path.join(tmpdir(), 'push-parity-'));
  set = await buildFixtureImages(dir, { bigLayerMiB: 8 });
  embedded = await startEmbeddedRegistry({ root: dir });
  distribution = await startDistributionRegistry();
  dispatcher = new Agent();
  emb = createOciClient({ baseUrl: embedded.url, dispatcher });
  dist = createOciClient({ baseUrl: distribution.url, dispatcher });
  for (const repo of set.repos) await pushLayout(distribution.url, repo, path.join(dir, repo), { dispatcher });
});

afterAll(async () => {
  await embedded?.close();
  await distribution?.close();
  await dispatcher?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!installed && !ci)(
  `embedded registry vs docker-registry (distribution 2.8)${installed ? '' : ` — skipped: ${SKIP_REASON}`}`,
  () => {
    it('every tag resolves to the same digest, media type and size on both (HEAD and GET)', async () => {
      for (const i of set.images) {
        for (const [name, c] of [
          ['embedded', emb],
          ['docker-registry', dist],
        ] as const) {
          const head = await c.headManifest(i.repo, i.tag);
          expect(head, `${name} HEAD ${i.ref}`).toMatchObject({
            status: 200,
            dockerContentDigest: i.digest,
            mediaType: i.mediaType,
            size: i.size,
          });
          const get = await c.getManifest(i.repo, i.tag);
          expect(get.digest, `${name} GET ${i.ref}`).toBe(i.digest);
          const byDigest = await c.getManifest(i.repo, i.digest);
          expect(byDigest.bytes.equals(get.bytes)).toBe(true);
        }
      }
    });

    it('every manifest of the graph (children, referrers) by digest', async () => {
      for (const m of set.manifests) {
        const a = await emb.getManifest(m.repo, m.digest);
        const b = await dist.getManifest(m.repo, m.digest);
        expect(b.digest, m.role).toBe(a.digest);
        expect(b.mediaType, m.role).toBe(a.mediaType);
      }
    });

    it('the same tags (distribution 2.8.2 returns them unsorted)', async () => {
      for (const repo of set.repos) {
        const a = await emb.listTags(repo);
        const b = await dist.listTags(repo);
        expect([...b.tags].sort(), repo).toEqual([...a.tags].sort());
        expect(a.tags).toEqual([...a.tags].sort((x, y) => (x < y ? -1 : 1)));
      }
    });

    it('every blob: same size on HEAD, bytes verified on GET', async () => {
      for (const blob of set.blobs) {
        const a = await emb.headBlob(blob.repo, blob.digest);
        const b = await dist.headBlob(blob.repo, blob.digest, {
          checkDigestHeader: !blob.digest.startsWith('sha512:'),
        });
        expect([a.size, b.size], blob.role).toEqual([blob.size, blob.size]);
        await emb.getBlob(blob.repo, blob.digest, { expectedSize: blob.size });
        await dist.getBlob(blob.repo, blob.digest, { expectedSize: blob.size });
      }
    });

    it('full pulls agree blob for blob', async () => {
      for (const i of set.images) {
        const a = await pullImage(emb, i.repo, i.tag);
        const b = await pullImage(dist, i.repo, i.tag);
        expect(b.blobs.map((x) => x.digest).sort(), i.ref).toEqual(a.blobs.map((x) => x.digest).sort());
        expect(
          b.manifests.map((x) => x.digest),
          i.ref,
        ).toEqual(a.manifests.map((x) => x.digest));
      }
    });

    it('Accept handling agrees where distribution does not convert to schema1', async () => {
      // OCI types missing from Accept: 404 on both
      expect(await statusOf(emb.getManifest('pause', '3.10', { accept: [MediaType.DockerManifest] }))).toBe(404);
      expect(await statusOf(dist.getManifest('pause', '3.10', { accept: [MediaType.DockerManifest] }))).toBe(404);
      expect(
        await statusOf(emb.getManifest('e2e-test-images/busybox', '1.36.1-1', { accept: [MediaType.OciManifest] })),
      ).toBe(404);
      expect(
        await statusOf(dist.getManifest('e2e-test-images/busybox', '1.36.1-1', { accept: [MediaType.OciManifest] })),
      ).toBe(404);
      // a Docker list by tag without list support: the linux/amd64 child on both
      const child = set.images.find((i) => i.ref === 'docker-list:v1-amd64')!;
      for (const c of [emb, dist]) {
        expect((await c.getManifest('docker-list', 'v1', { accept: [MediaType.DockerManifest] })).digest).toBe(
          child.digest,
        );
      }
    });

    describe('documented differences (docs/oci-client.md, "Embedded registry vs distribution 2.8.2")', () => {
      it('referrers API: embedded answers 200; distribution 2.8 has none (404) and clients fall back to the tag schema', async () => {
        const subject = set.images.find((i) => i.ref === 'conformance:tagtest0')!.digest;
        const a = await emb.referrers('conformance', subject);
        expect(a.source).toBe('api');
        const b = await dist.referrers('conformance', subject, { fallbackToTagSchema: true });
        expect(b.source).toBe('tag-schema');
        expect(b.manifests.map((m) => m.digest).sort()).toEqual(a.manifests.map((m) => m.digest).sort());
        expect(await statusOf(dist.referrers('conformance', subject))).toBe(404);
      });

      it('tags/list ?n=: embedded paginates with Link; distribution 2.8.2 ignores n and last', async () => {
        const a = await emb.listTags('conformance', { n: 2, followLinks: false });
        const b = await dist.listTags('conformance', { n: 2, followLinks: false });
        expect(a.tags).toHaveLength(2);
        expect(a.pages[0]!.next).toBeDefined();
        expect(b.tags.length).toBe(set.images.filter((i) => i.repo === 'conformance').length);
        expect(b.pages[0]!.link).toBeUndefined();
      });

      it('schema2 by tag without schema2 in Accept: distribution converts to signed schema1, embedded serves schema2', async () => {
        const a = await emb.exchange('GET', '/v2/docker-list/manifests/v1-amd64');
        const b = await dist.exchange('GET', '/v2/docker-list/manifests/v1-amd64');
        await a.body.dump();
        await b.body.dump();
        expect(a.headers['content-type']).toBe(MediaType.DockerManifest);
        expect(b.headers['content-type']).toBe(MediaType.DockerSchema1Signed);
      });

      it('malformed digest reference: embedded 400 DIGEST_INVALID; distribution 2.8.2 answers 500', async () => {
        const a = await emb.rawProbe('GET', '/v2/pause/manifests/sha256:totallywrong');
        const b = await dist.rawProbe('GET', '/v2/pause/manifests/sha256:totallywrong');
        expect(a.status).toBe(400);
        expect(JSON.parse(a.body.toString()).errors[0].code).toBe('DIGEST_INVALID');
        expect(b.status).toBe(500);
      });

      it('a sha512 blob: distribution 2.8.2 sends a sha256 Docker-Content-Digest, embedded the requested digest', async () => {
        const blob = set.blobs.find((b) => b.digest.startsWith('sha512:'))!;
        const a = await emb.headBlob(blob.repo, blob.digest);
        const b = await dist.headBlob(blob.repo, blob.digest, { checkDigestHeader: false });
        expect(a.dockerContentDigest).toBe(blob.digest);
        expect(b.dockerContentDigest).toMatch(/^sha256:/);
      });
    });
  },
);

/**
 * The official suites' pull-path checks, adapted to pre-seeded content and a read-only target, judged on the final
 * hop after following the redirector's redirects, exactly as the official suites judge
 * (docs/reference/oci-distribution.md#official-conformance-suites):
 *
 * - G1 (distribution-spec v1.1.1, Ginkgo) pull tests 1–13 (docs/reference/oci-distribution.md#g1-pull-checks), in
 *   read-only mode: `OCI_TAG_NAME` is a tag of a plain OCI image manifest, `OCI_MANIFEST_DIGEST` its digest,
 *   `OCI_BLOB_DIGEST` its config blob;
 * - G2 (distribution-spec main) read-only pull checks R4–R6, R13–R16, R19–R21
 *   (docs/reference/oci-distribution.md#g2-pull-path-checks). Unlike G2 in read-only mode, the content is known here
 *   (sizes and media types come from the manifests), so lengths and types are compared.
 */
import { randomBytes } from 'node:crypto';
import { MediaType, MANIFEST_ACCEPT, essenceOf, type ProbeResult, type Check } from '../../harness/src/index.js';
import { conformanceFailure, expectStatus, G1_ERROR_CODES, ociErrorBodyProblem, probe } from './conformance-expect.js';
import type { ConformanceKit } from './conformance-kit.js';
import { sweepManifestProbes, sweepManifestRefs } from './manifest-sweep.js';
import { configBlob, ociImageManifest } from './seeded-content.js';

/** G1's dummyDigest: sha256("hello world"), a blob no registry should hold. */
export const DUMMY_DIGEST = 'sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';
/** G1's nonexistentManifest: not even a valid tag, yet G1 requires 404. */
export const INVALID_MANIFEST_NAME = '.INVALID_MANIFEST_NAME';

export function randomDigest(): string {
  return `sha256:${randomBytes(32).toString('hex')}`;
}

/** A 404 is right; if its body is JSON it must be an OCI error body (spec "Error Codes"). */
function expectNotFound(p: ProbeResult, what: string, allowed: readonly number[] = [404]): void {
  expectStatus(p, allowed, what);
  const problem = ociErrorBodyProblem(p.body, p.headers['content-type']);
  if (problem !== null) throw conformanceFailure(`${what}: ${p.status} error body: ${problem}`, p.hops);
}

function expectEmptyHeadBody(p: ProbeResult, what: string): void {
  if (p.bodyBytes !== 0) throw conformanceFailure(`${what}: HEAD answered with a ${p.bodyBytes}-byte body`, p.hops);
}

/**
 * A Docker-Content-Digest in the same algorithm as `digest` must equal it (spec "Pulling manifests"/"Pulling blobs" "if
 * present, MUST match"); one in another algorithm (e.g. sha256 for a sha512 blob) is allowed and is for the client to
 * verify.
 */
export function digestHeaderProblem(dcd: string | undefined, digest: string): string | null {
  if (dcd === undefined) return null;
  const algorithm = (d: string) => d.split(':')[0];
  if (algorithm(dcd) !== algorithm(digest)) return null;
  return dcd === digest ? null : `Docker-Content-Digest ${dcd} does not equal ${digest}`;
}

function expectDigestIfPresent(p: ProbeResult, digest: string, what: string): void {
  const dcd = p.headers['docker-content-digest']?.trim();
  if (digestHeaderProblem(dcd, digest) !== null) {
    throw conformanceFailure(`${what}: Docker-Content-Digest ${dcd} does not equal ${digest}`, p.hops);
  }
}

const OCI_MANIFEST_ONLY = { accept: MediaType.OciManifest };

export function pullChecks(kit: ConformanceKit): Check[] {
  const G1 = 'OCI dist-spec v1.1.1 conformance (G1) pull';
  return [
    kit.check(
      'g1-blob-head-missing',
      'HEAD request to nonexistent blob should result in 404 response (G1 pull 1)',
      `${G1} 1; dist-spec "Pulling blobs" "not found: 404"`,
      async ({ client, content }) => {
        const c = await content();
        const repo = ociImageManifest(c).repo;
        const p = await probe(client, 'HEAD', `/v2/${repo}/blobs/${DUMMY_DIGEST}`);
        expectStatus(p, [404], `HEAD /v2/${repo}/blobs/<dummyDigest>`);
      },
    ),
    kit.check(
      'g1-blob-head',
      'HEAD request to existing blob should yield 200, with an empty body, Content-Length and a matching Docker-Content-Digest if present (G1 pull 2; G2 R5)',
      `${G1} 2; G2 R5 blob-head; dist-spec "Pulling blobs" HEAD (Content-Length SHOULD in v1.1.1, MUST on main)`,
      async ({ client, content, evidence }) => {
        const blob = configBlob(await content());
        const what = `HEAD /v2/${blob.repo}/blobs/${blob.digest}`;
        const p = await probe(client, 'HEAD', `/v2/${blob.repo}/blobs/${blob.digest}`);
        expectStatus(p, [200], what);
        expectEmptyHeadBody(p, what);
        expectDigestIfPresent(p, blob.digest, what);
        const cl = p.headers['content-length'];
        if (cl === undefined) throw conformanceFailure(`${what}: no Content-Length on HEAD`, p.hops);
        if (Number(cl) !== blob.size)
          throw conformanceFailure(`${what}: Content-Length ${cl}, the descriptor says ${blob.size}`, p.hops);
        evidence(p.hops);
      },
    ),
    kit.check(
      'g1-blob-get-missing',
      'GET nonexistent blob should result in 404 response (G1 pull 3; G2 R4 get-missing)',
      `${G1} 3; G2 R4; dist-spec "Pulling blobs" "not found: 404", "Error Codes" body`,
      async ({ client, content }) => {
        const repo = ociImageManifest(await content()).repo;
        expectNotFound(
          await probe(client, 'GET', `/v2/${repo}/blobs/${DUMMY_DIGEST}`),
          `GET /v2/${repo}/blobs/<dummyDigest>`,
        );
      },
    ),
    kit.check(
      'g1-blob-get',
      'GET request to existing blob URL should yield 200, and the body is the blob (G1 pull 4; G2 R6)',
      `${G1} 4; G2 R6 blob-get; dist-spec "Pulling blobs" GET (clients SHOULD verify the body against the digest)`,
      async ({ client, content, evidence }) => {
        const blob = configBlob(await content());
        const r = await client.getBlob(blob.repo, blob.digest, { expectedSize: blob.size });
        evidence(r.hops, { digest: r.digest, size: r.size });
      },
    ),
    kit.check(
      'g1-manifest-head-missing',
      'HEAD request to nonexistent manifest should return 404 (G1 pull 5: `.INVALID_MANIFEST_NAME`; a 400 fails G1)',
      `${G1} 5; dist-spec "Pulling manifests" "not found: 404"`,
      async ({ client, content }) => {
        const repo = ociImageManifest(await content()).repo;
        const p = await probe(client, 'HEAD', `/v2/${repo}/manifests/${INVALID_MANIFEST_NAME}`);
        expectStatus(p, [404], `HEAD /v2/${repo}/manifests/${INVALID_MANIFEST_NAME}`);
      },
    ),
    kit.check(
      'g1-manifest-head-by-digest',
      'HEAD request to manifest path (digest) should yield 200 response (G1 pull 6 and 7)',
      `${G1} 6, 7; dist-spec "Pulling manifests" HEAD (Docker-Content-Digest, if present, MUST match)`,
      async ({ client, content, evidence }) => {
        const m = ociImageManifest(await content());
        const what = `HEAD /v2/${m.repo}/manifests/${m.image.digest} (Accept: OCI manifest)`;
        const p = await probe(client, 'HEAD', `/v2/${m.repo}/manifests/${m.image.digest}`, OCI_MANIFEST_ONLY);
        expectStatus(p, [200], what);
        expectDigestIfPresent(p, m.image.digest, what);
        evidence(p.hops);
      },
    ),
    kit.check(
      'g1-manifest-head-by-tag',
      'HEAD request to manifest path (tag) should yield 200 response (G1 pull 8)',
      `${G1} 8 (the tag must name OCI_MANIFEST_DIGEST); dist-spec "Pulling manifests" HEAD`,
      async ({ client, content, evidence }) => {
        const m = ociImageManifest(await content());
        const what = `HEAD /v2/${m.repo}/manifests/${m.tag} (Accept: OCI manifest)`;
        const p = await probe(client, 'HEAD', `/v2/${m.repo}/manifests/${m.tag}`, OCI_MANIFEST_ONLY);
        expectStatus(p, [200], what);
        expectDigestIfPresent(p, m.image.digest, what);
        evidence(p.hops);
      },
    ),
    kit.check(
      'g1-manifest-get-missing',
      'GET nonexistent manifest should return 404 (G1 pull 9: `.INVALID_MANIFEST_NAME`)',
      `${G1} 9; dist-spec "Pulling manifests" "not found: 404", "Error Codes" body`,
      async ({ client, content }) => {
        const repo = ociImageManifest(await content()).repo;
        expectNotFound(
          await probe(client, 'GET', `/v2/${repo}/manifests/${INVALID_MANIFEST_NAME}`),
          `GET /v2/${repo}/manifests/${INVALID_MANIFEST_NAME}`,
        );
      },
    ),
    kit.check(
      'g1-manifest-get-by-digest',
      'GET request to manifest path (digest) should yield 200 response, and the body hashes to the digest (G1 pull 10 and 11)',
      `${G1} 10, 11; dist-spec "Pulling manifests" GET (clients SHOULD verify by-digest pulls)`,
      async ({ client, content, evidence }) => {
        const m = ociImageManifest(await content());
        const r = await client.getManifest(m.repo, m.image.digest, { accept: [MediaType.OciManifest] });
        evidence(r.hops, { digest: r.digest });
      },
    ),
    kit.check(
      'g1-manifest-get-by-tag',
      'GET request to manifest path (tag) should yield 200 response, and the body is the tagged manifest (G1 pull 12)',
      `${G1} 12; dist-spec "Pulling manifests" GET`,
      async ({ client, content, evidence }) => {
        const m = ociImageManifest(await content());
        const r = await client.getManifest(m.repo, m.tag, {
          accept: [MediaType.OciManifest],
          expected: { digest: m.image.digest, size: m.size },
        });
        evidence(r.hops, { digest: r.digest });
      },
    ),
    kit.check(
      'g1-error-body',
      '400 response body should contain OCI-conforming JSON message (G1 pull 13: GET manifests/sha256:totallywrong with a body)',
      `${G1} 13; dist-spec "Error Codes" error codes`,
      async ({ client, content }) => {
        const repo = ociImageManifest(await content()).repo;
        const path = `/v2/${repo}/manifests/sha256:totallywrong`;
        const ex = await client.exchange('GET', path, {
          headers: { 'content-type': MediaType.OciManifest },
          body: 'blablabla',
        });
        const chunks: Buffer[] = [];
        for await (const c of ex.body) chunks.push(c as Buffer);
        const body = Buffer.concat(chunks);
        expectStatus({ status: ex.status, hops: ex.hops }, [400, 404], `GET ${path}`);
        if (ex.status === 400) {
          const problem = ociErrorBodyProblem(body, ex.final.headers['content-type'], {
            requireJson: true,
            codes: G1_ERROR_CODES,
          });
          if (problem !== null) throw conformanceFailure(`GET ${path}: 400 body: ${problem}`, ex.hops);
        }
      },
    ),
    kit.check(
      'manifest-head-every-image',
      'HEAD of every image by tag and by digest: 200, empty body, exact Content-Type and Content-Length (G2 R13, R14 with known content)',
      'G2 R13 manifest-head-by-tag, R14 manifest-head-by-digest; dist-spec "Pulling manifests" HEAD (Content-Length SHOULD v1.1.1 / MUST main; Content-Type SHOULD equal the pushed type, no parameters)',
      async ({ client, content, evidence }) => {
        const c = await content();
        await sweepManifestProbes(client, c, ['HEAD'], (p, s, what) => {
          const problems: string[] = [];
          const ct = p.headers['content-type'];
          const cl = p.headers['content-length'];
          if (p.bodyBytes !== 0) problems.push(`${what}: ${p.bodyBytes}-byte body`);
          if (ct !== s.mediaType)
            problems.push(`${what}: Content-Type ${JSON.stringify(ct)}, the manifest is ${s.mediaType}`);
          if (cl === undefined) problems.push(`${what}: no Content-Length`);
          else if (Number(cl) !== s.size)
            problems.push(`${what}: Content-Length ${cl}, the manifest has ${s.size} bytes`);
          expectDigestIfPresent(p, s.image.digest, what);
          return problems;
        });
        evidence([], { images: c.images.length });
      },
    ),
    kit.check(
      'manifest-get-every-image',
      'GET of every image by tag and by digest: the bytes hash to the digest, exact Content-Type, Content-Length (G2 R15, R16 with known content)',
      'G2 R15 manifest-by-tag, R16 manifest-by-digest; dist-spec "Pulling manifests" GET (Content-Type SHOULD equal the body mediaType; clients reject a mismatch, docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 1)',
      async ({ client, content, evidence }) => {
        const c = await content();
        await sweepManifestRefs(c, async (s, ref) => {
          const r = await client.getManifest(s.repo, ref, {
            acceptAsSeparateLines: true,
            accept: MANIFEST_ACCEPT,
            expected: { digest: s.image.digest, size: s.size },
          });
          const what = `GET ${s.repo}:${ref}`;
          const problems: string[] = [];
          if (r.contentType !== s.mediaType)
            problems.push(`${what}: Content-Type ${JSON.stringify(r.contentType)}, the manifest is ${s.mediaType}`);
          if (r.bodyMediaType !== undefined && essenceOf(r.contentType) !== r.bodyMediaType) {
            problems.push(
              `${what}: Content-Type ${JSON.stringify(r.contentType)} differs from the body's mediaType ${r.bodyMediaType}`,
            );
          }
          if (r.size !== s.size) problems.push(`${what}: ${r.size} bytes, expected ${s.size}`);
          return problems;
        });
        evidence([], { images: c.images.length });
      },
    ),
    kit.check(
      'manifest-missing-by-digest',
      'GET of a never-pushed manifest digest returns 404 (G2 R19)',
      'G2 R19 missing-manifest/by-digest; dist-spec "Pulling manifests" "not found: 404", "Error Codes" body',
      async ({ client, content }) => {
        const repo = ociImageManifest(await content()).repo;
        expectNotFound(
          await probe(client, 'GET', `/v2/${repo}/manifests/${randomDigest()}`),
          `GET /v2/${repo}/manifests/<random digest>`,
        );
      },
    ),
    kit.check(
      'manifest-missing-by-tag',
      'GET of a never-pushed tag returns 404 (G2 R20)',
      'G2 R20 missing-manifest/by-tag; dist-spec "Pulling manifests" "not found: 404", "Error Codes" body',
      async ({ client, content }) => {
        const repo = ociImageManifest(await content()).repo;
        const tag = `missing-${randomBytes(6).toString('hex')}`;
        expectNotFound(await probe(client, 'GET', `/v2/${repo}/manifests/${tag}`), `GET /v2/${repo}/manifests/${tag}`);
      },
    ),
    kit.check(
      'manifest-invalid-digest',
      'GET of a malformed digest returns 400 or 404 (G2 R21)',
      'G2 R21 invalid-digest-format/manifest-get; docs/reference/oci-distribution.md#grammar, dist-spec "Error Codes" body',
      async ({ client, content }) => {
        const repo = ociImageManifest(await content()).repo;
        expectNotFound(
          await probe(client, 'GET', `/v2/${repo}/manifests/sha256:baddigeststring`),
          `GET /v2/${repo}/manifests/sha256:baddigeststring`,
          [400, 404],
        );
      },
    ),
  ];
}

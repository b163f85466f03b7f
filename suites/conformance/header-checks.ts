/**
 * Spec rules on the pull path that neither official suite checks in read-only mode
 * (docs/reference/oci-distribution.md#official-conformance-suites "Neither suite checks ..."): Docker-Content-Digest
 * presence, HEAD/GET parity on the final hop, and no Content-Encoding on blobs. Blob rules are judged on every distinct
 * final hop (bucket and upstream), like Range.
 */
import { createHash } from 'node:crypto';
import { MANIFEST_ACCEPT, CheckFailure, NotApplicable, type Check, type Hop } from '../../harness/src/index.js';
import { conformanceFailure, expectStatus, probe } from './conformance-expect.js';
import type { ConformanceKit } from './conformance-kit.js';
import { finalHopRoutes } from './conformance-routes.js';
import { isRegistryHop, sweepFinalHops } from './final-hop-probe.js';
import { sweepManifestProbes, sweepManifestRefs } from './manifest-sweep.js';
import { digestHeaderProblem } from './pull-checks.js';
import { allBlobs, blobsAtLeast, ociImageManifest, type SeededBlob, type SeededContent } from './seeded-content.js';

/**
 * A few blobs that cover the kinds: the OCI image's config and its smallest layer, a gzip layer if any, and one blob
 * of every other digest algorithm (a sha512-addressed layer: registries may answer it with a sha256
 * Docker-Content-Digest, which `digestHeaderProblem` tolerates and the official program does not; docs/suites.md).
 */
function sampleBlobs(content: SeededContent): SeededBlob[] {
  const image = ociImageManifest(content);
  const picked = [...image.blobs].sort((a, b) => a.size - b.size).slice(0, 2);
  const gzip = allBlobs(content).find((b) => /gzip/.test(b.mediaType) && !picked.some((p) => p.digest === b.digest));
  if (gzip) picked.push(gzip);
  const algorithm = (b: SeededBlob) => b.digest.split(':')[0];
  for (const b of allBlobs(content)) {
    if (algorithm(b) !== 'sha256' && !picked.some((p) => algorithm(p) === algorithm(b))) picked.push(b);
  }
  return picked;
}

/**
 * A Docker-Content-Digest in another algorithm than the requested digest (docker-registry answers a sha512 blob with
 * its sha256) is allowed: dist-spec "Pulling blobs" asks for "a digest matching that of the response body". It must
 * then be the body's digest in that algorithm.
 */
export function otherAlgorithmProblem(
  dcd: string | undefined,
  digest: string,
  response: { body: Buffer; truncated: boolean },
): string | null {
  if (dcd === undefined || response.truncated) return null;
  const [alg] = dcd.split(':');
  if (alg === digest.split(':')[0] || (alg !== 'sha256' && alg !== 'sha512')) return null;
  const actual = `${alg}:${createHash(alg).update(response.body).digest('hex')}`;
  return actual === dcd ? null : `Docker-Content-Digest ${dcd} is not the ${alg} of the body (${actual})`;
}

export function headerChecks(kit: ConformanceKit): Check[] {
  const routes = () => finalHopRoutes(kit.target);
  return [
    kit.check(
      'docker-content-digest-manifests',
      'Every manifest GET and HEAD (by tag and by digest) carries Docker-Content-Digest equal to its digest on the final hop',
      'dist-spec main "Pulling manifests" (c2519f1): Docker-Content-Digest MUST on manifest GET/HEAD (SHOULD in v1.1.1); containerd and crane need it on HEAD (docs/reference/oci-distribution.md#clients-through-redirects)',
      async ({ client, content, evidence }) => {
        const c = await content();
        await sweepManifestProbes(client, c, ['HEAD', 'GET'], (p, s, what) => {
          const dcd = p.headers['docker-content-digest']?.trim();
          if (dcd === undefined) return [`${what}: no Docker-Content-Digest on ${p.hops[p.hops.length - 1]!.url}`];
          if (digestHeaderProblem(dcd, s.image.digest) !== null)
            return [`${what}: Docker-Content-Digest ${dcd}, expected ${s.image.digest}`];
          return [];
        });
        evidence([], { images: c.images.length });
      },
    ),
    kit.check(
      'docker-content-digest-blobs',
      'Blob GET and HEAD: Docker-Content-Digest, when present, equals the digest; a registry final hop must send it (object storage cannot)',
      'dist-spec "Pulling blobs": "if present, MUST match" (both versions); main makes it a MUST, which plain object storage never meets (docs/reference/oci-distribution.md#blobs), so its absence is tolerated only on a storage final hop',
      async ({ content, evidence }) => {
        const blobs = sampleBlobs(await content());
        const hops = await sweepFinalHops(routes(), blobs, async (blob, target) => {
          const probed: Hop[] = [];
          const problems: string[] = [];
          for (const method of ['HEAD', 'GET']) {
            const p = await probe(target.client, method, `/v2/${blob.repo}/blobs/${blob.digest}`);
            probed.push(...p.hops);
            expectStatus(p, [200], `${method} ${blob.repo}@${blob.digest} via ${target.route.label}`);
            const dcd = p.headers['docker-content-digest']?.trim();
            const last = p.hops[p.hops.length - 1]!;
            const problem =
              digestHeaderProblem(dcd, blob.digest) ??
              (method === 'GET' ? otherAlgorithmProblem(dcd, blob.digest, p) : null);
            if (problem !== null) problems.push(`${method} ${blob.digest} on ${target.label}: ${problem}`);
            if (dcd === undefined && isRegistryHop(last))
              problems.push(
                `${method} ${blob.digest} on ${target.label}: a registry final hop without Docker-Content-Digest`,
              );
          }
          return { hops: probed, problems };
        });
        evidence(hops);
      },
    ),
    kit.check(
      'head-get-parity-manifests',
      'HEAD and GET of every manifest end with the same status, Content-Type, Content-Length and Docker-Content-Digest',
      'docs/reference/oci-distribution.md#edge-cases E18, docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 2 (a HEAD redirected to a URL signed for GET fails); dist-spec "Pulling manifests" HEAD',
      async ({ client, content, evidence }) => {
        const c = await content();
        await sweepManifestRefs(c, async (s, ref) => {
          const r = await client.headGetParity('manifest', s.repo, ref, { accept: MANIFEST_ACCEPT });
          const problems: string[] = [];
          if (r.mismatches.length > 0) problems.push(`${s.repo}:${ref}: ${r.mismatches.join(', ')}`);
          if (r.get.status !== 200) problems.push(`${s.repo}:${ref}: GET ${r.get.status}`);
          return problems;
        });
        evidence([], { images: c.images.length });
      },
    ),
    kit.check(
      'head-get-parity-blobs',
      'HEAD and GET of blobs end with the same status, Content-Length and Docker-Content-Digest on every final hop',
      'docs/reference/oci-distribution.md#edge-cases E18, docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 2 (S3 presigns are method-bound: HEAD must be served too); dist-spec "Pulling blobs" HEAD',
      async ({ content, evidence }) => {
        const blobs = sampleBlobs(await content());
        const hops = await sweepFinalHops(routes(), blobs, async (blob, target) => {
          const r = await target.client.headGetParity('blob', blob.repo, blob.digest);
          const problems: string[] = [];
          // Content-Type of a blob is unspecified; only status, length and digest must agree.
          const relevant = r.mismatches.filter((m) => !m.startsWith('content-type'));
          if (relevant.length > 0) problems.push(`${blob.digest} on ${target.label}: ${relevant.join(', ')}`);
          if (r.get.status === 200 && r.get.bodyDigest !== blob.digest) {
            throw new CheckFailure(
              'integrity',
              `${blob.digest} on ${target.label}: GET body hashes to ${r.get.bodyDigest}`,
              r.get.hops,
            );
          }
          if (r.head.status === 200 && r.head.contentLength !== blob.size) {
            problems.push(
              `${blob.digest} on ${target.label}: HEAD Content-Length ${r.head.contentLength}, size ${blob.size}`,
            );
          }
          return { hops: [...r.head.hops, ...r.get.hops], problems };
        });
        evidence(hops);
      },
    ),
    kit.check(
      'blob-no-content-encoding',
      'A blob GET sent with Accept-Encoding: gzip, br, zstd comes back unencoded, with the exact stored bytes',
      'docs/reference/oci-distribution.md#edge-cases E5, docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 5 (a Content-Encoding added by a CDN or set on the object breaks the digest); dist-spec "Pulling blobs"',
      async ({ content, evidence }) => {
        const c = await content();
        const blobs = [...sampleBlobs(c), ...blobsAtLeast(c, 2048).slice(0, 1)];
        if (blobs.length === 0) throw new NotApplicable('no seeded blobs');
        const hops = await sweepFinalHops(routes(), blobs, async (blob, target) => {
          const r = await target.client.getBlob(blob.repo, blob.digest, {
            expectedSize: blob.size,
            headers: { 'accept-encoding': 'gzip, br, zstd' },
          });
          const last = r.hops[r.hops.length - 1]!;
          const encoding = last.headers['content-encoding'];
          if (encoding !== undefined && encoding !== 'identity') {
            throw conformanceFailure(`${blob.digest} on ${target.label}: Content-Encoding ${encoding}`, r.hops);
          }
          return { hops: r.hops, problems: [] };
        });
        evidence(hops);
      },
    ),
  ];
}

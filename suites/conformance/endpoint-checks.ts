/**
 * The endpoints the redirector answers itself, judged on the first hop (they must never be redirected): `/v2/`,
 * `_catalog`, methods other than GET/HEAD, and the bodies of its own errors.
 */
import { CheckFailure, type Check, type Hop } from '../../harness/src/index.js';
import { conformanceFailure, ociErrorBodyProblem } from './conformance-expect.js';
import type { ConformanceKit } from './conformance-kit.js';
import { ociImageManifest } from './seeded-content.js';

const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

function allowsGetHead(allow: string | undefined): boolean {
  if (allow === undefined) return false;
  const methods = allow.split(',').map((m) => m.trim().toUpperCase());
  return (
    methods.includes('GET') &&
    methods.includes('HEAD') &&
    !methods.some((m) => WRITE_METHODS.includes(m as (typeof WRITE_METHODS)[number]))
  );
}

export function endpointChecks(kit: ConformanceKit): Check[] {
  return [
    kit.check(
      'v2-ping',
      'GET /v2/, GET /v2 and HEAD /v2/ answer 200 from the redirector itself (no redirect, no challenge)',
      'dist-spec "Determining Support" (200 = implements the spec); G2 R1 ping; redirector rule 3; docs/reference/oci-distribution.md#edge-cases E1 (a cross-host /v2/ breaks Docker auth attribution)',
      async ({ client, evidence }) => {
        const hops: Hop[] = [];
        for (const [method, path] of [
          ['GET', '/v2/'],
          ['GET', '/v2'],
          ['HEAD', '/v2/'],
        ] as const) {
          const r = await client.firstHop(method, path);
          hops.push(r.hop);
          if (r.status >= 500) throw new CheckFailure('availability', `${method} ${path} → ${r.status}`, [r.hop]);
          if (r.status !== 200)
            throw conformanceFailure(
              `${method} ${path} → ${r.status}${r.location ? ` (Location ${r.location})` : ''}, expected 200 on the first hop`,
              [r.hop],
            );
        }
        evidence(hops);
      },
    ),
    kit.check(
      'catalog-404',
      'GET /v2/_catalog (with and without a query) answers 404 from the redirector itself',
      'redirector rule 3 (archeio: "_catalog is not supported"); dist-spec "Listing Tags" (_catalog is not part of the pull API)',
      async ({ client, evidence }) => {
        const hops: Hop[] = [];
        for (const path of ['/v2/_catalog', '/v2/_catalog?n=10']) {
          const r = await client.firstHop('GET', path);
          hops.push(r.hop);
          if (r.status !== 404)
            throw conformanceFailure(
              `GET ${path} → ${r.status}${r.location ? ` (Location ${r.location})` : ''}, expected 404 on the first hop`,
              [r.hop],
            );
        }
        evidence(hops);
      },
    ),
    kit.check(
      'methods-405',
      'POST, PUT, PATCH, DELETE and OPTIONS on every route answer 405 with Allow: GET, HEAD; never 2xx or a redirect',
      'redirector rule 1 (405 with Allow: GET, HEAD); RFC 9110 §15.5.6 (405 MUST carry Allow); docs/reference/oci-distribution.md#edge-cases E2 (read-only front)',
      async ({ client, content, evidence }) => {
        const m = ociImageManifest(await content());
        const blob = m.blobs[0]?.digest ?? m.image.digest;
        const paths = [
          '/v2/',
          `/v2/${m.repo}/manifests/${m.tag}`,
          `/v2/${m.repo}/blobs/${blob}`,
          `/v2/${m.repo}/blobs/uploads/`,
          `/v2/${m.repo}/tags/list`,
          '/',
        ];
        const problems: string[] = [];
        const hops: Hop[] = [];
        for (const path of paths) {
          for (const method of WRITE_METHODS) {
            const r = await client.firstHop(method, path);
            hops.push(r.hop);
            if (r.status >= 500) throw new CheckFailure('availability', `${method} ${path} → ${r.status}`, [r.hop]);
            if (r.status !== 405)
              problems.push(`${method} ${path} → ${r.status}${r.location ? ` → ${r.location}` : ''}`);
            else if (!allowsGetHead(r.headers.allow))
              problems.push(`${method} ${path} → 405 with Allow ${JSON.stringify(r.headers.allow ?? null)}`);
          }
        }
        if (problems.length > 0)
          throw conformanceFailure(`expected 405 + Allow: GET, HEAD: ${problems.join('; ')}`, hops);
        evidence(hops);
      },
    ),
    kit.check(
      'error-body-redirector',
      "The redirector's own 4xx answers on /v2 paths carry an OCI JSON error body (405, _catalog 404, dot-segment 400)",
      'dist-spec "Error Codes" (a JSON error body MUST be {"errors":[{code,message,detail}]} with a listed code); redirector rule 4 (400 with an OCI JSON error body); archeio quirk Q6',
      async ({ client, content, evidence }) => {
        const m = ociImageManifest(await content());
        const probes: [string, string][] = [
          ['POST', `/v2/${m.repo}/manifests/${m.tag}`],
          ['DELETE', `/v2/${m.repo}/blobs/${m.blobs[0]?.digest ?? m.image.digest}`],
          ['GET', '/v2/_catalog'],
          ['GET', `/v2/${m.repo}/%2e%2e/${m.repo}/manifests/${m.tag}`],
        ];
        const problems: string[] = [];
        const hops: Hop[] = [];
        for (const [method, path] of probes) {
          const r = await client.firstHop(method, path);
          hops.push(r.hop);
          if (r.status < 400 || r.status >= 500) continue; // not the redirector's own error: judged elsewhere
          const problem = ociErrorBodyProblem(r.body, r.headers['content-type'], { requireJson: method !== 'HEAD' });
          if (problem !== null) problems.push(`${method} ${path} → ${r.status}: ${problem}`);
        }
        if (problems.length > 0) throw conformanceFailure(problems.join('; '), hops);
        evidence(hops);
      },
    ),
  ];
}

/**
 * Referrers (dist-spec "Listing Referrers", added in 1.1): the API through the redirector when the registry behind it
 * has one, and the client fallback, the referrers tag schema `sha256-<hex>`, when it answers 404 (G1 D4–D7 and G2
 * R3/R18, adapted to pre-seeded referrers; G2 disables the API checks with OCI_API_REFERRER=false on such registries,
 * here they are not applicable with that reason and the fallback is checked instead).
 */
import {
  referrersTagFor,
  isImageIndexJson,
  type Descriptor,
  MediaType,
  CheckFailure,
  NotApplicable,
  type Check,
  type Hop,
  type OciClient,
} from '../../harness/src/index.js';
import { conformanceFailure, expectStatus, probe } from './conformance-expect.js';
import type { ConformanceKit } from './conformance-kit.js';
import { randomDigest } from './pull-checks.js';
import { ociImageManifest, seededReferrers, type SeededReferrer } from './seeded-content.js';

const NO_API =
  'the registry behind the redirector has no referrers API (404), as G2 run with OCI_API_REFERRER=false; clients fall back to the tag schema, checked by conformance/referrers-fallback-tag';

/** Whether GET referrers answers at all: 200 → API present, 404 → absent. Other statuses throw. */
async function apiPresent(
  client: OciClient,
  repo: string,
  subject: string,
): Promise<{ present: boolean; hops: Hop[] }> {
  const p = await probe(client, 'GET', `/v2/${repo}/referrers/${subject}`);
  expectStatus(p, [200, 404], `GET /v2/${repo}/referrers/${subject}`);
  return { present: p.status === 200, hops: p.hops };
}

/** How a listing must describe a referrer (spec "Listing Referrers"): digest, mediaType, size, artifactType. */
function listingProblem(r: SeededReferrer, manifests: readonly Descriptor[]): string | null {
  const entry = manifests.find((d) => d.digest === r.digest);
  if (entry === undefined) return `${r.digest} (found via ${r.foundVia}) is not listed as a referrer of ${r.subject}`;
  if (entry.mediaType !== r.mediaType)
    return `${r.digest}: listed mediaType ${entry.mediaType}, the manifest is ${r.mediaType}`;
  if (entry.size !== r.size) return `${r.digest}: listed size ${entry.size}, the manifest has ${r.size} bytes`;
  if (r.artifactType !== undefined && entry.artifactType !== r.artifactType) {
    return `${r.digest}: listed artifactType ${entry.artifactType ?? 'none'}, expected ${r.artifactType}`;
  }
  return null;
}

/** Referrers grouped by (repo, subject). */
function bySubject(
  referrers: readonly SeededReferrer[],
): { repo: string; subject: string; referrers: SeededReferrer[] }[] {
  const groups = new Map<string, { repo: string; subject: string; referrers: SeededReferrer[] }>();
  for (const r of referrers) {
    const key = `${r.repo}@${r.subject}`;
    const g = groups.get(key) ?? { repo: r.repo, subject: r.subject, referrers: [] };
    g.referrers.push(r);
    groups.set(key, g);
  }
  return [...groups.values()];
}

export function referrersChecks(kit: ConformanceKit): Check[] {
  return [
    kit.check(
      'referrers-empty',
      'GET referrers of a digest nothing refers to yields 200, Content-Type exactly the OCI index type, and an empty index (G1 D4; G2 R3)',
      'G1 content-discovery D4; G2 R3 empty/referrers; dist-spec "Listing Referrers" (no match → empty manifests list; Content-Type MUST be the index type)',
      async ({ client, content, evidence }) => {
        const repo = ociImageManifest(await content()).repo;
        const subject = randomDigest();
        const p = await probe(client, 'GET', `/v2/${repo}/referrers/${subject}`);
        expectStatus(p, [200, 404], `GET /v2/${repo}/referrers/<random digest>`);
        if (p.status === 404) throw new NotApplicable(NO_API);
        const ct = p.headers['content-type'];
        if (ct !== MediaType.OciIndex)
          throw conformanceFailure(
            `referrers Content-Type ${JSON.stringify(ct)}, expected exactly ${MediaType.OciIndex}`,
            p.hops,
          );
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(p.body.toString('utf8')) as Record<string, unknown>;
        } catch {
          throw conformanceFailure('referrers body is not JSON', p.hops);
        }
        if (
          body.schemaVersion !== 2 ||
          body.mediaType !== MediaType.OciIndex ||
          !isImageIndexJson(body) ||
          body.manifests.length !== 0
        ) {
          throw conformanceFailure(
            `referrers body is not an empty OCI index (schemaVersion 2): ${p.body.toString('utf8').slice(0, 200)}`,
            p.hops,
          );
        }
        evidence(p.hops);
      },
    ),
    kit.check(
      'referrers-listed',
      'Every seeded referrer is found from its subject, by the API or by the tag-schema fallback, with its digest, mediaType, size and artifactType (G1 D5/D7, G2 R18 adapted)',
      'dist-spec "Listing Referrers" (descriptor fields; artifactType = manifest artifactType, else config mediaType; client fallback on 404); G1 D5, D7; G2 R18',
      async ({ client, content, evidence }) => {
        const hops: Hop[] = [];
        const problems: string[] = [];
        const sources: Record<string, string> = {};
        for (const g of bySubject(seededReferrers(await content()))) {
          const r = await client.referrers(g.repo, g.subject, { fallbackToTagSchema: true });
          hops.push(...r.hops);
          sources[`${g.repo}@${g.subject}`] = r.source;
          if (r.source === 'none') {
            problems.push(
              `referrers of ${g.repo}@${g.subject}: the API answered 404 and there is no ${referrersTagFor(g.subject)} tag, so ${g.referrers.length} referrer(s) cannot be discovered`,
            );
            continue;
          }
          if (r.source === 'api' && r.contentType !== MediaType.OciIndex) {
            problems.push(
              `referrers of ${g.subject}: Content-Type ${JSON.stringify(r.contentType)}, expected ${MediaType.OciIndex}`,
            );
          }
          for (const ref of g.referrers) {
            const problem = listingProblem(ref, r.manifests);
            if (problem !== null) problems.push(`${problem} (via ${r.source})`);
          }
        }
        if (problems.length > 0) throw conformanceFailure(problems.join('; '), hops);
        evidence(hops, { sources });
      },
    ),
    kit.check(
      'referrers-fallback-tag',
      'When the referrers API answers 404, the tag sha256-<hex> of the subject is an OCI index listing the referrer',
      'dist-spec "Listing Referrers" client fallback and the referrers tag schema (docs/reference/oci-distribution.md#grammar) (algorithm-truncated tag, every illegal character replaced by "-")',
      async ({ client, content, evidence }) => {
        const hops: Hop[] = [];
        const problems: string[] = [];
        let exercised = 0;
        for (const g of bySubject(seededReferrers(await content()))) {
          const api = await apiPresent(client, g.repo, g.subject);
          hops.push(...api.hops);
          if (api.present) continue;
          exercised++;
          const tag = referrersTagFor(g.subject);
          const p = await probe(client, 'GET', `/v2/${g.repo}/manifests/${tag}`, { accept: MediaType.OciIndex });
          hops.push(...p.hops);
          if (p.status === 404) {
            problems.push(
              `${g.repo}:${tag} does not exist, so ${g.referrers.length} referrer(s) of ${g.subject} cannot be discovered`,
            );
            continue;
          }
          expectStatus(p, [200], `GET ${g.repo}:${tag}`);
          if (p.headers['content-type'] !== MediaType.OciIndex)
            problems.push(`${g.repo}:${tag}: Content-Type ${JSON.stringify(p.headers['content-type'])}`);
          let body: unknown;
          try {
            body = JSON.parse(p.body.toString('utf8'));
          } catch {
            body = undefined;
          }
          if (!isImageIndexJson(body)) {
            problems.push(`${g.repo}:${tag} is not an image index`);
            continue;
          }
          for (const ref of g.referrers) {
            const problem = listingProblem(ref, body.manifests);
            if (problem !== null) problems.push(`${problem} (in ${tag})`);
          }
        }
        if (exercised === 0)
          throw new NotApplicable(
            'the referrers API answers for every seeded subject; the tag-schema fallback is only used on 404',
          );
        if (problems.length > 0) throw conformanceFailure(problems.join('; '), hops);
        evidence(hops);
      },
    ),
    kit.check(
      'referrers-artifact-type-filter',
      'GET referrers?artifactType=<t>: if OCI-Filters-Applied names artifactType, only that type is listed; the referrer is listed either way (G1 D6; G2 R18 filter)',
      'dist-spec "Listing Referrers" filtering (OCI-Filters-Applied MUST when applied); G1 D6; G2 R18; the query must survive the redirect (docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 8)',
      async ({ client, content, evidence }) => {
        const typed = seededReferrers(await content()).filter((r) => r.artifactType !== undefined);
        const ref = typed[0];
        if (ref === undefined) throw new NotApplicable('no seeded referrer has an artifactType');
        const api = await apiPresent(client, ref.repo, ref.subject);
        if (!api.present) throw new NotApplicable(`${NO_API} (with the fallback, filtering is the client's job)`);
        const type = ref.artifactType!;
        const r = await client.referrers(ref.repo, ref.subject, { artifactType: type });
        if (r.filtersApplied.includes('artifactType')) {
          const others = r.manifests.filter((d) => d.artifactType !== type);
          if (others.length > 0)
            throw conformanceFailure(
              `OCI-Filters-Applied: artifactType, yet ${others.length} entr(ies) of other types were listed`,
              r.hops,
            );
        }
        for (const same of typed.filter(
          (t) => t.subject === ref.subject && t.repo === ref.repo && t.artifactType === type,
        )) {
          const problem = listingProblem(same, r.manifests);
          if (problem !== null) throw conformanceFailure(problem, r.hops);
        }
        evidence(r.hops, { filtersApplied: r.filtersApplied });
      },
    ),
    kit.check(
      'referrers-invalid-digest',
      'GET referrers of a malformed digest returns 400 (when the API exists)',
      'dist-spec "Listing Referrers": "an invalid digest → 400" (MUST); docs/reference/oci-distribution.md#edge-cases E19',
      async ({ client, content, evidence }) => {
        const c = await content();
        const repo = ociImageManifest(c).repo;
        const api = await apiPresent(client, repo, randomDigest());
        if (!api.present) throw new NotApplicable(NO_API);
        const p = await probe(client, 'GET', `/v2/${repo}/referrers/sha256:baddigeststring`);
        if (p.status !== 400) {
          const cls = p.status >= 500 ? 'availability' : 'conformance';
          throw new CheckFailure(
            cls,
            `GET /v2/${repo}/referrers/sha256:baddigeststring → ${p.status}, expected 400`,
            p.hops,
          );
        }
        evidence(p.hops);
      },
    ),
  ];
}

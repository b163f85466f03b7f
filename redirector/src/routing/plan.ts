/**
 * plan(): the whole routing decision as a pure function of request facts.
 *
 * Rules, in order (docs/request-handling.md has the numbered list and the flowchart whose leaves are the reasons):
 *  1. not GET/HEAD → 405 with `Allow: GET, HEAD`;
 *  2. `/` → INFO_URL, `/privacy[/]` → PRIVACY_URL, anything else outside /v2 → 404;
 *  3. `/v2[/]` → 200 ping, `/v2/_catalog` → 404 UNSUPPORTED;
 *  4. an unsafe /v2 path (dot segments, encoded slashes, ...) → 400 OCI error;
 *  5. a manifest, tag-list or referrers path with a malformed name or reference → 400 (404 for a malformed tag);
 *     a cosign `.sig`/`.att` tag → SIGNATURE_UPSTREAM_ENDPOINT when set; every other non-blob /v2 → upstream;
 *  6. a blob → upstream for GCP clients, else a probe of `<bucket base>/containers/images/<digest>`.
 *
 * The work is split in two so the edge only computes client facts (X-Forwarded-For, range lookup) for blob requests,
 * the only ones that need them: `route()` decides everything the path decides, `planBlob()` finishes blobs.
 * `plan()` composes the two for tests, the explain endpoint and the CLI.
 */
import type { Cloud } from '../ranges/index.js';
import type { ErrorAnswer, PingAnswer, Plan, ProbePlan, RedirectPlan } from './decision.js';
import { SlotMemo } from './slot-memo.js';
import { classifyPath, normalizeQuery, splitTarget } from './paths.js';
import type { RoutingTable } from './routing-table.js';

/** What the edge knows about the client of a blob request. */
export interface ClientFacts {
  /** canonical address text, or null when the client-IP rule could not determine one */
  readonly ip: string | null;
  /** why `ip` is null */
  readonly problem?: string;
  readonly cloud: Cloud | null;
  readonly region: string | null;
  /** the matched published prefix */
  readonly prefix: string | null;
}

export const UNKNOWN_CLIENT: ClientFacts = Object.freeze({ ip: null, cloud: null, region: null, prefix: null });

/** A blob request whose plan still needs the client's facts. */
export interface BlobRoute {
  readonly kind: 'blob';
  readonly name: string;
  readonly digest: string;
  /** the upstream blob Location (query included when preserved): where GCP clients and misses go */
  readonly upstream: string;
}

export type Route = Plan | BlobRoute;

export interface RequestFacts {
  readonly method: string;
  /** the raw request-target, e.g. `/v2/pause/manifests/latest?ns=registry.k8s.io` */
  readonly target: string;
  readonly client: ClientFacts;
}

/** One routing behaviour: the default one (createRouter) or archeio's (createArcheioRouter). */
export interface Router {
  readonly mode: 'default' | 'archeio';
  readonly table: RoutingTable;
  route(method: string, target: string): Route;
  planBlob(blob: BlobRoute, client: ClientFacts): Plan;
}

/** The full decision for a request. Pure. */
export function plan(facts: RequestFacts, router: Router): Plan {
  const r = router.route(facts.method, facts.target);
  return r.kind === 'blob' ? router.planBlob(r, facts.client) : r;
}

const PING: PingAnswer = { kind: 'ping', reason: 'v2-ping' };
const NOT_ALLOWED_V2: ErrorAnswer = {
  kind: 'error',
  reason: 'method-not-allowed',
  status: 405,
  allow: true,
  oci: { code: 'UNSUPPORTED', message: 'only GET and HEAD are allowed' },
};
const NOT_ALLOWED_PLAIN: ErrorAnswer = {
  kind: 'error',
  reason: 'method-not-allowed',
  status: 405,
  allow: true,
  text: 'Only GET and HEAD are allowed.\n',
};
const NOT_FOUND: ErrorAnswer = { kind: 'error', reason: 'not-found', status: 404, text: '404 page not found\n' };
const CATALOG: ErrorAnswer = {
  kind: 'error',
  reason: 'catalog-unsupported',
  status: 404,
  oci: { code: 'UNSUPPORTED', message: 'the catalog API is not supported' },
};

const OCI_MESSAGE: Readonly<Record<'NAME_INVALID' | 'DIGEST_INVALID' | 'MANIFEST_UNKNOWN', string>> = {
  NAME_INVALID: 'invalid repository name',
  DIGEST_INVALID: 'invalid digest',
  MANIFEST_UNKNOWN: 'manifest unknown',
};

/**
 * How many GET/HEAD blob request-targets the default router remembers its route for (the slots of its SlotMemo: two
 * targets that share a slot take turns), and how many bucket bases it remembers a probe plan for per blob route.
 * Small on purpose: what repeats is a popular blob (the pause image's layers are asked for by every node), and each
 * remembered route with its plan holds about 1 KB (docs/performance.md "Memory").
 */
export const BLOB_ROUTE_MEMO_MAX = 1024;
const PLANS_PER_ROUTE_MAX = 32;

/**
 * The default (recommended) behaviour: archeio's rules plus protocol hygiene (docs/request-handling.md).
 *
 * Both steps are pure, and both remember their blob answers: `route()` by request-target (GET and HEAD), `planBlob()`
 * by blob route and bucket base. A remembered route or plan is frozen and shared by every request it answers, so a
 * repeated blob costs two lookups instead of a path regex, string joins and four objects, and what is downstream
 * (the probe cache's key, the log line's escaping, the rendered reply) sees the same strings and objects each time
 * and can remember its own work by them. plan.test.ts checks the memoised router against a fresh one.
 */
export function createRouter(table: RoutingTable): Router {
  const info: RedirectPlan = { kind: 'redirect', reason: 'info', location: table.infoUrl };
  const privacy: RedirectPlan = { kind: 'redirect', reason: 'privacy', location: table.privacyUrl };
  const { upstreamPrefix, signaturePrefix, preserveQuery } = table;
  const querySuffix = (query: string): string => (preserveQuery && query !== '' ? '?' + normalizeQuery(query) : '');
  const blobRoutes = new SlotMemo<BlobRoute>(BLOB_ROUTE_MEMO_MAX);
  // keyed by the route object: a plan lives as long as its route is remembered (or held by a caller)
  const probePlans = new WeakMap<BlobRoute, Map<string, ProbePlan>>();

  return {
    mode: 'default',
    table,
    route(method: string, target: string): Route {
      if (method !== 'GET' && method !== 'HEAD') {
        const t = splitTarget(target);
        return t.path === '/v2' || t.path.startsWith('/v2/') ? NOT_ALLOWED_V2 : NOT_ALLOWED_PLAIN;
      }
      const known = blobRoutes.get(target);
      if (known !== undefined) return known;
      const t = splitTarget(target);
      const p = classifyPath(t.path);
      switch (p.kind) {
        case 'blob': {
          const blob: BlobRoute = Object.freeze({
            kind: 'blob',
            name: p.name,
            digest: p.digest,
            upstream: upstreamPrefix + p.rest + querySuffix(t.query),
          });
          blobRoutes.set(target, blob);
          return blob;
        }
        case 'v2':
          return { kind: 'redirect', reason: 'upstream', location: upstreamPrefix + p.rest + querySuffix(t.query) };
        case 'signature':
          // same path as upstream, on the signature host (archeio signatureRedirectURL,
          // docs/reference/archeio.md#url-construction)
          return signaturePrefix === null
            ? { kind: 'redirect', reason: 'upstream', location: upstreamPrefix + p.rest + querySuffix(t.query) }
            : {
                kind: 'redirect',
                reason: 'signature-upstream',
                location: signaturePrefix + p.rest + querySuffix(t.query),
              };
        case 'info':
          return info;
        case 'privacy':
          return privacy;
        case 'not-found':
          return NOT_FOUND;
        case 'ping':
          return PING;
        case 'catalog':
          return CATALOG;
        case 'bad-path':
          return {
            kind: 'error',
            reason: 'bad-path',
            status: 400,
            oci: { code: 'NAME_INVALID', message: 'invalid request path', detail: p.detail },
          };
        case 'bad-blob':
        case 'bad-reference':
          // nothing is redirected that the upstream could only refuse, or answer 500 (Debian's docker-registry 2.8
          // does for `manifests/sha256:totallywrong`); a malformed tag is a 404, as G1 pull 5/9 require
          return {
            kind: 'error',
            reason: p.kind,
            status: p.code === 'MANIFEST_UNKNOWN' ? 404 : 400,
            oci: { code: p.code, message: OCI_MESSAGE[p.code], detail: p.detail },
          };
      }
    },
    planBlob(blob: BlobRoute, client: ClientFacts): Plan {
      // "stay in GCP": the upstream is Artifact Registry, so GCP clients never leave Google (archeio 296a69d)
      if (client.cloud === 'GCP') return { kind: 'redirect', reason: 'blob-gcp-client', location: blob.upstream };
      const base = table.buckets.baseFor(client.cloud, client.region);
      let byBase = probePlans.get(blob);
      const known = byBase?.get(base);
      if (known !== undefined) return known;
      // The bucket Location carries no query: it names a static object, and S3 reads some query keys as
      // sub-resources (?acl, ?torrent, ?versionId), so a client-chosen query could fetch something other than what
      // the existence check looked at.
      const url = `${base}/containers/images/${blob.digest}`;
      const probe: ProbePlan = Object.freeze({
        kind: 'probe',
        base,
        url,
        onHit: Object.freeze({ kind: 'redirect', reason: 'blob-bucket-hit', location: url }),
        fallback: blob.upstream,
      });
      if (byBase === undefined) probePlans.set(blob, (byBase = new Map()));
      if (byBase.size < PLANS_PER_ROUTE_MAX) byBase.set(base, probe);
      return probe;
    },
  };
}

const PROBE_DIGEST: BlobRoute = { kind: 'blob', name: 'explain', digest: 'sha256:explain', upstream: '' };

/**
 * The base URL blob requests from this client are checked against, or null when they go upstream (GCP clients).
 * Derived by running the router's own planBlob, so `explain` can never disagree with serving.
 */
export function blobBaseFor(router: Router, client: ClientFacts): string | null {
  const p = router.planBlob(PROBE_DIGEST, client);
  return p.kind === 'probe' ? p.base : null;
}

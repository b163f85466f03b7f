/**
 * PROTOCOL_COMPAT=archeio: production's request handling reproduced quirk for quirk, so a developer can replay a
 * routing bug exactly (kubernetes/registry.k8s.io:cmd/archeio/internal/app/handlers.go@093d55a,
 * docs/reference/archeio.md#decision-list, #client-ip, and quirks Q1-Q9 and Q12 of docs/reference/archeio.md#quirks):
 *  - Q1 the query string is dropped on every redirect;
 *  - Q2 upstream Locations are built with Go's `path.Join`, which cleans `//`, trailing `/` and `..` (so a crafted
 *    path can leave UPSTREAM_REGISTRY_PATH, and even /v2: that is the point of reproducing it);
 *  - Q3 `/v2foo` is a v2 path; Q4 `/privacy*` is a prefix match;
 *  - Q5/Q6 405 without `Allow`, plain-text error bodies (`http.Error`, `http.NotFound`);
 *  - Q8 the blob regex `^/v2/.*\/blobs/([^/]+:[a-zA-Z0-9=_-]+)$` (any algorithm, empty names allowed);
 *  - Q12 on blob requests, a client IP that cannot be determined is a 400 carrying the reason;
 *  - region lookup by name regardless of cloud (docs/reference/archeio.md#decision-list step 7).
 * IP semantics (shortest prefix, no v4-mapped unmapping) are ROUTING_SEMANTICS=archeio, a separate setting.
 * Redirect rendering (HTML body, no Cache-Control) lives in the reply renderer's archeio flavour.
 */
import { BucketRouter } from './buckets.js';
import type { ErrorAnswer, PingAnswer, Plan, RedirectPlan } from './decision.js';
import { goHeaderValue, goHexEscapeNonAscii, goPathJoin } from './go-path.js';
import { percentDecode, splitTarget } from './paths.js';
import type { BlobRoute, ClientFacts, Route, Router } from './plan.js';
import type { RoutingTable } from './routing-table.js';

const PING: PingAnswer = { kind: 'ping', reason: 'v2-ping' };
const NOT_ALLOWED: ErrorAnswer = {
  kind: 'error',
  reason: 'method-not-allowed',
  status: 405,
  text: 'Only GET and HEAD are allowed.\n',
};
const NOT_FOUND: ErrorAnswer = { kind: 'error', reason: 'not-found', status: 404, text: '404 page not found\n' };
const CATALOG: ErrorAnswer = {
  kind: 'error',
  reason: 'catalog-unsupported',
  status: 404,
  text: '_catalog is not supported\n',
};
// Go's server answers a request-target it cannot parse before any handler runs (net/http server.go readRequest).
const BAD_REQUEST: ErrorAnswer = { kind: 'error', reason: 'bad-path', status: 400, text: '400 Bad Request' };

// Go's regexp `.` matches anything but `\n`, unlike JavaScript's, which also stops at `\r`, U+2028 and U+2029.
const BLOB = /^\/v2\/[^\n]*\/blobs\/([^/]+:[a-zA-Z0-9=_-]+)$/;
const SIGNATURE = /^\/v2\/[^\n]*\/manifests\/sha256-[a-f0-9]{64}\.(sig|att)$/;

export function createArcheioRouter(table: RoutingTable): Router {
  const buckets = new BucketRouter(table.buckets.map, true);
  const info: RedirectPlan = { kind: 'redirect', reason: 'info', location: location(table.infoUrl) };
  const privacy: RedirectPlan = { kind: 'redirect', reason: 'privacy', location: location(table.privacyUrl) };
  // archeio: endpoint + path.Join("/v2/", UpstreamRegistryPath, strings.TrimPrefix(P, "/v2"))
  const join = (endpoint: string, p: string): string =>
    location(endpoint + goPathJoin('/v2/', table.upstreamPath, p.slice(3)));

  return {
    mode: 'archeio',
    table,
    route(method: string, target: string): Route {
      if (method !== 'GET' && method !== 'HEAD') return NOT_ALLOWED;
      const p = percentDecode(splitTarget(target).path);
      if (p === null) return BAD_REQUEST;
      if (!p.startsWith('/v2')) {
        if (p === '/') return info;
        if (p.startsWith('/privacy')) return privacy;
        return NOT_FOUND;
      }
      if (p === '/v2/' || p === '/v2') return PING;
      if (p === '/v2/_catalog') return CATALOG;
      const blob = BLOB.exec(p);
      if (blob === null) {
        if (table.signatureEndpoint !== null && SIGNATURE.test(p)) {
          return { kind: 'redirect', reason: 'signature-upstream', location: join(table.signatureEndpoint, p) };
        }
        return { kind: 'redirect', reason: 'upstream', location: join(table.upstreamEndpoint, p) };
      }
      return { kind: 'blob', name: '', digest: blob[1], upstream: join(table.upstreamEndpoint, p) };
    },
    planBlob(blob: BlobRoute, client: ClientFacts): Plan {
      if (client.ip === null) {
        return {
          kind: 'error',
          reason: 'client-ip-invalid',
          status: 400,
          text: `${client.problem ?? 'cannot determine the client IP'}\n`,
        };
      }
      if (client.cloud === 'GCP') return { kind: 'redirect', reason: 'blob-gcp-client', location: blob.upstream };
      const base = buckets.baseFor(client.cloud, client.region);
      const url = `${base}/containers/images/${blob.digest}`;
      return {
        kind: 'probe',
        base,
        url,
        onHit: { kind: 'redirect', reason: 'blob-bucket-hit', location: location(url) },
        fallback: blob.upstream,
      };
    },
  };
}

/** What `http.Redirect(w, r, url, 307)` ends up sending as Location for an absolute URL. */
function location(url: string): string {
  return goHeaderValue(goHexEscapeNonAscii(url));
}

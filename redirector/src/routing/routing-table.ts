/**
 * The routing table: every target a Location may point at, precomputed once from the configuration so that the
 * per-request work is string concatenation only.
 */
import type { BucketRouter } from './buckets.js';

export interface RoutingTableInput {
  /** UPSTREAM_REGISTRY_ENDPOINT, e.g. https://us-central1-docker.pkg.dev */
  upstreamEndpoint: string;
  /** UPSTREAM_REGISTRY_PATH, e.g. k8s-artifacts-prod/images; may be empty */
  upstreamPath: string;
  /** SIGNATURE_UPSTREAM_ENDPOINT, or null when unset */
  signatureEndpoint: string | null;
  infoUrl: string;
  privacyUrl: string;
  /** keep the client's query string on upstream and signature redirects (archeio drops it: kubernetes/registry.k8s.io#326) */
  preserveQuery: boolean;
  buckets: BucketRouter;
}

export interface RoutingTable extends RoutingTableInput {
  /** `endpoint + /v2 + (/path)`: an upstream Location is this plus the request path after `/v2` */
  readonly upstreamPrefix: string;
  /** the same for the signature upstream, or null */
  readonly signaturePrefix: string | null;
}

/** Trims slashes so `/a/b/` and `a/b` mean the same UPSTREAM_REGISTRY_PATH. */
export function normalizeUpstreamPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

export function buildRoutingTable(input: RoutingTableInput): RoutingTable {
  const path = normalizeUpstreamPath(input.upstreamPath);
  const endpoint = input.upstreamEndpoint.replace(/\/+$/, '');
  const sig = input.signatureEndpoint === null ? null : input.signatureEndpoint.replace(/\/+$/, '');
  const suffix = path === '' ? '/v2' : `/v2/${path}`;
  return {
    ...input,
    upstreamEndpoint: endpoint,
    upstreamPath: path,
    signatureEndpoint: sig,
    upstreamPrefix: endpoint + suffix,
    signaturePrefix: sig === null ? null : sig + suffix,
  };
}

/**
 * The URL prefixes every Location must start with (rule 4's invariant; the property test and the harness check
 * it): upstream and signature prefixes with a trailing `/`, `<bucket base>/containers/images/`, and the two exact
 * info and privacy URLs.
 */
export function allowedLocationPrefixes(table: RoutingTable): { prefixes: string[]; exact: string[] } {
  const prefixes = [table.upstreamPrefix + '/'];
  if (table.signaturePrefix !== null) prefixes.push(table.signaturePrefix + '/');
  for (const base of table.buckets.bases()) prefixes.push(base + '/containers/images/');
  return { prefixes, exact: [table.infoUrl, table.privacyUrl] };
}

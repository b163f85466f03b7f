/**
 * Classifies a raw request target into a distribution-spec endpoint (spec "Endpoints" table). The repository name
 * is parsed from the right, so names containing `manifests`, `blobs`, `tags` or `referrers` route correctly
 * (docs/reference/oci-distribution.md#edge-cases E14). Nothing is percent-decoded or normalised: `..`, `%2F` or `//` make
 * the name invalid instead of silently becoming another path (docs/reference/oci-distribution.md#edge-cases E13).
 */
export type RegistryRoute =
  | { kind: 'ping' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'referrers'; name: string; digest: string }
  /** blob uploads and mounts: write endpoints, never served here */
  | { kind: 'upload'; name: string }
  | { kind: 'unknown' };

export interface ParsedTarget {
  path: string;
  query: URLSearchParams;
}

/** Splits a request target (origin-form, or absolute-form as a proxy would send) into path and query. */
export function splitTarget(target: string): ParsedTarget {
  let t = target;
  const abs = /^https?:\/\/[^/]*/i.exec(t);
  if (abs !== null) t = t.slice(abs[0].length) || '/';
  const q = t.indexOf('?');
  return q < 0
    ? { path: t, query: new URLSearchParams() }
    : { path: t.slice(0, q), query: new URLSearchParams(t.slice(q + 1)) };
}

export function routeOf(path: string): RegistryRoute {
  if (path === '/v2' || path === '/v2/') return { kind: 'ping' };
  if (!path.startsWith('/v2/')) return { kind: 'unknown' };
  const rest = path.slice('/v2/'.length);
  if (rest === '_catalog') return { kind: 'catalog' };
  let m = /^(.+)\/tags\/list$/.exec(rest);
  if (m !== null) return { kind: 'tags', name: m[1]! };
  m = /^(.+)\/blobs\/uploads(?:\/.*)?$/.exec(rest);
  if (m !== null) return { kind: 'upload', name: m[1]! };
  m = /^(.+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(rest);
  if (m === null) return { kind: 'unknown' };
  const name = m[1]!;
  const ref = m[3]!;
  switch (m[2]) {
    case 'manifests':
      return { kind: 'manifest', name, reference: ref };
    case 'blobs':
      return { kind: 'blob', name, digest: ref };
    default:
      return { kind: 'referrers', name, digest: ref };
  }
}

/**
 * A redirect's Location in an environment's own terms, so two environments can be compared although their hosts
 * differ by configuration: the first-hop host and path shape of each request kind.
 *
 * `https://prod-registry-k8s-io-eu-west-3.s3.dualstack.eu-west-3.amazonaws.com/containers/images/sha256:da86…` on
 * production and `http://127.0.0.1:38039/prod-registry-k8s-io-eu-west-3/containers/images/sha256:da86…` on a local
 * stack are both `bucket:prod-registry-k8s-io-eu-west-3` + `/containers/images/sha256:da86…`. Bucket *names* are kept
 * (hosts come from configuration, never from a naming pattern: eu-west-2's is `767373bb…-eu-west-2`,
 * docs/reference/incidents.md#buckets-and-default-urls), so a change of bucket is a difference while a change of
 * endpoint style is not. A host the description does not know is `host:<host>`: a destination no configuration explains
 * is always a difference.
 */
import type { TargetDescription } from '../target/target-description.js';
import { globToRegExp } from '../oracle/location-match.js';

export interface LocationShape {
  /**
   * `upstream`, `signature-upstream`, `default-base`, `bucket:<name>`, `info`, `privacy`, `host:<host>`, or
   * `unparseable`
   */
  destination: string;
  /** the path after the destination's base (after `/v2/<upstreamPath>` for the upstreams, as `/v2/…`) */
  path: string;
  /** query parameters as `k=v` joined by `&`, sorted, without the ones the target tolerates (e.g. `rid`) */
  query: string;
  /** the host the client is sent to, as is (for the hostname set users must allow, docs/reference/incidents.md#edge-and-network N6) */
  host: string;
}

const trimSlash = (s: string) => s.replace(/\/+$/, '');

/** The bucket's name from its base URL: the path's last segment (path-style), else the host's first label(s) before `.s3`. */
export function bucketNameOf(base: string): string {
  try {
    const u = new URL(base);
    const segments = u.pathname.split('/').filter(Boolean);
    if (segments.length > 0) return segments[segments.length - 1]!;
    const s3 = /^(.+?)\.s3[.-]/.exec(u.hostname);
    return s3 ? s3[1]! : u.hostname;
  } catch {
    return base;
  }
}

function under(url: URL, base: string): string | null {
  let b: URL;
  try {
    b = new URL(trimSlash(base));
  } catch {
    return null;
  }
  if (b.protocol !== url.protocol || b.host.toLowerCase() !== url.host.toLowerCase()) return null;
  const prefix = trimSlash(b.pathname);
  if (prefix === '') return url.pathname;
  if (url.pathname === prefix) return '';
  return url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : null;
}

/** `/v2/<upstreamPath>/rest` → `/v2/rest`; a path outside the prefix is kept whole, marked with `!`. */
function upstreamRelative(path: string, upstreamPath: string): string {
  const p = upstreamPath.replace(/^\/+|\/+$/g, '');
  const prefix = p === '' ? '/v2' : `/v2/${p}`;
  if (path === prefix) return '/v2';
  return path.startsWith(`${prefix}/`) ? `/v2${path.slice(prefix.length)}` : `!${path}`;
}

export interface ShapeOptions {
  /** the request was a cosign signature tag: the canonical signature upstream is told apart from the upstream */
  signature?: boolean;
}

/** Describes a Location (absolute, or relative to `requestUrl`) in the target's terms. */
export function locationShape(
  target: TargetDescription,
  location: string,
  requestUrl: string,
  options: ShapeOptions = {},
): LocationShape {
  let url: URL;
  try {
    url = new URL(location, requestUrl);
  } catch {
    return { destination: 'unparseable', path: location, query: '', host: '' };
  }
  const raw = (target.locationMatch ?? {}) as { toleratedQueryParams?: unknown; upstreamHosts?: unknown };
  const tolerated = new Set(
    Array.isArray(raw.toleratedQueryParams)
      ? raw.toleratedQueryParams.filter((x): x is string => typeof x === 'string')
      : [],
  );
  const upstreamHosts = Array.isArray(raw.upstreamHosts)
    ? raw.upstreamHosts.filter((x): x is string => typeof x === 'string')
    : [];
  const query = [...url.searchParams.entries()]
    .filter(([k]) => !tolerated.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join('&');
  const shape = (destination: string, path: string): LocationShape => ({ destination, path, query, host: url.host });

  const sig = target.signatureUpstream;
  const sameBases = sig !== null && trimSlash(sig) === trimSlash(target.upstream);
  if (sig !== null && (!sameBases || options.signature === true)) {
    const rest = under(url, sig);
    if (rest !== null) return shape('signature-upstream', upstreamRelative(rest, target.upstreamPath));
  }
  const up = under(url, target.upstream);
  if (up !== null) return shape('upstream', upstreamRelative(up, target.upstreamPath));
  // a regional upstream host standing in for the upstream (production: the AR region of the Cloud Run instance)
  if (upstreamHosts.some((g) => globToRegExp(g).test(url.host)))
    return shape('upstream', upstreamRelative(url.pathname, target.upstreamPath));
  if (trimSlash(url.href) === trimSlash(target.infoUrl)) return shape('info', '');
  if (trimSlash(url.href) === trimSlash(target.privacyUrl)) return shape('privacy', '');
  const def = under(url, target.bucketMap.default);
  for (const base of new Set(Object.values(target.bucketMap.regions))) {
    if (trimSlash(base) === trimSlash(target.bucketMap.default)) continue;
    const rest = under(url, base);
    if (rest !== null) return shape(`bucket:${bucketNameOf(base)}`, rest);
  }
  if (def !== null) return shape('default-base', def);
  return shape(`host:${url.host}`, url.pathname);
}

/** True for addresses that only mean something on this machine (a local stack's ports are not hostnames users allow). */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/**
 * Where a redirector may send a client: "every Location the server emits lies on one of the configured hosts and
 * prefixes" (redirector rule 4). For a target that is upstream + `/v2/` + the upstream path, the signature upstream
 * on the same path, a bucket base's `containers/images/`, INFO_URL or PRIVACY_URL.
 *
 * A Location is judged as clients will read it: resolved with the WHATWG parser (which removes `.`/`..` and their
 * `%2e` spellings), and again after decoding `%2F`, `%2E` and `%5C` (a server behind the Location that decodes
 * before resolving). archeio's `path.Join` lets `..` escape the upstream path
 * (docs/reference/archeio.md#url-construction).
 */
import type { TargetDescription } from '../../harness/src/index.js';

export interface LocationPrefix {
  what: string;
  /** origin + path prefix; exact URLs end without a slash and must match exactly */
  prefix: string;
  exact?: boolean;
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

function registryPrefix(base: string, upstreamPath: string): string {
  const path = upstreamPath.replace(/^\/+|\/+$/g, '');
  return `${trimSlash(base)}/v2/${path === '' ? '' : `${path}/`}`;
}

export function allowedLocationPrefixes(target: TargetDescription): LocationPrefix[] {
  const out: LocationPrefix[] = [{ what: 'upstream', prefix: registryPrefix(target.upstream, target.upstreamPath) }];
  if (target.signatureUpstream !== null)
    out.push({ what: 'signature upstream', prefix: registryPrefix(target.signatureUpstream, target.upstreamPath) });
  const bases = new Set([target.bucketMap.default, ...Object.values(target.bucketMap.regions)]);
  for (const base of bases) out.push({ what: `bucket ${base}`, prefix: `${trimSlash(base)}/containers/images/` });
  out.push(
    { what: 'info URL', prefix: target.infoUrl, exact: true },
    { what: 'privacy URL', prefix: target.privacyUrl, exact: true },
  );
  return out;
}

function normalised(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function within(url: URL, prefixes: readonly LocationPrefix[]): boolean {
  const here = normalised(url);
  return prefixes.some((p) => {
    const want = normalised(new URL(p.prefix));
    return p.exact ? here === want : here.startsWith(want);
  });
}

/**
 * Null when `location` (resolved against `base`, the URL it was received from) stays inside the allowed prefixes,
 * read both as a client resolves it and after decoding encoded slashes, dots and backslashes; otherwise why not.
 */
export function locationEscape(location: string, base: string, prefixes: readonly LocationPrefix[]): string | null {
  if (/[\r\n]/.test(location)) return `Location contains a raw CR/LF: ${JSON.stringify(location)}`;
  let resolved: URL;
  try {
    resolved = new URL(location, base);
  } catch {
    return `Location ${JSON.stringify(location)} does not parse`;
  }
  if (!within(resolved, prefixes))
    return `Location ${location} resolves to ${normalised(resolved)}, outside every allowed prefix`;
  const decoded = `${resolved.origin}${resolved.pathname.replace(/%2f/gi, '/').replace(/%2e/gi, '.').replace(/%5c/gi, '/').replace(/\\/g, '/')}`;
  let reparsed: URL;
  try {
    reparsed = new URL(decoded);
  } catch {
    return `Location ${location} does not parse once %2F/%2E are decoded`;
  }
  if (!within(reparsed, prefixes))
    return `Location ${location} escapes to ${normalised(reparsed)} once %2F/%2E are decoded`;
  return null;
}

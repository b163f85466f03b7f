/**
 * Whether a redirect's Location is the one the routing oracle expects: the comparison every first-hop judgement
 * uses, with what a target may tolerate (a request-id parameter, regional upstream hosts).
 */
/** How strictly a Location is compared (a target may tolerate a request-id parameter or regional upstream hosts). */
export interface LocationMatchOptions {
  /** query parameters a redirect may add (e.g. `rid`, docs/reference/incidents.md#deployment P4) */
  toleratedQueryParams?: readonly string[];
  /** host globs that stand in for the upstream's host (e.g. `*-docker.pkg.dev`: GCLB picks the regional AR) */
  upstreamHosts?: readonly string[];
  /** the upstream base, needed to apply `upstreamHosts` */
  upstream?: string;
}

/** A host glob (`*` within one label run, case-insensitive) as a regular expression. */
export const globToRegExp = (glob: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
    'i',
  );

/**
 * Compares a Location with the expectation by scheme, host, port and path, then query parameters: every expected
 * parameter must be there with its value; extra ones only when tolerated. Hosts are compared case-insensitively.
 */
export function locationMatches(
  expected: string,
  actual: string | undefined,
  options: LocationMatchOptions = {},
): boolean {
  if (actual === undefined) return false;
  let e: URL;
  let a: URL;
  try {
    e = new URL(expected);
    a = new URL(actual, expected); // a relative Location resolves against... nothing better is known; host will differ
  } catch {
    return false;
  }
  if (e.protocol !== a.protocol || e.pathname !== a.pathname) return false;
  if (e.host.toLowerCase() !== a.host.toLowerCase()) {
    const upstreamHost = options.upstream ? new URL(options.upstream).host.toLowerCase() : undefined;
    const stands =
      upstreamHost === e.host.toLowerCase() && (options.upstreamHosts ?? []).some((g) => globToRegExp(g).test(a.host));
    if (!stands) return false;
  }
  const tolerated = new Set(options.toleratedQueryParams ?? []);
  const ep = [...e.searchParams.entries()];
  const ap = [...a.searchParams.entries()];
  for (const [k, v] of ep) if (!a.searchParams.getAll(k).includes(v)) return false;
  for (const [k] of ap) if (!e.searchParams.has(k) && !tolerated.has(k)) return false;
  return true;
}

/**
 * AWS regional prefixes that AWS GLOBAL prefixes contain: where archeio's shortest-prefix classification and
 * most-specific classification part ways (docs/reference/archeio.md#ip-classification).
 */
import { bigIntToAddress, bundledPublishedRanges, type PublishedPrefix } from './published-ranges.js';

export interface ShadowedPrefix {
  /** the regional AWS prefix */
  prefix: string;
  region: string;
  family: 4 | 6;
  /** the AWS GLOBAL prefix that contains it */
  shadowedBy: string;
  /** an address inside the regional prefix (its first host) */
  sample: string;
}

/**
 * AWS regional prefixes nested inside AWS GLOBAL ones: under archeio semantics their clients classify GLOBAL and get
 * the default base, under most-specific their region's bucket (150 IPv4 and 97 IPv6 prefixes in archeio's data,
 * docs/reference/archeio.md#ip-classification). Sorted by family, region, prefix.
 */
export function findShadowedPrefixes(
  prefixes: readonly PublishedPrefix[] = bundledPublishedRanges(),
): ShadowedPrefix[] {
  const globals = prefixes.filter((p) => p.cloud === 'AWS' && p.region === 'GLOBAL');
  const out: ShadowedPrefix[] = [];
  for (const p of prefixes) {
    if (p.cloud !== 'AWS' || p.region === 'GLOBAL') continue;
    const bits = p.family === 4 ? 32 : 128;
    const g = globals.find(
      (q) =>
        q.family === p.family &&
        q.length < p.length &&
        (p.network >> BigInt(bits - q.length)) << BigInt(bits - q.length) === q.network,
    );
    if (!g) continue;
    out.push({
      prefix: p.prefix,
      region: p.region,
      family: p.family,
      shadowedBy: g.prefix,
      sample: bigIntToAddress(p.network + 1n, p.family),
    });
  }
  return out.sort(
    (a, b) => a.family - b.family || a.region.localeCompare(b.region) || a.prefix.localeCompare(b.prefix),
  );
}

/**
 * The `Link` header used for tag-list and referrers pagination (distribution-spec "Listing Tags", "Listing Referrers":
 * RFC 5988 with `rel="next"`). The target is resolved against the URL of the response that carried it, i.e. the final
 * hop the client saw (docs/reference/oci-distribution.md#edge-cases E11), so a Link that leaks an upstream namespace shows
 * up as such.
 */
export interface LinkValue {
  target: string;
  rel: string[];
}

/** Parses `<uri>; rel="next", <uri2>; rel=prev` into its entries. Tolerates unquoted rel values. */
export function parseLinkHeader(value: string): LinkValue[] {
  const out: LinkValue[] = [];
  const re = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const params = m[2]!
      .split(';')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    const rel: string[] = [];
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      if (p.slice(0, eq).trim().toLowerCase() !== 'rel') continue;
      rel.push(
        ...p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, '')
          .toLowerCase()
          .split(/\s+/),
      );
    }
    out.push({ target: m[1]!, rel });
  }
  return out;
}

/** The absolute URL of the `rel="next"` link, or undefined. */
export function nextLink(value: string | undefined, base: string): string | undefined {
  if (value === undefined) return undefined;
  const next = parseLinkHeader(value).find((l) => l.rel.includes('next'));
  if (next === undefined) return undefined;
  try {
    return new URL(next.target, base).toString();
  } catch {
    return undefined;
  }
}

/**
 * What the client records of each HTTP exchange in a redirect chain. An `OciHop` is a `Hop` (harness/src/results/
 * check.ts) with what the hop audit needs on top: the request headers actually sent (so a check can prove
 * Authorization or X-Forwarded-For never reached another origin; docs/reference/oci-distribution.md#edge-cases E17) and
 * the time to headers.
 *
 * Both official conformance suites only look at the final hop
 * (docs/reference/oci-distribution.md#official-conformance-suites); the harness keeps all of them so routing checks can
 * assert on the first hop and policy checks on every hop (docs/reference/oci-distribution.md#edge-cases E16, E17).
 */
import type { Hop } from '../results/check.js';

export interface OciHop extends Hop {
  /** request headers sent on this hop (lower-case names); credentials are redacted, never recorded */
  requestHeaders: Record<string, string>;
  /** ms from sending the request to receiving the response headers */
  headersMs: number;
  /**
   * Body bytes read from this hop. Redirect bodies are drained and counted; the final hop's is set once the client
   * has consumed it (then `durationMs` also covers the body). Undefined while the body is unread.
   */
  bodyBytes?: number;
}

/**
 * Response headers kept in a hop. Everything a check may assert on: content identity (type, length, digest,
 * encoding), Range (content-range, accept-ranges), caching of redirects (E16), pagination (link), auth challenges,
 * rate limiting (retry-after) and referrers filtering (oci-filters-applied).
 */
export const RECORDED_RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-range',
  'accept-ranges',
  'docker-content-digest',
  'docker-distribution-api-version',
  'etag',
  'cache-control',
  'expires',
  'age',
  'link',
  'oci-filters-applied',
  'oci-subject',
  'www-authenticate',
  'retry-after',
  'warning',
  'x-cache',
  'via',
  'server',
  'allow',
] as const;

/** Request headers whose values are never written into a trace. Their presence is recorded as `<redacted>`. */
export const REDACTED_REQUEST_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

type RawHeaders = Record<string, string | string[] | undefined>;

/** One header value as a string: repeated headers are joined with ", " (RFC 9110 §5.3), except Set-Cookie. */
export function headerValue(headers: RawHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : v;
}

export function pickRecordedHeaders(headers: RawHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of RECORDED_RESPONSE_HEADERS) {
    const v = headerValue(headers, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export function redactRequestHeaders(headers: Record<string, string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    out[k] = REDACTED_REQUEST_HEADERS.has(k) ? '<redacted>' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

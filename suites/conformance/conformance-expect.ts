/**
 * How conformance checks judge a response and what they throw when it is wrong. A status that could not be judged
 * (429, 5xx, an HTML 403 from Google's front end) is reported with its own class (availability, rate-limited,
 * blocked), not as a conformance failure, so the run summary says *why*.
 */
import {
  CheckFailure,
  type Hop,
  transportClassOf,
  type OciHop,
  type OciClient,
  type ProbeResult,
} from '../../harness/src/index.js';

/** One request through the redirector, following redirects to the final hop, with every hop recorded. */
export function probe(
  client: OciClient,
  method: string,
  path: string,
  headers?: Record<string, string>,
): Promise<ProbeResult> {
  return client.rawProbe(method, path, { follow: true, ...(headers ? { headers } : {}) });
}

/** The error codes distribution-spec "Error Codes" lists (TOOMANYREQUESTS included; legacy TAG_INVALID and MANIFEST_UNVERIFIED tolerated). */
export const OCI_ERROR_CODES: readonly string[] = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  'TAG_INVALID',
  'MANIFEST_UNVERIFIED',
];

/** The codes G1's "400 response body should contain OCI-conforming JSON message" accepts (TOOMANYREQUESTS is not one). */
export const G1_ERROR_CODES: readonly string[] = OCI_ERROR_CODES.filter((c) => c !== 'TOOMANYREQUESTS');

export interface Judged {
  status: number;
  hops: readonly Hop[];
  headers?: Record<string, string>;
}

export function conformanceFailure(
  message: string,
  hops: readonly Hop[] = [],
  details?: Record<string, unknown>,
): CheckFailure {
  return new CheckFailure('conformance', message, [...hops], details);
}

function finalHop(r: Judged): Hop | undefined {
  return r.hops[r.hops.length - 1];
}

/** Throws unless the final status is one of `allowed`. */
export function expectStatus(r: Judged, allowed: readonly number[], what: string): void {
  if (allowed.includes(r.status)) return;
  const last = finalHop(r);
  const cls = transportClassOf(r.status, last?.headers['content-type'] ?? r.headers?.['content-type'] ?? '');
  const message = `${what}: expected ${allowed.join(' or ')}, got ${r.status}${last ? ` from ${last.url}` : ''}`;
  if (cls !== undefined) throw new CheckFailure(cls, message, [...r.hops]);
  throw conformanceFailure(message, r.hops);
}

/** A response header (lower-case name) of the final hop. */
export function finalHeader(r: Judged, name: string): string | undefined {
  return r.headers?.[name] ?? finalHop(r)?.headers[name];
}

/**
 * distribution-spec "Error Codes": a 4xx body MAY be any format, but if it is JSON it MUST be
 * `{"errors":[{"code":"…","message":"…","detail":…}]}` with a listed code. Returns the problem, or null.
 * `requireJson` additionally demands a JSON body (the redirector's own errors: redirector rule 4).
 */
export function ociErrorBodyProblem(
  body: Buffer,
  contentType: string | undefined,
  opts: { requireJson?: boolean; codes?: readonly string[] } = {},
): string | null {
  const text = body.toString('utf8').trim();
  const looksJson = /json/i.test(contentType ?? '') || text.startsWith('{') || text.startsWith('[');
  if (!looksJson)
    return opts.requireJson
      ? `the body is not JSON (Content-Type ${contentType ?? 'none'}): ${JSON.stringify(text.slice(0, 120))}`
      : null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `the body claims JSON but does not parse: ${JSON.stringify(text.slice(0, 120))}`;
  }
  const errors = (parsed as { errors?: unknown }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return 'the JSON body has no non-empty "errors" array';
  const codes = opts.codes ?? OCI_ERROR_CODES;
  for (const [i, e] of errors.entries()) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string' || !/^[A-Z_]+$/.test(code)) return `errors[${i}].code is not an upper-case code`;
    if (!codes.includes(code)) return `errors[${i}].code ${code} is not one of the spec's codes`;
    const message = (e as { message?: unknown }).message;
    if (message !== undefined && typeof message !== 'string') return `errors[${i}].message is not a string`;
  }
  if (opts.requireJson && !/json/i.test(contentType ?? ''))
    return `the JSON error body is served as ${contentType ?? 'no Content-Type'}`;
  return null;
}

/** The first hop's origin and the final hop's, for messages. */
export function routeSummary(hops: readonly OciHop[] | readonly Hop[]): string {
  if (hops.length === 0) return 'no hops';
  return hops.map((h) => `${h.method} ${h.url} → ${h.status}`).join(' ⇒ ');
}

export function bodyOf(p: ProbeResult): string {
  return p.body.toString('utf8');
}

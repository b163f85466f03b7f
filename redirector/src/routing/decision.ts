/**
 * The vocabulary of routing decisions.
 *
 * Every response the redirector gives is explained by exactly one `Reason`. Each reason is a leaf of the flowchart in
 * docs/request-handling.md (the leaf ids are these strings), every reason has at least one case in
 * fixtures/routing-cases/, and flowchart.test.ts fails when the three drift apart. A behaviour doc kept beside code
 * drifts otherwise (archeio's own cmd/archeio/docs/request-handling.md is one).
 */

export const REASONS = [
  // rule 1
  'method-not-allowed',
  // rule 2
  'info',
  'privacy',
  'not-found',
  // rule 3
  'v2-ping',
  'catalog-unsupported',
  // rule 4
  'bad-path',
  // rule 5
  'bad-reference',
  'signature-upstream',
  'upstream',
  // rule 6: blobs
  'bad-blob',
  'blob-gcp-client',
  'blob-bucket-hit',
  'blob-bucket-miss',
  'blob-bucket-error',
  'blob-breaker-open',
  // PROTOCOL_COMPAT=archeio only: archeio answers 400 when the client IP cannot be determined
  // (docs/reference/archeio.md#client-ip)
  'client-ip-invalid',
] as const;

export type Reason = (typeof REASONS)[number];

/** OCI distribution-spec error codes this server emits (docs/reference/oci-distribution.md#error-bodies). */
export type OciErrorCode = 'NAME_INVALID' | 'DIGEST_INVALID' | 'NAME_UNKNOWN' | 'MANIFEST_UNKNOWN' | 'UNSUPPORTED';

/** An error answer: status plus either an OCI JSON error (on /v2 paths) or a plain-text body. */
export interface ErrorAnswer {
  readonly kind: 'error';
  readonly reason: Reason;
  readonly status: 400 | 404 | 405;
  /** present: render `{"errors":[{code,message,detail}]}`; absent: render `text` as text/plain */
  readonly oci?: { readonly code: OciErrorCode; readonly message: string; readonly detail?: unknown };
  readonly text?: string;
  /** adds `Allow: GET, HEAD` (RFC 9110 §15.5.6 requires it on 405) */
  readonly allow?: boolean;
}

/** The `/v2/` ping answer: 200 with `Docker-Distribution-Api-Version: registry/2.0`, no auth challenge. */
export interface PingAnswer {
  readonly kind: 'ping';
  readonly reason: 'v2-ping';
}

/** A 307 (always 307: archeio moved off 308 in ae83b43, and 307 keeps the method for HEAD). */
export interface RedirectPlan {
  readonly kind: 'redirect';
  readonly reason: Reason;
  readonly location: string;
}

/**
 * A blob request whose answer depends on a HEAD against a bucket: the only plan that needs I/O. The edge asks the
 * blob probe about `url` (cached, coalesced, breaker-guarded) and answers `onHit` when the object exists, else a
 * redirect to `fallback` with the reason that matches the probe outcome.
 */
export interface ProbePlan {
  readonly kind: 'probe';
  /** the bucket base (no trailing slash); also the breaker key */
  readonly base: string;
  /** `<base>/containers/images/<digest>`: what is HEADed and where a hit redirects */
  readonly url: string;
  readonly onHit: RedirectPlan;
  /** the upstream blob URL used for misses, errors and an open breaker */
  readonly fallback: string;
}

export type Plan = ErrorAnswer | PingAnswer | RedirectPlan | ProbePlan;

/** What a probe found, as far as routing cares. */
export type ProbeVerdict = 'hit' | 'miss' | 'error' | 'breaker-open';

/** The reason a probe plan resolves to, given the probe's verdict. */
export function probeReason(verdict: ProbeVerdict): Reason {
  switch (verdict) {
    case 'hit':
      return 'blob-bucket-hit';
    case 'miss':
      return 'blob-bucket-miss';
    case 'error':
      return 'blob-bucket-error';
    case 'breaker-open':
      return 'blob-breaker-open';
  }
}

/** Resolves a probe plan once the probe has answered. Pure. */
export function resolveProbe(plan: ProbePlan, verdict: ProbeVerdict): RedirectPlan {
  if (verdict === 'hit') return plan.onHit;
  return { kind: 'redirect', reason: probeReason(verdict), location: plan.fallback };
}

/**
 * The one error class of the OCI client. Every failure carries a stable `code` and the hops recorded up to the
 * failure, so a check can report *where* a pull went wrong (which host served the bad bytes), not only that it did.
 */
import type { FailureClass, Hop } from '../results/check.js';
import type { OciHop } from './hop.js';

export const OCI_ERROR_CODES = [
  /** the body's digest is not the requested/descriptor digest (or not the Docker-Content-Digest it was sent with) */
  'DIGEST_MISMATCH',
  /** the body's length (or Content-Length) is not the descriptor size */
  'SIZE_MISMATCH',
  /** more redirects than `maxRedirects` (default 10, like Go's net/http and containerd) */
  'TOO_MANY_REDIRECTS',
  /** the final hop answered with a status the endpoint does not accept */
  'HTTP_STATUS',
  /** connection refused/reset, socket closed mid-body, DNS ... */
  'NETWORK',
  /** headers or body did not arrive within the configured timeout */
  'TIMEOUT',
  /** the caller's signal aborted the request */
  'ABORTED',
  /** a manifest body that is not JSON, is too large, or whose structure a pull cannot walk */
  'BAD_MANIFEST',
  /** a digest string that is not `algorithm:encoded` per image-spec descriptor.md */
  'BAD_DIGEST',
  /** a well-formed digest whose algorithm the client cannot compute (e.g. blake3) */
  'UNSUPPORTED_DIGEST',
  /** a response that breaks the protocol in a way no status explains (3xx without Location, bad Location, ...) */
  'BAD_RESPONSE',
  /** an OCI image layout on disk that cannot be read (push) */
  'BAD_LAYOUT',
] as const;

export type OciErrorCode = (typeof OCI_ERROR_CODES)[number];

/** One entry of an OCI JSON error body (distribution-spec "Error Codes" / "Error Codes"). */
export interface OciErrorBodyEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

export interface OciErrorInit {
  /** the client passes its OciHops; a plain Hop (e.g. from another recorder or a test) is completed with empty extras */
  hops?: readonly (Hop | OciHop)[];
  /** HTTP status of the final hop, when there was one */
  status?: number;
  /** parsed `{"errors":[...]}` body, when the final hop sent one */
  errors?: OciErrorBodyEntry[];
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class OciError extends Error {
  readonly hops: OciHop[];
  readonly status: number | undefined;
  readonly errors: OciErrorBodyEntry[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly code: OciErrorCode,
    message: string,
    init: OciErrorInit = {},
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'OciError';
    this.hops = (init.hops ?? []).map(asOciHop);
    this.status = init.status;
    this.errors = init.errors;
    this.details = init.details;
  }

  /** The same error with the hop trace replaced (used when a lower layer threw before it knew the chain). */
  withHops(hops: OciHop[]): OciError {
    return new OciError(this.code, this.message, {
      hops,
      status: this.status,
      errors: this.errors,
      details: this.details,
      cause: this.cause,
    });
  }
}

function asOciHop(h: Hop | OciHop): OciHop {
  return 'requestHeaders' in h ? h : { ...h, requestHeaders: {}, headersMs: h.durationMs };
}

export function isOciError(e: unknown, code?: OciErrorCode): e is OciError {
  return e instanceof OciError && (code === undefined || e.code === code);
}

/**
 * Maps an error to the run summary's failure classes. A 403 whose body is HTML is what Google's front end
 * sends when it blocks a client; 429 is rate limiting; 5xx, timeouts and network errors are availability.
 */
export function failureClassOf(e: OciError): FailureClass {
  switch (e.code) {
    case 'DIGEST_MISMATCH':
    case 'SIZE_MISMATCH':
      return 'integrity';
    case 'NETWORK':
    case 'TIMEOUT':
      return 'availability';
    case 'ABORTED':
    case 'BAD_LAYOUT':
      return 'harness';
    case 'HTTP_STATUS': {
      const status = e.status ?? 0;
      if (status === 429) return 'rate-limited';
      if (status >= 500) return 'availability';
      const last = e.hops[e.hops.length - 1];
      if (status === 403 && /text\/html/i.test(last?.headers['content-type'] ?? '')) return 'blocked';
      return 'conformance';
    }
    default:
      return 'conformance';
  }
}

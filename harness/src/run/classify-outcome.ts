/**
 * What a check's thrown value means for the run: its status and failure class.
 *
 * A *fail* says the target is wrong (a CheckFailure, or bytes that do not match their digest); an *error* says the
 * harness could not decide (the distribution-spec conformance suite's results keep the two apart too). Errors are
 * still classified so the summary can say *why* nothing was decided: the target was down or slow (availability),
 * Google's front end refused us (blocked), we were throttled (rate-limited), or the harness itself broke.
 */
import { CheckFailure, NotApplicable, type FailureClass, type Hop, type Status } from '../results/check.js';
import { OciError, failureClassOf } from '../oci/oci-error.js';
import { TargetDescriptionError } from '../target/target-description.js';
import { OracleError } from '../oracle/routing-oracle.js';

export interface Outcome {
  status: Extract<Status, 'fail' | 'error' | 'not-applicable'>;
  failureClass?: FailureClass;
  message: string;
  hops: Hop[];
  details?: Record<string, unknown>;
  /** the description contradicts itself or the data (exit code 2: misconfigured) */
  misconfigured?: boolean;
}

/** The per-check deadline expired. */
export class CheckTimeoutError extends Error {
  readonly code = 'CHECK_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`the check did not finish within ${timeoutMs} ms`);
    this.name = 'CheckTimeoutError';
  }
}

/** The run was aborted (Ctrl-C, or the caller's AbortSignal) before or while the check ran. */
export class RunAbortedError extends Error {
  readonly code = 'RUN_ABORTED';
  constructor(reason?: unknown) {
    super(
      `the run was aborted${reason instanceof Error ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : ''}`,
    );
    this.name = 'RunAbortedError';
  }
}

/**
 * Throw this when the target's answer could not be judged at all: a 5xx, a 429 or a front-end block where a routing
 * decision was expected. The check is an *error* of that class (the harness could not decide), not a fail.
 */
export class Inconclusive extends Error {
  readonly code = 'CHECK_INCONCLUSIVE';
  constructor(
    readonly failureClass: FailureClass,
    message: string,
    readonly hops: Hop[] = [],
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'Inconclusive';
  }
}

/**
 * The class of a response that did not even get to be judged: 429, 5xx, or an HTML 403 (what Google's front end
 * sends when it blocks a client: docs/reference/incidents.md#edge-and-network N4). Undefined for any other status.
 */
export function transportClassOf(status: number, contentType = ''): FailureClass | undefined {
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'availability';
  if (status === 403 && /text\/html/i.test(contentType)) return 'blocked';
  return undefined;
}

export function classifyOutcome(err: unknown): Outcome {
  if (err instanceof NotApplicable) return { status: 'not-applicable', message: err.reason, hops: [] };
  if (err instanceof CheckFailure) {
    return {
      status: 'fail',
      failureClass: err.failureClass,
      message: err.message,
      hops: err.hops,
      details: err.details,
    };
  }
  if (err instanceof Inconclusive) {
    return {
      status: 'error',
      failureClass: err.failureClass,
      message: err.message,
      hops: err.hops,
      ...(err.details ? { details: err.details } : {}),
    };
  }
  if (err instanceof OciError) {
    const failureClass = failureClassOf(err);
    const details = {
      ...(err.details ?? {}),
      errorCode: err.code,
      ...(err.status === undefined ? {} : { httpStatus: err.status }),
    };
    // Wrong bytes or wrong protocol behaviour is the target's fault; the rest means we could not decide.
    const status = failureClass === 'integrity' || failureClass === 'conformance' ? 'fail' : 'error';
    return { status, failureClass, message: `${err.code}: ${err.message}`, hops: err.hops, details };
  }
  if (err instanceof CheckTimeoutError)
    return { status: 'error', failureClass: 'availability', message: err.message, hops: [] };
  if (err instanceof RunAbortedError)
    return { status: 'error', failureClass: 'harness', message: err.message, hops: [] };
  if (err instanceof OracleError || err instanceof TargetDescriptionError) {
    return {
      status: 'error',
      failureClass: 'harness',
      message: err.message,
      hops: [],
      details: { errorCode: err instanceof OracleError ? err.code : err.code },
      misconfigured: true,
    };
  }
  const e = err as Error | undefined;
  return { status: 'error', failureClass: 'harness', message: e?.stack ?? String(err), hops: [] };
}

/**
 * The unit of work of every suite: a Check. Suites are written once as lists of checks and run against any target
 * description, by `registry-canary run` (harness/src/run) and by the vitest files in suites/ that bind them to the
 * local stack.
 *
 * Statuses form a lattice (after the OCI conformance suite's results.go): a roll-up only ever rises.
 * A *fail* means the target is wrong; an *error* means the harness could not decide (it broke, or a precondition
 * did not hold). Both turn a run red. `not-applicable` is reported with its reason, never hidden and never green-washed:
 * it means this target cannot exercise the check (e.g. real clients need an edge port).
 */
import type { TargetDescription, Vantage } from '../target/target-description.js';

export const STATUS_ORDER = ['unknown', 'not-applicable', 'skip', 'pass', 'known-failure', 'fail', 'error'] as const;
export type Status = (typeof STATUS_ORDER)[number];

/** The failure classes of the run summary: what kind of thing went wrong. */
export type FailureClass =
  | 'routing' // the first hop went somewhere the oracle did not expect (even if the pull "worked")
  | 'integrity' // bytes did not match their digest or size
  | 'conformance' // OCI distribution behaviour (status codes, headers, bodies)
  | 'availability' // 5xx, timeouts, connection failures
  | 'blocked' // an HTML 403 from Google's front end
  | 'rate-limited' // 429
  | 'harness'; // the harness itself broke or a precondition failed

/** One recorded HTTP exchange. The OCI client (harness/src/oci) produces these for every hop it follows. */
export interface Hop {
  method: string;
  url: string;
  status: number;
  location?: string;
  /** response headers that matter for the check (lower-case names) */
  headers: Record<string, string>;
  /** ms since the start of the request chain */
  startMs: number;
  durationMs: number;
}

export function rollUp(a: Status, b: Status): Status {
  return STATUS_ORDER.indexOf(a) >= STATUS_ORDER.indexOf(b) ? a : b;
}

/** Throw this from a check to fail it with a class and, when there is one, the trace that shows the fault. */
export class CheckFailure extends Error {
  readonly code = 'CHECK_FAILED';
  constructor(
    readonly failureClass: FailureClass,
    message: string,
    readonly hops: Hop[] = [],
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CheckFailure';
  }
}

/** Throw this from a check (or its setup) when the check cannot be exercised against this target. */
export class NotApplicable extends Error {
  readonly code = 'CHECK_NOT_APPLICABLE';
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'NotApplicable';
  }
}

export interface CheckContext {
  target: TargetDescription;
  /** the vantage the check runs from, when it has one */
  vantage?: Vantage;
  signal: AbortSignal;
  /** progress or debug text for the run log */
  log(message: string): void;
  /**
   * Attach evidence to the result whatever its status: the hops a passing check made, and details such as the
   * expected and actual first hop (the HTML report's routing map is drawn from these). Calls accumulate. Optional so
   * hand-made contexts in tests need not provide it; the runner always does.
   */
  record?(hops: readonly Hop[], details?: Record<string, unknown>): void;
}

export interface Check {
  /** stable id, unique within a run: `<suite>/<name>[@<vantage>]` */
  id: string;
  suite: string;
  title: string;
  /** the rule or spec section it enforces, e.g. "OCI dist-spec "Pulling blobs" blobs", "redirector rule 6 (blob, AWS region)" */
  rule: string;
  vantage?: Vantage;
  run(ctx: CheckContext): Promise<void>;
}

export interface CheckResult {
  id: string;
  suite: string;
  title: string;
  rule: string;
  vantage?: string;
  status: Status;
  failureClass?: FailureClass;
  message?: string;
  /** known issue link, when status is known-failure */
  knownIssue?: string;
  /** the known issue's reason, when status is known-failure */
  knownIssueReason?: string;
  /** a known issue listed for this check that no longer reproduces: the check passed (remove it from the target) */
  fixedKnownIssue?: string;
  hops: Hop[];
  details?: Record<string, unknown>;
  durationMs: number;
  /** ms from the start of the run to the start of this check */
  startMs?: number;
}

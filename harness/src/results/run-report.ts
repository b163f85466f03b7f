/**
 * The outcome of one run: every check result, the roll-up, counts by status and failure class, and the verdict with
 * its exit code. Every report (results.json, junit.xml, index.html, the terminal summary) renders this one value.
 *
 * Exit codes (the same numbers as cli/src/exit-codes.ts, which the harness does not import):
 *   0  every check passed (not-applicable, skipped and known failures allowed) and at least one check passed;
 *   1  a check failed or errored (routing, integrity, conformance; also availability, blocked, rate-limited, harness
 *      errors once the target was shown reachable: none of those is green);
 *   2  the target is unreachable or misconfigured: /v2/ failed from every vantage, every red result is an
 *      availability error and nothing passed, the description contradicts the range data, or nothing could be run.
 * A run that could not reach the target is never green.
 */
import { STATUS_ORDER, rollUp, type CheckResult, type FailureClass, type Hop, type Status } from './check.js';
import type { TargetDescription } from '../target/target-description.js';

export const FAILURE_CLASSES: readonly FailureClass[] = [
  'routing',
  'integrity',
  'conformance',
  'availability',
  'blocked',
  'rate-limited',
  'harness',
];

export interface PreflightVantage {
  vantage: string;
  ok: boolean;
  status?: number;
  message?: string;
  hops: Hop[];
}

/** `GET /v2/` through each vantage before any check runs. */
export interface Preflight {
  reachable: boolean;
  vantages: PreflightVantage[];
}

/**
 * The preflight's failures as one clause, identical messages said once with the number of vantages that saw them:
 * `ECONNREFUSED 127.0.0.1:1 (from 49 vantages)`, or `... (from aws-us-east-1)` for one.
 */
export function preflightFailures(preflight: Preflight): string {
  const byMessage = new Map<string, string[]>();
  for (const v of preflight.vantages) {
    if (v.ok) continue;
    const why = v.message ?? `HTTP ${v.status}`;
    byMessage.set(why, [...(byMessage.get(why) ?? []), v.vantage]);
  }
  if (byMessage.size === 0) return 'no vantage could be used';
  return [...byMessage]
    .map(([why, names]) => `${why} (from ${names.length === 1 ? names[0] : `${names.length} vantages`})`)
    .join('; ');
}

export interface Verdict {
  exitCode: 0 | 1 | 2;
  reason: string;
}

export interface RunCounts {
  total: number;
  byStatus: Record<Status, number>;
  /** red results (fail and error) by class */
  byClass: Record<FailureClass, number>;
  knownFailures: number;
  fixedKnownIssues: number;
}

export interface RunReport {
  schema: 'registry-canary/results/v1';
  /** the target with secrets redacted */
  target: TargetDescription;
  suites: string[];
  options: { concurrency: number; checkTimeoutMs: number; vantages?: string[] };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /**
   * the harness's version, and the redirector's when the run knows it (the local stack runs this package's; a remote
   * target does not report one: null)
   */
  versions?: { harness: string; redirector: string | null };
  preflight: Preflight | null;
  status: Status;
  verdict: Verdict;
  counts: RunCounts;
  results: CheckResult[];
}

export const isRed = (s: Status) => s === 'fail' || s === 'error';

export function countResults(results: readonly CheckResult[]): RunCounts {
  const byStatus = Object.fromEntries(STATUS_ORDER.map((s) => [s, 0])) as Record<Status, number>;
  const byClass = Object.fromEntries(FAILURE_CLASSES.map((c) => [c, 0])) as Record<FailureClass, number>;
  let fixedKnownIssues = 0;
  for (const r of results) {
    byStatus[r.status]++;
    if (isRed(r.status)) byClass[r.failureClass ?? 'harness']++;
    if (r.fixedKnownIssue) fixedKnownIssues++;
  }
  return { total: results.length, byStatus, byClass, knownFailures: byStatus['known-failure'], fixedKnownIssues };
}

export function rollUpAll(results: readonly CheckResult[]): Status {
  return results.reduce<Status>((acc, r) => rollUp(acc, r.status), 'unknown');
}

export function decideVerdict(results: readonly CheckResult[], preflight: Preflight | null): Verdict {
  if (preflight && !preflight.reachable) {
    return {
      exitCode: 2,
      reason: `target unreachable: GET /v2/ failed from every vantage: ${preflightFailures(preflight)}`,
    };
  }
  const misconfigured = results.filter((r) => r.details?.misconfigured === true);
  if (misconfigured.length > 0) {
    return {
      exitCode: 2,
      reason: `target misconfigured: ${misconfigured[0]!.message}${misconfigured.length > 1 ? ` (and ${misconfigured.length - 1} more)` : ''}`,
    };
  }
  if (results.length === 0) return { exitCode: 2, reason: 'no checks ran: nothing was verified' };
  const red = results.filter((r) => isRed(r.status));
  const passed = results.filter((r) => r.status === 'pass').length;
  if (red.length > 0 && passed === 0 && red.every((r) => r.failureClass === 'availability')) {
    return {
      exitCode: 2,
      reason: `target unreachable: all ${red.length} failing checks are availability errors and none passed`,
    };
  }
  if (red.length > 0) {
    const counts = countResults(red).byClass;
    const parts = FAILURE_CLASSES.filter((c) => counts[c] > 0).map((c) => `${counts[c]} ${c}`);
    return { exitCode: 1, reason: `${red.length} check${red.length === 1 ? '' : 's'} failed: ${parts.join(', ')}` };
  }
  if (passed === 0) {
    return {
      exitCode: 2,
      reason:
        'no check could be exercised against this target (every check was not applicable, skipped or a known failure)',
    };
  }
  return {
    exitCode: 0,
    reason: `${passed} passed${results.length > passed ? `, ${results.length - passed} not applicable, skipped or known` : ''}`,
  };
}

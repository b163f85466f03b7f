/**
 * The gate's decision (pure), with exit codes a CI job can gate on (the same numbers as `run`, cli/src/exit-codes.ts):
 *
 *   0 promote    both environments answered, no behavioural difference (or only accepted ones) and no check that
 *                is green on the baseline is red on the candidate;
 *   1 block      the reasons: each behavioural difference, each regression in the suites;
 *   2 unreachable  either side did not answer GET /v2/ from the gate's vantage, or could not be fingerprinted, or its
 *                suite run was itself unreachable or misconfigured: nothing can be compared, so nothing is promoted.
 */
import type { CheckResult, FailureClass } from '../results/check.js';
import { isRed, preflightFailures, type Preflight, type RunCounts, type Verdict } from '../results/run-report.js';
import type { BehaviourFingerprint } from './behaviour-fingerprint.js';
import type { FingerprintDiff } from './fingerprint-diff.js';

export type GateDecision = 'promote' | 'block' | 'unreachable';

export interface GateVerdict {
  decision: GateDecision;
  exitCode: 0 | 1 | 2;
  reasons: string[];
}

export interface RedCheck {
  id: string;
  status: CheckResult['status'];
  failureClass?: FailureClass;
  message?: string;
}

export interface SideSuites {
  suites: string[];
  verdict: Verdict;
  counts: RunCounts;
  red: RedCheck[];
  /** where this side's results.json, junit.xml and index.html went */
  reportDir?: string;
}

export interface GateSide {
  role: 'candidate' | 'baseline';
  name: string;
  url: string;
  ipMode: string;
  semantics: string;
  preflight: Preflight | null;
  fingerprint: BehaviourFingerprint | null;
  suites: SideSuites | null;
  /** a failure before any comparison (start-up, unreadable description, oracle contradiction) */
  error?: string;
}

/** The red checks of a suite run, for the comparison. */
export function redChecks(results: readonly CheckResult[]): RedCheck[] {
  return results
    .filter((r) => isRed(r.status))
    .map((r) => ({
      id: r.id,
      status: r.status,
      ...(r.failureClass ? { failureClass: r.failureClass } : {}),
      ...(r.message ? { message: r.message.split('\n')[0] } : {}),
    }));
}

/** Candidate checks that are red while the same check on the baseline is not. */
export function suiteRegressions(candidate: SideSuites | null, baseline: SideSuites | null): RedCheck[] {
  if (!candidate) return [];
  const baselineRed = new Set((baseline?.red ?? []).map((r) => r.id));
  return candidate.red.filter((r) => !baselineRed.has(r.id));
}

/** A fingerprint that was taken and got no answer at all (null: it was never taken, which says nothing of the side). */
function unanswered(fp: BehaviourFingerprint | null): boolean {
  if (!fp) return false;
  const hops = Object.values(fp.firstHops);
  return hops.length > 0 && hops.every((h) => h.status === 0);
}

export function decideGate(candidate: GateSide, baseline: GateSide, diff: FingerprintDiff | null): GateVerdict {
  const unreachable: string[] = [];
  for (const side of [candidate, baseline]) {
    const who = `${side.role} ${side.name}`;
    if (side.error) unreachable.push(`${who}: ${side.error}`);
    else if (side.preflight && !side.preflight.reachable) {
      unreachable.push(`${who} is unreachable: GET /v2/ failed: ${preflightFailures(side.preflight)}`);
    } else if (unanswered(side.fingerprint)) unreachable.push(`${who} answered none of the fingerprint's requests`);
    else if (side.suites?.verdict.exitCode === 2)
      unreachable.push(`${who}: its suite run could not verify anything: ${side.suites.verdict.reason}`);
  }
  if (unreachable.length > 0) {
    // a side that answered was not fingerprinted because the other did not: say so rather than blame it
    const blamed = new Set(unreachable.map((u) => u.split(' ')[0]));
    for (const side of [candidate, baseline]) {
      if (blamed.has(side.role) || side.fingerprint !== null) continue;
      unreachable.push(
        `${side.role} ${side.name} answered GET /v2/; it was not fingerprinted, as there is nothing to compare it with`,
      );
    }
  }
  if (unreachable.length > 0 || diff === null) {
    return {
      decision: 'unreachable',
      exitCode: 2,
      reasons: unreachable.length > 0 ? unreachable : ['nothing was compared'],
    };
  }
  const reasons: string[] = [];
  for (const d of diff.differences) {
    if (d.accepted) continue;
    const where = d.vantage ? ` from ${d.vantage}` : '';
    const what = d.request ? `${d.request.method} ${d.request.path}` : d.id;
    reasons.push(`${d.kind}${where}: ${what}: candidate ${d.candidate}; baseline ${d.baseline}`);
  }
  for (const r of suiteRegressions(candidate.suites, baseline.suites)) {
    reasons.push(
      `regression: ${r.id} is ${r.status}${r.failureClass ? ` (${r.failureClass})` : ''} on the candidate and not on the baseline${r.message ? `: ${r.message}` : ''}`,
    );
  }
  if (reasons.length > 0) return { decision: 'block', exitCode: 1, reasons };
  const accepted = diff.differences.filter((d) => d.accepted).length;
  return {
    decision: 'promote',
    exitCode: 0,
    reasons: [
      `${diff.compared} behaviours compared, no unaccepted difference${accepted ? ` (${accepted} accepted)` : ''}${candidate.suites ? `; no suite regression (${candidate.suites.counts.byStatus.pass} candidate checks passed)` : ''}`,
    ],
  };
}

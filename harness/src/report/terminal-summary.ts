/**
 * The end-of-run summary for a terminal or a CI log: counts, then the red results grouped by failure class
 * (routing, integrity, conformance, availability, blocked, rate-limited; plus harness), each with its first hops, then
 * known failures, fixed known issues, and why checks were not applicable. Last line: the verdict and exit code.
 */
import type { CheckResult, FailureClass } from '../results/check.js';
import { FAILURE_CLASSES, isRed, preflightFailures, type RunReport } from '../results/run-report.js';
import { formatTrace } from './hop-trace.js';

export interface SummaryOptions {
  /** red results printed per class before "... and N more" (default 15) */
  perClass?: number;
  /** hops printed per failure (default 4) */
  hops?: number;
  color?: boolean;
}

const CLASS_TITLE: Record<FailureClass, string> = {
  routing: 'routing: the first hop went somewhere the oracle did not expect',
  integrity: 'integrity: bytes did not match their digest or size',
  conformance: 'conformance: OCI distribution behaviour',
  availability: 'availability: 5xx, timeouts, connection failures',
  blocked: "blocked: an HTML 403 from Google's front end",
  'rate-limited': 'rate-limited: 429',
  harness: 'harness: the harness broke or a precondition failed',
};

const indent = (s: string, n: number) =>
  s
    .split('\n')
    .map((l) => `${' '.repeat(n)}${l}`)
    .join('\n');

export function terminalSummary(report: RunReport, options: SummaryOptions = {}): string {
  const perClass = options.perClass ?? 15;
  const maxHops = options.hops ?? 4;
  const paint = (code: string, s: string) => (options.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const t = report.target;
  const c = report.counts.byStatus;
  const out: string[] = [];
  out.push(
    `registry-canary run: target ${t.name} (${t.url}, ${t.ipMode}, ${t.semantics}); suites ${report.suites.join(', ') || '(none)'}`,
  );
  out.push(
    `${report.counts.total} checks in ${(report.durationMs / 1000).toFixed(1)} s: ${c.pass} passed, ${c.fail} failed, ${c.error} errors, ` +
      `${c['known-failure']} known failures, ${c['not-applicable'] + c.skip} not applicable`,
  );
  if (report.preflight && !report.preflight.reachable) {
    out.push('', paint('31', 'preflight: GET /v2/ failed from every vantage'));
    // identical failures once, with the number of vantages that saw them
    out.push(`  ${preflightFailures(report.preflight)}`);
  }
  const unreachable = report.preflight !== null && !report.preflight.reachable;
  if (unreachable) out.push(`  none of the ${report.counts.total} checks was run`);
  // when nothing ran, listing every check as "not run" would bury the one line that matters
  const red = unreachable ? [] : report.results.filter((r) => isRed(r.status));
  for (const cls of FAILURE_CLASSES) {
    const group = red.filter((r) => (r.failureClass ?? 'harness') === cls);
    if (group.length === 0) continue;
    out.push('', paint('31;1', `${CLASS_TITLE[cls]} (${group.length})`));
    for (const r of group.slice(0, perClass)) {
      out.push(`  ${r.status === 'fail' ? '✗' : '!'} ${r.id}: ${firstLines(r.message ?? '', 3)}`);
      if (r.hops.length > 0)
        out.push(
          indent(formatTrace(r.hops.slice(0, maxHops)), 6) +
            (r.hops.length > maxHops ? `\n      ... ${r.hops.length - maxHops} more hops in results.json` : ''),
        );
    }
    if (group.length > perClass) out.push(`  ... and ${group.length - perClass} more (see results.json)`);
  }
  const known = report.results.filter((r) => r.status === 'known-failure');
  if (known.length > 0) {
    out.push('', paint('33', `known failures (${known.length}): reported, not counted against the run`));
    for (const r of known.slice(0, perClass)) out.push(`  ~ ${r.id}: ${r.knownIssue} (${r.knownIssueReason ?? ''})`);
    if (known.length > perClass) out.push(`  ... and ${known.length - perClass} more`);
  }
  const fixed = report.results.filter((r) => r.fixedKnownIssue);
  if (fixed.length > 0) {
    out.push(
      '',
      paint('32', `fixed known issues (${fixed.length}): these checks pass now; remove the entries from the target`),
    );
    for (const r of fixed) out.push(`  ✓ ${r.id}: ${r.fixedKnownIssue}`);
  }
  const na = report.results.filter((r) => r.status === 'not-applicable' || r.status === 'skip');
  if (na.length > 0) {
    out.push('', `not applicable (${na.length}), by reason:`);
    for (const [reason, rs] of groupBy(na, (r) => r.message ?? '(no reason given)')) {
      out.push(`  ${rs.length} × ${reason}${rs.length <= 3 ? ` [${rs.map((r) => r.id).join(', ')}]` : ''}`);
    }
  }
  const v = report.verdict;
  out.push('', paint(v.exitCode === 0 ? '32;1' : '31;1', `verdict: exit ${v.exitCode}: ${v.reason}`));
  return `${out.join('\n')}\n`;
}

function firstLines(s: string, n: number): string {
  const lines = s.split('\n');
  return lines.slice(0, n).join('\n    ') + (lines.length > n ? ' ...' : '');
}

function groupBy(results: readonly CheckResult[], key: (r: CheckResult) => string): Map<string, CheckResult[]> {
  const m = new Map<string, CheckResult[]>();
  for (const r of results) {
    const k = key(r);
    m.set(k, [...(m.get(k) ?? []), r]);
  }
  return m;
}

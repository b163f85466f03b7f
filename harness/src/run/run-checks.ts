/**
 * The runner: executes a list of checks against one target and returns the run report.
 *
 * - Bounded concurrency (p-limit), a deadline per check, and an AbortSignal for the whole run.
 * - A thrown CheckFailure is a fail with its class; NotApplicable is not-applicable with its reason; anything else is
 *   classified (classify-outcome.ts). The outcome is never lost: a check that hangs past its deadline is reported as
 *   an availability error and the run goes on.
 * - Known issues from the target turn a matching *fail* into known-failure (with the link); a known issue whose check
 *   now passes is reported as fixed.
 * - Before the checks, a preflight pings /v2/ through every vantage: unreachable → no checks run, exit 2.
 */
import pLimit from 'p-limit';
import { packageVersion } from '../version.js';
import type { Check, CheckResult, Hop } from '../results/check.js';
import { findKnownIssue, knownIssuesOf, type KnownIssue } from '../results/known-issue.js';
import { redactTarget } from '../results/redact-target.js';
import { countResults, decideVerdict, rollUpAll, type Preflight, type RunReport } from '../results/run-report.js';
import type { TargetDescription, Vantage } from '../target/target-description.js';
import { CheckTimeoutError, RunAbortedError, classifyOutcome } from './classify-outcome.js';
import { preflight as defaultPreflight } from './preflight.js';
import { silentProgress, type ProgressSink } from './progress.js';

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_CHECK_TIMEOUT_MS = 120_000;

export interface RunCheckOptions {
  target: TargetDescription;
  signal?: AbortSignal;
  checkTimeoutMs?: number;
  knownIssues?: readonly KnownIssue[];
  log?: (message: string) => void;
  /** ms timestamps; default performance.now */
  now?: () => number;
  /** the run's start, for `startMs` */
  runStart?: number;
}

/** Runs one check with its deadline and turns whatever happens into a CheckResult. Never throws. */
export async function runCheck(check: Check, options: RunCheckOptions): Promise<CheckResult> {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const timeoutMs = options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const recordedHops: Hop[] = [];
  let recordedDetails: Record<string, unknown> = {};
  const base = {
    id: check.id,
    suite: check.suite,
    title: check.title,
    rule: check.rule,
    ...(check.vantage ? { vantage: check.vantage.name } : {}),
  };
  const controller = new AbortController();
  const onAbort = () => controller.abort(new RunAbortedError(options.signal?.reason));
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let error: unknown;
  let threw = false;
  try {
    if (controller.signal.aborted) throw controller.signal.reason;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = new CheckTimeoutError(timeoutMs);
        controller.abort(e);
        reject(e);
      }, timeoutMs);
    });
    const aborted = new Promise<never>((_, reject) =>
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
    );
    await Promise.race([
      check.run({
        target: options.target,
        ...(check.vantage ? { vantage: check.vantage } : {}),
        signal: controller.signal,
        log: (m) => options.log?.(`${check.id}: ${m}`),
        record: (hops, details) => {
          recordedHops.push(...hops);
          if (details) recordedDetails = { ...recordedDetails, ...details };
        },
      }),
      deadline,
      aborted,
    ]);
  } catch (err) {
    threw = true;
    error = err;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const durationMs = now() - start;
  const timing = { durationMs, ...(options.runStart !== undefined ? { startMs: start - options.runStart } : {}) };
  const known = findKnownIssue(options.knownIssues ?? [], check.id);
  const details = (extra?: Record<string, unknown>) => {
    const d = { ...recordedDetails, ...(extra ?? {}) };
    return Object.keys(d).length > 0 ? { details: d } : {};
  };
  if (!threw) {
    return {
      ...base,
      status: 'pass',
      hops: recordedHops,
      ...details(),
      ...timing,
      ...(known ? { fixedKnownIssue: known.link } : {}),
    };
  }
  const outcome = classifyOutcome(error);
  const hops = outcome.hops.length > 0 ? outcome.hops : recordedHops;
  const result: CheckResult = {
    ...base,
    status: outcome.status,
    ...(outcome.failureClass && outcome.status !== 'not-applicable' ? { failureClass: outcome.failureClass } : {}),
    message: outcome.message,
    hops: [...hops],
    ...details({ ...(outcome.details ?? {}), ...(outcome.misconfigured ? { misconfigured: true } : {}) }),
    ...timing,
  };
  if (result.status === 'fail' && known) {
    result.status = 'known-failure';
    result.knownIssue = known.link;
    result.knownIssueReason = known.reason;
  }
  return result;
}

export interface RunChecksOptions {
  target: TargetDescription;
  checks: readonly Check[];
  /** suite names, for the report */
  suites?: readonly string[];
  concurrency?: number;
  checkTimeoutMs?: number;
  signal?: AbortSignal;
  progress?: ProgressSink;
  /** default: the target's `knownIssues` */
  knownIssues?: readonly KnownIssue[];
  /**
   * the reachability check: true (default) pings through the vantages the checks use (all the target's vantages when
   * no check names one); false skips it; a function replaces it (tests)
   */
  preflight?: boolean | ((target: TargetDescription, vantages: readonly Vantage[]) => Promise<Preflight>);
  /** vantage names the run was limited to, for the report */
  vantages?: readonly string[];
  log?: (message: string) => void;
  now?: () => number;
  /** the redirector's version, for the report, when known (default null) */
  redirectorVersion?: string | null;
}

export async function runChecks(options: RunChecksOptions): Promise<RunReport> {
  const now = options.now ?? (() => performance.now());
  const startedAt = new Date();
  const runStart = now();
  const progress = options.progress ?? silentProgress;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
  const checkTimeoutMs = options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const knownIssues = options.knownIssues ?? knownIssuesOf(options.target);
  const checks = options.checks;

  let pre: Preflight | null = null;
  if (options.preflight !== false) {
    const used = new Map<string, Vantage>();
    for (const c of checks) if (c.vantage) used.set(c.vantage.name, c.vantage);
    const vantages = used.size > 0 ? [...used.values()] : options.target.vantages;
    const run =
      typeof options.preflight === 'function'
        ? options.preflight
        : (t: TargetDescription, v: readonly Vantage[]) =>
            defaultPreflight(t, v, options.signal ? { signal: options.signal } : {});
    pre = await run(options.target, vantages);
    if (!pre.reachable)
      progress.note(`preflight: GET /v2/ failed from every vantage; not running ${checks.length} checks`);
  }

  let results: CheckResult[];
  if (pre && !pre.reachable) {
    results = checks.map((c) => ({
      id: c.id,
      suite: c.suite,
      title: c.title,
      rule: c.rule,
      ...(c.vantage ? { vantage: c.vantage.name } : {}),
      status: 'error',
      failureClass: 'availability',
      message: 'not run: the target did not answer GET /v2/ from any vantage (see preflight)',
      hops: [],
      durationMs: 0,
    }));
  } else {
    const limit = pLimit(concurrency);
    let done = 0;
    progress.start(checks.length);
    results = await Promise.all(
      checks.map((check) =>
        limit(async () => {
          const r = await runCheck(check, {
            target: options.target,
            checkTimeoutMs,
            knownIssues,
            runStart,
            now,
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.log ? { log: options.log } : {}),
          });
          progress.finished(r, ++done, checks.length);
          return r;
        }),
      ),
    );
    progress.end();
  }

  const finishedAt = new Date();
  return {
    schema: 'registry-canary/results/v1',
    target: redactTarget(options.target),
    suites: [...(options.suites ?? [...new Set(checks.map((c) => c.suite))])],
    options: { concurrency, checkTimeoutMs, ...(options.vantages ? { vantages: [...options.vantages] } : {}) },
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: now() - runStart,
    versions: { harness: packageVersion(), redirector: options.redirectorVersion ?? null },
    preflight: pre,
    status: rollUpAll(results),
    verdict: decideVerdict(results, pre),
    counts: countResults(results),
    results,
  };
}

/**
 * A run's results as Prometheus metrics, for canaries that run on existing engines (a Kubernetes CronJob,
 * a Prow periodic, a GitHub schedule) and are watched by existing alerting:
 *
 * - `--metrics-textfile FILE`: the text exposition format in a file for node_exporter's textfile collector, written
 *   to a temporary name and renamed, so the collector never reads half a file;
 * - `--pushgateway URL`: PUT to `<URL>/metrics/job/<job>/instance/<instance>` (the Pushgateway API: PUT replaces the
 *   whole group, so a check that disappears does not linger with its last value).
 *
 * The metrics are a pure function of the RunReport; the two writers are the only I/O. prom-client does the
 * formatting and escaping. Every series carries `target` and `vantage`, so canaries in different clusters and
 * regions can share one Pushgateway and one dashboard (docs/reference/incidents.md#upstream-and-replication U5:
 * "report 5xx per region").
 */
import { rename, writeFile } from 'node:fs/promises';
import { request } from 'undici';
import type { Registry } from 'prom-client';
import { STATUS_ORDER } from '../results/check.js';
import { FAILURE_CLASSES, isRed, type RunReport } from '../results/run-report.js';

export interface MetricsLabels {
  /** target name (`production`, `sandbox`, `local`, ...) */
  target: string;
  /**
   * where the run speaks from: the egress vantage's place (`aws:eu-west-1`, `gcp:us-central1`, `azure:eastus`,
   * `internet`), a single vantage's name when a posing run was narrowed to one, or `all`
   */
  vantage: string;
}

export class MetricsPushError extends Error {
  readonly code = 'METRICS_PUSH_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetricsPushError';
  }
}

/**
 * The labels of a run: its target and where it spoke from. An egress run is labelled by its vantage's *place*, not its
 * name: every auto-detected vantage is called `egress-auto`, and canaries in twenty regions must not collide.
 */
export function runLabels(report: Pick<RunReport, 'target' | 'options'>): MetricsLabels {
  const egressName = typeof report.target.egressVantage === 'string' ? report.target.egressVantage : undefined;
  const egress = egressName === undefined ? undefined : report.target.vantages.find((v) => v.name === egressName);
  const place = egress
    ? egress.cloud === null
      ? 'internet'
      : `${egress.cloud.toLowerCase()}:${egress.region ?? 'unknown'}`
    : egressName;
  const narrowed = report.options.vantages?.length === 1 ? report.options.vantages[0] : undefined;
  return { target: report.target.name, vantage: place ?? narrowed ?? 'all' };
}

/** Builds the registry of a run's metrics (exported for tests and for callers that serve them another way). */
export async function runMetricsRegistry(
  report: RunReport,
  labels: MetricsLabels = runLabels(report),
): Promise<Registry> {
  // loaded here, not with the harness: only a run that exports metrics needs it
  const { Gauge, Registry } = await import('prom-client');
  const registry = new Registry();
  registry.setDefaultLabels({ target: labels.target, vantage: labels.vantage });
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });

  gauge(
    'registry_canary_run_exit_code',
    'Exit code of the last run: 0 green, 1 a check failed, 2 unreachable or misconfigured',
  ).set(report.verdict.exitCode);
  gauge('registry_canary_run_success', '1 when the last run was green (exit 0), else 0').set(
    report.verdict.exitCode === 0 ? 1 : 0,
  );
  gauge(
    'registry_canary_run_reachable',
    '1 when the target answered GET /v2/ from at least one vantage (0 also when no preflight ran and nothing passed)',
  ).set(report.preflight ? (report.preflight.reachable ? 1 : 0) : report.verdict.exitCode === 2 ? 0 : 1);
  gauge('registry_canary_run_duration_seconds', 'Wall time of the last run').set(report.durationMs / 1000);
  gauge('registry_canary_run_timestamp_seconds', 'When the last run finished (Unix time); alert when it gets old').set(
    Date.parse(report.finishedAt) / 1000,
  );

  const byStatus = gauge('registry_canary_checks', 'Checks of the last run by status', ['status']);
  for (const s of STATUS_ORDER) if (s !== 'unknown') byStatus.set({ status: s }, report.counts.byStatus[s]);
  const byClass = gauge('registry_canary_failures', 'Failing or erroring checks of the last run by failure class', [
    'class',
  ]);
  for (const c of FAILURE_CLASSES) byClass.set({ class: c }, report.counts.byClass[c]);
  gauge(
    'registry_canary_known_failures',
    'Checks failing with a tracked upstream issue (not counted against the run)',
  ).set(report.counts.knownFailures);
  gauge('registry_canary_fixed_known_issues', 'Known issues whose check now passes (remove them from the target)').set(
    report.counts.fixedKnownIssues,
  );

  const perSuite = gauge('registry_canary_suite_red_checks', 'Failing or erroring checks per suite', ['suite']);
  const suiteSeconds = gauge('registry_canary_suite_duration_seconds', 'Summed check time per suite', ['suite']);
  const suites = new Set([...report.suites, ...report.results.map((r) => r.suite)]);
  for (const suite of suites) {
    const rs = report.results.filter((r) => r.suite === suite);
    perSuite.set({ suite }, rs.filter((r) => isRed(r.status)).length);
    suiteSeconds.set({ suite }, rs.reduce((n, r) => n + r.durationMs, 0) / 1000);
  }

  // One series per check: 1 green (pass, not applicable, skipped, known failure), 0 red. Bounded by the suites'
  // checks; from one egress vantage that is a few hundred at most.
  const ok = gauge(
    'registry_canary_check_ok',
    '1 when the check is not red (pass, not applicable, skip, known failure), 0 when it failed or errored',
    ['suite', 'check', 'status'],
  );
  for (const r of report.results) ok.set({ suite: r.suite, check: r.id, status: r.status }, isRed(r.status) ? 0 : 1);

  // First-hop latency of the redirects the run made, per request kind: the redirector's own answer time (R5, R9)
  const firstHop = gauge(
    'registry_canary_first_hop_seconds',
    'Slowest first-hop answer per request kind in the last run',
    ['kind'],
  );
  const slowest = new Map<string, number>();
  for (const r of report.results) {
    const kind =
      typeof (r.details?.routing as { kind?: unknown } | undefined)?.kind === 'string'
        ? (r.details!.routing as { kind: string }).kind
        : undefined;
    const hop = r.hops[0];
    if (kind === undefined || hop === undefined || hop.status === 0) continue;
    slowest.set(kind, Math.max(slowest.get(kind) ?? 0, hop.durationMs / 1000));
  }
  for (const [kind, s] of slowest) firstHop.set({ kind }, s);
  return registry;
}

/** The text exposition format (version 0.0.4) of a run's metrics. */
export async function runMetricsText(report: RunReport, labels?: MetricsLabels): Promise<string> {
  return (await runMetricsRegistry(report, labels)).metrics();
}

/** Writes the metrics for node_exporter's textfile collector: to `<file>.<pid>.tmp`, then renamed over `file`. */
export async function writeMetricsTextfile(text: string, file: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Pushgateway grouping-key path segments: a value with `/` (or empty) is base64url-encoded (`<label>@base64`). */
function groupingSegment(label: string, value: string): string {
  if (value !== '' && !value.includes('/')) return `${label}/${encodeURIComponent(value)}`;
  return `${label}@base64/${Buffer.from(value).toString('base64url') || '='}`;
}

export interface PushOptions {
  job: string;
  instance: string;
  /** default 10 s */
  timeoutMs?: number;
}

/** The URL a push goes to: `<gateway>/metrics/job/<job>/instance/<instance>`. */
export function pushgatewayUrl(gateway: string, options: Pick<PushOptions, 'job' | 'instance'>): string {
  const base = gateway.replace(/\/+$/, '');
  return `${base}/metrics/${groupingSegment('job', options.job)}/${groupingSegment('instance', options.instance)}`;
}

/** PUTs the metrics text to a Pushgateway (replacing the group). Throws MetricsPushError on anything but 2xx. */
export async function pushMetrics(text: string, gateway: string, options: PushOptions): Promise<string> {
  const url = pushgatewayUrl(gateway, options);
  let status: number;
  let body = '';
  try {
    const res = await request(url, {
      method: 'PUT',
      body: text,
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
      headersTimeout: options.timeoutMs ?? 10_000,
      bodyTimeout: options.timeoutMs ?? 10_000,
    });
    status = res.statusCode;
    body = await res.body.text();
  } catch (err) {
    throw new MetricsPushError(`cannot push metrics to ${url}: ${(err as Error).message}`, { cause: err });
  }
  if (status < 200 || status >= 300)
    throw new MetricsPushError(
      `pushing metrics to ${url}: HTTP ${status}${body ? `: ${body.trim().slice(0, 200)}` : ''}`,
    );
  return url;
}

export interface MetricsExport {
  /** node_exporter textfile collector file (`--metrics-textfile`) */
  textfile?: string;
  /** Pushgateway base URL (`--pushgateway`) */
  pushgateway?: string;
  /** grouping key; default job `registry-canary`, instance `<target>-<vantage>` */
  job?: string;
  instance?: string;
}

/**
 * Exports a run's metrics where the options say. Never throws: a metrics sink that is down must not hide the run's
 * own verdict; the problems come back as messages for stderr (and the metrics go stale, which alerting sees).
 */
export async function exportRunMetrics(
  report: RunReport,
  options: MetricsExport,
): Promise<{ written: string[]; problems: string[] }> {
  const written: string[] = [];
  const problems: string[] = [];
  if (options.textfile === undefined && options.pushgateway === undefined) return { written, problems };
  const labels = runLabels(report);
  const text = await runMetricsText(report, labels);
  if (options.textfile !== undefined) {
    try {
      await writeMetricsTextfile(text, options.textfile);
      written.push(options.textfile);
    } catch (err) {
      problems.push(`cannot write metrics to ${options.textfile}: ${(err as Error).message}`);
    }
  }
  if (options.pushgateway !== undefined) {
    try {
      const instance = options.instance ?? `${labels.target}-${labels.vantage.replace(/:/g, '-')}`;
      written.push(await pushMetrics(text, options.pushgateway, { job: options.job ?? 'registry-canary', instance }));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return { written, problems };
}

/**
 * `registry-canary run`: runs suites against a target and writes results.json, junit.xml and index.html, then prints
 * the summary grouped by failure class. Exit codes (cli/src/exit-codes.ts; the verdict is decided in
 * harness/src/results/run-report.ts): 0 green, 1 a check failed, 2 the target is unreachable or misconfigured (an
 * invalid target file included), 64 usage.
 *
 *   --target local                 start the local stack (process engine by default), run, stop it
 *   --target sandbox|production    the built-in descriptions in fixtures/targets/
 *   --target-config FILE           any target description
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  StackError,
  TargetDescriptionError,
  VantageSelectionError,
  createProgress,
  defaultReportDir,
  knownIssuesOf,
  packageVersion,
  parseTargetDescription,
  resolveEgressVantage,
  resultsJson,
  runChecks,
  selectVantages,
  startStack,
  terminalSummary,
  writeReports,
  type Engine,
  type Semantics,
  type StartedStack,
  type TargetDescription,
  vantageCoverage,
  exportRunMetrics,
  fromPackageRoot,
  prepareGoPrograms,
} from '../../../harness/src/index.js';
import { selectSuites, suiteNames, UnknownSuiteError } from '../../../suites/index.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { CliIo } from '../cli-io.js';
import type { RegisterCommand } from '../cli-io.js';

export const BUILT_IN_TARGETS = ['local', 'sandbox', 'production'] as const;

export interface RunCommandOptions {
  target?: string;
  targetConfig?: string;
  engine?: string;
  semantics?: string;
  bigLayerMib?: string;
  suite?: string;
  /** regular expressions over check ids (like the OCI conformance program's focus): a check runs when any matches */
  check?: string[];
  vantage?: string;
  report?: string;
  concurrency?: string;
  checkTimeout?: string;
  json?: boolean;
  /** the IP echo service `--vantage auto` asks */
  ipEcho?: string;
  /** Prometheus metrics (harness/src/report/prometheus-metrics.ts) */
  metricsTextfile?: string;
  pushgateway?: string;
  pushJob?: string;
  pushInstance?: string;
}

const usage = (message: string): never => {
  throw new CliError(message, ExitCode.usage);
};
const misconfigured = (message: string): never => {
  throw new CliError(message, ExitCode.unreachable);
};

function positiveInt(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max)
    usage(`${flag} must be a whole number from 1 to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

/** Reads and validates a target description file; a relative mirror plan path is taken relative to the file. */
export async function loadTargetFile(file: string): Promise<TargetDescription> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return misconfigured(
      `cannot read target description ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return misconfigured(`target description ${file} is not JSON: ${(err as Error).message}`);
  }
  try {
    const target = parseTargetDescription(json, file);
    knownIssuesOf(target, file);
    if (typeof target.mirrorPlan === 'string' && !isAbsolute(target.mirrorPlan))
      target.mirrorPlan = resolve(dirname(file), target.mirrorPlan);
    return target;
  } catch (err) {
    if (err instanceof TargetDescriptionError) return misconfigured(`invalid target description: ${err.message}`);
    throw err;
  }
}

/** Everything that can be checked before anything starts: usage errors exit 64 with a precise message. */
export function validateRunOptions(opts: RunCommandOptions) {
  if (opts.target !== undefined && opts.targetConfig !== undefined)
    usage('use either --target or --target-config, not both');
  const target = opts.target ?? (opts.targetConfig === undefined ? 'local' : undefined);
  if (target !== undefined && !(BUILT_IN_TARGETS as readonly string[]).includes(target)) {
    usage(
      `--target must be one of ${BUILT_IN_TARGETS.join(', ')} (or use --target-config FILE), not ${JSON.stringify(target)}`,
    );
  }
  const local = target === 'local';
  for (const [flag, v] of [
    ['--engine', opts.engine],
    ['--semantics', opts.semantics],
    ['--big-layer-mib', opts.bigLayerMib],
  ] as const) {
    if (v !== undefined && !local) usage(`${flag} applies to --target local only (a remote target declares its own)`);
  }
  if (opts.engine !== undefined && opts.engine !== 'process' && opts.engine !== 'container')
    usage(`--engine must be process or container, not ${JSON.stringify(opts.engine)}`);
  if (opts.semantics !== undefined && opts.semantics !== 'most-specific' && opts.semantics !== 'archeio') {
    usage(`--semantics must be most-specific or archeio, not ${JSON.stringify(opts.semantics)}`);
  }
  let suites;
  try {
    suites = selectSuites(opts.suite);
  } catch (err) {
    if (err instanceof UnknownSuiteError) usage(`--suite: ${err.message}`);
    throw err;
  }
  if (opts.vantage !== undefined && opts.vantage.trim() === '') usage('--vantage needs a name, cloud[:region] or auto');
  const checkPatterns = (opts.check ?? []).map((p) => {
    if (p.trim() === '') usage('--check needs a pattern (a regular expression over check ids, e.g. "routing/.*")');
    try {
      return new RegExp(p);
    } catch (err) {
      return usage(`--check ${JSON.stringify(p)} is not a regular expression: ${(err as Error).message}`);
    }
  });
  validateOpsOptions(opts);
  return {
    target,
    local,
    suites: suites!,
    checkPatterns,
    engine: (opts.engine ?? 'process') as Engine,
    semantics: (opts.semantics ?? 'most-specific') as Semantics,
    bigLayerMiB: positiveInt('--big-layer-mib', opts.bigLayerMib, 4096),
    concurrency: positiveInt('--concurrency', opts.concurrency, 256),
    checkTimeoutMs: (positiveInt('--check-timeout', opts.checkTimeout, 3600) ?? 120) * 1000,
  };
}

/** The canary options of `run`: an http(s) URL where one is asked for; push labels only with a gateway. */
export function validateOpsOptions(
  opts: Pick<RunCommandOptions, 'ipEcho' | 'pushgateway' | 'pushJob' | 'pushInstance' | 'metricsTextfile'>,
): void {
  const httpUrl = (flag: string, v: string | undefined) => {
    if (v === undefined) return;
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      ok = false;
    }
    if (!ok) usage(`${flag} must be an http(s) URL, not ${JSON.stringify(v)}`);
  };
  httpUrl('--ip-echo', opts.ipEcho);
  httpUrl('--pushgateway', opts.pushgateway);
  for (const [flag, v] of [
    ['--push-job', opts.pushJob],
    ['--push-instance', opts.pushInstance],
  ] as const) {
    if (v !== undefined && opts.pushgateway === undefined) usage(`${flag} applies with --pushgateway only`);
    if (v !== undefined && v.trim() === '') usage(`${flag} needs a value`);
  }
  if (opts.metricsTextfile !== undefined && opts.metricsTextfile.trim() === '')
    usage('--metrics-textfile needs a file name');
}

async function applyVantage(
  target: TargetDescription,
  spec: string | undefined,
  local: boolean,
  ipEcho?: string,
): Promise<TargetDescription> {
  try {
    if (target.ipMode === 'egress')
      return await resolveEgressVantage(target, spec ?? 'auto', ipEcho !== undefined ? { ipEchoUrl: ipEcho } : {});
    return spec === undefined ? target : selectVantages(target, spec);
  } catch (err) {
    if (err instanceof VantageSelectionError) {
      // a name that is not there is a usage error; failing to detect our own address is an environment problem
      return spec === 'auto' || (spec === undefined && !local) ? misconfigured(err.message) : usage(err.message);
    }
    throw err;
  }
}

/** The checks whose id any pattern matches (all of them without patterns); none matching is a usage error. */
export function selectChecks<C extends { id: string }>(
  checks: C[],
  patterns: readonly RegExp[],
  sources: readonly string[],
): C[] {
  if (patterns.length === 0) return checks;
  const chosen = checks.filter((c) => patterns.some((p) => p.test(c.id)));
  if (chosen.length === 0) {
    const sample = [...new Set(checks.map((c) => c.id.replace(/@.*$/, '')))].slice(0, 8);
    const given = sources.map((s) => JSON.stringify(s)).join(', ');
    usage(
      `--check ${given} matches none of the ${checks.length} checks of the chosen suites (ids look like ${sample.join(', ')})`,
    );
  }
  return chosen;
}

export async function runCommand(opts: RunCommandOptions, io: CliIo): Promise<number> {
  const v = validateRunOptions(opts);
  const say = (m: string) => io.stderr.write(`${m}\n`);
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    say(`registry-canary: ${sig}: stopping the run`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let stack: StartedStack | undefined;
  try {
    let target: TargetDescription;
    if (v.local) {
      say(`starting the local stack (${v.engine} engine, ${v.semantics} semantics)`);
      try {
        stack = await startStack({
          engine: v.engine,
          semantics: v.semantics,
          ...(v.bigLayerMiB !== undefined ? { bigLayerMiB: v.bigLayerMiB } : {}),
          log: (m) => say(`  stack: ${m}`),
          signal: controller.signal,
        });
      } catch (err) {
        if (err instanceof StackError)
          return misconfigured(`the local stack did not start (${err.code}): ${err.message}`);
        throw err;
      }
      target = stack.target;
    } else if (v.target !== undefined) {
      target = await loadTargetFile(fromPackageRoot('fixtures', 'targets', `${v.target}.json`));
    } else {
      target = await loadTargetFile(opts.targetConfig!);
    }
    target = await applyVantage(target, opts.vantage, v.local, opts.ipEcho);
    // one report directory for the whole run, decided before any check runs: what a check writes goes under it
    const dir = opts.report ?? defaultReportDir();
    const all = v.suites.flatMap((s) => s.checks(target, { reportDir: dir }));
    const checks = selectChecks(all, v.checkPatterns, opts.check ?? []);
    await prepareGoPrograms(
      v.suites.flatMap((s) => s.goPrograms ?? []),
      say,
      { signal: controller.signal },
    );
    say(
      `target ${target.name}: ${target.url} (${target.ipMode}, ${target.semantics}); suites ${v.suites.map((s) => s.name).join(', ')}; ${target.vantages.length} vantages`,
    );
    for (const line of vantageCoverage(target, checks)) say(line);
    const report = await runChecks({
      target,
      checks,
      suites: v.suites.map((s) => s.name),
      signal: controller.signal,
      progress: createProgress(io.stderr as NodeJS.WritableStream & { isTTY?: boolean }),
      checkTimeoutMs: v.checkTimeoutMs,
      // the local stack runs this package's redirector; a remote one does not say which it is
      redirectorVersion: v.local ? packageVersion() : null,
      ...(v.concurrency !== undefined ? { concurrency: v.concurrency } : {}),
      ...(opts.vantage !== undefined ? { vantages: target.vantages.map((x) => x.name) } : {}),
    });
    const written = await writeReports(report, dir);
    const summary = terminalSummary(report, { color: (io.stdout as { isTTY?: boolean }).isTTY === true && !opts.json });
    if (opts.json) {
      io.stdout.write(resultsJson(report));
      io.stderr.write(summary);
    } else {
      io.stdout.write(summary);
    }
    say(`reports: ${written.indexHtml}, ${written.junitXml}, ${written.resultsJson}`);
    const metrics = await exportRunMetrics(report, {
      ...(opts.metricsTextfile !== undefined ? { textfile: opts.metricsTextfile } : {}),
      ...(opts.pushgateway !== undefined ? { pushgateway: opts.pushgateway } : {}),
      ...(opts.pushJob !== undefined ? { job: opts.pushJob } : {}),
      ...(opts.pushInstance !== undefined ? { instance: opts.pushInstance } : {}),
    });
    for (const m of metrics.written) say(`metrics: ${m}`);
    for (const p of metrics.problems) say(`registry-canary: metrics: ${p}`);
    return report.verdict.exitCode;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (stack) {
      say('stopping the local stack');
      const stopped = await stack.stop();
      for (const f of stopped.failures) say(`  teardown: ${JSON.stringify(f)}`);
    }
  }
}

export const registerRun: RegisterCommand = (program: Command, io: CliIo, setExit: (code: number) => void) => {
  program
    .command('run')
    .description(
      'run suites against a target; write results.json, junit.xml and index.html; exit 0 green, 1 failed, 2 unreachable/misconfigured, 64 usage',
    )
    .option('--target <name>', `built-in target: ${BUILT_IN_TARGETS.join(', ')} (default local)`)
    .option('--target-config <file>', 'any target description (JSON), e.g. from `stack up --json`')
    .option('--engine <engine>', 'local stack engine: process (default) or container')
    .option('--semantics <semantics>', 'local stack routing semantics: most-specific (default) or archeio')
    .option('--big-layer-mib <n>', 'local stack: size of the large fixture layer in MiB')
    .option('--suite <names>', `comma-separated suites (default all: ${suiteNames().join(', ')})`)
    .option(
      '--check <regex>',
      'run only the checks whose id matches (repeatable; e.g. "routing/.*" or "conformance/g1-.*")',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--vantage <spec>',
      'vantage name(s) or cloud[:region] to run from; egress targets: where the harness runs (or auto)',
    )
    .option('--report <dir>', 'report directory (default reports/<timestamp>/)')
    .option('--concurrency <n>', 'checks in flight (default 4)')
    .option('--check-timeout <seconds>', 'deadline per check (default 120)')
    .option('--json', 'print results.json on stdout (the summary goes to stderr)')
    .option(
      '--ip-echo <url>',
      "IP echo service --vantage auto asks for the public address (default: the target's ipEchoUrl, else https://checkip.amazonaws.com)",
    )
    .option(
      '--metrics-textfile <file>',
      "also write Prometheus metrics for node_exporter's textfile collector (written atomically)",
    )
    .option(
      '--pushgateway <url>',
      'also push Prometheus metrics to this Pushgateway (PUT, replacing the job/instance group)',
    )
    .option('--push-job <name>', 'Pushgateway job label (default registry-canary)')
    .option('--push-instance <name>', 'Pushgateway instance label (default <target>-<vantage>)')
    .action(async (opts: RunCommandOptions) => {
      setExit(await runCommand(opts, io));
    });
};

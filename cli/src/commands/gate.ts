/**
 * `registry-canary gate`: the promotion gate (harness/src/gate). Runs on both environments from the same
 * vantage, diffs their behaviour fingerprints and decides: promote (0), block with the reasons (1), unreachable (2),
 * usage (64). Reports: gate.json, gate.md, gate.html, junit.xml, and each side's suite reports.
 *
 *   registry-canary gate --candidate sandbox --baseline production --vantage auto --report reports/gate
 *   registry-canary gate --candidate-config new.json --baseline-config old.json --suite routing,integrity
 *   registry-canary gate --candidate local --candidate-semantics most-specific --baseline local --baseline-semantics archeio
 */
import type { Command } from 'commander';
import {
  StackError,
  VantageSelectionError,
  defaultReportDir,
  startStack,
  type Engine,
  type Semantics,
  type StartedStack,
  type TargetDescription,
  GateUsageError,
  gateMarkdown,
  runGate,
  writeGateReports,
  gateJson,
  fromPackageRoot,
} from '../../../harness/src/index.js';
import { selectSuites, suiteNames, UnknownSuiteError, type SuiteDefinition } from '../../../suites/index.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { CliIo } from '../cli-io.js';
import type { RegisterCommand } from '../cli-io.js';
import { BUILT_IN_TARGETS, loadTargetFile, validateOpsOptions } from './run.js';

/** The suites a gate runs beside the fingerprint unless told otherwise: the routing matrix is cheap and exact. */
export const DEFAULT_GATE_SUITES = 'routing';

export interface GateCommandOptions {
  candidate?: string;
  candidateConfig?: string;
  baseline?: string;
  baselineConfig?: string;
  candidateSemantics?: string;
  baselineSemantics?: string;
  engine?: string;
  vantage?: string;
  ipEcho?: string;
  suite?: string;
  accept?: string[];
  report?: string;
  concurrency?: string;
  checkTimeout?: string;
  json?: boolean;
}

const usage = (message: string): never => {
  throw new CliError(message, ExitCode.usage);
};

interface SideSpec {
  role: 'candidate' | 'baseline';
  builtIn?: string;
  file?: string;
  semantics?: Semantics;
}

function sideSpec(
  role: 'candidate' | 'baseline',
  name: string | undefined,
  file: string | undefined,
  semantics: string | undefined,
): SideSpec {
  if (name !== undefined && file !== undefined) usage(`use either --${role} or --${role}-config, not both`);
  if (name === undefined && file === undefined) usage(`--${role} NAME or --${role}-config FILE is required`);
  if (name !== undefined && !(BUILT_IN_TARGETS as readonly string[]).includes(name)) {
    usage(
      `--${role} must be one of ${BUILT_IN_TARGETS.join(', ')} (or use --${role}-config FILE), not ${JSON.stringify(name)}`,
    );
  }
  if (semantics !== undefined) {
    if (name !== 'local')
      usage(`--${role}-semantics applies to --${role} local only (a described target declares its own)`);
    if (semantics !== 'most-specific' && semantics !== 'archeio')
      usage(`--${role}-semantics must be most-specific or archeio, not ${JSON.stringify(semantics)}`);
  }
  return {
    role,
    ...(name !== undefined ? { builtIn: name } : {}),
    ...(file !== undefined ? { file } : {}),
    ...(semantics !== undefined ? { semantics: semantics as Semantics } : {}),
  };
}

function positiveInt(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    usage(`${flag} must be a whole number from 1 to ${max}, not ${JSON.stringify(value)}`);
  return Number(value);
}

/** Everything checkable before anything starts (exit 64 with a message naming the flag). */
export function validateGateOptions(opts: GateCommandOptions) {
  const candidate = sideSpec('candidate', opts.candidate, opts.candidateConfig, opts.candidateSemantics);
  const baseline = sideSpec('baseline', opts.baseline, opts.baselineConfig, opts.baselineSemantics);
  if (opts.engine !== undefined) {
    if (candidate.builtIn !== 'local' && baseline.builtIn !== 'local') usage('--engine applies when a side is local');
    if (opts.engine !== 'process' && opts.engine !== 'container')
      usage(`--engine must be process or container, not ${JSON.stringify(opts.engine)}`);
  }
  let suites: SuiteDefinition[] = [];
  const spec = opts.suite ?? DEFAULT_GATE_SUITES;
  if (spec.trim() !== 'none') {
    try {
      suites = selectSuites(spec);
    } catch (err) {
      if (err instanceof UnknownSuiteError) usage(`--suite: ${err.message} (or none)`);
      throw err;
    }
  }
  if (opts.vantage !== undefined && opts.vantage.trim() === '') usage('--vantage needs a name, cloud[:region] or auto');
  validateOpsOptions({ ...(opts.ipEcho !== undefined ? { ipEcho: opts.ipEcho } : {}) });
  for (const a of opts.accept ?? [])
    if (a.trim() === '') usage('--accept needs a pattern (a glob over difference ids, e.g. "blob:*@aws-shadowed-*")');
  return {
    candidate,
    baseline,
    suites,
    engine: (opts.engine ?? 'process') as Engine,
    concurrency: positiveInt('--concurrency', opts.concurrency, 256),
    checkTimeoutMs: (positiveInt('--check-timeout', opts.checkTimeout, 3600) ?? 120) * 1000,
  };
}

export async function gateCommand(opts: GateCommandOptions, io: CliIo): Promise<number> {
  const v = validateGateOptions(opts);
  const say = (m: string) => io.stderr.write(`${m}\n`);
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    say(`registry-canary: ${sig}: stopping the gate`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stacks: StartedStack[] = [];
  try {
    const load = async (s: SideSpec): Promise<TargetDescription> => {
      if (s.builtIn === 'local') {
        const semantics = s.semantics ?? 'most-specific';
        say(`${s.role}: starting a local stack (${v.engine} engine, ${semantics} semantics)`);
        try {
          const stack = await startStack({
            engine: v.engine,
            semantics,
            signal: controller.signal,
            log: (m) => say(`  ${s.role} stack: ${m}`),
          });
          stacks.push(stack);
          return { ...stack.target, name: `local-${semantics}` };
        } catch (err) {
          if (err instanceof StackError)
            throw new CliError(
              `the ${s.role}'s local stack did not start (${err.code}): ${err.message}`,
              ExitCode.unreachable,
            );
          throw err;
        }
      }
      return loadTargetFile(s.file ?? fromPackageRoot('fixtures', 'targets', `${s.builtIn}.json`));
    };
    const [candidate, baseline] = await Promise.all([load(v.candidate), load(v.baseline)]);
    const dir = opts.report ?? defaultReportDir(new Date(), 'reports/gate');
    say(
      `gate: candidate ${candidate.name} (${candidate.url}) → baseline ${baseline.name} (${baseline.url}); suites ${v.suites.map((s) => s.name).join(', ') || 'none'}`,
    );
    let report;
    try {
      report = await runGate({
        candidate,
        baseline,
        ...(opts.vantage !== undefined ? { vantage: opts.vantage } : {}),
        ...(opts.ipEcho !== undefined ? { ipEchoUrl: opts.ipEcho } : {}),
        suites: v.suites,
        accept: opts.accept ?? [],
        reportDir: dir,
        checkTimeoutMs: v.checkTimeoutMs,
        ...(v.concurrency !== undefined ? { concurrency: v.concurrency } : {}),
        signal: controller.signal,
        log: say,
      });
    } catch (err) {
      if (err instanceof GateUsageError) throw new CliError(err.message, ExitCode.usage);
      if (err instanceof VantageSelectionError) {
        // a vantage name that matches nothing is usage; failing to learn our own address is the environment
        throw new CliError(
          err.message,
          /cannot learn|not an IP address/.test(err.message) ? ExitCode.unreachable : ExitCode.usage,
        );
      }
      throw err;
    }
    const written = await writeGateReports(report, dir);
    if (opts.json) {
      io.stdout.write(gateJson(report));
      io.stderr.write(gateMarkdown(report));
    } else {
      io.stdout.write(gateMarkdown(report));
    }
    say(`reports: ${written.gateMd}, ${written.gateHtml}, ${written.gateJson}, ${written.junitXml}`);
    for (const g of report.unmatchedAccepts) {
      say(`registry-canary gate: WARNING: --accept ${JSON.stringify(g)} matched no difference; remove it or fix it`);
    }
    say(
      `gate: ${report.verdict.decision} (exit ${report.verdict.exitCode}) in ${(report.durationMs / 1000).toFixed(1)} s`,
    );
    return report.verdict.exitCode;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    for (const s of stacks) {
      const stopped = await s.stop();
      for (const f of stopped.failures) say(`  teardown: ${JSON.stringify(f)}`);
    }
  }
}

// empty patterns are kept so validation can name them (a stray comma should not silently accept nothing)
const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim())];

export const registerGate: RegisterCommand = (program: Command, io: CliIo, setExit: (code: number) => void) => {
  program
    .command('gate')
    .description(
      'promotion gate: fingerprint both environments from the same vantage and diff them; exit 0 promote, 1 block, 2 unreachable, 64 usage',
    )
    .option('--candidate <name>', `the environment to promote: ${BUILT_IN_TARGETS.join(', ')}`)
    .option('--candidate-config <file>', 'the candidate as a target description (JSON)')
    .option('--baseline <name>', `the environment it would replace: ${BUILT_IN_TARGETS.join(', ')}`)
    .option('--baseline-config <file>', 'the baseline as a target description (JSON)')
    .option('--candidate-semantics <semantics>', 'candidate local stack: most-specific (default) or archeio')
    .option('--baseline-semantics <semantics>', 'baseline local stack: most-specific (default) or archeio')
    .option('--engine <engine>', 'local stacks: process (default) or container')
    .option(
      '--vantage <spec>',
      'where both sides are asked from: auto (default for egress targets), cloud:region, or vantage names/places',
    )
    .option('--ip-echo <url>', 'IP echo service for --vantage auto')
    .option(
      '--suite <names>',
      `suites run on both sides beside the fingerprint (default ${DEFAULT_GATE_SUITES}; "none"; known: ${suiteNames().join(', ')})`,
    )
    .option(
      '--accept <glob>',
      'an expected difference (glob over difference ids, repeatable or comma-separated): reported, not blocking; one that matches nothing is warned about',
      collect,
    )
    .option('--report <dir>', 'report directory (default reports/gate/<timestamp>/)')
    .option('--concurrency <n>', 'checks in flight per side (default 4)')
    .option('--check-timeout <seconds>', 'deadline per check (default 120)')
    .option('--json', 'print gate.json on stdout (gate.md goes to stderr)')
    .action(async (opts: GateCommandOptions) => {
      setExit(await gateCommand(opts, io));
    });
};

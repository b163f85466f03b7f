/**
 * oci-conformance: the official OCI distribution-spec conformance program, run as it is published (pinned in
 * harness/src/clients/go-programs.ts), in read-only pull mode against the target through the redirector, with the
 * seeded content the target lists. Its tests become this suite's checks (`oci-conformance/<test>`), its own reports
 * are kept under the run's report directory and linked from every check.
 *
 * Where it speaks from: the program cannot set X-Forwarded-For, so it needs a URL that places it at a vantage
 * without headers: a plain-internet vantage's edge port (the default-bucket route), else any vantage's edge port,
 * else (no edge ports) the target URL itself, where the redirector classifies the harness's own address.
 *
 * The program runs once per suite instance (both endpoints: through the redirector and, for blame, the upstream
 * directly), whichever check asks first; every check reads its own test from the shared result.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import {
  GO_PROGRAMS,
  NotApplicable,
  CheckFailure,
  OCI_CONFORMANCE_ROOT,
  ConformanceEndpointError,
  conformanceEndpoint,
  defaultReportDir,
  requireGoProgram,
  runConformanceProgram,
  vantageRoute,
  type Check,
  type ConformanceEndpoint,
  type ProgramRun,
  type ProgramTestCase,
  type TargetDescription,
  type Vantage,
} from '../../harness/src/index.js';
import { conformanceRoute } from '../conformance/conformance-routes.js';
import { discoverSeededContent } from '../conformance/seeded-content.js';
import { officialReportHtml, runTotals, type EndpointRun } from './official-report.js';
import { officialVerdict } from './official-verdict.js';
import { PROGRAM_TESTS, checkNameOf, relativeName, type ProgramTest } from './program-tests.js';
import { readOnlyInputs } from './read-only-inputs.js';

export const OCI_CONFORMANCE_SUITE = 'oci-conformance';

export interface OciConformanceOptions {
  /**
   * where the program's reports go (under `oci-conformance/`); default $REGISTRY_CANARY_REPORT_DIR, else
   * reports/<timestamp>
   */
  reportDir?: string;
  /** also run the program against the upstream directly, to blame failures the upstream has on its own (default on) */
  upstreamDifferential?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** How the program reaches the redirector without headers. Pure. */
export function programVantage(target: TargetDescription): { label: string; baseUrl: string; vantage?: Vantage } {
  const ordered = [
    ...target.vantages.filter((v) => v.cloud === null && !v.ip.includes(':') && (v.tags ?? []).length === 0),
    ...target.vantages.filter((v) => v.cloud === null && !v.ip.includes(':')),
    ...target.vantages.filter((v) => v.cloud === null),
    ...target.vantages,
  ];
  for (const v of ordered) {
    try {
      const route = vantageRoute(target, v, { headerless: true });
      return { label: `${v.name} (${route.baseUrl})`, baseUrl: route.baseUrl, vantage: v };
    } catch (err) {
      if (!(err instanceof NotApplicable)) throw err;
    }
  }
  return { label: `the target URL without X-Forwarded-For (${target.url})`, baseUrl: target.url };
}

interface OfficialRuns {
  redirector: EndpointRun;
  upstream: EndpointRun | null;
  /** report dir relative path of the index page */
  reportLink: string;
  reportPath: string;
  /** why the upstream was not run directly, when it was not (failures through the redirector then stay failures) */
  upstreamSkipped?: string;
}

function endpointOrNa(baseUrl: string, prefix: string, what: string): ConformanceEndpoint {
  try {
    return conformanceEndpoint(baseUrl, prefix);
  } catch (err) {
    if (err instanceof ConformanceEndpointError)
      throw new NotApplicable(`the official program cannot be pointed at ${what}: ${err.message}`);
    throw err;
  }
}

async function runOfficial(target: TargetDescription, options: OciConformanceOptions): Promise<OfficialRuns> {
  const env = options.env ?? process.env;
  const program = await requireGoProgram(GO_PROGRAMS.conformance, { env });
  const content = await discoverSeededContent(target, conformanceRoute(target).client());
  const inputs = readOnlyInputs(content);
  if (inputs === null)
    throw new NotApplicable(`target "${target.name}" lists no images for the official program to pull`);
  const where = programVantage(target);
  const reportDir = resolve(
    options.reportDir ?? env.REGISTRY_CANARY_REPORT_DIR ?? defaultReportDir(new Date(), 'reports'),
  );
  const base = join(reportDir, OCI_CONFORMANCE_SUITE);
  await mkdir(base, { recursive: true });
  const through = endpointOrNa(where.baseUrl, '', `the redirector (${where.label})`);
  let direct: ConformanceEndpoint | null = null;
  let upstreamSkipped: string | undefined;
  if (options.upstreamDifferential === false) {
    upstreamSkipped = 'the upstream differential was turned off';
  } else {
    try {
      direct = conformanceEndpoint(target.upstream, target.upstreamPath);
    } catch (err) {
      if (!(err instanceof ConformanceEndpointError)) throw err;
      upstreamSkipped = `the program cannot be pointed at the upstream: ${err.message}`;
    }
  }
  const [redirectorRun, upstreamRun] = await Promise.all([
    runConformanceProgram({ program, endpoint: through, inputs, resultsDir: join(base, 'redirector'), env }),
    direct
      ? runConformanceProgram({ program, endpoint: direct, inputs, resultsDir: join(base, 'upstream'), env })
      : Promise.resolve(null),
  ]);
  const runs: EndpointRun[] = [{ label: `through the redirector, from ${where.label}`, run: redirectorRun }];
  if (upstreamRun) runs.push({ label: `the upstream directly (${target.upstream})`, run: upstreamRun });
  const reportPath = join(base, 'index.html');
  await writeFile(reportPath, officialReportHtml(runs, reportDir, GO_PROGRAMS.conformance.version));
  return {
    redirector: runs[0]!,
    upstream: runs[1] ?? null,
    reportLink: relative(reportDir, reportPath).split('\\').join('/'),
    reportPath,
    ...(upstreamSkipped ? { upstreamSkipped } : {}),
  };
}

function casesOf(run: ProgramRun, name: string): ProgramTestCase[] {
  return run.cases.filter((c) => relativeName(c.name, OCI_CONFORMANCE_ROOT) === name);
}

function evidence(runs: OfficialRuns, extra: Record<string, unknown>): Record<string, unknown> {
  const r = runs.redirector.run;
  return {
    officialReport: runs.reportLink,
    reportLinks: [{ label: 'official OCI conformance program report', href: runs.reportLink }],
    endpoint: runs.redirector.label,
    repository: r.inputs.repo,
    officialTotals: { redirector: runTotals(r), ...(runs.upstream ? { upstream: runTotals(runs.upstream.run) } : {}) },
    ...(runs.upstreamSkipped ? { upstreamSkipped: runs.upstreamSkipped } : {}),
    ...extra,
  };
}

export function ociConformanceChecks(target: TargetDescription, options: OciConformanceOptions = {}): Check[] {
  let shared: Promise<OfficialRuns> | undefined;
  const official = () => (shared ??= runOfficial(target, options));
  const rule = `OCI distribution-spec conformance program @${GO_PROGRAMS.conformance.version} (read-only pull mode)`;
  const checkFor = (t: ProgramTest): Check => ({
    id: `${OCI_CONFORMANCE_SUITE}/${checkNameOf(t.name)}`,
    suite: OCI_CONFORMANCE_SUITE,
    title: t.title,
    rule: `${rule}: ${OCI_CONFORMANCE_ROOT}/${t.name}`,
    async run(ctx) {
      if (t.group === 'push') throw new NotApplicable(t.notRun ?? 'not run against a read-only target');
      const runs = await official();
      const redirector = casesOf(runs.redirector.run, t.name);
      const upstream = runs.upstream ? casesOf(runs.upstream.run, t.name) : null;
      const problem = runs.redirector.run.groups.find((g) => g.group === t.group)?.problem;
      const verdict = officialVerdict({
        redirector,
        upstream,
        ...(t.notRun ? { notRun: t.notRun } : {}),
        ...(problem ? { groupProblem: problem } : {}),
      });
      ctx.record?.(
        [],
        evidence(runs, { cases: redirector.length, upstreamCases: upstream ? upstream.map((c) => c.status) : null }),
      );
      switch (verdict.status) {
        case 'pass':
          ctx.log(verdict.summary);
          return;
        case 'fail':
          throw new CheckFailure('conformance', verdict.message);
        case 'error':
          throw new Error(verdict.message);
        case 'not-applicable':
          throw new NotApplicable(verdict.reason);
      }
    },
  });
  const known = new Set(PROGRAM_TESTS.map((t) => t.name));
  const unlisted: Check = {
    id: `${OCI_CONFORMANCE_SUITE}/unlisted`,
    suite: OCI_CONFORMANCE_SUITE,
    title: 'tests the program reported that this suite does not list (a newer program): none may fail',
    rule,
    async run(ctx) {
      const runs = await official();
      const extra = runs.redirector.run.cases.filter((c) => {
        const n = relativeName(c.name, OCI_CONFORMANCE_ROOT);
        return n !== null && !known.has(n);
      });
      ctx.record?.([], evidence(runs, { unlisted: extra.map((c) => `${c.name}: ${c.status}`) }));
      const problems = runs.redirector.run.groups.flatMap((g) => (g.problem ? [g.problem] : []));
      if (problems.length > 0) throw new Error(`the program's report is incomplete:\n${problems.join('\n')}`);
      const bad = extra.filter((c) => c.status === 'failure' || c.status === 'error');
      if (bad.length > 0)
        throw new CheckFailure('conformance', bad.map((c) => `${c.name}: ${c.status}\n${c.errors.trim()}`).join('\n'));
    },
  };
  return [...PROGRAM_TESTS.map(checkFor), unlisted];
}

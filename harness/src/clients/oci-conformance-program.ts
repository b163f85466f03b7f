/**
 * The official OCI distribution-spec conformance program (github.com/opencontainers/distribution-spec/conformance,
 * pinned in go-programs.ts), run in read-only pull mode against one registry endpoint, and its junit.xml read back.
 *
 * The program is configured by environment only (`OCI_*`; its README lists them). Read-only mode is
 * `OCI_API_PUSH=false`, deletes off, and the pre-seeded content named by `OCI_RO_DATA_TAGS`, `..._MANIFESTS`,
 * `..._BLOBS` and `..._REFERRERS`, all in one repository (`OCI_REPO1`). Redirects are followed (Go's http.Client).
 *
 * It is run once per top-level test group (`OCI_FILTER_TEST`), because the pinned version cannot write its reports
 * for a whole read-only run: the blob-push groups, skipped without push, record a data status for a data set they
 * never create, and writing results.yaml then dereferences it (run.go ReportResultsYAML), before junit.xml and
 * report.html are written. The push-only groups (`sha256 blobs`, `sha512 blobs`) are therefore never run, and the
 * read-only inputs go only to the `read-only` group (another group given them leaves that data set's status
 * unknown, which results.yaml cannot encode either).
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool, toolOutputTail } from './external-tool.js';

/** The groups run, in the program's own order; each one writes its reports into `<resultsDir>/<group>/`. */
export const OCI_CONFORMANCE_GROUPS = [
  'ping',
  'empty',
  'read-only',
  'missing-manifest',
  'invalid-digest-format',
] as const;
export type OciConformanceGroup = (typeof OCI_CONFORMANCE_GROUPS)[number];

/** The root of every test name the program reports. */
export const OCI_CONFORMANCE_ROOT = 'OCI Conformance Test';

/** Where the program connects: `OCI_REGISTRY` (host[:port]), `OCI_TLS`, and the repository prefix on that host. */
export interface ConformanceEndpoint {
  registry: string;
  tls: 'enabled' | 'disabled';
  /** prepended to the repository (an upstream path such as `k8s-artifacts-prod/images`), may be empty */
  repoPrefix: string;
}

/** The pre-seeded content the read-only group pulls, all of one repository. */
export interface ReadOnlyInputs {
  repo: string;
  tags: string[];
  manifests: string[];
  blobs: string[];
  /** subject digests whose referrers are listed */
  referrers: string[];
}

export class ConformanceEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceEndpointError';
  }
}

/**
 * The endpoint for a base URL. The program takes a host and a scheme, nothing else: a base URL with a path, query,
 * credentials or another scheme cannot be expressed and is refused with the reason.
 */
export function conformanceEndpoint(baseUrl: string, repoPrefix = ''): ConformanceEndpoint {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new ConformanceEndpointError(`${JSON.stringify(baseUrl)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ConformanceEndpointError(`${baseUrl}: only http and https registries can be tested`);
  if (u.pathname !== '/' && u.pathname !== '')
    throw new ConformanceEndpointError(`${baseUrl}: the program takes a host, not a path (${u.pathname})`);
  if (u.search !== '' || u.username !== '' || u.password !== '')
    throw new ConformanceEndpointError(`${baseUrl}: the program takes a host only (no query or credentials)`);
  return {
    registry: u.host,
    tls: u.protocol === 'https:' ? 'enabled' : 'disabled',
    repoPrefix: repoPrefix.replace(/^\/+|\/+$/g, ''),
  };
}

const SPACE_FREE = /^[^\s]+$/;

/** The program's environment for one group: nothing from the caller's `OCI_*` variables leaks in. */
export function conformanceEnv(
  endpoint: ConformanceEndpoint,
  inputs: ReadOnlyInputs,
  group: OciConformanceGroup,
  resultsDir: string,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  for (const v of [...inputs.tags, ...inputs.manifests, ...inputs.blobs, ...inputs.referrers]) {
    // the program splits these lists on single spaces
    if (!SPACE_FREE.test(v))
      throw new ConformanceEndpointError(`read-only input ${JSON.stringify(v)} contains white space`);
  }
  const repo = endpoint.repoPrefix ? `${endpoint.repoPrefix}/${inputs.repo}` : inputs.repo;
  const env: Record<string, string> = {
    PATH: base.PATH ?? '/usr/bin:/bin',
    HOME: base.HOME ?? '/tmp',
    OCI_VERSION: '1.1',
    OCI_REGISTRY: endpoint.registry,
    OCI_TLS: endpoint.tls,
    OCI_REPO1: repo,
    OCI_REPO2: repo,
    OCI_API_PUSH: 'false',
    OCI_API_TAGS_DELETE: 'false',
    OCI_API_MANIFESTS_DELETE: 'false',
    OCI_API_BLOBS_DELETE: 'false',
    OCI_LOG: 'error',
    OCI_FILTER_TEST: `${OCI_CONFORMANCE_ROOT}/${group}`,
    OCI_RESULTS_DIR: resultsDir,
  };
  if (group === 'read-only') {
    const lists: [string, string[]][] = [
      ['OCI_RO_DATA_TAGS', inputs.tags],
      ['OCI_RO_DATA_MANIFESTS', inputs.manifests],
      ['OCI_RO_DATA_BLOBS', inputs.blobs],
      ['OCI_RO_DATA_REFERRERS', inputs.referrers],
    ];
    for (const [k, v] of lists) if (v.length > 0) env[k] = v.join(' ');
  }
  return env;
}

/** One test case of the program's junit.xml. */
export interface ProgramTestCase {
  /** the full name, e.g. `OCI Conformance Test/read-only/head/blob-head` */
  name: string;
  status: 'passed' | 'skipped' | 'failure' | 'error';
  timeSec: number;
  /** the requests and responses it made (its system-err) */
  output: string;
  /** its errors (its system-out) */
  errors: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ent: string) => {
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    return ENTITIES[ent] ?? whole;
  });
}

function textOf(body: string, element: string): string {
  const m = new RegExp(`<${element}>([\\s\\S]*?)</${element}>`).exec(body);
  if (!m) return '';
  const inner = m[1]!;
  const cdata = /^<!\[CDATA\[([\s\S]*)\]\]>$/.exec(inner);
  return cdata ? cdata[1]! : decodeXml(inner);
}

const STATUSES = new Set(['passed', 'skipped', 'failure', 'error']);

export class ConformanceReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceReportError';
  }
}

/** The test cases of the program's junit.xml (the flat list of its leaf tests, in run order). */
export function parseConformanceJunit(xml: string): ProgramTestCase[] {
  if (!/<testsuites[\s>]/.test(xml)) throw new ConformanceReportError('not a junit report: no <testsuites> element');
  const cases: ProgramTestCase[] = [];
  const re = /<testcase\s([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    const attrs = new Map<string, string>();
    for (const a of m[1]!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) attrs.set(a[1]!, decodeXml(a[2]!));
    const name = attrs.get('name');
    if (name === undefined) throw new ConformanceReportError(`a <testcase> without a name: ${m[0].slice(0, 120)}`);
    const body = m[3] ?? '';
    let status = attrs.get('status');
    if (status === undefined)
      status = /<failure[\s>/]/.test(body)
        ? 'failure'
        : /<error[\s>/]/.test(body)
          ? 'error'
          : /<skipped[\s>/]/.test(body)
            ? 'skipped'
            : 'passed';
    if (!STATUSES.has(status))
      throw new ConformanceReportError(`test case ${name} has status ${JSON.stringify(status)}`);
    const timeSec = Number(attrs.get('time') ?? '0');
    cases.push({
      name,
      status: status as ProgramTestCase['status'],
      timeSec: Number.isFinite(timeSec) ? timeSec : 0,
      output: textOf(body, 'system-err'),
      errors: textOf(body, 'system-out'),
    });
  }
  return cases;
}

/** The outcome of one group's run. */
export interface GroupRun {
  group: OciConformanceGroup;
  resultsDir: string;
  exitCode: number | null;
  durationMs: number;
  /** the test cases of its junit.xml (empty when it wrote none) */
  cases: ProgramTestCase[];
  /** why the group has no results, when it has none (the program's own output tail) */
  problem?: string;
}

export interface ProgramRun {
  endpoint: ConformanceEndpoint;
  inputs: ReadOnlyInputs;
  groups: GroupRun[];
  cases: ProgramTestCase[];
  durationMs: number;
}

export interface RunProgramOptions {
  /** the program's path (requireGoProgram(GO_PROGRAMS.conformance)) */
  program: string;
  endpoint: ConformanceEndpoint;
  inputs: ReadOnlyInputs;
  /** a directory of its own: each group's reports go into `<resultsDir>/<group>/` (emptied first) */
  resultsDir: string;
  /** per group (default 5 minutes) */
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs every group against one endpoint, one after the other, and reads each group's junit.xml. A group that
 * writes none (the program crashed, or could not reach the endpoint) is kept with its problem; nothing throws for a
 * failing program: its verdicts are the result.
 */
export async function runConformanceProgram(opts: RunProgramOptions): Promise<ProgramRun> {
  const started = performance.now();
  const groups: GroupRun[] = [];
  for (const group of OCI_CONFORMANCE_GROUPS) {
    const dir = join(opts.resultsDir, group);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const env = conformanceEnv(opts.endpoint, opts.inputs, group, dir, opts.env);
    // the working directory is the fresh results dir: an oci-conformance.yaml there would be read as configuration
    const run = await runTool(opts.program, [], {
      env,
      cwd: dir,
      timeoutMs: opts.timeoutMs ?? 5 * 60_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    let cases: ProgramTestCase[] = [];
    let problem: string | undefined;
    try {
      cases = parseConformanceJunit(await readFile(join(dir, 'junit.xml'), 'utf8'));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it wrote no junit.xml' : (err as Error).message;
      problem = `the conformance program's "${group}" group (exit ${run.exitCode}): ${why}\n${toolOutputTail(run, 8)}`;
    }
    groups.push({
      group,
      resultsDir: dir,
      exitCode: run.exitCode,
      durationMs: run.durationMs,
      cases,
      ...(problem ? { problem } : {}),
    });
  }
  return {
    endpoint: opts.endpoint,
    inputs: opts.inputs,
    groups,
    cases: groups.flatMap((g) => g.cases),
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * The operations files checked by the validators their own ecosystems use, offline (ops-manifests.test.ts checks
 * what only this project knows: the registry-canary subcommands and flags they name):
 *
 * - actionlint on every workflow in .github/workflows, with shellcheck on each `run:` script;
 * - every Kubernetes object in deploy/ against the Kubernetes API's own schemas, with kubectl-validate (which embeds
 *   the OpenAPI documents of Kubernetes 1.23-1.30 and validates as the API server does, unknown fields rejected):
 *   the kustomize base and each overlay as kustomize renders them (what `kubectl apply -k` sends), and the pod spec of
 *   each Prow periodic (Prow's own fields, such as interval and decorate, have no Kubernetes schema; Prow's config
 *   checker owns them).
 *
 * Each validator is also given a broken file, so a validator that passes everything fails this test. The programs
 * are the pinned Go programs (go-programs.ts); without Go the tests are skipped, and under CI=true they fail.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { GO_PROGRAMS, NotApplicable, requireGoProgram, type GoProgram } from '../../../harness/src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** The Kubernetes version deploy/ is validated against: the newest whose schemas kubectl-validate v0.0.4 embeds. */
const KUBERNETES_VERSION = '1.30';

let work: string;
/** HOME, XDG and KUBECONFIG of a temporary directory: no validator reads the user's configuration or a cluster. */
let isolated: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rc-ops-validate-'));
  await writeFile(join(work, 'kubeconfig'), '');
  isolated = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    XDG_CONFIG_HOME: join(work, '.config'),
    XDG_CACHE_HOME: join(work, '.cache'),
    KUBECONFIG: join(work, 'kubeconfig'),
  };
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], cwd = root): Promise<Ran> {
  return new Promise((done) => {
    const options = { cwd, env: isolated, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 };
    execFile(bin, args, options, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      done({ code, stdout, stderr });
    });
  });
}

/** The program's path; skips the test where Go is missing (requireGoProgram fails instead under CI=true). */
async function goProgram(ctx: TestContext, program: GoProgram): Promise<string> {
  try {
    return await requireGoProgram(program);
  } catch (err) {
    if (err instanceof NotApplicable) ctx.skip(err.reason);
    throw err;
  }
}

function shellcheckOnPath(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'shellcheck');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

const isCi = process.env.CI === 'true' || process.env.CI === '1';

function filesUnder(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return filesUnder(p, pattern);
    return pattern.test(f) ? [p] : [];
  });
}

interface ActionlintFinding {
  message: string;
  filepath: string;
  line: number;
  kind: string;
}

interface ActionlintRun {
  ran: Ran;
  findings: ActionlintFinding[];
  /** whether shellcheck checked the run: scripts */
  shellcheck: boolean;
}

async function actionlint(ctx: TestContext, files: string[]): Promise<ActionlintRun> {
  const bin = await goProgram(ctx, GO_PROGRAMS.actionlint);
  const shellcheck = shellcheckOnPath();
  if (shellcheck === null && isCi) throw new Error('shellcheck is required when CI=true (apt-get install shellcheck)');
  // an empty -shellcheck= turns the integration off; a path turns it on whatever PATH says
  const ran = await run(bin, ['-no-color', '-format', '{{json .}}', `-shellcheck=${shellcheck ?? ''}`, ...files]);
  const findings = ran.stdout.trim() === '' ? [] : (JSON.parse(ran.stdout) as ActionlintFinding[]);
  return { ran, findings, shellcheck: shellcheck !== null };
}

describe('actionlint on .github/workflows', () => {
  it('finds nothing in any workflow', async (ctx) => {
    const files = filesUnder(join(root, '.github', 'workflows'), /\.ya?ml$/);
    expect(files.length).toBeGreaterThan(0);
    const { ran, findings } = await actionlint(ctx, files);
    expect(findings.map((f) => `${relative(root, f.filepath)}:${f.line} [${f.kind}] ${f.message}`)).toEqual([]);
    expect(ran.code, ran.stderr).toBe(0);
  });

  it('reports a broken workflow: an undefined matrix property and an unquoted variable in a script', async (ctx) => {
    const file = join(work, 'broken.yml');
    await writeFile(
      file,
      [
        'name: broken',
        'on: push',
        'jobs:',
        '  test:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - run: echo "${{ matrix.target }}"',
        '      - run: cp $SOURCE /tmp/copy',
        '',
      ].join('\n'),
    );
    const { ran, findings, shellcheck } = await actionlint(ctx, [file]);
    expect(ran.code).toBe(1);
    const undefinedProperty = (f: ActionlintFinding) =>
      f.kind === 'expression' && /property "target" is not defined/.test(f.message);
    expect(findings.some(undefinedProperty)).toBe(true);
    if (shellcheck) expect(findings.some((f) => f.kind === 'shellcheck' && /SC2086/.test(f.message))).toBe(true);
  });
});

interface Kustomization {
  resources?: string[];
}

/** Each directory of deploy/ with a kustomization, and the files it names (a directory resource is a kustomization). */
function kustomizations(): { dir: string; files: string[] }[] {
  return filesUnder(join(root, 'deploy'), /^kustomization\.ya?ml$/).map((k) => {
    const dir = dirname(k);
    const doc = parseAllDocuments(readFileSync(k, 'utf8'))[0]!.toJS() as Kustomization;
    const files = (doc.resources ?? []).map((r) => resolve(dir, r)).filter((p) => statSync(p).isFile());
    return { dir, files: [k, ...files] };
  });
}

interface PodSpecHolder {
  periodics?: { name: string; spec: Record<string, unknown> }[];
}

/** Each Prow periodic's pod spec as a Pod, the object the Kubernetes API would validate it as. */
function prowPods(file: string): Record<string, unknown>[] {
  const config = parseAllDocuments(readFileSync(file, 'utf8'))[0]!.toJS() as PodSpecHolder;
  return (config.periodics ?? []).map((p) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name },
    spec: p.spec,
  }));
}

interface ValidationStatus {
  status: 'Success' | 'Failure';
  message?: string;
  details?: { kind?: string; name?: string; causes?: { field?: string; message?: string }[] };
}

async function kubectlValidate(
  ctx: TestContext,
  files: string[],
): Promise<{ ran: Ran; results: Record<string, ValidationStatus[]> }> {
  const bin = await goProgram(ctx, GO_PROGRAMS.kubectlValidate);
  const ran = await run(bin, ['--version', KUBERNETES_VERSION, '-o', 'json', ...files]);
  const json = ran.stdout.slice(0, ran.stdout.lastIndexOf('}') + 1);
  const results = JSON.parse(json) as Record<string, ValidationStatus[]>;
  return { ran, results };
}

async function kustomizeBuild(ctx: TestContext, dir: string): Promise<string> {
  const bin = await goProgram(ctx, GO_PROGRAMS.kustomize);
  const ran = await run(bin, ['build', dir]);
  expect(ran.code, `kustomize build ${relative(root, dir)}: ${ran.stderr}`).toBe(0);
  return ran.stdout;
}

describe(`deploy/ against the Kubernetes ${KUBERNETES_VERSION} API schemas`, () => {
  it('every manifest in deploy/ is rendered or validated here', () => {
    const covered = new Set([...kustomizations().flatMap((k) => k.files), join(root, 'deploy', 'prow-periodic.yaml')]);
    const all = filesUnder(join(root, 'deploy'), /\.ya?ml$/);
    expect(all.filter((f) => !covered.has(f)).map((f) => relative(root, f))).toEqual([]);
    expect(
      kustomizations()
        .map((k) => relative(root, k.dir))
        .sort(),
    ).toEqual(
      expect.arrayContaining(['deploy/base', 'deploy/overlays/eks-us-east-2', 'deploy/overlays/gke-us-central1']),
    );
  });

  it('the kustomize renderings and the Prow pod specs are valid objects, unknown fields rejected', async (ctx) => {
    const out = join(work, 'rendered');
    await mkdir(out, { recursive: true });
    const files: string[] = [];
    const expected: Record<string, string[]> = {};
    for (const { dir } of kustomizations()) {
      const name = relative(join(root, 'deploy'), dir).replaceAll('/', '-');
      const text = await kustomizeBuild(ctx, dir);
      const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; spec?: unknown });
      if (dir.includes(join('deploy', 'overlays'))) {
        // the overlay's patch took effect: its CronJob names the cluster it is for
        type Env = { name: string; value: string }[];
        type Cron = { spec: { jobTemplate: { spec: { template: { spec: { containers: { env: Env }[] } } } } } };
        const cron = docs.find((d) => d.kind === 'CronJob') as Cron;
        const env = cron.spec.jobTemplate.spec.template.spec.containers[0]!.env;
        const cluster = relative(join(root, 'deploy', 'overlays'), dir);
        expect(env.find((e) => e.name === 'CANARY_INSTANCE')?.value).toBe(cluster);
      }
      const file = join(out, `${name}.yaml`);
      await writeFile(file, text);
      files.push(file);
      expected[file] = docs.map((d) => d.kind);
    }
    const pods = prowPods(join(root, 'deploy', 'prow-periodic.yaml'));
    expect(pods.length).toBeGreaterThan(0);
    const prowFile = join(out, 'prow-periodic-pods.yaml');
    await writeFile(prowFile, pods.map((p) => stringify(p)).join('---\n'));
    files.push(prowFile);
    expected[prowFile] = pods.map(() => 'Pod');

    const { ran, results } = await kubectlValidate(ctx, files);
    for (const file of files) {
      const statuses = results[file] ?? [];
      const failures = statuses.filter((s) => s.status !== 'Success').map((s) => s.message);
      expect(failures, relative(work, file)).toEqual([]);
      expect(statuses, relative(work, file)).toHaveLength(expected[file]!.length);
    }
    expect(ran.code, ran.stderr).toBe(0);
    expect(expected[join(out, 'base.yaml')]).toEqual(['Namespace', 'ServiceAccount', 'CronJob']);
  });

  it('rejects a CronJob whose schedule is a number, and one with a field the API does not have', async (ctx) => {
    const base = parseAllDocuments(await kustomizeBuild(ctx, join(root, 'deploy', 'base'))).map(
      (d) => d.toJS() as { kind: string; spec: Record<string, unknown> },
    );
    const cron = base.find((d) => d.kind === 'CronJob')!;
    const numeric = join(work, 'schedule-number.yaml');
    await writeFile(numeric, stringify({ ...cron, spec: { ...cron.spec, schedule: 5 } }));
    const unknown = join(work, 'unknown-field.yaml');
    await writeFile(unknown, stringify({ ...cron, spec: { ...cron.spec, startingDeadlineSecond: 60 } }));

    const { ran, results } = await kubectlValidate(ctx, [numeric, unknown]);
    expect(ran.code).toBe(1);
    const causes = (file: string) => (results[file] ?? []).flatMap((s) => s.details?.causes ?? []);
    expect(causes(numeric)).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'spec.schedule' })]));
    const unknownField = { field: 'spec.startingDeadlineSecond', message: expect.stringMatching(/unknown field/) };
    expect(causes(unknown)).toEqual(expect.arrayContaining([expect.objectContaining(unknownField)]));
  });
});

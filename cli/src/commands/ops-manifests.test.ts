/**
 * The operations files are code too ("validate the manifests and workflows in tests: parse them, and check
 * the referenced commands and flags exist"): every YAML in deploy/ and .github/workflows/ parses; every
 * `registry-canary` invocation in them and in the Containerfile names a subcommand and flags the CLI really has
 * (introspected from the commander program `buildProgram` builds), with built-in target and suite names that exist;
 * Kubernetes `$(VAR)` references are defined; kustomize overlays point at real files and containers. Last, the
 * canary's own outputs: `run --metrics-textfile` and `--pushgateway` against a local gateway.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { suiteNames } from '../../../suites/index.js';
import { buildProgram, main } from '../main.js';
import { captureIo } from '../test-io.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const program = buildProgram(captureIo(), () => {});

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(f) ? [p] : [];
  });
}
const FILES = [...yamlFiles(join(root, 'deploy')), ...yamlFiles(join(root, '.github', 'workflows'))];
const docsOf = (file: string) =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Record<string, unknown>)
    .filter((d) => d !== null);

/** A registry-canary invocation found in a file: where, the words after the program name, every long flag nearby. */
interface Invocation {
  where: string;
  words: string[];
  flags: string[];
  /** flag → literal value, when the next word is one */
  values: Record<string, string>;
}

const isLiteral = (v: string) => !/\$\{\{|\$\(|\$[A-Z_{]|^"?\$/.test(v);
const unquote = (s: string) => s.replace(/^["']|["']$/g, '');

/** Words of a shell script, roughly: whitespace-separated, quotes kept together, `(`/`)` of arrays dropped. */
function shellWords(script: string): string[] {
  return (script.replace(/\\\n/g, ' ').match(/"[^"]*"|'[^']*'|[^\s()]+/g) ?? []).map(unquote);
}

function invocationsInScript(where: string, script: string): Invocation[] {
  if (!/registry-canary(?:\.js)?\b/.test(script)) return [];
  const words = shellWords(script);
  const at = words.findIndex((w) => /(^|\/)registry-canary(\.js)?$/.test(w));
  if (at < 0) return [];
  const after = words.slice(at + 1);
  const values: Record<string, string> = {};
  const flags: string[] = [];
  words.forEach((w, i) => {
    if (!/^--[a-z]/.test(w)) return;
    const flag = w.split('=')[0]!;
    flags.push(flag);
    const next = w.includes('=') ? w.slice(w.indexOf('=') + 1) : words[i + 1];
    if (next !== undefined && !next.startsWith('--') && isLiteral(next)) values[flag] = next;
  });
  return [{ where, words: after.filter((w) => !w.startsWith('--')), flags, values }];
}

function invocationFromArgs(where: string, args: string[]): Invocation {
  const flags: string[] = [];
  const values: Record<string, string> = {};
  args.forEach((a, i) => {
    if (!a.startsWith('--')) return;
    flags.push(a.split('=')[0]!);
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('--') && isLiteral(next)) values[a] = next;
  });
  return { where, words: args.filter((a) => !a.startsWith('--')), flags, values };
}

/** Containers that run the harness image: k8s pod specs and Prow job specs. */
function containersIn(node: unknown, path: string, out: { where: string; container: Record<string, unknown> }[] = []) {
  if (Array.isArray(node)) node.forEach((n, i) => containersIn(n, `${path}[${i}]`, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o.containers)) {
      for (const c of o.containers as Record<string, unknown>[])
        if (/registry-canary/.test(String(c.image ?? '')))
          out.push({ where: `${path}.containers[${String(c.name ?? '?')}]`, container: c });
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'containers') containersIn(v, `${path}.${k}`, out);
  }
  return out;
}

function allInvocations(): Invocation[] {
  const found: Invocation[] = [];
  for (const file of FILES) {
    const rel = relative(root, file);
    for (const doc of docsOf(file)) {
      if (doc.jobs && typeof doc.jobs === 'object') {
        for (const [job, j] of Object.entries(
          doc.jobs as Record<string, { steps?: { run?: string; name?: string }[] }>,
        )) {
          for (const [i, step] of (j.steps ?? []).entries())
            if (typeof step.run === 'string')
              found.push(...invocationsInScript(`${rel} jobs.${job}.steps[${i}]`, step.run));
        }
      }
      for (const { where, container } of containersIn(doc, rel)) {
        const args = (container.args ?? []) as string[];
        found.push(invocationFromArgs(`${rel} ${where}`, args));
      }
    }
  }
  const containerfile = readFileSync(join(root, 'Containerfile'), 'utf8');
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(containerfile);
  if (cmd) found.push(invocationFromArgs('Containerfile CMD', JSON.parse(cmd[1]!) as string[]));
  return found;
}

/** The (sub)command an invocation's leading words name, e.g. `ranges audit`. */
function commandFor(words: string[]): Command | undefined {
  let cmd: Command | undefined;
  let scope = program.commands;
  for (const w of words) {
    const next = scope.find((c) => c.name() === w);
    if (!next) break;
    cmd = next;
    scope = next.commands;
    if (scope.length === 0) break;
  }
  return cmd;
}

const TARGET_FLAGS = ['--target', '--candidate', '--baseline'];

/** What is wrong with an invocation, against the CLI as built. */
function problemsOf(inv: Invocation): string[] {
  const cmd = commandFor(inv.words);
  if (!cmd) return [`${inv.where}: no registry-canary subcommand in ${JSON.stringify(inv.words)}`];
  if (cmd.commands.length > 0) return [`${inv.where}: "${cmd.name()}" needs a subcommand`];
  const out: string[] = [];
  const known = new Set(cmd.options.map((o) => o.long).filter((x): x is string => x !== undefined));
  for (const flag of inv.flags)
    if (!known.has(flag)) out.push(`${inv.where}: registry-canary ${cmd.name()} has no ${flag}`);
  for (const f of TARGET_FLAGS)
    if (inv.values[f] !== undefined && !['local', 'sandbox', 'production'].includes(inv.values[f]!))
      out.push(`${inv.where}: ${f} ${inv.values[f]} is not a built-in target`);
  const suite = inv.values['--suite'];
  if (suite !== undefined && suite !== 'none')
    for (const s of suite.split(',')) if (!suiteNames().includes(s)) out.push(`${inv.where}: unknown suite ${s}`);
  return out;
}

describe('deploy/ and .github/workflows/', () => {
  it('finds the files to check', () => {
    const rel = FILES.map((f) => relative(root, f)).sort();
    const expected = [
      'deploy/base/canary-cronjob.yaml',
      'deploy/base/kustomization.yaml',
      'deploy/overlays/eks-us-east-2/kustomization.yaml',
      'deploy/prow-periodic.yaml',
      '.github/workflows/ci.yml',
      '.github/workflows/canary.yml',
      '.github/workflows/gate.yml',
    ];
    for (const f of expected) expect(rel).toContain(f);
  });

  it.each(FILES.map((f) => [relative(root, f), f]))('%s parses as YAML', (_rel, file) => {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    for (const d of docs) expect(d.errors.map((e) => e.message)).toEqual([]);
    expect(docs.length).toBeGreaterThan(0);
  });

  it('every registry-canary invocation names a real subcommand and real flags, with real targets and suites', () => {
    const found = allInvocations();
    const where = (i: Invocation) => i.where;
    expect(found.map(where)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\.github\/workflows\/canary\.yml jobs\.canary/),
        expect.stringMatching(/^\.github\/workflows\/gate\.yml jobs\.gate/),
        expect.stringMatching(/^deploy\/base\/canary-cronjob\.yaml/),
        expect.stringMatching(/^deploy\/prow-periodic\.yaml/),
        'Containerfile CMD',
      ]),
    );
    expect(found.flatMap(problemsOf)).toEqual([]);
  });

  it('the checker itself catches a wrong subcommand, flag, target and suite', () => {
    const bad = [
      ...invocationsInScript('bad.yml', 'npx registry-canary promote --candidate sandbox'),
      ...invocationsInScript(
        'bad.yml',
        'npx registry-canary run --target staging --suite routing,speed --pushgatway http://x',
      ),
      invocationFromArgs('bad.yaml', ['ranges']),
    ];
    expect(bad.flatMap(problemsOf)).toEqual([
      'bad.yml: no registry-canary subcommand in ["promote","sandbox"]',
      'bad.yml: registry-canary run has no --pushgatway',
      'bad.yml: --target staging is not a built-in target',
      'bad.yml: unknown suite speed',
      'bad.yaml: "ranges" needs a subcommand',
    ]);
  });

  it('matrix and dispatch inputs name real targets and suites', () => {
    const canary = docsOf(join(root, '.github/workflows/canary.yml'))[0] as {
      jobs: { canary: { strategy: { matrix: { target: string[]; suite: string[] } } } };
    };
    expect(canary.jobs.canary.strategy.matrix.target.every((t) => ['sandbox', 'production'].includes(t))).toBe(true);
    expect(canary.jobs.canary.strategy.matrix.suite.every((s) => suiteNames().includes(s))).toBe(true);
    const gate = docsOf(join(root, '.github/workflows/gate.yml'))[0] as {
      on: { workflow_dispatch: { inputs: Record<string, { options?: string[]; default?: string }> } };
    };
    for (const k of ['candidate', 'baseline'])
      for (const o of gate.on.workflow_dispatch.inputs[k]!.options!)
        expect(['local', 'sandbox', 'production']).toContain(o);
    expect(suiteNames()).toContain(gate.on.workflow_dispatch.inputs.suites!.default);
    // YAML's `on:` is not a boolean here (a YAML 1.1 trap), and schedules are valid five-field crons
    const schedule = (docsOf(join(root, '.github/workflows/canary.yml'))[0] as { on: { schedule: { cron: string }[] } })
      .on.schedule;
    for (const s of schedule) expect(s.cron.split(' ')).toHaveLength(5);
  });

  it("Kubernetes $(VAR) references in container args are defined (ARTIFACTS: by Prow's decoration)", () => {
    for (const file of FILES.filter((f) => f.includes('/deploy/'))) {
      for (const doc of docsOf(file)) {
        for (const { where, container } of containersIn(doc, relative(root, file))) {
          const env = new Set(((container.env ?? []) as { name: string }[]).map((e) => e.name));
          for (const a of (container.args ?? []) as string[]) {
            for (const m of a.matchAll(/\$\(([A-Z_][A-Z0-9_]*)\)/g))
              expect(
                env.has(m[1]!) || (m[1] === 'ARTIFACTS' && file.endsWith('prow-periodic.yaml')),
                `${where}: $(${m[1]}) is not defined`,
              ).toBe(true);
          }
        }
      }
    }
  });

  it('the CronJob is a valid batch/v1 CronJob running as non-root with a read-only root filesystem', () => {
    const docs = docsOf(join(root, 'deploy/base/canary-cronjob.yaml'));
    const cron = docs.find((d) => d.kind === 'CronJob') as {
      apiVersion: string;
      spec: {
        schedule: string;
        concurrencyPolicy: string;
        jobTemplate: {
          spec: {
            template: {
              spec: {
                restartPolicy: string;
                securityContext: { runAsNonRoot: boolean };
                containers: {
                  securityContext: { readOnlyRootFilesystem: boolean };
                  volumeMounts: { mountPath: string }[];
                }[];
              };
            };
          };
        };
      };
    };
    expect(cron.apiVersion).toBe('batch/v1');
    expect(cron.spec.schedule.split(' ')).toHaveLength(5);
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.containers[0]!.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.containers[0]!.volumeMounts.map((m) => m.mountPath)).toEqual(
      expect.arrayContaining(['/reports', '/tmp']),
    );
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'ServiceAccount', 'CronJob']);
  });

  it('kustomize overlays point at real resources and patch the canary container', () => {
    for (const file of FILES.filter((f) => /kustomization\.ya?ml$/.test(f))) {
      const k = docsOf(file)[0] as {
        resources?: string[];
        patches?: { patch: string; target: { kind: string; name: string } }[];
      };
      for (const r of k.resources ?? [])
        expect(existsSync(join(dirname(file), r)), `${relative(root, file)}: ${r}`).toBe(true);
      for (const p of k.patches ?? []) {
        const patch = parseAllDocuments(p.patch)[0]!.toJS() as {
          kind: string;
          spec: {
            jobTemplate: { spec: { template: { spec: { containers: { name: string; env: { name: string }[] }[] } } } };
          };
        };
        expect(patch.kind).toBe(p.target.kind);
        const c = patch.spec.jobTemplate.spec.template.spec.containers[0]!;
        expect(c.name).toBe('canary');
        for (const e of c.env)
          expect(['CANARY_TARGET', 'CANARY_VANTAGE', 'CANARY_SUITES', 'CANARY_INSTANCE', 'PUSHGATEWAY_URL']).toContain(
            e.name,
          );
      }
    }
  });
});

describe('Containerfile', () => {
  const text = readFileSync(join(root, 'Containerfile'), 'utf8');
  it('takes its base image by build argument and runs the bin launcher as an unprivileged user', () => {
    expect(text).toMatch(/^ARG BASE_IMAGE=\S+$/m);
    expect(text.match(/^FROM \$\{BASE_IMAGE\}/gm)).toHaveLength(2);
    expect(text).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/registry-canary\.js"\]$/m);
    expect(text).toMatch(/^USER 65532:65532$/m);
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
      for (const src of m[1]!.split(' ')) expect(existsSync(join(root, src)), `COPY ${src}`).toBe(true);
    expect(existsSync(join(root, 'bin', 'registry-canary.js'))).toBe(true);
  });
});

describe("the canary's outputs: run --metrics-textfile and --pushgateway", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ops-metrics-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes the textfile and pushes to the gateway even when the target is unreachable (exit 2 is a metric too)', async () => {
    const pushed: { url: string; body: string }[] = [];
    const gw = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        pushed.push({ url: req.url!, body });
        res.end();
      });
    });
    await new Promise<void>((resolve) => gw.listen(0, '127.0.0.1', resolve));
    try {
      const production = JSON.parse(await readFile(join(root, 'fixtures/targets/production.json'), 'utf8'));
      const target = join(dir, 'down.json');
      await writeFile(target, JSON.stringify({ ...production, name: 'down', url: 'http://127.0.0.1:9' }));
      const io = captureIo();
      const textfile = join(dir, 'registry_canary.prom');
      const code = await main(
        [
          'node',
          'registry-canary',
          'run',
          '--target-config',
          target,
          '--vantage',
          'aws:eu-west-3',
          '--suite',
          'routing',
          '--report',
          join(dir, 'r'),
          '--metrics-textfile',
          textfile,
          '--pushgateway',
          `http://127.0.0.1:${(gw.address() as AddressInfo).port}`,
        ],
        io,
      );
      expect(code).toBe(2);
      const text = await readFile(textfile, 'utf8');
      expect(text).toMatch(/^registry_canary_run_exit_code\{target="down",vantage="aws:eu-west-3"\} 2$/m);
      expect(text).toMatch(/^registry_canary_run_reachable\{target="down",vantage="aws:eu-west-3"\} 0$/m);
      expect(pushed).toHaveLength(1);
      expect(pushed[0]!.url).toBe('/metrics/job/registry-canary/instance/down-aws-eu-west-3');
      expect(pushed[0]!.body).toBe(text);
      expect(io.err()).toMatch(/speaking from aws-eu-west-3 \(35\.180\.1\.1: AWS eu-west-3, declared\)/);
      expect(io.err()).toMatch(
        /not covered: \d+ checks bound to \d+ other vantages, because egress mode cannot pose as another client/,
      );
    } finally {
      await new Promise<void>((resolve) => gw.close(() => resolve()));
    }
  });

  it.each([
    [['--pushgateway', 'pushgateway:9091'], /--pushgateway must be an http\(s\) URL/],
    [['--push-job', 'x'], /--push-job applies with --pushgateway only/],
    [['--ip-echo', 'checkip'], /--ip-echo must be an http\(s\) URL/],
  ])('usage: %j', async (args, message) => {
    const io = captureIo();
    expect(await main(['node', 'registry-canary', 'run', '--target', 'production', ...args], io)).toBe(64);
    expect(io.err()).toMatch(message);
  });
});

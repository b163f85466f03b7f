/**
 * The user surface as the docs show it: every `registry-canary` command in a ```sh block of README.md and docs/*.md
 * is run through the built CLI (bin/registry-canary.js → dist/), checking its exit code and that its output says
 * what the docs say. One local stack is shared: `--target local` and the target files the examples name are its
 * description. A command that cannot run here (the internet, a second stack, a server that runs until a signal) is
 * listed with the reason and the test that covers it; an example in no list fails this test, so a new example is
 * either run or explained.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type StartedStack } from '../../harness/src/index.js';
import { fromPackageRoot } from '../../harness/src/index.js';

/** Every `registry-canary ...` command line of the ```sh blocks, with the file it is in (comments and `npx` dropped). */
export function docExamples(files: readonly string[]): { file: string; command: string }[] {
  const out: { file: string; command: string }[] = [];
  for (const file of files) {
    const text = readFileSync(fromPackageRoot(file), 'utf8');
    for (const block of text.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
      for (const raw of block[1]!.replace(/\\\n/g, ' ').split('\n')) {
        const line = raw.replace(/\s+#.*$/, '').trim();
        const at = line.indexOf('registry-canary ');
        if (at < 0 || line.startsWith('#')) continue;
        out.push({ file, command: line.slice(at).replace(/\s+/g, ' ').trim() });
      }
    }
  }
  return out;
}

interface Ctx {
  /** the working directory the commands run in, holding the example files */
  work: string;
  /** the shared stack's target description */
  targetFile: string;
}
interface Runnable {
  /** the argv after `registry-canary`, with what the example leaves to the reader filled in */
  argv(ctx: Ctx): string[];
  code: number;
  /** what the docs say the command prints (stdout unless `stderr`) */
  says: RegExp[];
  stderr?: RegExp[];
  why?: string;
}
type Plan = Runnable | { skip: string };

const SUITE_NOTE = 'the routing suite only, to keep the time modest (the full run is cli/src/commands/run.int.test.ts)';
const PLANS: Record<string, Plan> = {
  'registry-canary run --target local': {
    argv: (c) => [
      'run',
      '--target-config',
      c.targetFile,
      '--suite',
      'routing',
      '--report',
      join(c.work, 'reports', 'readme'),
    ],
    code: 0,
    says: [/verdict: exit 0: \d+ passed/],
    why: `the shared local stack; ${SUITE_NOTE}`,
  },
  'registry-canary --version': {
    argv: () => ['--version'],
    code: 0,
    says: [/^registry-canary \d+\.\d+\.\d+ \(harness and redirector\)$/m],
  },
  "registry-canary explain 15.193.0.5 '[2600:1f14::1]:443' 15.193.0.0/24": {
    argv: () => ['explain', '15.193.0.5', '[2600:1f14::1]:443', '15.193.0.0/24'],
    code: 0,
    says: [
      /^15\.193\.0\.5 {2}most-specific: AWS ap-south-1 15\.193\.0\.0\/24/m,
      /^\[2600:1f14::1\]:443: 2600:1f14::1 {2}AWS us-west-2/m,
      /^15\.193\.0\.0\/24 \(last address\): 15\.193\.0\.255 /m,
    ],
    stderr: [/note: https:\/\/d1be1w964nk82h\.cloudfront\.net is archeio's compiled-in default host/],
  },
  "registry-canary run --target local --suite routing --check 'routing.*manifest'": {
    argv: (c) => [
      'run',
      '--target-config',
      c.targetFile,
      '--suite',
      'routing',
      '--check',
      'routing.*manifest',
      '--report',
      join(c.work, 'reports', 'check'),
    ],
    code: 0,
    says: [/verdict: exit 0: \d+ passed/],
    why: 'the shared local stack',
  },
  'registry-canary gate --candidate sandbox --baseline production --vantage auto --report reports/gate': {
    skip: 'the real sandbox and production over the internet; the same logic between loopback twins: cli/src/commands/gate-twins.int.test.ts',
  },
  'registry-canary gate --candidate-config new.json --baseline-config old.json --suite routing,integrity': {
    argv: (c) => [
      'gate',
      '--candidate-config',
      c.targetFile,
      '--baseline-config',
      c.targetFile,
      '--suite',
      'routing',
      '--report',
      join(c.work, 'reports', 'gate-files'),
    ],
    code: 0,
    says: [/^# Promotion gate: local → local: PROMOTE \(exit 0\)/m, /behaviours compared, no unaccepted difference/],
    why: `new.json and old.json are both the shared stack (identical sides promote); ${SUITE_NOTE}`,
  },
  'registry-canary gate --candidate local --candidate-semantics most-specific --baseline local --baseline-semantics archeio':
    {
      skip: 'starts two more local stacks; exactly this gate (blocks on 3 of 463 behaviours): cli/src/commands/gate.int.test.ts',
    },
  'registry-canary ranges audit': {
    argv: () => ['ranges', 'audit'],
    code: 0,
    says: [/^shadowed prefixes: \d+/m, /^audit: no problem found$/m],
  },
  'registry-canary ranges audit --against old/ --bucket-map my-map.json --json': {
    argv: () => ['ranges', 'audit', '--against', 'old/', '--bucket-map', 'my-map.json', '--json'],
    code: 0,
    says: [/"drift": \{/, /"problems": \[\]/],
    why: 'old/ holds a copy of the bundled publications, my-map.json the bundled bucket map',
  },
  'registry-canary ranges update --out fixtures/ip-ranges/raw --azure-url https://download.microsoft.com/…/ServiceTags_Public_20261201.json':
    {
      skip: 'fetches the live publications from the internet; against a local server: cli/src/commands/ranges.test.ts',
    },
  'registry-canary replay --ip 15.193.0.5 --image pause:3.10': {
    argv: () => ['replay', '--ip', '15.193.0.5', '--image', 'pause:3.10'],
    code: 0,
    says: [/^== 15\.193\.0\.5 pause:3\.10$/m, /route differently under most-specific and archeio/],
  },
  'registry-canary replay --ip 15.193.0.5,35.180.1.1 --image pause:3.10 --brief': {
    skip: 'a second replay world (its own stack); the same command: cli/src/commands/replay.int.test.ts',
  },
  'registry-canary replay --log decisions.jsonl --protocol-compat archeio --fail-on-difference': {
    skip: 'a third replay world; a decision log replayed: cli/src/commands/replay.int.test.ts',
  },
  'registry-canary run --target local --suite oci-conformance': {
    skip: 'builds and runs the official conformance program twice (a minute or more); exactly this command: suites/oci-conformance/oci-conformance.int.test.ts',
  },
  'registry-canary cost --traffic fixtures/traffic/example.yaml': {
    argv: () => ['cost', '--traffic', fromPackageRoot('fixtures', 'traffic', 'example.yaml')],
    code: 0,
    says: [
      /^semantics most-specific: /m,
      /^semantics archeio: /m,
      /archeio semantics cost \$[\d,.]+ more than most-specific/,
    ],
  },
  'registry-canary cost --traffic mix.yaml --prices prices.json --json': {
    argv: () => ['cost', '--traffic', 'mix.yaml', '--prices', 'prices.json', '--json'],
    code: 0,
    says: [/"prices": \{/, /"default-host": 0\.05/, /"semantics": "archeio"/],
    why: 'mix.yaml is the example mix, prices.json sets default-host to 0.05',
  },
  'registry-canary cost --traffic mix.yaml --bucket-map my-map.json --semantics archeio': {
    argv: () => ['cost', '--traffic', 'mix.yaml', '--bucket-map', 'my-map.json', '--semantics', 'archeio'],
    code: 0,
    says: [/^semantics archeio: /m],
  },
  'registry-canary stack up --json --upstream docker-registry > $W/target.json': {
    skip: 'runs until a signal, a second stack; as a tool runs it: cli/src/commands/stack.int.test.ts',
  },
  'registry-canary run --target-config $W/target-extra.json --report $W/report': {
    argv: (c) => ['run', '--target-config', c.targetFile, '--suite', 'routing', '--report', join(c.work, 'report')],
    code: 0,
    says: [/verdict: exit 0: \d+ passed/],
    stderr: [/^reports: .*index\.html/m],
    why: `target-extra.json is the shared stack's description (seeding it: suites/seeding/extra-content.int.test.ts); ${SUITE_NOTE}`,
  },
};

const DOCS = [
  'README.md',
  ...readdirSync(fromPackageRoot('docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const EXAMPLES = docExamples(DOCS);

function cli(argv: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fromPackageRoot('bin', 'registry-canary.js'), ...argv], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

let stack: StartedStack | undefined;
const ctx = {} as Ctx;
beforeAll(async () => {
  ctx.work = mkdtempSync(join(tmpdir(), 'docs-examples-'));
  const raw = fromPackageRoot('fixtures', 'ip-ranges', 'raw');
  mkdirSync(join(ctx.work, 'old'));
  for (const f of ['aws-ip-ranges.json', 'gcp-cloud.json', 'azure-service-tags.json'])
    copyFileSync(join(raw, f), join(ctx.work, 'old', f));
  copyFileSync(fromPackageRoot('fixtures', 'bucket-map.json'), join(ctx.work, 'my-map.json'));
  copyFileSync(fromPackageRoot('fixtures', 'traffic', 'example.yaml'), join(ctx.work, 'mix.yaml'));
  writeFileSync(join(ctx.work, 'prices.json'), JSON.stringify({ 'default-host': 0.05 }));
  stack = await startStack({ bigLayerMiB: 1 });
  ctx.targetFile = join(ctx.work, 'target.json');
  writeFileSync(ctx.targetFile, JSON.stringify(stack.target, null, 2));
}, 300_000);
afterAll(async () => {
  await stack?.stop();
  if (ctx.work) rmSync(ctx.work, { recursive: true, force: true });
});

describe("the docs' examples", () => {
  it('finds examples, and every one is either run here or skipped with its reason', () => {
    expect(EXAMPLES.length).toBeGreaterThan(10);
    const unplanned = EXAMPLES.filter((e) => PLANS[e.command] === undefined).map((e) => `${e.file}: ${e.command}`);
    expect(unplanned, 'add each to PLANS in cli/src/docs-examples.int.test.ts').toEqual([]);
    const stale = Object.keys(PLANS).filter((c) => !EXAMPLES.some((e) => e.command === c));
    expect(stale, 'examples no longer in the docs').toEqual([]);
  });

  const runnable = EXAMPLES.filter((e) => PLANS[e.command] !== undefined && !('skip' in PLANS[e.command]!));
  it.each(runnable.map((e) => [e.command, e.file] as const))('%s (%s)', { timeout: 300_000 }, async (command) => {
    const plan = PLANS[command] as Runnable;
    const r = await cli(plan.argv(ctx), ctx.work);
    expect(r.code, `${r.out.slice(-2000)}\n${r.err.slice(-2000)}`).toBe(plan.code);
    for (const re of plan.says) expect(r.out).toMatch(re);
    for (const re of plan.stderr ?? []) expect(r.err).toMatch(re);
    // nothing written beside the examples' own files but what the command was told to write
    expect(
      readdirSync(ctx.work).filter(
        (f) => !['old', 'my-map.json', 'mix.yaml', 'prices.json', 'target.json', 'reports', 'report'].includes(f),
      ),
    ).toEqual([]);
  });
});

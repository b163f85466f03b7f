import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StackError, type StackOptions, type StartedStack } from '../../../harness/src/index.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';
import { makeStackCommand, type StackCommandDeps } from './stack.js';

const TARGET = {
  name: 'local',
  url: 'http://127.0.0.1:1',
  ipMode: 'xff',
  semantics: 'most-specific',
  upstream: 'http://127.0.0.1:2',
  upstreamPath: '',
  signatureUpstream: null,
  infoUrl: 'http://127.0.0.1:3/info',
  privacyUrl: 'http://127.0.0.1:3/privacy',
  bucketMap: { default: 'http://127.0.0.1:4/b', regions: {} },
  s3: { endpoint: 'http://127.0.0.1:4', buckets: ['b'] },
  vantages: [{ name: 'aws-us-east-1', ip: '44.192.0.1', cloud: 'AWS', region: 'us-east-1', url: 'http://127.0.0.1:5' }],
  images: [],
  mirrorPlan: { buckets: {} },
  faultsUrl: 'http://127.0.0.1:6',
};

let tempDir: string;
beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'stack-cmd-test-'));
});
afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

/** A StartedStack stand-in: just what the command reads. */
function fakeStack(opts: { failTeardown?: boolean } = {}): StartedStack & { stops: number } {
  const s = {
    stops: 0,
    spec: { engine: 'process', upstream: 'docker-registry' },
    target: TARGET,
    timings: { readyMs: 1234 },
    redirector: { url: TARGET.url, adminUrl: 'http://127.0.0.1:7' },
    upstreams: { registry: { directUrl: 'http://127.0.0.1:8', url: TARGET.upstream }, signature: null },
    buckets: { s3rverUrl: 'http://127.0.0.1:9' },
    tempDir,
    async stop() {
      s.stops++;
      return {
        durationMs: 1,
        failures: opts.failTeardown ? [{ step: 'redirector', error: new Error('would not die') }] : [],
      };
    },
  };
  return s as unknown as StartedStack & { stops: number };
}

/** Runs `stack up ...` with stand-in deps, mapping errors to exit codes as cli/src/main.ts does. */
async function run(args: string[], deps: Partial<StackCommandDeps> & { fire?: (fire: (s: string) => void) => void }) {
  const io = captureIo();
  let code: number = ExitCode.ok;
  const program = new Command('registry-canary')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  let fire: (s: string) => void = () => {};
  let unsubscribed = false;
  makeStackCommand({
    startStack: deps.startStack ?? (async () => fakeStack()),
    onStopSignal: (cb) => {
      fire = cb;
      return () => (unsubscribed = true);
    },
  })(program, io, (c) => (code = c));
  const done = program.parseAsync(['node', 'registry-canary', 'stack', 'up', ...args]).then(
    () => code,
    (err: unknown) =>
      err instanceof CommanderError
        ? ExitCode.usage
        : err instanceof CliError
          ? (io.stderr.write(err.message), err.exitCode)
          : Promise.reject(err),
  );
  // the command waits for a signal: deliver one once it is waiting
  setTimeout(() => (deps.fire ? deps.fire(fire) : fire('SIGINT')), 20);
  const exit = await done;
  return { exit, out: io.out(), err: io.err(), unsubscribed: () => unsubscribed };
}

describe('stack up (with a stand-in stack)', () => {
  it('--json: stdout carries only the target description; SIGINT tears down; exit 0', async () => {
    const stack = fakeStack();
    let options: StackOptions | undefined;
    const r = await run(['--json', '--semantics', 'archeio', '--big-layer-mib', '8', '--upstream', 'embedded'], {
      startStack: async (o) => {
        options = o;
        return stack;
      },
    });
    expect(r.exit).toBe(0);
    expect(JSON.parse(r.out)).toEqual(TARGET);
    expect(r.err).toMatch(/SIGINT: tearing down/);
    expect(stack.stops).toBe(1);
    expect(options).toMatchObject({
      engine: 'process',
      semantics: 'archeio',
      bigLayerMiB: 8,
      upstream: 'embedded',
      ipMode: 'xff',
      signatureUpstream: true,
      seedCache: true,
    });
    expect(r.unsubscribed()).toBe(true);
    expect(existsSync(join(tempDir, 'target.json'))).toBe(true);
  });

  it('without --json prints a readable summary with the vantage ports', async () => {
    const r = await run([], {});
    expect(r.exit).toBe(0);
    expect(r.out).toMatch(/local stack ready in 1\.2 s/);
    expect(r.out).toMatch(/aws-us-east-1\s+http:\/\/127\.0\.0\.1:5\s+44\.192\.0\.1\s+AWS us-east-1/);
    expect(r.out).toMatch(/target description: .*target\.json/);
  });

  it('a second signal during teardown is absorbed, not fatal', async () => {
    const r = await run(['--json'], {
      fire: (fire) => {
        fire('SIGTERM');
        fire('SIGINT');
      },
    });
    expect(r.exit).toBe(0);
    expect(r.err).toMatch(/still tearing down/);
  });

  it('a signal during start-up aborts it: no output, exit 0', async () => {
    const r = await run(['--json'], {
      startStack: (o) =>
        new Promise((_, reject) =>
          o.signal!.addEventListener('abort', () => reject(new StackError('STACK_ABORTED', 'aborted'))),
        ),
    });
    expect(r.exit).toBe(0);
    expect(r.out).toBe('');
  });

  it('maps stack errors to exit codes: invalid option 64, missing tool or broken data 2', async () => {
    const bad = await run([], {
      startStack: async () => Promise.reject(new StackError('STACK_OPTION_INVALID', 'nope')),
    });
    expect(bad.exit).toBe(ExitCode.usage);
    const missing = await run([], {
      startStack: async () => Promise.reject(new StackError('STACK_TOOL_MISSING', 'no docker-registry')),
    });
    expect(missing.exit).toBe(ExitCode.unreachable);
    expect(missing.err).toMatch(/stack up: no docker-registry/);
  });

  it('a broken output pipe (EPIPE) tears the stack down instead of crashing', async () => {
    const stack = fakeStack();
    const io = captureIo();
    let code: number = ExitCode.ok;
    const program = new Command('registry-canary').exitOverride();
    makeStackCommand({ startStack: async () => stack, onStopSignal: () => () => {} })(program, io, (c) => (code = c));
    const done = program.parseAsync(['node', 'registry-canary', 'stack', 'up', '--json']);
    setTimeout(() => io.stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })), 20);
    await done;
    expect(code).toBe(ExitCode.ok);
    expect(stack.stops).toBe(1);
    expect(io.err()).toMatch(/output closed: tearing down/);
  });

  it('exits 1 when teardown leaves something behind', async () => {
    const r = await run(['--json'], { startStack: async () => fakeStack({ failTeardown: true }) });
    expect(r.exit).toBe(ExitCode.failed);
    expect(r.err).toMatch(/teardown: redirector failed: would not die/);
  });
});

describe('stack up flag validation (through main, before anything starts)', () => {
  const cases: [string[], RegExp][] = [
    [['--engine', 'vm'], /--engine <engine>' argument 'vm' is invalid\. Allowed choices are process, container/],
    [['--semantics', 'longest'], /--semantics <semantics>' argument 'longest' is invalid/],
    [['--upstream', 'quay'], /Allowed choices are auto, ggcr, docker-registry, embedded/],
    [
      ['--big-layer-mib', '0'],
      /--big-layer-mib <n>' argument '0' is invalid\. must be a whole number of MiB from 1 to 4096/,
    ],
    [['--big-layer-mib', '1.5'], /argument '1\.5' is invalid/],
    [['--ip-mode', 'egress'], /Allowed choices are xff, edge/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ')} → 64`, async () => {
      const io = captureIo();
      expect(await main(['node', 'registry-canary', 'stack', 'up', ...args], io)).toBe(64);
      expect(io.err()).toMatch(message);
      expect(io.out()).toBe('');
    });
  }
});

/**
 * `registry-canary stack up`: starts the local stack, prints its target description, runs until SIGINT/SIGTERM and
 * tears everything down (docs/local-stack.md). With --json, stdout carries only the JSON document; progress goes to
 * stderr, so `registry-canary stack up --json > target.json &` hands the description to another tool.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { StackError, type StackOptions, type StartedStack } from '../../../harness/src/index.js';
import type { CliIo } from '../cli-io.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { RegisterCommand } from '../cli-io.js';

export interface StackCommandDeps {
  startStack: (options: StackOptions) => Promise<StartedStack>;
  /**
   * Calls `onSignal` for each SIGINT/SIGTERM until the returned function is called. The real one installs process
   * signal handlers; tests pass a stand-in they trigger themselves.
   */
  onStopSignal: (onSignal: (signal: string) => void) => () => void;
}

export const processSignals: StackCommandDeps['onStopSignal'] = (onSignal) => {
  const handler = (signal: NodeJS.Signals) => onSignal(signal);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('SIGHUP', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    process.off('SIGHUP', handler);
  };
};

function bigLayerMiB(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 4096) {
    throw new InvalidArgumentError('must be a whole number of MiB from 1 to 4096.');
  }
  return Number(value);
}

interface UpFlags {
  json?: boolean;
  engine: 'process' | 'container';
  semantics: 'most-specific' | 'archeio';
  bigLayerMib?: number;
  upstream: 'auto' | 'docker-registry' | 'embedded' | 'ggcr';
  ipMode: 'xff' | 'edge';
  signatureUpstream: boolean;
  freshSeed?: boolean;
  verbose?: boolean;
}

function summary(stack: StartedStack, targetFile: string): string {
  const t = stack.target;
  const width = Math.max(...t.vantages.map((v) => v.name.length));
  const lines = [
    `local stack ready in ${(stack.timings.readyMs / 1000).toFixed(1)} s (${stack.spec.engine} engine, ${stack.spec.upstream} upstream, ${t.semantics})`,
    '',
    `  redirector        ${t.url}   (admin ${stack.redirector.adminUrl})`,
    `  upstream          ${t.upstream}   (registry itself: ${stack.upstreams.registry.directUrl})`,
    ...(stack.upstreams.signature ? [`  signature         ${stack.upstreams.signature.url}`] : []),
    `  buckets           ${t.s3?.endpoint}/<bucket>   (${t.s3?.buckets.length} buckets; s3rver ${stack.buckets.s3rverUrl}, keys S3RVER/S3RVER)`,
    `  fault control     ${String(t.faultsUrl)}   (see docs/local-stack.md)`,
    `  info / privacy    ${t.infoUrl}  ${t.privacyUrl}`,
    '',
    '  vantage edge ports (each stamps its address into X-Forwarded-For):',
    ...t.vantages.map(
      (v) =>
        `    ${v.name.padEnd(width)}  ${v.url}  ${v.ip}  ${v.cloud ?? 'internet'}${v.region ? ` ${v.region}` : ''}`,
    ),
    '',
    `  target description: ${targetFile}`,
    '  Ctrl-C stops the stack and removes everything it created.',
    '',
  ];
  return lines.join('\n');
}

export function makeStackCommand(deps: StackCommandDeps): RegisterCommand {
  return (program: Command, io: CliIo, setExit: (code: number) => void) => {
    const stack = program.command('stack').description('the local stack: registry.k8s.io’s world on one machine');
    stack
      .command('up')
      .description('start the local stack, print its target description, and run until SIGINT/SIGTERM')
      .option('--json', 'print only the target description (JSON) on stdout; progress goes to stderr')
      .addOption(
        new Option('--engine <engine>', 'run components as local processes or as containers')
          .choices(['process', 'container'])
          .default('process'),
      )
      .addOption(
        new Option('--semantics <semantics>', 'the redirector’s ROUTING_SEMANTICS')
          .choices(['most-specific', 'archeio'])
          .default('most-specific'),
      )
      .addOption(
        new Option('--big-layer-mib <n>', 'size of the large fixture layer in MiB (default 64)').argParser(bigLayerMiB),
      )
      .addOption(
        new Option(
          '--upstream <kind>',
          "upstream registry: auto = ggcr (go-containerregistry's, with referrers and tag pagination) when Go is " +
            'installed, else docker-registry when installed, else embedded',
        )
          .choices(['auto', 'ggcr', 'docker-registry', 'embedded'])
          .default('auto'),
      )
      .addOption(
        new Option('--ip-mode <mode>', 'the ipMode the description declares').choices(['xff', 'edge']).default('xff'),
      )
      .option('--no-signature-upstream', 'do not run a second registry as SIGNATURE_UPSTREAM_ENDPOINT')
      .option(
        '--fresh-seed',
        'seed registries and buckets the real way (push API, S3 PutObject), ignoring seed snapshots',
      )
      .option('--verbose', 'copy every line the child processes print to stderr')
      .addHelpText(
        'after',
        [
          '',
          'Extra content (docs/local-stack.md, "Seeding extra content"): with the docker-registry upstream,',
          "`skopeo copy --dest-tls-verify=false` an image into the description's `upstream`, PutObject its",
          'blobs into buckets at `containers/images/<digest>` (endpoint `s3.endpoint`, credentials',
          "`stack.s3Credentials`), then list the image in `images` and the blobs under each bucket's base in",
          '`mirrorPlan`, and run `registry-canary run --target-config FILE`.',
        ].join('\n'),
      )
      .action(async (flags: UpFlags) => {
        const closed = { stdout: false, stderr: false };
        const progress = (m: string) => {
          if (!closed.stderr) io.stderr.write(`stack: ${m}\n`);
        };
        const abort = new AbortController();
        let started: StartedStack | null = null;
        let stopRequested: (signal: string) => void = () => {};
        const stopSignal = new Promise<string>((resolve) => (stopRequested = resolve));
        let signals = 0;
        const requestStop = (signal: string) => {
          signals++;
          if (signals === 1) {
            progress(`${signal}: tearing down`);
            abort.abort();
            stopRequested(signal);
          } else {
            // a second Ctrl-C must not kill us half way: that is what leaves orphans behind
            progress(`${signal}: still tearing down, please wait`);
          }
        };
        const offSignals = deps.onStopSignal(requestStop);
        // whoever reads our output went away (`stack up --json | head`): an EPIPE must end the stack through its
        // teardown, not crash the process and orphan every child
        const onStdoutError = () => {
          closed.stdout = true;
          requestStop('output closed');
        };
        const onStderrError = () => {
          closed.stderr = true;
          requestStop('output closed');
        };
        io.stdout.on('error', onStdoutError);
        io.stderr.on('error', onStderrError);
        try {
          try {
            started = await deps.startStack({
              engine: flags.engine,
              semantics: flags.semantics,
              upstream: flags.upstream,
              ipMode: flags.ipMode,
              signatureUpstream: flags.signatureUpstream,
              seedCache: flags.freshSeed !== true,
              ...(flags.bigLayerMib !== undefined ? { bigLayerMiB: flags.bigLayerMib } : {}),
              log: progress,
              ...(flags.verbose
                ? { processOutput: (name: string, line: string) => io.stderr.write(`[${name}] ${line}\n`) }
                : {}),
              signal: abort.signal,
            });
          } catch (err) {
            if (err instanceof StackError) {
              if (err.code === 'STACK_ABORTED') {
                setExit(ExitCode.ok);
                return;
              }
              const code = err.code === 'STACK_OPTION_INVALID' ? ExitCode.usage : ExitCode.unreachable;
              throw new CliError(`stack up: ${err.message}`, code);
            }
            throw err;
          }
          const json = `${JSON.stringify(started.target, null, 2)}\n`;
          const targetFile = join(started.tempDir, 'target.json');
          await writeFile(targetFile, json);
          if (!closed.stdout) io.stdout.write(flags.json ? json : summary(started, targetFile));
          if (!abort.signal.aborted) await stopSignal;
          const stopped = await started.stop();
          started = null;
          if (stopped.failures.length > 0) {
            for (const f of stopped.failures)
              progress(`teardown: ${f.step} failed: ${(f.error as Error)?.message ?? String(f.error)}`);
            setExit(ExitCode.failed);
            return;
          }
          progress(`stopped; everything removed (${Math.round(stopped.durationMs)} ms)`);
          setExit(ExitCode.ok);
        } finally {
          if (started) await started.stop();
          offSignals();
          io.stdout.off('error', onStdoutError);
          io.stderr.off('error', onStderrError);
        }
      });
  };
}

export const registerStack: RegisterCommand = makeStackCommand({
  // loaded on use: the stack pulls in the AWS SDK, which every other command would otherwise pay for at start-up
  // (the SDK's "node >= 22 from 2027" notice is switched off where the stack makes its S3 client: s3-bucket-server.ts)
  startStack: async (options) => (await import('../../../harness/src/index.js')).startStack(options),
  onStopSignal: processSignals,
});

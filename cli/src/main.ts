import { Command, CommanderError } from 'commander';
import { CliError, ExitCode } from './exit-codes.js';
import { commands } from './commands/index.js';
import { packageVersion } from '../../harness/src/index.js';
import type { CliIo } from './cli-io.js';

export type { CliIo } from './cli-io.js';

/** The width help is wrapped to: the terminal's, within 60-120 columns, else 100. */
export function helpWidthOf(stream: NodeJS.WritableStream): number {
  const tty = stream as { isTTY?: boolean; columns?: number };
  const columns = tty.isTTY ? tty.columns : undefined;
  return columns === undefined ? 100 : Math.min(120, Math.max(60, columns));
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('registry-canary')
    .description(
      'Redirector for registry.k8s.io, plus the conformance and canary harness that checks any such redirector.',
    )
    .version(`registry-canary ${packageVersion()} (harness and redirector)`, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    // wrap to the terminal (100 columns when not a terminal), even beside serve's long flag names
    .configureHelp({ helpWidth: helpWidthOf(io.stdout), minWidthToWrap: 24 })
    .exitOverride();
  for (const register of commands) register(program, io, setExit);
  return program;
}

/** Runs the CLI and resolves to the process exit code (never calls process.exit itself). */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with exitCode 0; every other commander error is a usage error.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof CliError) {
      io.stderr.write(`registry-canary: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`registry-canary: ${(err as Error)?.stack ?? String(err)}\n`);
    return ExitCode.failed;
  }
}

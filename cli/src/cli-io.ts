import type { Command } from 'commander';

/** Command context: where each command writes, so tests can capture output without a subprocess. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

/** Each command module registers its subcommand; setExit records the exit code of the action. */
export type RegisterCommand = (program: Command, io: CliIo, setExit: (code: number) => void) => void;

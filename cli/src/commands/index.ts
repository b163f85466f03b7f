import type { Command } from 'commander';
import type { CliIo } from '../main.js';

/** Each command module registers its subcommand; setExit records the exit code of the action. */
export type RegisterCommand = (program: Command, io: CliIo, setExit: (code: number) => void) => void;

export const commands: RegisterCommand[] = [];

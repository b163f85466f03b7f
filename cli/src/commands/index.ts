import type { Command } from 'commander';
import type { CliIo } from '../main.js';
import { registerStack } from './stack.js';
import { registerServe } from './serve.js';
import { registerExplain } from './explain.js';
import { registerCost } from './cost.js';
import { registerRun } from './run.js';
import { registerGate } from './gate.js';
import { registerReplay } from './replay.js';
import { registerRanges } from './ranges.js';

/** Each command module registers its subcommand; setExit records the exit code of the action. */
export type RegisterCommand = (program: Command, io: CliIo, setExit: (code: number) => void) => void;

export const commands: RegisterCommand[] = [
  registerStack,
  registerServe,
  registerExplain,
  registerCost,
  registerRun,
  registerGate,
  registerReplay,
  registerRanges,
];

import type { RegisterCommand } from '../cli-io.js';
import { registerStack } from './stack.js';
import { registerServe } from './serve.js';
import { registerExplain } from './explain.js';
import { registerCost } from './cost.js';
import { registerRun } from './run.js';
import { registerGate } from './gate.js';
import { registerReplay } from './replay.js';
import { registerRanges } from './ranges.js';

export type { RegisterCommand } from '../cli-io.js';

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

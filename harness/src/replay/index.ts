/** `registry-canary replay`'s public surface: inputs, worlds, the replay and its text form. */
export {
  ReplayInputError,
  parseDecisionLog,
  pullsFrom,
  type LoggedDecision,
  type ParsedLog,
  type ReplayItem,
} from './replay-input.js';
export {
  startReplayWorlds,
  type ReplayWorld,
  type ReplayWorldOptions,
  type StartedReplayWorlds,
} from './replay-worlds.js';
export {
  runReplay,
  semanticsDifferences,
  type ExplainView,
  type ReplayChain,
  type ReplayOptions,
  type ReplayResult,
  type ReplayedItem,
  type SemanticsDifference,
  type WorldReplay,
} from './run-replay.js';
export { replayText, type ReplayTextOptions } from './replay-report.js';

/**
 * Errors the local stack raises. Each carries a stable `code` so callers (the CLI, the suites' global setup) can
 * decide what to do without matching message text. Messages are written for a person: they name the component,
 * the setting and, for a process, the last lines it printed.
 */
export type StackErrorCode =
  /** a component did not become ready before its deadline */
  | 'STACK_WAIT_TIMEOUT'
  /** a child process exited while the stack was starting or waiting on it */
  | 'STACK_PROCESS_EXITED'
  /** the vantage data disagrees with the bundled range publications */
  | 'STACK_VANTAGE_INVALID'
  /** the mirror plan is malformed or names something the fixture set does not have */
  | 'STACK_MIRROR_PLAN_INVALID'
  /** a required program (docker-registry, podman, ...) is not installed */
  | 'STACK_TOOL_MISSING'
  /** the container engine cannot be used on this machine */
  | 'STACK_ENGINE_UNAVAILABLE'
  /** an option passed to startStack is invalid */
  | 'STACK_OPTION_INVALID'
  /** seeding the upstream or the buckets failed */
  | 'STACK_SEED_FAILED'
  /** start-up was aborted (signal or AbortSignal) */
  | 'STACK_ABORTED';

export class StackError extends Error {
  constructor(
    readonly code: StackErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StackError';
  }
}

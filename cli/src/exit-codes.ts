/**
 * Exit codes every registry-canary command uses, so a CI job can gate on them (the rule, documented once for users:
 * docs/harness.md "Exit codes"). 64 is EX_USAGE from sysexits(3).
 *
 * - 64: the command line itself is wrong: an unknown or missing flag, a value that is not valid for its flag or
 *   argument (an invalid IP address included), flags that conflict, a name that matches nothing.
 * - 2: what the command line points at cannot be used: a file that is missing, unreadable or invalid (a target
 *   description, a traffic mix, range data, a bucket map, a decision log), a target or stack that is unreachable or
 *   does not start, a port that is busy, invalid configuration from the environment.
 * - 1: the command ran and found a problem: a check failed, the gate blocks, the audit found a problem,
 *   `replay --fail-on-difference` saw a difference.
 */
export const ExitCode = {
  ok: 0,
  /** the command ran and found a problem (a check failed, the gate blocks, ...) */
  failed: 1,
  /** what the command line points at cannot be used: a target unreachable, a file missing or invalid */
  unreachable: 2,
  /** the same code as `unreachable`, for a file or setting that is missing or invalid */
  misconfigured: 2,
  usage: 64,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that carries the exit code the process should end with and a message meant for a person. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

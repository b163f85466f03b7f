/**
 * Exit codes every registry-canary command uses, so a CI job can gate on them.
 * 64 is EX_USAGE from sysexits(3).
 */
export const ExitCode = {
  ok: 0,
  /** a conformance, routing or integrity check failed (or, for serve/explain, a runtime failure) */
  failed: 1,
  /** the target is unreachable or misconfigured; invalid configuration */
  unreachable: 2,
  usage: 64,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that carries the exit code the process should end with and a message meant for a person. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = ExitCode.usage) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * External command-line clients (skopeo, ctr, containerd, docker, chromium): where they are, and what a check does
 * when one is missing. The Go programs (crane, regctl, ...) are built by go-programs.ts under the same rule.
 *
 * The rule (docs/suites.md): under `CI=true` a check that needs skopeo, containerd or chromium FAILS when the tool is
 * missing, because a CI machine without them is misconfigured and a skipped check would read as green. Outside CI the
 * check is not applicable, with a reason that says what to install. Optional clients (docker) are "used when
 * present": missing is never a failure.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { CheckFailure, NotApplicable } from '../results/check.js';

/** Absolute path of an executable found on PATH (or given as an absolute path), or null. */
export async function locateTool(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const candidates = isAbsolute(name)
    ? [name]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/**
 * A tool the check cannot run without. Missing under CI → CheckFailure (class `harness`: the machine is not set up);
 * missing elsewhere → NotApplicable with an install hint.
 */
export async function requireTool(
  name: string,
  installHint: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const found = await locateTool(name, env);
  if (found) return found;
  if (isCi(env)) {
    throw new CheckFailure('harness', `${name} is required when CI=true but was not found on PATH (${installHint})`);
  }
  throw new NotApplicable(`${name} is not installed (${installHint}); with CI=true this check fails instead`);
}

/** A tool that is used only when present (docker): missing is not applicable, in CI too. */
export async function optionalTool(name: string, why: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const found = await locateTool(name, env);
  if (found) return found;
  throw new NotApplicable(`${name} is not installed; ${why}`);
}

export interface ToolRun {
  /** the command line, for the report */
  command: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface ToolRunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** milliseconds; the process is killed (SIGKILL) when it runs longer */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs `bin args...` without a shell in between (zx quotes each argument), never throws on a non-zero exit, and
 * returns everything a failure message needs.
 */
export async function runTool(bin: string, args: readonly string[], opts: ToolRunOptions = {}): Promise<ToolRun> {
  const started = performance.now();
  // zx is loaded on first use, not with the harness: it takes a quarter of a second to load
  const { $ } = await import('zx');
  const shell = $({
    quiet: true,
    nothrow: true,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    signal: opts.signal,
    timeout: opts.timeoutMs === undefined ? undefined : `${opts.timeoutMs}ms`,
    timeoutSignal: 'SIGKILL',
  });
  const out = await shell`${bin} ${[...args]}`;
  return {
    command: [bin, ...args].join(' '),
    exitCode: out.exitCode,
    stdout: out.stdout,
    stderr: out.stderr,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * The last lines of a tool's stderr (or stdout), for a failure message that stays readable. Log lines at info or
 * debug level (ctr's --http-dump writes every request there) are left out when anything else was printed.
 */
export function toolOutputTail(run: ToolRun, lines = 6): string {
  const all = (run.stderr.trim() || run.stdout.trim()).split('\n');
  const quiet = all.filter((l) => !/level=(info|debug)\b/.test(l));
  return (quiet.length > 0 ? quiet : all).slice(-lines).join('\n');
}

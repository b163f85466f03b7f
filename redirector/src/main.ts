/**
 * `node dist/redirector/src/main.js`: the deployable entry point (Cloud Run runs this; so does the local stack).
 * Reads the environment (the only place besides the CLI that touches process.env), starts, and on SIGTERM/SIGINT
 * drains and exits. Invalid configuration exits 2 with a message naming the setting.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RedirectorDeps, StartedRedirector } from './server/index.js';
import { armSignalLatch, nextSignal } from './signal-latch.js';

// Only builtins and the signal latch are imported statically: as the process's entry this module arms the latch
// before the server's modules load (serve() imports them), so a SIGTERM at any stage of start-up drains.
const IS_MAIN = isMain();
if (IS_MAIN) armSignalLatch();

/** Exit code for configuration and start-up data errors (cli/src/exit-codes.ts `unreachable`: misconfigured). */
export const EXIT_MISCONFIGURED = 2;

/** A stop condition; `cancel` (optional) releases what it holds when the server never started. */
export type Until = () => Promise<string> & { cancel?: () => void };

/**
 * Resolves on the first SIGTERM or SIGINT (Cloud Run sends SIGTERM, then SIGKILL 10 s later), including one that
 * arrived after the entry point armed the latch and before this was called (redirector/src/signal-latch.ts).
 */
export const untilSignal: Until = () => nextSignal();

/**
 * The readiness flag a server starts with, turned off as soon as `stop` settles: a signal that arrives during
 * start-up never lets /readyz answer 200 (the server still starts, announces itself and drains).
 */
export function readinessUntil(stop: Promise<unknown>): { ready: boolean } {
  const state = { ready: true };
  stop.then(
    () => (state.ready = false),
    () => (state.ready = false),
  );
  return state;
}

/**
 * The life of a server, for both entries (this module and `registry-canary serve`): starts it with `start`, keeps it
 * until `until` resolves, logs why it stops, drains. Resolves to null once drained, or to the start-up failure
 * (the wait released); a failure while draining rejects.
 */
export async function serveUntil(
  start: (state: { ready: boolean }) => Promise<StartedRedirector>,
  until: Until = untilSignal,
  onStarted?: (started: StartedRedirector) => void,
): Promise<{ startError: unknown } | null> {
  // listen for the signal before announcing readiness: a SIGTERM right after the "listening" line must drain, not
  // kill the process with the default action
  const stop = until();
  const state = readinessUntil(stop);
  let started: StartedRedirector;
  try {
    started = await start(state);
  } catch (startError) {
    stop.cancel?.();
    return { startError };
  }
  onStarted?.(started);
  const reason = await stop;
  started.redirector.logger.info({ reason }, 'stopping');
  await started.close();
  return null;
}

/**
 * Runs the server until `until` resolves (by default a termination signal), then drains. Resolves to the exit code:
 * 0, or 2 when the configuration or the start-up data is invalid (the message names the setting or file).
 */
export async function serve(
  env: Readonly<Record<string, string | undefined>>,
  stderr: NodeJS.WritableStream = process.stderr,
  until: Until = untilSignal,
  deps: RedirectorDeps = {},
): Promise<number> {
  const failed = await serveUntil(async (state) => {
    const [{ loadConfig }, { startRedirector }] = await Promise.all([
      import('./config.js'),
      import('./server/index.js'),
    ]);
    return startRedirector(loadConfig(env), { state, ...deps });
  }, until);
  if (failed === null) return 0;
  stderr.write(`redirector: ${describeStartError(failed.startError)}\n`);
  return EXIT_MISCONFIGURED;
}

/** A start-up failure as one line: configuration and data errors carry their own precise message. */
export function describeStartError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && typeof e.message === 'string') return `${e.message} (${e.code})`;
  return (err as Error)?.stack ?? String(err);
}

function isMain(): boolean {
  if (process.argv[1] === undefined) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (IS_MAIN) {
  process.exitCode = await serve(process.env);
}

/**
 * The start-up wait of a registry that runs as a local process and says where it listens: both docker-registry and
 * the ggcr upstream log `listening on 127.0.0.1:<port>` once bound to port 0. Ready means that line, then `GET /v2/`
 * answering; the registry's base URL is the result.
 */
import type { ManagedProcess } from './managed-process.js';
import { Wait, systemClock, type Clock } from './wait.js';

export interface ListeningOptions {
  /** the process's name, for the error that says what did not become ready */
  name: string;
  clock?: Clock;
  timeoutMs?: number;
}

export async function registryListening(proc: ManagedProcess, opts: ListeningOptions): Promise<string> {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const ready = { clock, component: opts.name, output: proc };
  const m = await Wait.forLogLine(/listening on 127\.0\.0\.1:(\d+)/, timeoutMs).waitUntilReady(ready);
  const url = `http://127.0.0.1:${m[1]}`;
  await Wait.forHttp(`${url}/v2/`, { timeoutMs }).waitUntilReady(ready);
  return url;
}

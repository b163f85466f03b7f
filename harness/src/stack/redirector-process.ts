/**
 * The system under test as a separate process: `node dist/redirector/src/main.js`, configured only through its
 * environment (the same contract as on Cloud Run). The harness never imports redirector/ code; it waits for the
 * one JSON "listening" line the redirector prints, then for its admin /readyz.
 */
import { existsSync } from 'node:fs';
import { distEntry } from './dist-entry.js';
import { redirectorNodeFlags } from './redirector-node-flags.js';
import { ManagedProcess } from './managed-process.js';
import { StackError } from './stack-error.js';
import type { RedirectorService, Started } from './stack-service.js';
import { Wait, systemClock, type Clock } from './wait.js';

/**
 * UPSTREAM_REGISTRY_PATH for a repository prefix at the upstream: `/` for none, because an empty value means "unset"
 * to the redirector, which would restore production's prefix (docs/configuration.md).
 */
export function upstreamPathSetting(prefix: string): string {
  return prefix === '' ? '/' : prefix;
}

export function redirectorEntry(): string {
  return distEntry('redirector/src/main.js');
}

export interface RedirectorProcessOptions {
  env: Record<string, string>;
  entry?: string;
  clock?: Clock;
  timeoutMs?: number;
  echo?: (name: string, line: string) => void;
}

export type StartedRedirector = Started<RedirectorService & { process: ManagedProcess }>;

/** Parses the redirector's start-up line: one JSON object with msg "listening", `url` and `adminUrl`. */
export function parseListeningLine(line: string): { url: string; adminUrl: string } | null {
  if (!line.startsWith('{')) return null;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (o.msg === 'listening' && typeof o.url === 'string' && typeof o.adminUrl === 'string')
      return { url: o.url.replace(/\/$/, ''), adminUrl: o.adminUrl.replace(/\/$/, '') };
  } catch {
    // not JSON after all
  }
  return null;
}

export async function startRedirectorProcess(opts: RedirectorProcessOptions): Promise<StartedRedirector> {
  const entry = opts.entry ?? redirectorEntry();
  if (!existsSync(entry)) {
    throw new StackError(
      'STACK_TOOL_MISSING',
      `redirector: ${entry} does not exist; build first with \`npm run build\` (tsc -p tsconfig.json)`,
    );
  }
  const proc = await ManagedProcess.start({
    name: 'redirector',
    command: process.execPath,
    // The same heap limits the redirector's Containerfile runs with (docs/performance.md: memory), so the local stack
    // measures the process production would run.
    args: [...redirectorNodeFlags(), entry],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', ...opts.env },
    echo: opts.echo,
    keepLines: 500,
  });
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  try {
    const m = await Wait.forLogLine(/^\{.*"msg":\s*"listening".*\}$/, timeoutMs).waitUntilReady({
      clock,
      component: 'redirector',
      output: proc,
    });
    const listening = parseListeningLine(m[0]);
    if (!listening)
      throw new StackError('STACK_PROCESS_EXITED', `redirector: its "listening" line lacks url/adminUrl: ${m[0]}`);
    await Wait.forHttp(`${listening.adminUrl}/readyz`, { timeoutMs }).waitUntilReady({
      clock,
      component: 'redirector',
      output: proc,
    });
    return { ...listening, process: proc, stop: async () => void (await proc.stop(5_000)) };
  } catch (err) {
    await proc.stop(1_000);
    throw err;
  }
}

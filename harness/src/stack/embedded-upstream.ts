/**
 * The zero-setup upstream: the project's embedded read-only OCI registry (harness/src/registry), serving the fixture
 * layouts in place. It runs as a child process like docker-registry does (`node dist/harness/src/registry/main.js
 * --root DIR --port 0`, which prints one JSON line with msg "listening" and its `url`), so both upstream kinds are
 * separate processes that the stack starts, watches and stops the same way.
 */
import { existsSync } from 'node:fs';
import { distEntry } from './dist-entry.js';
import { ManagedProcess } from './managed-process.js';
import { StackError } from './stack-error.js';
import type { RegistryService, Started } from './stack-service.js';
import { Wait, systemClock, type Clock } from './wait.js';

export interface EmbeddedUpstreamOptions {
  /** directory holding one OCI layout per repository (`<root>/<repo>/index.json`) */
  root: string;
  name: string;
  entry?: string;
  env?: Record<string, string>;
  clock?: Clock;
  timeoutMs?: number;
  echo?: (name: string, line: string) => void;
}

export type StartedEmbeddedUpstream = Started<RegistryService & { process: ManagedProcess }>;

export async function startEmbeddedUpstream(opts: EmbeddedUpstreamOptions): Promise<StartedEmbeddedUpstream> {
  const entry = opts.entry ?? distEntry('harness/src/registry/main.js');
  if (!existsSync(entry)) {
    throw new StackError(
      'STACK_TOOL_MISSING',
      `${opts.name}: the embedded registry ${entry} does not exist; build first with \`npm run build\``,
    );
  }
  const proc = await ManagedProcess.start({
    name: opts.name,
    command: process.execPath,
    args: [entry, '--root', opts.root, '--port', '0'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    echo: opts.echo,
  });
  const clock = opts.clock ?? systemClock;
  try {
    const m = await Wait.forLogLine(/^\{.*"msg":\s*"listening".*\}$/, opts.timeoutMs ?? 15_000).waitUntilReady({
      clock,
      component: opts.name,
      output: proc,
    });
    const url = (JSON.parse(m[0]) as { url?: unknown }).url;
    if (typeof url !== 'string')
      throw new StackError('STACK_PROCESS_EXITED', `${opts.name}: its "listening" line has no url: ${m[0]}`);
    const base = url.replace(/\/$/, '');
    await Wait.forHttp(`${base}/v2/`, { timeoutMs: opts.timeoutMs ?? 15_000 }).waitUntilReady({
      clock,
      component: opts.name,
      output: proc,
    });
    return { url: base, process: proc, stop: async () => void (await proc.stop(3_000)) };
  } catch (err) {
    await proc.stop(1_000);
    throw err;
  }
}

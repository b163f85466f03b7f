/**
 * A redirector of this suite's own in the stack's world (same upstream, buckets, range data), started with the
 * environment a check needs: range refresh sources, slow-client timeouts, a process to SIGTERM. Configured only by
 * its documented environment (docs/configuration.md), like the stack's.
 */
import {
  descendantProcesses,
  startWorldRedirector,
  type BucketMap,
  type TargetDescription,
  type StartedRedirector,
} from '../../../harness/src/index.js';

export interface OwnRedirector {
  url: string;
  adminUrl: string;
  /** the node process (the watchdog shell's child) */
  pid: number;
  /** the launcher's handle: its `exited` promise and output lines */
  process: StartedRedirector['process'];
  /** the world's description with this redirector's URL */
  target: TargetDescription;
  stop(): Promise<void>;
}

export async function startOwnRedirector(
  world: TargetDescription,
  dir: string,
  options: { name: string; env?: Record<string, string>; bucketMap?: BucketMap },
): Promise<OwnRedirector> {
  const { started, target } = await startWorldRedirector(world, dir, {
    ...options,
    env: { LOG_LEVEL: 'warn', ...(options.env ?? {}) },
  });
  const node = (await descendantProcesses(started.process.pid)).find((p) => /node/.test(p.command));
  if (!node) {
    await started.stop();
    throw new Error(`no node process below the redirector watchdog ${started.process.pid}`);
  }
  return {
    url: started.url,
    adminUrl: started.adminUrl,
    pid: node.pid,
    process: started.process,
    target,
    stop: () => started.stop(),
  };
}

/**
 * Global setup of the `resilience` vitest project: ONE local stack for every resilience file, its redirector
 * configured with short deadlines so faults are quick to provoke (RESILIENCE_REDIRECTOR_ENV). Provides the target
 * description plus what the files need beyond it: the fault control URL, the admin URL and the PID of the
 * redirector's node process (RSS is read from /proc/<pid>/status).
 *
 * Files that need another configuration (range refresh sources, slow-client timeouts, shutdown) start their own
 * redirector in the same world (own-redirector.ts); the stack's stays untouched.
 */
import type { TestProject } from 'vitest/node';
import { startStack, descendantProcesses } from '../../../harness/src/index.js';
import { RESILIENCE_REDIRECTOR_ENV, type ResilienceWorld } from './world.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const stack = await startStack({
    bigLayerMiB: 8,
    redirectorEnv: RESILIENCE_REDIRECTOR_ENV,
    log: (m) => process.stderr.write(`[resilience] stack: ${m}\n`),
  });
  try {
    const sh = stack.processes.find((p) => p.name === 'redirector');
    if (!sh) throw new Error('the stack lists no redirector process');
    // ManagedProcess runs the redirector under a small sh watchdog: the node process is its child
    const node = (await descendantProcesses(sh.pid)).find(
      (p) => /node/.test(p.command) && /redirector/.test(p.command),
    );
    if (!node) throw new Error(`no node process below the redirector watchdog ${sh.pid}`);
    const world: ResilienceWorld = {
      target: stack.target,
      faultsUrl: stack.faults.controlUrl,
      adminUrl: stack.redirector.adminUrl,
      redirectorPid: node.pid,
      redirectorEnv: RESILIENCE_REDIRECTOR_ENV,
      bucketNames: stack.buckets.names,
      bucketContents: stack.buckets.contents,
      tempDir: stack.tempDir,
    };
    project.provide('resilienceWorld', world);
    process.stderr.write(`[resilience] stack ready in ${Date.now() - started} ms (redirector pid ${node.pid})\n`);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return async () => {
    const stopped = await stack.stop();
    if (stopped.failures.length > 0)
      process.stderr.write(`[resilience] stack teardown left problems: ${JSON.stringify(stopped.failures)}\n`);
  };
}

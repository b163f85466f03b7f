/**
 * Global setup of the `suites` vitest project: starts ONE local stack for every suite file and provides its target
 * description (suites are written once and bound to a target). Stopped when the run ends.
 *
 * Environment:
 * - REGISTRY_CANARY_TARGET_CONFIG=FILE  bind the suites to that target description instead (nothing is started)
 * - SUITES_SEMANTICS=most-specific|archeio  the local stack's routing semantics (default most-specific)
 * - SUITES_ENGINE=process|container  the local stack's engine (default process)
 * - SUITES_BIG_LAYER_MIB=N  size of the large fixture layer (default 8: the suites check routes and digests, the
 *   throughput benchmark in bench/ uses the large size)
 */
import { readFile } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { parseTargetDescription, startStack, type Engine, type Semantics } from '../../harness/src/index.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const file = process.env.REGISTRY_CANARY_TARGET_CONFIG;
  if (file) {
    project.provide('target', parseTargetDescription(JSON.parse(await readFile(file, 'utf8')), file));
    return async () => {};
  }
  const stack = await startStack({
    semantics: (process.env.SUITES_SEMANTICS as Semantics | undefined) ?? 'most-specific',
    engine: (process.env.SUITES_ENGINE as Engine | undefined) ?? 'process',
    bigLayerMiB: Number(process.env.SUITES_BIG_LAYER_MIB ?? 8),
    log: (m) => process.stderr.write(`[suites] stack: ${m}\n`),
  });
  project.provide('target', stack.target);
  return async () => {
    const stopped = await stack.stop();
    if (stopped.failures.length > 0)
      process.stderr.write(`[suites] stack teardown left problems: ${JSON.stringify(stopped.failures)}\n`);
  };
}

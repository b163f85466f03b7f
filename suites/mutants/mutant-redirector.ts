/**
 * A second redirector in the local stack's world for the mutation tests (a mutant, or a bucket map pointing through
 * a fault front): harness/src/stack/world-redirector.ts starts it; this keeps the shape the mutant tests use.
 */
import { startWorldRedirector, type BucketMap, type TargetDescription } from '../../harness/src/index.js';

export interface SecondRedirector {
  target: TargetDescription;
  stop(): Promise<void>;
}

export async function startSecondRedirector(
  world: TargetDescription,
  dir: string,
  options: { env?: Record<string, string>; bucketMap?: BucketMap; name: string },
): Promise<SecondRedirector> {
  const { started, target } = await startWorldRedirector(world, dir, options);
  return { target, stop: () => started.stop() };
}

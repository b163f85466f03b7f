/**
 * The target the suites run against, handed from the global setup (global-setup.ts) to every suite file through
 * vitest's provide/inject. Values cross a process boundary, so it is the plain JSON description.
 */
import { inject } from 'vitest';
import type { TargetDescription } from '../../harness/src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** the target description the suites bind to (the local stack's, or REGISTRY_CANARY_TARGET_CONFIG's) */
    target: TargetDescription;
  }
}

export function providedTarget(): TargetDescription {
  const target = inject('target');
  if (!target)
    throw new Error(
      'no target was provided: run the suites through the "suites" vitest project (vitest run --project suites), whose global setup starts the local stack',
    );
  return target;
}

/**
 * Where a compiled entry point lives. The stack's child processes run from dist/ (docs/architecture.md: `npm test`
 * builds first so spawned processes match the source). This module runs either from harness/src/stack/ (vitest,
 * tsx) or from dist/harness/src/stack/ (the built CLI); both resolve to the same dist/ file.
 */
import { fileURLToPath } from 'node:url';

/** `projectRelative` is the source path with a .js extension, e.g. `redirector/src/main.js`. */
export function distEntry(projectRelative: string): string {
  const here = fileURLToPath(import.meta.url);
  const inDist = /[\\/]dist[\\/]harness[\\/]src[\\/]stack[\\/]/.test(here);
  return fileURLToPath(new URL(`${inDist ? '../../../' : '../../../dist/'}${projectRelative}`, import.meta.url));
}

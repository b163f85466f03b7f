/**
 * Paths of files in the checkout's fixtures/. This module runs from harness/src/stack/ (vitest, tsx) or from
 * dist/harness/src/stack/ (the built CLI), and fixtures/ is not copied into dist/, so the path is one directory
 * further up in the second case.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function bundledFixture(relative: string): string {
  const fromSource = fileURLToPath(new URL(`../../../fixtures/${relative}`, import.meta.url));
  if (existsSync(fromSource)) return fromSource;
  const fromDist = fileURLToPath(new URL(`../../../../fixtures/${relative}`, import.meta.url));
  return existsSync(fromDist) ? fromDist : fromSource;
}

/**
 * The checkout's root directory, found by walking up from this file to the package.json named registry-canary.
 * Code runs both from TypeScript sources (vitest, tsx) and from dist/ (the bin), so fixture paths must not be
 * counted in `../` steps from the calling file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'registry-canary') return (root = dir);
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`registry-canary: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** A path inside the checkout, e.g. `fromPackageRoot('fixtures', 'bucket-map.json')`. */
export function fromPackageRoot(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}

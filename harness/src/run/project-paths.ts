/**
 * Files of the project checkout (fixtures/, reports/) from code that runs either as TypeScript from the checkout
 * (vitest, tsx) or compiled under dist/ (the bin). A path relative to `import.meta.url` differs between the two by
 * the `dist/` level, so the root is found by walking up to the package.json named registry-canary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RangeFiles } from '../oracle/published-ranges.js';

let root: string | undefined;

export function projectRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'registry-canary') return (root = dir);
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the registry-canary checkout above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export function projectFile(...parts: string[]): string {
  return join(projectRoot(), ...parts);
}

/** The bundled range snapshots, wherever this code runs from. */
export function projectRangeFiles(): RangeFiles {
  const raw = (f: string) => projectFile('fixtures', 'ip-ranges', 'raw', f);
  return { aws: raw('aws-ip-ranges.json'), gcp: raw('gcp-cloud.json'), azure: raw('azure-service-tags.json') };
}

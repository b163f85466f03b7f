/**
 * The snapshots bundled with the package (fixtures/ip-ranges/raw, see PROVENANCE.md there).
 *
 * The same module runs as TypeScript from redirector/src/ranges (tests, tsx) and as JavaScript from
 * dist/redirector/src/ranges (the built server), so the path cannot be a fixed `../../..`. Instead we walk up from
 * this file to the first directory holding the fixtures, which is the package root in both layouts.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RangeSources } from './range-data.js';

const RAW = join('fixtures', 'ip-ranges', 'raw');

/**
 * The package root above `from`: the nearest ancestor that has both a package.json and the raw fixtures. Falls back
 * to the nearest ancestor with a package.json (then the files will be reported missing when loaded), and finally to
 * `from` itself.
 */
export function findPackageRoot(from: string): string {
  let fallback: string | undefined;
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      if (existsSync(join(dir, RAW, 'aws-ip-ranges.json'))) return dir;
      fallback ??= dir;
    }
    if (dirname(dir) === dir) return fallback ?? from;
  }
}

/** The bundled snapshot paths under a package root. */
export function bundledRangeSources(root: string): RangeSources {
  return {
    aws: join(root, RAW, 'aws-ip-ranges.json'),
    gcp: join(root, RAW, 'gcp-cloud.json'),
    azure: join(root, RAW, 'azure-service-tags.json'),
  };
}

export const BUNDLED_RANGE_SOURCES: RangeSources = bundledRangeSources(
  findPackageRoot(dirname(fileURLToPath(import.meta.url))),
);

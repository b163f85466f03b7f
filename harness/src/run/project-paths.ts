/**
 * Files of the project checkout (fixtures/, reports/) from code that runs either as TypeScript from the checkout
 * (vitest, tsx) or compiled under dist/ (the bin). The root itself is found once, by package-root.ts.
 */
import { BUNDLED_RANGE_FILES, type RangeFiles } from '../oracle/published-ranges.js';
import { fromPackageRoot, packageRoot } from '../package-root.js';

export const projectRoot = packageRoot;
export const projectFile = fromPackageRoot;

/** The bundled range snapshots, wherever this code runs from. */
export function projectRangeFiles(): RangeFiles {
  return BUNDLED_RANGE_FILES;
}

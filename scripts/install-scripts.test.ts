/**
 * npm 11 runs a dependency's install scripts only when package.json's `allowScripts` approves them, and skips the
 * rest with a warning at the end of every install (docs/testing.md "How CI runs them"). This keeps that list complete
 * and current: every package the lockfile marks as having an install script has a decision, and no decision names a
 * package that has none (a stale entry would hide a new script of that name from review).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../harness/src/index.js';

interface LockPackage {
  name?: string;
  hasInstallScript?: boolean;
}

/** The names of the lockfile's packages that have install scripts (a nested copy counts under its own name). */
function packagesWithInstallScripts(lock: { packages?: Record<string, LockPackage> }): string[] {
  const names = new Set<string>();
  for (const [path, pkg] of Object.entries(lock.packages ?? {})) {
    if (path === '' || pkg.hasInstallScript !== true) continue;
    names.add(pkg.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
  }
  return [...names].sort();
}

const root = packageRoot();
const readJson = (file: string): unknown => JSON.parse(readFileSync(join(root, file), 'utf8'));

describe('dependencies with install scripts', () => {
  it('finds scoped and nested packages by their names', () => {
    const lock = {
      packages: {
        '': { hasInstallScript: true },
        'node_modules/a': { hasInstallScript: true },
        'node_modules/b': {},
        'node_modules/@s/c': { hasInstallScript: true },
        'node_modules/x/node_modules/a': { hasInstallScript: true },
        'node_modules/d': { hasInstallScript: false },
      },
    };
    expect(packagesWithInstallScripts(lock)).toEqual(['@s/c', 'a']);
  });

  it("each has a decision in package.json's allowScripts, and each decision names one of them", () => {
    const withScripts = packagesWithInstallScripts(
      readJson('package-lock.json') as { packages?: Record<string, LockPackage> },
    );
    const decided = (readJson('package.json') as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
    const names = Object.keys(decided).map((spec) => spec.replace(/(?<=.)@.*$/, ''));
    expect(withScripts.length).toBeGreaterThan(0);
    expect([...new Set(names)].sort()).toEqual(withScripts);
    for (const value of Object.values(decided)) expect(typeof value).toBe('boolean');
  });
});

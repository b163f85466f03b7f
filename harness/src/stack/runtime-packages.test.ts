import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MissingPackageError,
  importedPackageNames,
  packageNameOf,
  runtimePackageDirs,
  withRuntimePackagesOnly,
} from './runtime-packages.js';

describe('packageNameOf', () => {
  it('names the package of a bare specifier, scoped or not, with or without a subpath', () => {
    expect(packageNameOf('pino')).toBe('pino');
    expect(packageNameOf('lru-cache/raw')).toBe('lru-cache');
    expect(packageNameOf('@aws-sdk/client-s3')).toBe('@aws-sdk/client-s3');
    expect(packageNameOf('@opentelemetry/api/build/src/index.js')).toBe('@opentelemetry/api');
  });
  it('is null for what no package provides: built-ins, relative and absolute paths, URLs, subpath imports', () => {
    for (const s of [
      'fs',
      'fs/promises',
      'node:fs',
      'node:test',
      'http',
      './x.js',
      '../y/z.js',
      '/abs/a.js',
      'file:///a.js',
      'data:text/javascript,1',
      '#internal',
      '',
    ]) {
      expect(packageNameOf(s), s).toBeNull();
    }
  });
});

describe('importedPackageNames', () => {
  it('finds static, re-export, side-effect, dynamic and require imports, once each', () => {
    const source = [
      "import { pino } from 'pino';",
      'import * as a from "alpha";',
      "export { b } from 'beta/sub.js';",
      "import 'gamma';",
      "const d = await import('delta');",
      'const e = await import ( "@scope/epsilon/x" );',
      "const z = require('zeta');",
      "import { readFile } from 'node:fs/promises';",
      "import { helper } from './helper.js';",
      "import again from 'pino';",
    ].join('\n');
    expect(importedPackageNames(source)).toEqual(['@scope/epsilon', 'alpha', 'beta', 'delta', 'gamma', 'pino', 'zeta']);
  });
  it('finds nothing in code without bare imports', () => {
    expect(importedPackageNames("import { x } from './x.js';\nconst y = 'from';\n")).toEqual([]);
  });
});

describe('runtimePackageDirs and withRuntimePackagesOnly over a node_modules tree', () => {
  let root: string;
  const file = async (rel: string, text: string) => {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  };
  const pkg = (rel: string, manifest: Record<string, unknown>) => file(`${rel}/package.json`, JSON.stringify(manifest));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'runtime-packages-'));
    // the code: imports app-dep statically and lazy-dep dynamically
    await file('dist/app/main.js', "import { a } from 'app-dep';\nexport const load = () => import('lazy-dep');\n");
    await file(
      'dist/app/lib/util.js',
      "import { join } from 'node:path';\nimport { b } from '../main.js';\nimport { d } from 'deep-dep';\n",
    );
    await file('dist/other/tool.js', "import 'tool-only';\n");
    await pkg('node_modules/app-dep', {
      name: 'app-dep',
      dependencies: { shared: '^2' },
      optionalDependencies: { 'not-installed': '1' },
      peerDependencies: { peer: '1', 'absent-peer': '1' },
    });
    // app-dep wants shared@2, nested under it; the top-level shared is 1, which lazy-dep wants
    await pkg('node_modules/app-dep/node_modules/shared', {
      name: 'shared',
      version: '2.0.0',
      dependencies: { leaf: '1' },
    });
    await pkg('node_modules/shared', { name: 'shared', version: '1.0.0' });
    await pkg('node_modules/lazy-dep', { name: 'lazy-dep', dependencies: { shared: '^1' } });
    await pkg('node_modules/leaf', { name: 'leaf' });
    await pkg('node_modules/deep-dep', { name: 'deep-dep' });
    await pkg('node_modules/peer', { name: 'peer' });
    await pkg('node_modules/tool-only', { name: 'tool-only' });
    await pkg('node_modules/unrelated', { name: 'unrelated' });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('collects what the code imports and what those packages need, resolved as node resolves them', async () => {
    expect(await runtimePackageDirs(root, ['dist/app'])).toEqual([
      'node_modules/app-dep',
      'node_modules/app-dep/node_modules/shared',
      'node_modules/deep-dep',
      'node_modules/lazy-dep',
      'node_modules/leaf',
      'node_modules/peer',
      'node_modules/shared',
    ]);
  });

  it('reads single files as well as directories', async () => {
    expect(await runtimePackageDirs(root, ['dist/other/tool.js'])).toEqual(['node_modules/tool-only']);
    expect(await runtimePackageDirs(root, ['dist/app', 'dist/other'])).toContain('node_modules/tool-only');
  });

  it('names who asked when a required package is missing', async () => {
    await rm(join(root, 'node_modules/leaf'), { recursive: true });
    const err = await runtimePackageDirs(root, ['dist/app']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPackageError);
    expect((err as Error).message).toMatch(
      /shared \(node_modules\/app-dep\/node_modules\/shared\) needs the package leaf/,
    );
    await rm(join(root, 'node_modules/app-dep'), { recursive: true });
    await expect(runtimePackageDirs(root, ['dist/app'])).rejects.toThrow(
      /dist\/app\/main\.js needs the package app-dep/,
    );
  });

  it('replaces node_modules in COPY sources by the outermost package directories, and leaves other lists alone', async () => {
    await file('package.json', '{"type": "module"}');
    await file('fixtures/x.json', '{}');
    expect(
      await withRuntimePackagesOnly(root, ['package.json', 'node_modules', 'dist/app', 'fixtures/x.json']),
    ).toEqual([
      'package.json',
      // app-dep's nested shared comes with app-dep
      'node_modules/app-dep',
      'node_modules/deep-dep',
      'node_modules/lazy-dep',
      'node_modules/leaf',
      'node_modules/peer',
      'node_modules/shared',
      'dist/app',
      'fixtures/x.json',
    ]);
    expect(await withRuntimePackagesOnly(root, ['dist/app', 'package.json'])).toEqual(['dist/app', 'package.json']);
  });
});

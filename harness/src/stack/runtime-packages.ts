/**
 * The packages a built entry point needs at run time: the bare specifiers its compiled JavaScript imports (static
 * `import … from`, side-effect `import '…'`, dynamic `import('…')`, `require('…')`), then everything those packages
 * depend on (`dependencies`, plus `optionalDependencies` and `peerDependencies` when installed), found the way node
 * finds them: in `node_modules` next to the package that asks, then in each parent directory's.
 *
 * The local stack's container engine stages only these into the redirector's build context: the checkout's
 * node_modules holds the harness's and the test tools' packages too (about 190 MB, against a few MB the redirector
 * uses), and podman's vfs storage copies every byte of a build context several times.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

const BUILTINS = new Set(builtinModules);
const JS_FILE = /\.(?:m|c)?js$/;

/** `pino` → pino, `@scope/name/sub/path.js` → @scope/name; null for relative, absolute, URL, `#` and built-in specifiers. */
export function packageNameOf(specifier: string): string | null {
  if (specifier === '' || /^[./#]/.test(specifier) || /^[a-z][a-z0-9+.-]*:/i.test(specifier)) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return BUILTINS.has(name) ? null : name;
}

// `from '…'` (import and export), `import '…'`, `import('…')`, `require('…')`. Text inside comments or strings that
// merely looks like one of these can add a package, never drop one: the scan errs towards a complete image.
const SPECIFIER =
  /\bfrom\s*(['"])([^'"\n]+)\1|\bimport\s*(['"])([^'"\n]+)\3|\bimport\s*\(\s*(['"])([^'"\n]+)\5\s*\)|\brequire\s*\(\s*(['"])([^'"\n]+)\7\s*\)/g;

/** The package names a piece of JavaScript imports by bare specifier, sorted. */
export function importedPackageNames(source: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(SPECIFIER)) {
    const name = packageNameOf(m[2] ?? m[4] ?? m[6] ?? m[8]!);
    if (name !== null) names.add(name);
  }
  return [...names].sort();
}

/** The JavaScript files at `at`: itself when it is one, else every one below it. */
async function jsFiles(at: string): Promise<string[]> {
  if (!(await stat(at)).isDirectory()) return JS_FILE.test(at) ? [at] : [];
  return (await readdir(at, { recursive: true })).filter((rel) => JS_FILE.test(rel)).map((rel) => join(at, rel));
}

export class MissingPackageError extends Error {}

/**
 * The directories (relative to `root`) of every package that the JavaScript at `code` (paths relative to `root`)
 * needs at run time, sorted. A package that is imported or depended on but not installed is an error naming who
 * asked for it, except an optional or peer dependency, which its package must cope without.
 */
export async function runtimePackageDirs(root: string, code: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const queue: { name: string; from: string; optional: boolean; asker: string }[] = [];
  for (const src of code) {
    for (const file of await jsFiles(join(root, src))) {
      for (const name of importedPackageNames(await readFile(file, 'utf8')))
        queue.push({ name, from: dirname(file), optional: false, asker: relative(root, file) });
    }
  }
  while (queue.length > 0) {
    const { name, from, optional, asker } = queue.shift()!;
    const dir = resolvePackageDir(root, from, name);
    if (dir === null) {
      if (optional) continue;
      throw new MissingPackageError(
        `${asker} needs the package ${name}, which is not installed under ${join(root, 'node_modules')} (npm ci?)`,
      );
    }
    const rel = relative(root, dir);
    if (found.has(rel)) continue;
    found.add(rel);
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    const asking = `${name} (${rel})`;
    for (const dep of Object.keys(manifest.dependencies ?? {}))
      queue.push({ name: dep, from: dir, optional: false, asker: asking });
    for (const dep of Object.keys({ ...manifest.optionalDependencies, ...manifest.peerDependencies }))
      queue.push({ name: dep, from: dir, optional: true, asker: asking });
  }
  return [...found].sort();
}

/**
 * Node's lookup: `<dir>/node_modules/<name>` from `from` upwards, never above `root`. (Not `require.resolve` of
 * `<name>/package.json`: a package whose `exports` map does not list its package.json, lru-cache among them, refuses.)
 */
function resolvePackageDir(root: string, from: string, name: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || !dir.startsWith(root + sep)) return null;
  }
}

/**
 * A Containerfile's COPY sources with `node_modules` replaced by the runtime packages of the JavaScript the other
 * sources copy; a package nested inside another one that is staged comes along with it, so it is not listed again.
 * Sources without `node_modules` come back unchanged.
 */
export async function withRuntimePackagesOnly(root: string, sources: readonly string[]): Promise<string[]> {
  if (!sources.includes('node_modules')) return [...sources];
  const dirs = await runtimePackageDirs(
    root,
    sources.filter((src) => src !== 'node_modules'),
  );
  const outermost = dirs.filter((d) => !dirs.some((other) => d.startsWith(other + sep)));
  return sources.flatMap((src) => (src === 'node_modules' ? outermost : [src]));
}

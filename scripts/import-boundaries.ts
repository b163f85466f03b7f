/**
 * The import boundaries of docs/architecture.md, as a pure check over source text: which module specifiers each
 * file names (static imports, `export … from`, dynamic `import()`, `import('…')` types and `require()`), resolved
 * against the repository, and which of them cross a boundary. scripts/import-boundaries.test.ts runs it over every
 * tracked source file.
 */
import { posix } from 'node:path';
import ts from 'typescript';

/** A top-level folder whose imports are checked. */
export type Part = 'redirector' | 'harness' | 'suites' | 'cli' | 'bench' | 'scripts';

export const PARTS: readonly Part[] = ['redirector', 'harness', 'suites', 'cli', 'bench', 'scripts'];

/** The one harness module that suites/, cli/, bench/ and scripts/ may import. */
export const HARNESS_INDEX = 'harness/src/index.ts';

export interface ImportSite {
  /** the specifier as written */
  specifier: string;
  /** 1-based line of the specifier */
  line: number;
}

export interface Crossing {
  /** the importing file, relative to the repository root */
  file: string;
  line: number;
  specifier: string;
  /** the imported file, relative to the repository root (a `.js` specifier names its `.ts` source) */
  target: string;
  /** which rule it breaks, in words */
  rule: string;
}

/** Every module specifier a TypeScript or JavaScript source names, with its line. */
export function importSites(fileName: string, source: string): ImportSite[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false);
  const sites: ImportSite[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node === undefined || !ts.isStringLiteralLike(node)) return;
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    sites.push({ specifier: node.text, line: line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression);
    else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isImport || isRequire) add(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return sites;
}

/**
 * The repository path a relative specifier names, or null for a package (`undici`, `node:fs`). A `.js` specifier
 * names its `.ts` source when that file exists (`exists`), as NodeNext resolution does.
 */
export function resolveSpecifier(file: string, specifier: string, exists: (path: string) => boolean): string | null {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null;
  const resolved = posix.normalize(posix.join(posix.dirname(file), specifier));
  for (const [from, to] of [
    ['.js', '.ts'],
    ['.mjs', '.mts'],
    ['.cjs', '.cts'],
  ] as const) {
    if (resolved.endsWith(from)) {
      const source = `${resolved.slice(0, -from.length)}${to}`;
      if (exists(source)) return source;
    }
  }
  return resolved;
}

/** The checked top-level folder a repository path is in, or null (fixtures/, the root, node_modules, ...). */
export function partOf(path: string): Part | null {
  const top = path.split('/')[0];
  return (PARTS as readonly string[]).includes(top!) ? (top as Part) : null;
}

/**
 * The rule an import from `file` to `target` breaks, or null when it is allowed:
 * - redirector/ and harness/ never import each other (the harness talks to the redirector over HTTP);
 * - harness/ and redirector/ never import their users (suites/, cli/, bench/, scripts/);
 * - suites/, cli/, bench/ and scripts/ import the harness only through harness/src/index.ts;
 * - suites/ never import redirector/ (suites judge any redirector from outside).
 * Imports within a part, and of anything outside the checked parts (fixtures, packages), are allowed.
 */
export function brokenRule(file: string, target: string): string | null {
  const from = partOf(file);
  const to = partOf(target);
  if (from === null || to === null || from === to) return null;
  if ((from === 'redirector' && to === 'harness') || (from === 'harness' && to === 'redirector')) {
    return 'redirector/ and harness/ never import each other';
  }
  if (from === 'redirector' || from === 'harness') return `${from}/ never imports its users (${to}/)`;
  if (to === 'harness' && target !== HARNESS_INDEX) return `${from}/ imports the harness only through ${HARNESS_INDEX}`;
  if (from === 'suites' && to === 'redirector') return 'suites/ never import redirector/ (they judge it over HTTP)';
  return null;
}

/** Every import in `files` that crosses a boundary, in file and line order. */
export function crossings(files: readonly { path: string; source: string }[]): Crossing[] {
  const known = new Set(files.map((f) => f.path));
  const exists = (path: string) => known.has(path);
  const out: Crossing[] = [];
  for (const { path, source } of files) {
    if (partOf(path) === null) continue;
    for (const site of importSites(path, source)) {
      const target = resolveSpecifier(path, site.specifier, exists);
      if (target === null) continue;
      const rule = brokenRule(path, target);
      if (rule !== null) out.push({ file: path, line: site.line, specifier: site.specifier, target, rule });
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** One line per crossing: `file:line → target (rule)`. */
export function formatCrossings(list: readonly Crossing[]): string {
  return list.map((c) => `${c.file}:${c.line} → ${c.target} (${c.rule})`).join('\n');
}

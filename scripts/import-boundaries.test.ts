import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  HARNESS_INDEX,
  PARTS,
  brokenRule,
  crossings,
  formatCrossings,
  importSites,
  resolveSpecifier,
} from './import-boundaries.js';

/** The crossings of one file holding `source`, in a repository that also holds `others`. */
function crossingsOf(path: string, source: string, others: string[] = []) {
  return crossings([{ path, source }, ...others.map((p) => ({ path: p, source: '' }))]);
}

describe('importSites', () => {
  it('finds static, type-only, re-exported, dynamic, import-type and require specifiers with their lines', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      'const e = await import(',
      "  './e.js');",
      "type F = import('./f.js').F;",
      "const g = require('./g.cjs');",
      "import './h.js';",
      "// import { x } from './comment.js';",
      'const s = "from \'./string.js\'";',
    ].join('\n');
    expect(importSites('x.ts', source)).toEqual([
      { specifier: './a.js', line: 1 },
      { specifier: './b.js', line: 2 },
      { specifier: './c.js', line: 3 },
      { specifier: './d.js', line: 4 },
      { specifier: './e.js', line: 6 },
      { specifier: './f.js', line: 7 },
      { specifier: './g.cjs', line: 8 },
      { specifier: './h.js', line: 9 },
    ]);
  });
});

describe('resolveSpecifier', () => {
  const exists = (p: string) => p === 'harness/src/index.ts';
  it('resolves relative specifiers from the importing file, a .js naming its .ts source', () => {
    expect(resolveSpecifier('suites/a/b.ts', '../../harness/src/index.js', exists)).toBe('harness/src/index.ts');
    expect(resolveSpecifier('suites/a/b.ts', '../../harness/src/oci/x.js', exists)).toBe('harness/src/oci/x.js');
    expect(resolveSpecifier('cli/src/c.ts', './d.js', exists)).toBe('cli/src/d.js');
  });
  it('leaves packages alone', () => {
    expect(resolveSpecifier('cli/src/c.ts', 'undici', exists)).toBeNull();
    expect(resolveSpecifier('cli/src/c.ts', 'node:fs', exists)).toBeNull();
  });
});

describe('brokenRule', () => {
  it('allows imports within a part, of fixtures, of the harness index, and cli → redirector', () => {
    expect(brokenRule('harness/src/a.ts', 'harness/src/oci/b.ts')).toBeNull();
    expect(brokenRule('harness/src/a.ts', 'fixtures/targets/x.json')).toBeNull();
    for (const user of ['suites/a/b.ts', 'cli/src/c.ts', 'bench/d.ts', 'scripts/e.ts']) {
      expect(brokenRule(user, HARNESS_INDEX)).toBeNull();
    }
    expect(brokenRule('cli/src/c.ts', 'redirector/src/config.ts')).toBeNull();
    expect(brokenRule('cli/src/c.ts', 'suites/index.ts')).toBeNull();
  });
  it('forbids redirector ↔ harness in either direction', () => {
    expect(brokenRule('redirector/src/a.ts', 'harness/src/index.ts')).toMatch(/never import each other/);
    expect(brokenRule('harness/src/a.ts', 'redirector/src/net/ip.ts')).toMatch(/never import each other/);
  });
  it('forbids harness and redirector importing their users', () => {
    for (const from of ['harness/src/a.ts', 'redirector/src/a.ts']) {
      for (const to of ['suites/index.ts', 'cli/src/main.ts', 'bench/run.js', 'scripts/soak.js']) {
        expect(brokenRule(from, to)).toMatch(/never imports its users/);
      }
    }
  });
  it('forbids suites, cli, bench and scripts reaching past the harness index', () => {
    for (const from of ['suites/a/b.ts', 'cli/src/c.ts', 'bench/d.ts', 'scripts/e.ts']) {
      expect(brokenRule(from, 'harness/src/oci/oci-client.ts')).toMatch(/only through harness\/src\/index\.ts/);
      expect(brokenRule(from, 'harness/src/stack/index.ts')).toMatch(/only through/);
    }
  });
  it('forbids suites importing the redirector', () => {
    expect(brokenRule('suites/a/b.ts', 'redirector/src/config.ts')).toMatch(/suites\/ never import redirector/);
  });
});

describe('crossings', () => {
  it('lists each crossing import with file, line, target and rule', () => {
    const source =
      "import { ok } from '../../harness/src/index.js';\nimport { OciClient } from '../../harness/src/oci/oci-client.js';\n";
    const found = crossingsOf('suites/a/b.ts', source, [HARNESS_INDEX, 'harness/src/oci/oci-client.ts']);
    expect(found).toEqual([
      {
        file: 'suites/a/b.ts',
        line: 2,
        specifier: '../../harness/src/oci/oci-client.js',
        target: 'harness/src/oci/oci-client.ts',
        rule: 'suites/ imports the harness only through harness/src/index.ts',
      },
    ]);
    expect(formatCrossings(found)).toBe(
      'suites/a/b.ts:2 → harness/src/oci/oci-client.ts (suites/ imports the harness only through harness/src/index.ts)',
    );
  });
  it('catches a dynamic import and a re-export as well as a static import', () => {
    const files = ['harness/src/a.ts', 'redirector/src/b.ts'];
    expect(crossingsOf('harness/src/a.ts', "const m = await import('../../redirector/src/b.js');", files)).toHaveLength(
      1,
    );
    expect(crossingsOf('redirector/src/b.ts', "export { x } from '../../harness/src/a.js';", files)).toHaveLength(1);
  });
  it('passes a file whose imports stay inside the rules', () => {
    const source =
      "import { startStack } from '../../harness/src/index.js';\nimport { z } from 'zod';\nimport { y } from './y.js';\n";
    expect(crossingsOf('suites/a/b.ts', source, [HARNESS_INDEX])).toEqual([]);
  });
});

describe('the repository', () => {
  it('has no import that crosses a boundary of docs/architecture.md', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const tracked = execFileSync('git', ['ls-files', '-z', '--', ...PARTS], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((p) => /\.(ts|mts|cts|js|mjs|cjs)$/.test(p));
    expect(tracked.length).toBeGreaterThan(100);
    const files = tracked.map((path) => ({ path, source: readFileSync(join(root, path), 'utf8') }));
    const found = crossings(files);
    expect(found, `imports crossing a boundary:\n${formatCrossings(found)}`).toEqual([]);
  });
});

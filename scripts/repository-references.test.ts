/**
 * Every reference in the tracked tree resolves for a reader who has only the repository
 * (scripts/repository-references.ts). The rules are shown failing on small inputs first, then the tree is checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../harness/src/index.js';
import {
  checkoutTree,
  commentOf,
  findOffences,
  formatOffences,
  headingAnchor,
  isChecked,
  markdownAnchors,
  parseGitIndex,
  trackedFiles,
  type Tree,
} from './repository-references.js';

const DOC = ['# Title', '', '## Client IP', '', '## Bucket map', '### Range data', '## Range data'].join('\n');
const tree: Tree = {
  exists: (p) => ['docs', 'docs/a.md', 'docs/reference', 'docs/reference/archeio.md', 'harness/src/x.ts'].includes(p),
  headingIds: (p) => (p.endsWith('.md') ? markdownAnchors(DOC) : null),
};
const rulesOf = (file: string, line: string) => findOffences(file, line, tree).map((o) => o.rule);
/**
 * The bad lines below are joined from parts, so that a plain search of the tree for outside documents, issue numbers
 * or narrated sessions (`git grep`) finds the real ones only, not these samples.
 */
const bad = (...parts: string[]) => parts.join('');

describe('the rules, one bad line each', () => {
  it('a document outside the repository', () => {
    for (const line of [
      bad('see ../sh', 'ared/reference/x.md'),
      bad('see sh', 'ared/reference/docs/reference/archeio.md'),
      bad('(redirector-an', 'chors.md §', 'B.5)'),
      '// style.md guidance 14',
      'toolchain.md says so',
      'KEP-3000 text',
      bad('field-fail', 'ures.md R7'),
      bad('oci-pull-', 'path.md E8'),
      'incidents.md R7',
    ]) {
      expect(rulesOf('harness/src/x.ts', line), line).toContain('outside-document');
    }
    expect(rulesOf('harness/src/x.ts', '// docs/reference/archeio.md#client-ip')).toEqual([]);
  });

  it('a bare section number, but not a standard section', () => {
    expect(rulesOf('harness/src/x.ts', bad('// an', 'chors §', 'B.3'))).toEqual(['section-number']);
    expect(rulesOf('harness/src/x.ts', '// spec §2.4')).toEqual(['section-number']);
    expect(rulesOf('harness/src/x.ts', '// RFC 9110 §14.2, §14.4 and RFC 5952 §4')).toEqual([]);
    expect(rulesOf('docs/a.md', 'as [§14.4](https://www.rfc-editor.org/rfc/rfc9110#section-14.4) says')).toEqual([]);
  });

  it("this project's issue and pull request numbers", () => {
    for (const line of [
      bad('// iss', 'ue 12'),
      bad('iss', 'ues 3 and 4'),
      'the runner (#12)',
      'see #21.',
      'PR #5',
      'Issue #7:',
    ]) {
      expect(rulesOf('harness/src/x.ts', line), line).toEqual(['issue-number']);
    }
    for (const line of [
      'kubernetes/registry.k8s.io#326',
      'https://github.com/kubernetes/registry.k8s.io/issues/326',
      '[#78](https://github.com/kubernetes/registry.k8s.io/pull/78)',
      'color: #fff; a#b',
      "'#1 GET http://127.0.0.1:8080/v2/p/blobs/sha256:1 → 307'",
    ]) {
      expect(rulesOf('docs/a.md', line), line).toEqual([]);
    }
  });

  it('narrated working sessions', () => {
    for (const line of [
      bad('// since sess', 'ion 4'),
      bad('Sess', 'ions 6 and 8 left it'),
      'measured in this session',
      'in session',
    ]) {
      expect(rulesOf('harness/src/x.ts', line), line).toEqual(['session-narration']);
    }
    expect(rulesOf('harness/src/x.ts', '// a pull session (rid=)')).toEqual([]);
  });

  it('a path or relative link that names nothing', () => {
    expect(rulesOf('harness/src/x.ts', '// see docs/missing.md')).toEqual(['missing-path']);
    expect(rulesOf('harness/src/x.ts', "const p = 'docs/missing.md'; // not a comment path")).toEqual([]);
    expect(rulesOf('docs/a.md', 'see [b](b.md) and harness/src/y.ts')).toEqual(['missing-path', 'missing-path']);
    expect(rulesOf('docs/a.md', 'see [ref](reference/archeio.md) and harness/src/x.ts')).toEqual([]);
  });

  it('an anchor that is not a heading of the file', () => {
    expect(rulesOf('docs/a.md', 'docs/reference/archeio.md#client-ip')).toEqual([]);
    expect(rulesOf('docs/a.md', 'docs/reference/archeio.md#range-data-1')).toEqual([]);
    expect(rulesOf('docs/a.md', 'docs/reference/archeio.md#client-ips')).toEqual(['missing-anchor']);
    expect(rulesOf('docs/a.md', '[x](#bucket-map), [y](#nowhere)')).toEqual(['missing-anchor']);
  });

  it('names each offence by file and line', () => {
    const offences = findOffences('docs/a.md', bad('fine\nsee iss', 'ue 3\n'), tree);
    expect(formatOffences(offences)).toBe(bad('docs/a.md:2 issue-number: see iss', 'ue 3'));
  });
});

describe('helpers', () => {
  it('heading ids as GitHub makes them', () => {
    expect(headingAnchor('Existence check and cache')).toBe('existence-check-and-cache');
    expect(headingAnchor('`/v2/` and the API: a “check”')).toBe('v2-and-the-api-a-check');
    expect([...markdownAnchors('# A\n```\n# not a heading\n```\n## A\n<a id="x"></a>')]).toEqual(['a', 'a-1', 'x']);
  });

  it('takes the comment part of a line of code', () => {
    expect(commentOf('  // docs/x.md')).toBe('// docs/x.md');
    expect(commentOf(' * docs/x.md')).toBe('* docs/x.md');
    expect(commentOf("f('docs/x.md'); // why")).toBe(' // why');
    expect(commentOf("f('docs/x.md');")).toBe('');
  });

  it('reads the paths of a git index (version 2)', () => {
    const entry = (path: string) => {
      const fixed = Buffer.alloc(62);
      fixed.writeUInt16BE(path.length, 60);
      const len = Math.ceil((62 + path.length + 1) / 8) * 8;
      return Buffer.concat([fixed, Buffer.from(path), Buffer.alloc(len - 62 - path.length)]);
    };
    const header = Buffer.alloc(12);
    header.write('DIRC', 0, 'latin1');
    header.writeUInt32BE(2, 4);
    header.writeUInt32BE(2, 8);
    expect(parseGitIndex(Buffer.concat([header, entry('a.md'), entry('docs/b.md')]))).toEqual(['a.md', 'docs/b.md']);
    expect(() => parseGitIndex(Buffer.from('nope'))).toThrow(/not a git index/);
  });
});

describe('the tracked tree', () => {
  it('has no reference that does not resolve', () => {
    const root = packageRoot();
    const files = trackedFiles(root);
    expect(files).toContain('scripts/repository-references.ts');
    const view = checkoutTree(root, files);
    const offences = files.filter(isChecked).flatMap((file) => {
      let text: string;
      try {
        text = readFileSync(join(root, file), 'utf8');
      } catch {
        return []; // tracked but deleted in the working tree
      }
      return text.includes('\0') ? [] : findOffences(file, text, view);
    });
    expect(formatOffences(offences)).toBe('');
  });
});

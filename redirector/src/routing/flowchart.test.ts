// Keeps docs/request-handling.md, the code's REASONS and fixtures/routing-cases/ in step:
// every flowchart leaf is a reason, every reason a leaf, every leaf has a case, and no case names an unknown leaf.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPackageRoot } from '../ranges/index.js';
import { REASONS } from './decision.js';
import { readRoutingCases } from './routing-cases.js';

const DOC = join(findPackageRoot(import.meta.dirname), 'docs', 'request-handling.md');

/** Leaf ids of the mermaid flowchart: nodes drawn as stadiums, `id([label])`. */
export function flowchartLeaves(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const leaves = new Set<string>();
  for (const b of blocks) for (const m of b.matchAll(/([a-z][a-z0-9-]*)\(\[/g)) leaves.add(m[1]!);
  return [...leaves].sort();
}

describe('flowchart in docs/request-handling.md', () => {
  const leaves = flowchartLeaves(readFileSync(DOC, 'utf8'));
  const cases = readRoutingCases().flatMap(({ file, doc }) =>
    doc.cases.map((c) => ({ file, name: c.name, reason: c.expect.reason })),
  );

  it('has exactly the code’s reasons as leaves', () => {
    expect(leaves).toEqual([...REASONS].sort());
  });

  it('every leaf has at least one routing case', () => {
    const covered = new Set(cases.map((c) => c.reason));
    expect(leaves.filter((l) => !covered.has(l))).toEqual([]);
  });

  it('every routing case names a leaf', () => {
    expect(cases.filter((c) => !leaves.includes(c.reason))).toEqual([]);
  });

  it('every numbered rule names its leaves', () => {
    const text = readFileSync(DOC, 'utf8');
    for (const r of REASONS) expect(text).toContain(`→ \`${r}\``);
  });
});

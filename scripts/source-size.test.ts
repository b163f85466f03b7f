/**
 * No hand-written source file grows past 600 lines: a file that long holds more than one concept and is split by
 * concept (docs/architecture.md). Tests are held to the same bar.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PARTS } from './import-boundaries.js';

const MAX_LINES = 600;

describe('source file size', () => {
  it(`has no tracked source file over ${MAX_LINES} lines`, () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const files = execFileSync('git', ['ls-files', '-z', '--', ...PARTS], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((p) => /\.(ts|mts|cts|js|mjs|cjs)$/.test(p));
    expect(files.length).toBeGreaterThan(100);
    const long = files
      .map((path) => ({ path, lines: readFileSync(join(root, path), 'utf8').replace(/\n$/, '').split('\n').length }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.path}: ${f.lines} lines`);
    expect(long, `split these by concept:\n${long.join('\n')}`).toEqual([]);
  });
});

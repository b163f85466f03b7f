import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';
import { fromPackageRoot } from '../../../harness/src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rc-cost-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = async (...args: string[]) => {
  const io = captureIo();
  const code = await main(['node', 'registry-canary', 'cost', ...args], io);
  return { code, out: io.out(), err: io.err() };
};

describe('registry-canary cost', () => {
  it('reports both semantics for the example mix and says which costs more', async () => {
    const r = await run('--traffic', fromPackageRoot('fixtures', 'traffic', 'example.yaml'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^semantics most-specific: /m);
    expect(r.out).toMatch(/^semantics archeio: /m);
    expect(r.out).toMatch(/archeio semantics cost \$[\d,.]+ more than most-specific/);
  });

  it('prints JSON with prices overridden from a file', async () => {
    const prices = join(dir, 'prices.json');
    writeFileSync(prices, JSON.stringify({ 'default-host': 1 }));
    const r = await run('--traffic', fromPackageRoot('fixtures', 'traffic', 'example.yaml'), '--prices', prices, '--semantics', 'archeio', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.prices['default-host']).toBe(1);
    expect(doc.reports).toHaveLength(1);
    expect(doc.reports[0].semantics).toBe('archeio');
  });

  it.each([
    [['--traffic', '/nonexistent.yaml'], /cannot read traffic file \/nonexistent.yaml: ENOENT/],
    [['--traffic', 'PLACEHOLDER_BAD_YAML'], /is not valid YAML/],
    [['--traffic', 'PLACEHOLDER_BAD_MIX'], /pulls must be a non-negative number/],
    [['--traffic', fromPackageRoot('fixtures', 'traffic', 'example.yaml'), '--semantics', 'lpm'], /argument 'lpm' is invalid/],
  ])('exits 64 with a precise message for %j', async (args, message) => {
    writeFileSync(join(dir, 'bad.yaml'), 'pulls: [');
    writeFileSync(join(dir, 'mix.json'), JSON.stringify({ pulls: 'many' }));
    const resolved = args.map((a) => (a === 'PLACEHOLDER_BAD_YAML' ? join(dir, 'bad.yaml') : a === 'PLACEHOLDER_BAD_MIX' ? join(dir, 'mix.json') : a));
    const r = await run(...resolved);
    expect(r.code).toBe(64);
    expect(r.err).toMatch(message);
  });
});

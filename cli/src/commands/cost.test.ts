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
    expect(r.out).toMatch(
      /Default host: https:\/\/d1be1w964nk82h\.cloudfront\.net is archeio's compiled-in default host .*DEFAULT_AWS_BASE_URL=https:\/\/cdn\.registry\.k8s\.io/,
    );
  });

  it('prints JSON with prices overridden from a file', async () => {
    const prices = join(dir, 'prices.json');
    writeFileSync(prices, JSON.stringify({ 'default-host': 1 }));
    const r = await run(
      '--traffic',
      fromPackageRoot('fixtures', 'traffic', 'example.yaml'),
      '--prices',
      prices,
      '--semantics',
      'archeio',
      '--json',
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.prices['default-host']).toBe(1);
    expect(doc.reports).toHaveLength(1);
    expect(doc.reports[0].semantics).toBe('archeio');
  });

  it('exits 64 for a --semantics value that is not a choice', async () => {
    const r = await run('--traffic', fromPackageRoot('fixtures', 'traffic', 'example.yaml'), '--semantics', 'lpm');
    expect(r.code).toBe(64);
    expect(r.err).toMatch(/argument 'lpm' is invalid/);
  });

  const mix = (
    over: Record<string, unknown> = {},
    client: Record<string, unknown> = { name: 'c', ip: '8.8.8.8', share: 1 },
  ) =>
    JSON.stringify({ pulls: 1000, clients: [client], images: [{ ref: 'pause:3.10', bytes: 1e9, share: 1 }], ...over });

  it.each([
    ['a missing file', null, /cannot read traffic file .*missing.yaml: ENOENT/],
    ['invalid YAML', 'pulls: [', /is not valid YAML/],
    ['a wrong type', JSON.stringify({ pulls: 'many' }), /pulls must be a non-negative number/],
    [
      'an unknown key (its default would be used)',
      mix({ mirrored_share: 0.5 }),
      /mirrored_share is not a known field \(did you mean mirroredShare\?\)/,
    ],
    [
      'an unknown client key',
      mix({}, { name: 'c', ip: '8.8.8.8', share: 1, shares: 2 }),
      /clients\[0\]\.shares is not a known field/,
    ],
    [
      'a region the cloud does not publish',
      mix({}, { name: 'c', cloud: 'AWS', region: 'mars-1', share: 1 }),
      /"mars-1" is not a region AWS publishes/,
    ],
    [
      'a misspelt region',
      mix({}, { name: 'c', cloud: 'AWS', region: 'us-wset-2', share: 1 }),
      /did you mean us-west-2\?/,
    ],
    [
      'both ip and cloud',
      mix({}, { name: 'c', ip: '3.80.0.1', cloud: 'GCP', share: 1 }),
      /clients\[0\] has both `ip` and `cloud`/,
    ],
  ])('exits 2 (the traffic file is invalid) for %s, naming the field', async (_what, text, message) => {
    const file = join(dir, text === null ? 'missing.yaml' : `mix-${Math.random().toString(36).slice(2)}.yaml`);
    if (text !== null) writeFileSync(file, text);
    const r = await run('--traffic', file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });

  it('says the semantics cost the same when no client is routed differently, and names the clients when some are', async () => {
    const same = join(dir, 'same.json');
    writeFileSync(same, mix({}, { name: 'us-east-1', ip: '3.80.0.1', share: 1 }));
    const r = await run('--traffic', same);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/route every client of this mix alike: the same cost under both/);
    expect(r.out).not.toMatch(/GLOBAL|more than|less than/);
    const shadowed = join(dir, 'shadowed.json');
    writeFileSync(shadowed, mix({}, { name: 'ap-south-1 in GLOBAL', ip: '15.193.0.5', share: 1 }));
    const s = await run('--traffic', shadowed);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(
      /archeio semantics cost \$[\d,.]+ more than most-specific for this mix: 1 client routed differently/,
    );
    expect(s.out).toMatch(/ap-south-1 in GLOBAL \(\S*ap-south-1\S* → \S+\)/);
  });
});

// `registry-canary run --target local`: starts the local stack, runs, writes the reports, stops the stack (int tier:
// it spawns the stack's processes).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-int-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('registry-canary run --target local', () => {
  it('is green on the process engine, writes the three reports and leaves no stack behind', async () => {
    const io = captureIo();
    const report = join(dir, 'report');
    const code = await main(
      ['node', 'registry-canary', 'run', '--target', 'local', '--suite', 'routing,integrity', '--vantage', 'aws-us-east-1,gcp-v4,internet-v6', '--big-layer-mib', '1', '--report', report],
      io,
    );
    expect(code, `${io.out()}\n${io.err()}`).toBe(0);
    expect(io.out()).toMatch(/verdict: exit 0: \d+ passed/);
    expect(io.err()).toMatch(/starting the local stack \(process engine, most-specific semantics\)/);
    expect(io.err()).toMatch(/stopping the local stack/);
    const results = JSON.parse(await readFile(join(report, 'results.json'), 'utf8'));
    expect(results.target.name).toBe('local');
    expect(results.options.vantages).toEqual(['aws-us-east-1', 'gcp-v4', 'internet-v6']);
    // only the chosen vantages, plus the GLOBAL-shadowed addresses the routing suite poses as in xff mode
    const used = new Set(results.results.map((r: { vantage?: string }) => r.vantage).filter((v: string) => !v.startsWith('shadowed-v')));
    expect(used).toEqual(new Set(['aws-us-east-1', 'gcp-v4', 'internet-v6']));
    expect(await readFile(join(report, 'junit.xml'), 'utf8')).toMatch(/<testsuite name="integrity"/);
    expect(await readFile(join(report, 'index.html'), 'utf8')).toContain('data-destination="bucket us-east-1"');
  });
});

// the same run is green on the container engine (podman through testcontainers; docs/local-stack.md).
// The image build (about 20-25 s here, harness/src/stack/runtime-packages.ts) makes this one of the slowest tests in the
// int tier. With CI=true podman is required.
const containerEngine = Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock') || existsSync('/usr/bin/podman');
describe.runIf(containerEngine || process.env.CI === 'true')('registry-canary run --target local --engine container', () => {
  it('is green on the container engine', { timeout: 900_000 }, async () => {
    const io = captureIo();
    const report = join(dir, 'report-container');
    const code = await main(
      ['node', 'registry-canary', 'run', '--target', 'local', '--engine', 'container', '--suite', 'routing,integrity,conformance', '--vantage', 'aws-us-east-1,gcp-v4,internet-v4', '--big-layer-mib', '1', '--report', report],
      io,
    );
    expect(code, `${io.out()}\n${io.err()}`).toBe(0);
    expect(io.err()).toMatch(/starting the local stack \(container engine/);
    expect(io.out()).toMatch(/verdict: exit 0: \d+ passed/);
    const results = JSON.parse(await readFile(join(report, 'results.json'), 'utf8'));
    expect(results.results.filter((r: { status: string }) => r.status === 'pass').length).toBeGreaterThan(50);
  });
});

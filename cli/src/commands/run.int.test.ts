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
      [
        'node',
        'registry-canary',
        'run',
        '--target',
        'local',
        '--suite',
        'routing,integrity',
        '--vantage',
        'aws-us-east-1,gcp-v4,internet-v6',
        '--big-layer-mib',
        '1',
        '--report',
        report,
      ],
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
    const used = new Set(
      results.results.map((r: { vantage?: string }) => r.vantage).filter((v: string) => !v.startsWith('shadowed-v')),
    );
    expect(used).toEqual(new Set(['aws-us-east-1', 'gcp-v4', 'internet-v6']));
    expect(await readFile(join(report, 'junit.xml'), 'utf8')).toMatch(/<testsuite name="integrity"/);
    expect(await readFile(join(report, 'index.html'), 'utf8')).toContain('data-destination="bucket us-east-1"');
  });
});

// the same run is green on the container engine (podman through testcontainers; docs/local-stack.md).
// The image build (about 20-25 s here, harness/src/stack/runtime-packages.ts) makes this one of the slowest tests in the
// int tier. With CI=true podman is required.
const containerEngine =
  Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock') || existsSync('/usr/bin/podman');
describe.runIf(containerEngine || process.env.CI === 'true')(
  'registry-canary run --target local --engine container',
  () => {
    it('is green on the container engine', { timeout: 900_000 }, async () => {
      const io = captureIo();
      const report = join(dir, 'report-container');
      const code = await main(
        [
          'node',
          'registry-canary',
          'run',
          '--target',
          'local',
          '--engine',
          'container',
          '--suite',
          'routing,integrity,conformance',
          '--vantage',
          'aws-us-east-1,gcp-v4,internet-v4',
          '--big-layer-mib',
          '1',
          '--report',
          report,
        ],
        io,
      );
      expect(code, `${io.out()}\n${io.err()}`).toBe(0);
      expect(io.err()).toMatch(/starting the local stack \(container engine/);
      expect(io.out()).toMatch(/verdict: exit 0: \d+ passed/);
      const results = JSON.parse(await readFile(join(report, 'results.json'), 'utf8'));
      expect(results.results.filter((r: { status: string }) => r.status === 'pass').length).toBeGreaterThan(50);
    });
  },
);

const withoutReportDir = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.REGISTRY_CANARY_REPORT_DIR;
  return env;
};

// What a check writes (the browser suite's screenshot and nested report) goes under --report, and nothing goes to
// ./reports in the directory the command runs from. The built CLI runs in a scratch working directory.
describe('registry-canary run --report DIR', () => {
  it("puts the browser suite's screenshot and nested report under DIR/browser, and writes nothing under ./reports", async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdir, readdir } = await import('node:fs/promises');
    const { fromPackageRoot } = await import('../../../harness/src/index.js');
    const cwd = join(dir, 'cwd');
    await mkdir(cwd, { recursive: true });
    const report = join(dir, 'report-browser');
    const r = spawnSync(
      process.execPath,
      [
        fromPackageRoot('bin', 'registry-canary.js'),
        'run',
        '--target',
        'local',
        '--suite',
        'browser',
        '--big-layer-mib',
        '1',
        '--report',
        report,
      ],
      { cwd, encoding: 'utf8', timeout: 240_000, env: withoutReportDir() },
    );
    expect(r.status, `${r.stdout}\n${r.stderr}`).not.toBe(null);
    expect(await readdir(cwd)).toEqual([]);
    const results = JSON.parse(await readFile(join(report, 'results.json'), 'utf8'));
    const check = results.results.find((x: { id: string }) => x.id === 'browser/report-routing-map');
    expect(check).toBeDefined();
    if (check.status === 'pass') {
      expect(existsSync(join(report, 'browser', 'report-routing-map.png'))).toBe(true);
      expect(existsSync(join(report, 'browser', 'landing-routes', 'index.html'))).toBe(true);
    } else {
      // chromium missing on a developer machine: not applicable; under CI=true that is a failure
      expect(check.status, JSON.stringify(check)).toBe('not-applicable');
      expect(process.env.CI).not.toBe('true');
    }
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-cmd-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = async (...args: string[]) => {
  const io = captureIo();
  const code = await main(['node', 'registry-canary', 'run', ...args], io);
  return { code, out: io.out(), err: io.err() };
};

describe('registry-canary run: usage errors exit 64 with a precise message', () => {
  it.each([
    [['--suite', 'routing,nope'], /--suite: unknown suite nope \(known: [a-z, -]*routing, integrity/],
    [['--target', 'staging'], /--target must be one of local, sandbox, production/],
    [['--target', 'local', '--target-config', 'x.json'], /either --target or --target-config/],
    [['--target', 'production', '--semantics', 'archeio'], /--semantics applies to --target local only/],
    [['--target', 'sandbox', '--engine', 'process'], /--engine applies to --target local only/],
    [['--engine', 'vm'], /--engine must be process or container/],
    [['--semantics', 'longest'], /--semantics must be most-specific or archeio/],
    [['--concurrency', '0'], /--concurrency must be a whole number from 1 to 256, not "0"/],
    [['--concurrency', '2.5'], /--concurrency must be a whole number/],
    [['--check-timeout', 'soon'], /--check-timeout must be a whole number/],
    [['--vantage', ' '], /--vantage needs a name/],
    [['--no-such-flag'], /unknown option/],
    [['--check', 'routing/(['], /--check "routing\/\(\[" is not a regular expression/],
    [['--check', ''], /--check needs a pattern/],
  ])('%j', async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(64);
    expect(r.err).toMatch(message);
  });

  it('lists the suites and exit codes in --help', async () => {
    const io = captureIo();
    expect(await main(['node', 'registry-canary', 'run', '--help'], io)).toBe(0);
    const help = io.out().replace(/\s+/g, ' ');
    expect(help).toMatch(/--suite <names> comma-separated suites \(default all: [a-z, -]*routing, integrity/);
    expect(help).toMatch(/exit 0 green, 1 failed, 2 unreachable\/misconfigured, 64 usage/);
  });
});

describe('registry-canary run: a misconfigured or unreachable target exits 2, never 0', () => {
  const description = (over: Record<string, unknown> = {}) => ({
    name: 'nowhere',
    url: 'http://127.0.0.1:1',
    ipMode: 'xff',
    semantics: 'most-specific',
    upstream: 'http://127.0.0.1:2',
    upstreamPath: '',
    signatureUpstream: null,
    infoUrl: 'http://127.0.0.1:3/info',
    privacyUrl: 'http://127.0.0.1:3/privacy',
    bucketMap: { default: 'http://127.0.0.1:4/default', regions: {} },
    s3: null,
    vantages: [{ name: 'internet-v4', ip: '192.0.2.1', cloud: null, region: null, url: null }],
    images: [{ ref: 'pause:3.9', digest: `sha256:${'7'.repeat(64)}` }],
    mirrorPlan: { buckets: {} },
    ...over,
  });

  it('a missing file, a file that is not JSON, an invalid description', async () => {
    expect(await run('--target-config', join(dir, 'missing.json'))).toMatchObject({
      code: 2,
      err: expect.stringMatching(/cannot read target description .*missing\.json: ENOENT/),
    });
    await writeFile(join(dir, 'bad.json'), '{ nope');
    expect(await run('--target-config', join(dir, 'bad.json'))).toMatchObject({
      code: 2,
      err: expect.stringMatching(/is not JSON/),
    });
    await writeFile(join(dir, 'invalid.json'), JSON.stringify(description({ ipMode: 'carrier-pigeon' })));
    expect(await run('--target-config', join(dir, 'invalid.json'))).toMatchObject({
      code: 2,
      err: expect.stringMatching(/invalid target description: .*ipMode must be/),
    });
    await writeFile(join(dir, 'issues.json'), JSON.stringify(description({ knownIssues: [{ check: 'x' }] })));
    expect(await run('--target-config', join(dir, 'issues.json'))).toMatchObject({
      code: 2,
      err: expect.stringMatching(/knownIssues\[0\]\.link/),
    });
  });

  it('a target nobody answers: exit 2 with the reports written and the reason', async () => {
    await writeFile(join(dir, 'nowhere.json'), JSON.stringify(description()));
    const reportDir = join(dir, 'report');
    const r = await run('--target-config', join(dir, 'nowhere.json'), '--suite', 'routing', '--report', reportDir);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(
      /verdict: exit 2: target unreachable: GET \/v2\/ failed from every vantage: .* \(from internet-v4\)/,
    );
    const results = JSON.parse(await readFile(join(reportDir, 'results.json'), 'utf8'));
    expect(results).toMatchObject({ verdict: { exitCode: 2 }, preflight: { reachable: false } });
    expect(results.results.length).toBeGreaterThan(0);
    expect(await readFile(join(reportDir, 'junit.xml'), 'utf8')).toContain('<error message="not run');
  });

  it('many vantages failing alike: the failure is said once, with the count', async () => {
    const vantages = Array.from({ length: 49 }, (_, i) => ({
      name: `v${i}`,
      ip: `192.0.2.${i + 1}`,
      cloud: null,
      region: null,
      url: null,
    }));
    await writeFile(join(dir, 'many.json'), JSON.stringify(description({ vantages })));
    const r = await run(
      '--target-config',
      join(dir, 'many.json'),
      '--suite',
      'routing',
      '--report',
      join(dir, 'many-report'),
    );
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/ECONNREFUSED[^\n]*\(from 49 vantages\)/);
    // once in the preflight section and once in the verdict, never per vantage
    expect(
      r.out.split('\n').filter((l) => l.includes('ECONNREFUSED')),
      r.out,
    ).toHaveLength(2);
  });

  it('--json puts results.json alone on stdout', async () => {
    const r = await run(
      '--target-config',
      join(dir, 'nowhere.json'),
      '--suite',
      'routing',
      '--report',
      join(dir, 'json-report'),
      '--json',
    );
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ schema: 'registry-canary/results/v1', verdict: { exitCode: 2 } });
    expect(r.err).toContain('verdict: exit 2');
  });

  it('--check runs only the checks whose id matches, records the versions, and a pattern matching nothing is usage', async () => {
    const reportDir = join(dir, 'check-report');
    const r = await run(
      '--target-config',
      join(dir, 'nowhere.json'),
      '--suite',
      'routing,conformance',
      '--check',
      'routing.*manifest',
      '--report',
      reportDir,
    );
    expect(r.code).toBe(2);
    const results = JSON.parse(await readFile(join(reportDir, 'results.json'), 'utf8'));
    expect(results.results.length).toBeGreaterThan(0);
    for (const x of results.results) expect(x.id).toMatch(/routing.*manifest/);
    expect(results.versions).toEqual({ harness: expect.stringMatching(/^\d+\.\d+\.\d+/), redirector: null });
    expect(await readFile(join(reportDir, 'index.html'), 'utf8')).toContain(
      `registry-canary ${results.versions.harness}, redirector version not reported`,
    );
    const none = await run(
      '--target-config',
      join(dir, 'nowhere.json'),
      '--suite',
      'routing',
      '--check',
      '^nothing-like-this$',
      '--report',
      join(dir, 'r4'),
    );
    expect(none).toMatchObject({
      code: 64,
      err: expect.stringMatching(
        /--check "\^nothing-like-this\$" matches none of the \d+ checks of the chosen suites \(ids look like routing\//,
      ),
    });
  });

  it('an unknown --vantage on a posable target is a usage error', async () => {
    expect(
      await run('--target-config', join(dir, 'nowhere.json'), '--vantage', 'aws:mars-1', '--report', join(dir, 'r3')),
    ).toMatchObject({ code: 64, err: expect.stringMatching(/matches no vantage/) });
  });
});

// The official conformance program as a suite, end to end (int tier: it starts local stacks and runs the program):
// `registry-canary run --target local --suite oci-conformance` is green through the project's redirector with the
// program's tests as checks in results.json and junit.xml and its own report linked; and a redirector that skips
// the blob existence check (sending a client to a bucket that lacks the blob) turns the program's blob tests red,
// blamed on the redirector because the upstream asked directly passes them. Needs Go (the program is built with
// `go install`; the ggcr upstream with `go build`).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/src/main.js';
import { captureIo } from '../../cli/src/test-io.js';
import { GO_PROGRAMS, goProgramPath, runChecks, startStack } from '../../harness/src/index.js';
import { goOnPath } from '../../harness/src/index.js';
import { ociConformanceChecks } from './oci-conformance.suite.js';

const haveGo = goOnPath() || existsSync(goProgramPath(GO_PROGRAMS.conformance));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oci-conformance-int-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Result {
  id: string;
  suite: string;
  status: string;
  message?: string;
  failureClass?: string;
  details?: { officialReport?: string };
}

describe.runIf(haveGo || process.env.CI === 'true')('oci-conformance', () => {
  it('run --target local --suite oci-conformance is green through the redirector, checks in every report', {
    timeout: 900_000,
  }, async () => {
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
        'oci-conformance',
        '--big-layer-mib',
        '1',
        '--report',
        report,
      ],
      io,
    );
    expect(code, `${io.out()}\n${io.err()}`).toBe(0);
    expect(io.err()).toMatch(/stack: upstream: ggcr/);
    const results = JSON.parse(await readFile(join(report, 'results.json'), 'utf8')) as { results: Result[] };
    const byId = new Map(results.results.map((r) => [r.id, r]));
    expect(results.results.every((r) => r.suite === 'oci-conformance')).toBe(true);
    // what a read-only pull through the redirector must pass, referrers and `last` included (ggcr upstream)
    for (const id of [
      'ping',
      'empty/tag-list',
      'empty/referrers',
      'read-only/tag-list',
      'read-only/head/manifest-head-by-tag',
      'read-only/head/manifest-head-by-digest',
      'read-only/head/blob-head',
      'read-only/pull/manifest-by-tag',
      'read-only/pull/manifest-by-digest',
      'read-only/pull/blob-get',
      'read-only/referrers',
      'missing-manifest/by-digest',
      'missing-manifest/by-tag',
      'invalid-digest-format/manifest-get',
    ]) {
      expect(byId.get(`oci-conformance/${id}`)?.status, `${id}: ${byId.get(`oci-conformance/${id}`)?.message}`).toBe(
        'pass',
      );
    }
    expect(byId.get('oci-conformance/sha256-blobs')?.status).toBe('not-applicable');
    expect(byId.get('oci-conformance/read-only/push/manifest-by-tag')?.message).toMatch(
      /disabled in the configuration/,
    );
    const junit = await readFile(join(report, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuite name="oci-conformance"/);
    expect(junit).toContain('oci-conformance/read-only/referrers');
    // the program's own report is kept under the run's report dir and linked from index.html
    const link = byId.get('oci-conformance/ping')?.details?.officialReport;
    expect(link).toBe('oci-conformance/index.html');
    expect(await readFile(join(report, 'index.html'), 'utf8')).toContain(`href="${link}"`);
    const official = await readFile(join(report, link!), 'utf8');
    expect(official).toContain('href="oci-conformance/redirector/read-only/report.html"');
    expect(await readFile(join(report, 'oci-conformance/redirector/read-only/report.html'), 'utf8')).toContain(
      'OCI Distribution Conformance Tests',
    );
    expect(existsSync(join(report, 'oci-conformance/upstream/read-only/junit.xml'))).toBe(true);
  });

  it('fails the blob tests of a redirector without the existence check, blamed on the redirector', {
    timeout: 900_000,
  }, async () => {
    await using stack = await startStack({
      bigLayerMiB: 1,
      signatureUpstream: false,
      redirectorEnv: { REDIRECTOR_MUTANT: 'no-existence-check', REDIRECTOR_ALLOW_MUTANTS: '1' },
    });
    // us-west-2's bucket lacks the conformance image's layer (fixtures/mirror-plan.json): the program must see a 404
    const target = { ...stack.target, vantages: stack.target.vantages.filter((v) => v.name === 'aws-us-west-2') };
    const report = await runChecks({
      target,
      checks: ociConformanceChecks(target, { reportDir: join(dir, 'mutant') }),
      preflight: false,
    });
    const byId = new Map(report.results.map((r) => [r.id, r]));
    for (const id of ['read-only/pull/blob-get', 'read-only/head/blob-head']) {
      const r = byId.get(`oci-conformance/${id}`)!;
      expect(r.status, `${id}: ${r.message}`).toBe('fail');
      expect(r.failureClass).toBe('conformance');
      expect(r.message).toMatch(/the upstream asked directly: \d+ passed/);
    }
    // manifests still go upstream
    expect(byId.get('oci-conformance/read-only/pull/manifest-by-digest')?.status).toBe('pass');
    expect(report.verdict.exitCode).toBe(1);
  });
});

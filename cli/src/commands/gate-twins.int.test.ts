/**
 * The remote targets' logic, tested locally (harness/src/gate/loopback-twin.ts): the built-in production and sandbox
 * descriptions pointed at local stacks configured to look like them (production's bucket names, its upstream path
 * /v2/k8s-artifacts-prod/images, archeio semantics and protocol quirks), the harness speaking from a detected egress
 * address (a local IP echo service answers it; the twin's edge stamps it). Nothing of the harness is mocked: the same
 * runner, oracle, suites and gate as `registry-canary run --target production`.
 *
 * The egress address is 15.193.0.5: AWS ap-south-1 by its most specific prefix, inside AWS GLOBAL 15.193.0.0/19, so
 * archeio semantics send it to the default base and most-specific to the ap-south-1 bucket
 * (docs/reference/archeio.md#ip-classification).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseTargetDescription,
  resolveEgressVantage,
  runChecks,
  type TargetDescription,
  runGate,
  startLoopbackTwin,
  type StartedLoopbackTwin,
} from '../../../harness/src/index.js';
import { selectSuites } from '../../../suites/index.js';

const EGRESS = '15.193.0.5';
const builtIn = (name: string) =>
  parseTargetDescription(
    JSON.parse(readFileSync(fileURLToPath(new URL(`../../../fixtures/targets/${name}.json`, import.meta.url)), 'utf8')),
    name,
  );

let echo: Server;
let echoUrl: string;
const twins: StartedLoopbackTwin[] = [];
let production: StartedLoopbackTwin;
let sandbox: StartedLoopbackTwin;

beforeAll(async () => {
  echo = createServer((_req, res) => res.end(`${EGRESS}\n`));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/`;
  [production, sandbox] = await Promise.all([
    startLoopbackTwin(builtIn('production'), { egressIp: EGRESS }),
    startLoopbackTwin(builtIn('sandbox'), { egressIp: EGRESS }),
  ]);
  twins.push(production, sandbox);
});

afterAll(async () => {
  await Promise.all(twins.map((t) => t.stop()));
  await new Promise<void>((resolve) => echo?.close(() => resolve()));
});

/** What `run --target <twin> --vantage auto --ip-echo <echo>` does before running checks. */
const detect = (t: TargetDescription) => resolveEgressVantage(t, 'auto', { ipEchoUrl: echoUrl });

const run = async (t: TargetDescription, suites: string) => {
  const selected = selectSuites(suites);
  return runChecks({ target: t, checks: selected.flatMap((s) => s.checks(t)), suites: selected.map((s) => s.name) });
};

describe('the production description against its loopback twin', () => {
  it("keeps production's paths and bucket names on loopback", () => {
    const t = production.target;
    expect(t.upstreamPath).toBe('k8s-artifacts-prod/images');
    expect(t.bucketMap.regions['eu-west-2']).toMatch(/\/767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2$/);
    expect(t.bucketMap.regions['cn-north-1']).toBe(t.bucketMap.regions['ap-east-1']);
  });

  it('detects the egress vantage through the echo service and runs routing and integrity green, the tracked issue reported as known', async () => {
    const t = await detect(production.target);
    const v = t.vantages.find((x) => x.name === t.egressVantage)!;
    expect(v).toMatchObject({ ip: EGRESS, cloud: 'AWS', region: 'ap-south-1' });
    expect(v.tags).toContain('shadowed-by-global');
    const report = await run(t, 'routing,integrity');
    const red = report.results.filter((r) => r.status === 'fail' || r.status === 'error');
    expect(red.map((r) => `${r.id}: ${r.message}`)).toEqual([]);
    expect(report.verdict.exitCode).toBe(0);
    const known = report.results.filter((r) => r.status === 'known-failure');
    expect(known.map((r) => [r.id, r.knownIssue])).toEqual([
      ['routing/tag-list@egress-auto', 'https://github.com/kubernetes/registry.k8s.io/issues/326'],
    ]);
    // the manifest redirect carries production's upstream path, and the pull through it verified every byte
    const manifest = report.results.find((r) => r.id === 'routing/manifest-by-tag@egress-auto')!;
    expect(manifest.hops[0]!.location).toMatch(/\/v2\/k8s-artifacts-prod\/images\/conformance\/manifests\/tagtest0$/);
    expect(report.results.filter((r) => r.suite === 'integrity' && r.status === 'pass').length).toBeGreaterThan(5);
    // the shadowed egress address ran its check: archeio semantics send it to the default base
    const shadowed = report.results.find((r) => r.id === 'routing/shadowed-prefix@egress-auto')!;
    expect(shadowed.status).toBe('pass');
    expect(shadowed.hops[0]!.location).toMatch(/\/prod-registry-k8s-io-default\/containers\/images\//);
    // checks bound to the description's other vantages are not applicable, with the reason
    expect(report.results.find((r) => r.id === 'routing/blob-in-bucket@aws-us-east-1')).toMatchObject({
      status: 'not-applicable',
      message: expect.stringMatching(
        /egress mode: the harness speaks from egress-auto and cannot pose as aws-us-east-1/,
      ),
    });
  });

  it("archeio's protocol quirks are known failures with upstream links, not red", async () => {
    const report = await run(await detect(production.target), 'conformance');
    const known = new Map(report.results.filter((r) => r.status === 'known-failure').map((r) => [r.id, r.knownIssue]));
    for (const id of [
      'conformance/methods-405',
      'conformance/error-body-redirector',
      'conformance/query-survives-redirect',
      'conformance/dot-segments-rejected',
      'conformance/path-probes-stay-in-prefix',
    ]) {
      expect(known.get(id), id).toMatch(/^https:\/\/github\.com\/kubernetes\/registry\.k8s\.io\//);
    }
  });

  it('a new failure still turns the run red beside the known one', async () => {
    const broken = await startLoopbackTwin(builtIn('production'), {
      egressIp: EGRESS,
      redirectorEnv: { REDIRECTOR_MUTANT: 'manifests-to-bucket', REDIRECTOR_ALLOW_MUTANTS: '1' },
    });
    twins.push(broken);
    const report = await run(await detect(broken.target), 'routing');
    expect(report.verdict.exitCode).toBe(1);
    const failed = report.results.filter((r) => r.status === 'fail');
    // every manifest request, the signature tag included, now goes to a bucket
    expect(failed.map((r) => r.id).sort()).toEqual([
      'routing/manifest-by-digest@egress-auto',
      'routing/manifest-by-tag@egress-auto',
      'routing/signature-tag@egress-auto',
    ]);
    expect(failed.every((r) => r.failureClass === 'routing')).toBe(true);
    expect(report.results.find((r) => r.id === 'routing/tag-list@egress-auto')?.status).toBe('known-failure');
  });
});

describe('the gate between the twins (egress: one detected vantage for both)', () => {
  it('sandbox twin → production twin promotes: same build, inputs differ only in the default host', async () => {
    const g = await runGate({
      candidate: sandbox.target,
      baseline: production.target,
      vantage: 'auto',
      ipEchoUrl: echoUrl,
      suites: selectSuites('routing'),
    });
    expect(g.vantages).toEqual(['egress-auto']);
    expect(g.diff!.differences).toEqual([]);
    expect(g.verdict).toMatchObject({ decision: 'promote', exitCode: 0 });
    // the digests of the images both describe were compared through the token-less local upstream path proxy
    expect(Object.keys(g.candidate.fingerprint!.digests).length).toBeGreaterThan(5);
    console.log(
      `gate sandbox-twin → production-twin: ${(g.durationMs / 1000).toFixed(1)} s, ${g.diff!.compared} behaviours`,
    );
  });

  it("a sandbox that switched to most-specific semantics is blocked on the shadowed egress address's blob hosts", async () => {
    const changed = await startLoopbackTwin(builtIn('sandbox'), {
      egressIp: EGRESS,
      semantics: 'most-specific',
      archeioProtocol: true,
    });
    twins.push(changed);
    const candidate = { ...changed.target, semantics: 'archeio' as const }; // the description still says archeio: the build changed
    const g = await runGate({ candidate, baseline: production.target, vantage: 'auto', ipEchoUrl: echoUrl });
    expect(g.verdict.decision).toBe('block');
    expect(g.diff!.differences.length).toBeGreaterThan(0);
    for (const d of g.diff!.differences) expect(d).toMatchObject({ kind: 'blob', vantage: 'egress-auto' });
    expect(
      g.diff!.differences.some(
        (d) => /bucket:prod-registry-k8s-io-ap-south-1/.test(d.candidate) && /default-base/.test(d.baseline),
      ),
    ).toBe(true);
  });
});

/**
 * The gate's pure parts: Locations in an environment's own terms, the probe-by-probe diff, the verdict and the
 * reports, on hand-made fingerprints (the end-to-end bar is cli/src/commands/gate.int.test.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTargetDescription, type TargetDescription } from '../target/target-description.js';
import type { BehaviourFingerprint, ObservedFirstHop } from './behaviour-fingerprint.js';
import { declaredDifferences, diffFingerprints } from './fingerprint-diff.js';
import type { FingerprintProbe } from './fingerprint-probes.js';
import { gateHtml, gateJunitXml, gateMarkdown, unmatchedAccepts, type GateReport } from './gate-report.js';
import { decideGate, suiteRegressions, type GateSide } from './gate-verdict.js';
import { bucketNameOf, isLoopbackHost, locationShape } from './location-shape.js';

const builtIn = (name: string) => {
  const file = fileURLToPath(new URL(`../../../fixtures/targets/${name}.json`, import.meta.url));
  return parseTargetDescription(JSON.parse(readFileSync(file, 'utf8')), file);
};
const production = builtIn('production');
const sandbox = builtIn('sandbox');
const L = 'http://127.0.0.1:9000';
const local = {
  ...production,
  name: 'local',
  url: 'http://127.0.0.1:8080',
  upstream: 'http://127.0.0.1:5000',
  upstreamPath: '',
  signatureUpstream: 'http://127.0.0.1:5001',
  infoUrl: 'http://127.0.0.1:7000/info',
  privacyUrl: 'http://127.0.0.1:7000/privacy',
  bucketMap: {
    default: `${L}/prod-registry-k8s-io-default`,
    regions: {
      'eu-west-2': `${L}/767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2`,
      'eu-west-3': `${L}/prod-registry-k8s-io-eu-west-3`,
    },
  },
  locationMatch: {},
} as TargetDescription;
const DIGEST = 'sha256:da86e6ba6ca197bf6bc5e9d900febd906b133eaa4750e6bed647b0fbe50ed43e';

describe("locationShape: a Location in the environment's own terms", () => {
  it('names buckets by name whatever the endpoint style, and eu-west-2 by its odd name', () => {
    const prod = locationShape(
      production,
      `https://prod-registry-k8s-io-eu-west-3.s3.dualstack.eu-west-3.amazonaws.com/containers/images/${DIGEST}`,
      'https://registry.k8s.io/v2/pause/blobs/x',
    );
    const loop = locationShape(
      local,
      `${L}/prod-registry-k8s-io-eu-west-3/containers/images/${DIGEST}`,
      'http://127.0.0.1:8080/v2/pause/blobs/x',
    );
    expect(prod).toEqual({
      destination: 'bucket:prod-registry-k8s-io-eu-west-3',
      path: `/containers/images/${DIGEST}`,
      query: '',
      host: 'prod-registry-k8s-io-eu-west-3.s3.dualstack.eu-west-3.amazonaws.com',
    });
    expect({ ...loop, host: '' }).toEqual({ ...prod, host: '' });
    expect(
      locationShape(
        production,
        `https://767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2.s3.dualstack.eu-west-2.amazonaws.com/containers/images/${DIGEST}`,
        'https://registry.k8s.io/',
      ).destination,
    ).toBe('bucket:767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2');
    expect(bucketNameOf('https://cdn.registry.k8s.io')).toBe('cdn.registry.k8s.io');
  });

  it('the default base, the upstream (regional AR hosts stand in, upstreamPath stripped), the info pages, unknown hosts', () => {
    expect(
      locationShape(production, `https://cdn.registry.k8s.io/containers/images/${DIGEST}`, 'https://registry.k8s.io/')
        .destination,
    ).toBe('default-base');
    expect(
      locationShape(
        sandbox,
        `https://cdn.registry.k8s.dev/containers/images/${DIGEST}`,
        'https://registry-sandbox.k8s.io/',
      ).destination,
    ).toBe('default-base');
    const regional = locationShape(
      production,
      'https://europe-west4-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/manifests/3.9',
      'https://registry.k8s.io/',
    );
    expect(regional).toMatchObject({
      destination: 'upstream',
      path: '/v2/pause/manifests/3.9',
      host: 'europe-west4-docker.pkg.dev',
    });
    // production's signature upstream is the upstream's host: only a signature request tells them apart
    const sigUrl = `https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/manifests/sha256-${'a'.repeat(64)}.sig`;
    expect(locationShape(production, sigUrl, 'https://registry.k8s.io/').destination).toBe('upstream');
    expect(locationShape(production, sigUrl, 'https://registry.k8s.io/', { signature: true }).destination).toBe(
      'signature-upstream',
    );
    expect(
      locationShape(production, 'https://github.com/kubernetes/registry.k8s.io', 'https://registry.k8s.io/')
        .destination,
    ).toBe('info');
    expect(
      locationShape(
        production,
        `https://d1be1w964nk82h.cloudfront.net/containers/images/${DIGEST}`,
        'https://registry.k8s.io/',
      ).destination,
    ).toBe('host:d1be1w964nk82h.cloudfront.net');
    expect(
      locationShape(production, 'https://us-central1-docker.pkg.dev/v2/other/x', 'https://registry.k8s.io/').path,
    ).toBe('!/v2/other/x');
  });

  it('keeps the query except tolerated parameters (rid, docs/reference/incidents.md#deployment P4), sorted', () => {
    const s = locationShape(
      production,
      'https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/tags/list?rid=abc&n=2&last=3.9',
      'https://registry.k8s.io/',
    );
    expect(s.query).toBe('last=3.9&n=2');
  });

  it('knows loopback hosts', () => {
    expect(['127.0.0.1:9000', 'localhost', '[::1]:80'].map(isLoopbackHost)).toEqual([true, true, true]);
    expect(isLoopbackHost('cdn.registry.k8s.io')).toBe(false);
  });
});

const hop = (
  status: number,
  destination?: string,
  path = '/p',
  headers: Record<string, string> = {},
): ObservedFirstHop => ({
  status,
  headers,
  ...(destination ? { shape: { destination, path, query: '', host: 'h' } } : {}),
});
const fp = (
  target: string,
  hops: Record<string, ObservedFirstHop>,
  digests: Record<string, string> = {},
  hosts: string[] = [],
): BehaviourFingerprint => ({
  schema: 'registry-canary/fingerprint/v1',
  target,
  url: 'u',
  semantics: 'archeio',
  defaultBase: 'd',
  vantages: [{ name: 'aws-x', ip: '1.1.1.1', cloud: 'AWS', region: 'x' }],
  firstHops: hops,
  digests: Object.fromEntries(Object.entries(digests).map(([k, v]) => [k, { digest: v }])),
  hosts,
  durationMs: 1,
});
const probes: FingerprintProbe[] = [
  { id: 'ping', kind: 'ping', vantage: null, method: 'GET', path: '/v2/' },
  {
    id: `blob:${DIGEST}@aws-x`,
    kind: 'blob',
    vantage: 'aws-x',
    method: 'GET',
    path: `/v2/pause/blobs/${DIGEST}`,
    note: 'blob-in-bucket for candidate',
  },
  { id: 'tag-list@aws-x', kind: 'tag-list', vantage: 'aws-x', method: 'GET', path: '/v2/pause/tags/list?n=2&last=3.9' },
  { id: 'referrers@aws-x', kind: 'referrers', vantage: 'aws-x', method: 'GET', path: '/v2/pause/referrers/x' },
];

describe('diffFingerprints', () => {
  const same = {
    ping: hop(200, undefined, '', { 'docker-distribution-api-version': 'registry/2.0' }),
    [`blob:${DIGEST}@aws-x`]: hop(307, 'bucket:b'),
    'tag-list@aws-x': hop(307, 'upstream'),
    'referrers@aws-x': { status: 0, headers: {}, error: 'not applicable: x' },
  };
  it('finds nothing between identical fingerprints', () => {
    const d = diffFingerprints(
      probes,
      fp('a', same, { 'pause:3.9': 'sha256:1' }),
      fp('b', same, { 'pause:3.9': 'sha256:1' }),
      { candidate: production, baseline: production },
    );
    expect(d.differences).toEqual([]);
    expect(d.compared).toBe(4); // ping, blob, tag-list, digest; referrers not applicable on both sides
  });

  it('reports each differing field, digests, accepted patterns and hostnames', () => {
    const c = fp(
      'a',
      {
        ...same,
        [`blob:${DIGEST}@aws-x`]: hop(307, 'default-base'),
        'tag-list@aws-x': hop(307, 'upstream', '/p', { 'cache-control': 'no-store' }),
      },
      { 'pause:3.9': 'sha256:2' },
      ['cdn.registry.k8s.dev'],
    );
    const b = fp('b', same, { 'pause:3.9': 'sha256:1' }, ['cdn.registry.k8s.io']);
    const d = diffFingerprints(probes, c, b, { candidate: sandbox, baseline: production }, { accept: ['tag-list@*'] });
    expect(d.differences.map((x) => [x.id, x.changes.map((ch) => ch.field), x.accepted ?? null])).toEqual([
      [`blob:${DIGEST}@aws-x`, ['destination'], null],
      ['tag-list@aws-x', ['header cache-control'], 'tag-list@*'],
      ['digest:pause:3.9', ['digest'], null],
    ]);
    expect(d.differences[0]).toMatchObject({
      candidate: '307 default-base /p',
      baseline: '307 bucket:b /p',
      note: 'blob-in-bucket for candidate',
    });
    expect(d.hostnames).toEqual({ candidateOnly: ['cdn.registry.k8s.dev'], baselineOnly: ['cdn.registry.k8s.io'] });
  });

  it('declared differences: sandbox vs production differ in their default host only', () => {
    expect(declaredDifferences(sandbox, production)).toEqual([
      {
        field: 'default blob base',
        candidate: 'https://cdn.registry.k8s.dev',
        baseline: 'https://cdn.registry.k8s.io',
      },
    ]);
    // two local stacks differ in ports only: not configuration
    const other = {
      ...local,
      upstream: 'http://127.0.0.1:5999',
      bucketMap: { ...local.bucketMap, default: 'http://127.0.0.1:9999/prod-registry-k8s-io-default' },
    };
    expect(declaredDifferences(local, other)).toEqual([]);
  });
});

const side = (role: 'candidate' | 'baseline', over: Partial<GateSide> = {}): GateSide => ({
  role,
  name: role,
  url: 'u',
  ipMode: 'xff',
  semantics: 'archeio',
  preflight: { reachable: true, vantages: [] },
  fingerprint: fp(role, { ping: hop(200) }),
  suites: null,
  ...over,
});

describe('decideGate', () => {
  const diff = (n: number, accepted = false) => ({
    compared: 10,
    differences: Array.from({ length: n }, (_, i) => ({
      id: `p${i}`,
      kind: 'blob',
      vantage: 'v',
      request: { method: 'GET', path: `/x${i}` },
      changes: [{ field: 'destination', candidate: 'a', baseline: 'b' }],
      candidate: 'a',
      baseline: 'b',
      ...(accepted ? { accepted: 'p*' } : {}),
    })),
    declared: [],
    hostnames: { candidateOnly: [], baselineOnly: [] },
  });
  it('promotes without differences, blocks with one reason per difference, accepts what it is told', () => {
    expect(decideGate(side('candidate'), side('baseline'), diff(0))).toMatchObject({
      decision: 'promote',
      exitCode: 0,
    });
    const blocked = decideGate(side('candidate'), side('baseline'), diff(2));
    expect(blocked).toMatchObject({ decision: 'block', exitCode: 1 });
    expect(blocked.reasons).toEqual([
      'blob from v: GET /x0: candidate a; baseline b',
      'blob from v: GET /x1: candidate a; baseline b',
    ]);
    expect(decideGate(side('candidate'), side('baseline'), diff(2, true))).toMatchObject({
      decision: 'promote',
      reasons: ['10 behaviours compared, no unaccepted difference (2 accepted)'],
    });
  });
  it('is unreachable (2) when either side did not answer, and never promotes then', () => {
    const down = side('baseline', {
      preflight: { reachable: false, vantages: [{ vantage: 'v', ok: false, message: 'ECONNREFUSED', hops: [] }] },
    });
    expect(decideGate(side('candidate'), down, null)).toMatchObject({
      decision: 'unreachable',
      exitCode: 2,
      reasons: ['baseline baseline is unreachable: GET /v2/ failed: ECONNREFUSED (from v)'],
    });
    const silent = side('candidate', { fingerprint: fp('c', { ping: { status: 0, headers: {}, error: 'reset' } }) });
    expect(decideGate(silent, side('baseline'), diff(0)).exitCode).toBe(2);
  });
  it('with only the baseline down, blames the baseline once, with the vantage count, and not the unprobed candidate', () => {
    const vantages = Array.from({ length: 49 }, (_, i) => ({
      vantage: `v${i}`,
      ok: false,
      message: 'ECONNREFUSED 127.0.0.1:9',
      hops: [],
    }));
    const down = side('baseline', { preflight: { reachable: false, vantages }, fingerprint: null });
    const up = side('candidate', { fingerprint: null });
    const v = decideGate(up, down, null);
    expect(v.exitCode).toBe(2);
    expect(v.reasons[0]).toBe(
      'baseline baseline is unreachable: GET /v2/ failed: ECONNREFUSED 127.0.0.1:9 (from 49 vantages)',
    );
    expect(v.reasons.join('\n').match(/ECONNREFUSED/g)).toHaveLength(1);
    expect(v.reasons.join('\n')).not.toMatch(/candidate candidate answered none/);
    expect(v.reasons[1]).toMatch(/^candidate candidate answered GET \/v2\/; it was not fingerprinted/);
  });
  it('blocks on a suite regression, not on a failure both sides share', () => {
    const suites = (red: string[]) => ({
      suites: ['routing'],
      verdict: { exitCode: red.length ? 1 : 0, reason: 'r' } as const,
      counts: { total: 1, byStatus: { pass: 3 } } as never,
      red: red.map((id) => ({ id, status: 'fail' as const, failureClass: 'routing' as const })),
    });
    const c = side('candidate', { suites: suites(['routing/a@v', 'routing/b@v']) });
    const b = side('baseline', { suites: suites(['routing/a@v']) });
    expect(suiteRegressions(c.suites, b.suites).map((r) => r.id)).toEqual(['routing/b@v']);
    const v = decideGate(c, b, diff(0));
    expect(v.decision).toBe('block');
    expect(v.reasons).toEqual(['regression: routing/b@v is fail (routing) on the candidate and not on the baseline']);
  });
});

describe('gate reports', () => {
  const c = side('candidate', {
    fingerprint: fp('c', { ping: hop(200), [`blob:${DIGEST}@aws-x`]: hop(307, 'bucket:b') }),
  });
  const b = side('baseline', {
    fingerprint: fp('b', { ping: hop(200), [`blob:${DIGEST}@aws-x`]: hop(307, 'default-base') }),
  });
  const d = diffFingerprints(probes.slice(0, 2), c.fingerprint!, b.fingerprint!, {
    candidate: sandbox,
    baseline: production,
  });
  const report: GateReport = {
    schema: 'registry-canary/gate/v1',
    versions: { harness: '0.1.0' },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:02.000Z',
    durationMs: 2000,
    vantages: ['aws-x'],
    candidate: c,
    baseline: b,
    probes: probes.slice(0, 2),
    diff: d,
    accept: [],
    unmatchedAccepts: [],
    regressions: [],
    verdict: decideGate(c, b, d),
    timings: { fingerprint: 1000 },
  };
  it('markdown: verdict, differences table, declared differences, hostnames', () => {
    const md = gateMarkdown(report);
    expect(md).toMatch(/^# Promotion gate: candidate → baseline: BLOCK \(exit 1\)/);
    expect(md).toContain(
      `| blob:${DIGEST}@aws-x | GET /v2/pause/blobs/${DIGEST} | destination | 307 bucket:b /p | 307 default-base /p |`,
    );
    expect(md).toContain('| default blob base | https://cdn.registry.k8s.dev | https://cdn.registry.k8s.io |');
    expect(md).toContain('- judged by: registry-canary 0.1.0');
  });
  it('html: stable hooks, self-contained', () => {
    const html = gateHtml(report);
    expect(html).toMatch(/<section id="gate-verdict" data-decision="block" data-exit-code="1">/);
    expect(html).toContain(`<tr data-id="blob:${DIGEST}@aws-x" data-kind="blob" data-vantage="aws-x">`);
    expect(html).not.toMatch(/<script|<link |src="http/);
    expect(html).toContain('judged by: registry-canary 0.1.0');
  });
  it("html has what markdown has: suites with links to both sides' reports, regressions, timings", () => {
    const suites = (red: string[], reportDir: string) => ({
      suites: ['routing'],
      verdict: { exitCode: red.length ? 1 : 0, reason: red.length ? 'a check failed' : 'green' } as const,
      counts: { total: 1, byStatus: { pass: 3 } } as never,
      red: red.map((id) => ({
        id,
        status: 'fail' as const,
        failureClass: 'routing' as const,
        message: 'wrong bucket',
      })),
      reportDir,
    });
    const candidate = { ...c, suites: suites(['routing/b@v', 'routing/both@v'], '/r/gate/candidate') };
    const baseline = { ...b, suites: suites(['routing/both@v'], '/r/gate/baseline') };
    const regressions = suiteRegressions(candidate.suites, baseline.suites);
    expect(regressions.map((r) => r.id)).toEqual(['routing/b@v']); // red on both sides is no regression
    const withSuites: GateReport = { ...report, candidate, baseline, regressions };
    const md = gateMarkdown(withSuites);
    const html = gateHtml(withSuites, '/r/gate');
    expect(md).toMatch(/## Suites \(1 regression\)/);
    expect(md).toContain('(report: /r/gate/candidate/index.html)');
    expect(html).toMatch(/<h2>Suites \(1 regression\)<\/h2>/);
    expect(html).toContain('<a href="candidate/index.html">candidate\'s report</a>');
    expect(html).toContain('<a href="baseline/index.html">baseline\'s report</a>');
    expect(html).toMatch(
      /<li class="regression">regression: <code>routing\/b@v<\/code>: fail routing: wrong bucket<\/li>/,
    );
    expect(html).toContain('Timings: fingerprint 1.0 s.');
    // every h2 of the markdown has its section in the html (the verdict is the html's #gate-verdict section)
    for (const heading of md.match(/^## (\w+)/gm)!.map((x) => x.slice(3))) {
      expect(html, heading).toMatch(
        heading === 'Verdict' ? /<section id="gate-verdict"/ : new RegExp(`<h2>${heading}`, 'i'),
      );
    }
  });

  it('an --accept pattern that matched nothing is a loud warning in both reports, not an error', () => {
    const accept = ['blob:*@aws-x', 'manifest:*@nowhere-*'];
    expect(unmatchedAccepts({ accept, diff: report.diff })).toEqual(['manifest:*@nowhere-*']);
    const stale: GateReport = { ...report, accept, unmatchedAccepts: ['manifest:*@nowhere-*'] };
    expect(gateMarkdown(stale)).toContain(
      '## WARNING: --accept patterns that matched nothing (1)\n\n- `manifest:*@nowhere-*`: no difference has an id it matches',
    );
    expect(gateHtml(stale)).toMatch(/<section id="gate-unmatched-accepts" class="warning">.*manifest:\*@nowhere-\*/);
    expect(unmatchedAccepts(report)).toEqual([]);
    expect(gateMarkdown(report)).not.toContain('WARNING');
  });

  it('junit: a failure per difference and for the verdict, a passing case per equal behaviour', () => {
    const xml = gateJunitXml(report);
    expect(xml).toMatch(/<testsuite name="gate" tests="3" failures="2"/);
    expect(xml).toContain(
      `<testcase classname="registry-canary.gate.fingerprint" name="blob:${DIGEST}@aws-x" time="0">\n      <failure message="destination: bucket:b vs default-base" type="behaviour">`,
    );
    expect(xml).toMatch(
      /<testcase classname="registry-canary.gate" name="verdict" time="2.000">\n {6}<failure message="BLOCK: blob from aws-x/,
    );
  });
});

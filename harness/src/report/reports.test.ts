import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CheckResult, Hop } from '../results/check.js';
import { countResults, decideVerdict, rollUpAll, type RunReport } from '../results/run-report.js';
import type { RoutingEvidence } from '../results/routing-evidence.js';
import type { TargetDescription } from '../target/target-description.js';
import { createProgress } from '../run/progress.js';
import { formatTrace } from './hop-trace.js';
import { attachedReports, htmlReport } from './html-report.js';
import { junitXml } from './junit-xml.js';
import { destinationOf, routingMap } from './routing-map.js';
import { terminalSummary } from './terminal-summary.js';
import { defaultReportDir, writeReports } from './write-reports.js';

const B = 'http://127.0.0.1:9000';
const target = {
  name: 'local',
  url: 'http://127.0.0.1:8080',
  ipMode: 'xff',
  semantics: 'most-specific',
  upstream: 'http://127.0.0.1:5000',
  upstreamPath: '',
  signatureUpstream: 'http://127.0.0.1:5001',
  infoUrl: 'http://127.0.0.1:7000/info',
  privacyUrl: 'http://127.0.0.1:7000/privacy',
  bucketMap: {
    default: `${B}/prod-registry-k8s-io-default`,
    regions: {
      'us-east-1': `${B}/prod-registry-k8s-io-us-east-1`,
      'ap-east-1': `${B}/prod-registry-k8s-io-ap-east-1`,
      'cn-north-1': `${B}/prod-registry-k8s-io-ap-east-1`,
    },
  },
  s3: null,
  vantages: [{ name: 'aws-us-east-1', ip: '44.192.0.1', cloud: 'AWS', region: 'us-east-1', url: null }],
  images: [],
  mirrorPlan: null,
} as TargetDescription;

const hop = (status: number, location?: string): Hop => ({
  method: 'GET',
  url: `${target.url}/v2/p/blobs/sha256:1`,
  status,
  headers: { 'content-length': '0' },
  startMs: 0,
  durationMs: 2.5,
  ...(location ? { location } : {}),
});
const ev = (kind: string, expected: string, actual: string, matched: boolean): RoutingEvidence => ({
  kind,
  vantage: 'aws-us-east-1',
  request: { method: 'GET', path: '/v2/p/blobs/sha256:1', xff: '44.192.0.1,0.0.0.0' },
  expected: { status: 307, location: expected, reason: 'blob-bucket-hit' },
  actual: { status: 307, location: actual },
  matched,
});
const res = (id: string, over: Partial<CheckResult>): CheckResult => ({
  id,
  suite: id.split('/')[0]!,
  title: `title of ${id}`,
  rule: 'rule 6',
  vantage: 'aws-us-east-1',
  status: 'pass',
  hops: [],
  durationMs: 12,
  startMs: 3,
  ...over,
});
const bucket = `${B}/prod-registry-k8s-io-us-east-1/containers/images/sha256:1`;
const results: CheckResult[] = [
  res('routing/blob-in-bucket@aws-us-east-1', {
    status: 'fail',
    failureClass: 'routing',
    message: 'expected <bucket> & got upstream',
    hops: [hop(307, `${target.upstream}/v2/p/blobs/sha256:1`)],
    details: { routing: ev('blob-in-bucket', bucket, `${target.upstream}/v2/p/blobs/sha256:1`, false) },
  }),
  res('routing/manifest-by-tag@aws-us-east-1', {
    hops: [hop(307, `${target.upstream}/v2/p/manifests/1`)],
    details: {
      routing: {
        ...ev('manifest-by-tag', `${target.upstream}/v2/p/manifests/1`, `${target.upstream}/v2/p/manifests/1`, true),
        expected: { status: 307, location: `${target.upstream}/v2/p/manifests/1`, reason: 'upstream' },
      },
    },
  }),
  res('routing/tag-list@aws-us-east-1', {
    status: 'known-failure',
    failureClass: 'routing',
    message: 'query dropped',
    knownIssue: 'https://github.com/kubernetes/registry.k8s.io/issues/326',
    knownIssueReason: 'archeio drops queries',
  }),
  res('routing/root@aws-us-east-1', { status: 'not-applicable', message: 'needs an edge port' }),
  res('integrity/pause:3.9@aws-us-east-1', {
    status: 'fail',
    failureClass: 'integrity',
    message: 'DIGEST_MISMATCH: flipped',
    hops: [hop(307, bucket), hop(200)],
    details: { servedBy: bucket },
  }),
  res('integrity/range-resume@aws-us-east-1', {
    status: 'error',
    failureClass: 'availability',
    message: 'NETWORK: reset',
    durationMs: 900,
  }),
  res('integrity/big:v1@aws-us-east-1', { fixedKnownIssue: 'https://github.com/example/1' }),
];
const report: RunReport = {
  schema: 'registry-canary/results/v1',
  target,
  suites: ['routing', 'integrity'],
  options: { concurrency: 4, checkTimeoutMs: 120_000 },
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:01.000Z',
  durationMs: 1000,
  preflight: { reachable: true, vantages: [{ vantage: 'aws-us-east-1', ok: true, status: 200, hops: [] }] },
  status: rollUpAll(results),
  verdict: decideVerdict(results, null),
  counts: countResults(results),
  results,
};

describe('junit.xml', () => {
  const xml = junitXml(report);
  it('has a testsuite per suite and a testcase per check, with TestGrid-readable elements', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
    expect(xml).toMatch(/<testsuite name="routing" tests="4" failures="1" errors="0" skipped="2"/);
    expect(xml).toMatch(/<testsuite name="integrity" tests="3" failures="1" errors="1" skipped="0"/);
    expect(xml).toContain(
      '<testcase classname="registry-canary.routing" name="routing/blob-in-bucket@aws-us-east-1" time="0.012">',
    );
    expect(xml).toMatch(/<failure message="expected &lt;bucket&gt; &amp; got upstream" type="routing">/);
    expect(xml).toMatch(/<error message="NETWORK: reset" type="availability">/);
    expect(xml).toMatch(
      /<skipped message="known issue https:\/\/github.com\/kubernetes\/registry.k8s.io\/issues\/326: archeio drops queries/,
    );
    expect(xml).toMatch(/<skipped message="not applicable: needs an edge port"\/>/);
    expect(xml).toContain('#1 GET http://127.0.0.1:8080/v2/p/blobs/sha256:1 → 307');
    expect(xml.match(/<testcase /g)).toHaveLength(results.length);
    // balanced
    expect(xml.match(/<testsuite /g)!.length).toBe(xml.match(/<\/testsuite>/g)!.length);
    expect(xml.match(/<testcase /g)!.length).toBe(xml.match(/<\/testcase>/g)!.length);
  });
});

describe('index.html', () => {
  const html = htmlReport(report);
  it('is self-contained: no scripts, stylesheets or images from anywhere', () => {
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html).toContain('<style>');
  });
  it('leads with the verdict and draws the routing map, the wrong cell outlined with what was expected', () => {
    expect(html).toMatch(/<div id="verdict" class="verdict bad" data-exit-code="1">/);
    expect(html).toContain('<table id="routing-map">');
    expect(html).toMatch(
      /<td class="cell d-upstream s-fail" data-vantage="aws-us-east-1" data-kind="blob-in-bucket" data-status="fail" data-destination="upstream"[^>]*>upstream<small>expected bucket us-east-1<\/small><\/td>/,
    );
    expect(html).toMatch(/data-kind="manifest-by-tag" data-status="pass" data-destination="upstream"/);
    expect(html).toMatch(/data-kind="root" data-status="not-applicable"[^>]*>n\/a</);
  });
  it('lists failures by class with their traces, known issues, reasons and timings, escaping everything', () => {
    expect(html).toContain('<h3>routing (1)</h3>');
    expect(html).toContain('<h3>integrity (1)</h3>');
    expect(html).toContain('<h3>availability (1)</h3>');
    expect(html).toContain('expected &lt;bucket&gt; &amp; got upstream');
    expect(html).toContain('Known issues (1 reproduced, 1 fixed)');
    expect(html).toContain('needs an edge port');
    expect(html).toContain('Slowest checks');
  });
});

describe('attached reports', () => {
  it('links each attached report once, with the suites that attached it; never an absolute or scheme URL', () => {
    const link = { label: 'official report', href: 'oci-conformance/index.html' };
    const attached: RunReport = {
      ...report,
      results: [
        res('oci-conformance/ping', { details: { reportLinks: [link] } }),
        res('oci-conformance/read-only/referrers', { status: 'not-applicable', details: { reportLinks: [link] } }),
        res('other/x', {
          details: {
            reportLinks: [
              { label: 'evil', href: 'javascript:alert(1)' },
              { label: 'abs', href: '/etc/passwd' },
              'junk',
            ],
          },
        }),
      ],
    };
    expect(attachedReports(attached)).toEqual([{ ...link, suites: ['oci-conformance'] }]);
    const html = htmlReport(attached);
    expect(html).toContain('<a class="attached-report" href="oci-conformance/index.html">official report</a>');
    expect(html).not.toContain('javascript:');
    expect(htmlReport(report)).not.toContain('Attached reports');
  });
});

describe('terminal summary', () => {
  const text = terminalSummary(report);
  it('groups red results by failure class with their first hops, then known, fixed, not applicable and the verdict', () => {
    const order = [
      'routing: the first hop',
      'integrity: bytes',
      'availability: 5xx',
      'known failures (1)',
      'fixed known issues (1)',
      'not applicable (1)',
      'verdict: exit 1',
    ];
    const at = order.map((s) => text.indexOf(s));
    expect(
      at.every((i) => i >= 0),
      text,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text).toContain('✗ routing/blob-in-bucket@aws-us-east-1: expected <bucket> & got upstream');
    expect(text).toContain('      #1 GET http://127.0.0.1:8080/v2/p/blobs/sha256:1 → 307');
    expect(text).toContain('1 × needs an edge port [routing/root@aws-us-east-1]');
    expect(text).not.toContain('\x1b[');
    expect(terminalSummary(report, { color: true })).toContain('\x1b[31;1m');
  });
});

describe('routing map', () => {
  it('names destinations in the target’s terms', () => {
    expect(destinationOf(target, 307, `${B}/prod-registry-k8s-io-ap-east-1/containers/images/x`)).toEqual({
      kind: 'regional-bucket',
      label: 'bucket ap-east-1',
    });
    expect(destinationOf(target, 307, `${B}/prod-registry-k8s-io-default/containers/images/x`)).toEqual({
      kind: 'default-bucket',
      label: 'default bucket',
    });
    expect(destinationOf(target, 307, 'http://127.0.0.1:5001/v2/p/manifests/sha256-1.sig')).toEqual({
      kind: 'signature-upstream',
      label: 'signature upstream',
    });
    expect(destinationOf(target, 302, `${target.upstream}/v2/x`)).toEqual({ kind: 'upstream', label: '302 upstream' });
    expect(destinationOf(target, 307, target.infoUrl)).toMatchObject({ kind: 'info' });
    expect(destinationOf(target, 404, undefined)).toEqual({ kind: 'answer', label: '404' });
    expect(destinationOf(target, 307, 'https://elsewhere.example/x')).toEqual({
      kind: 'other',
      label: 'elsewhere.example',
    });
    expect(destinationOf(target, undefined, undefined)).toMatchObject({ kind: 'none' });
  });
  it('builds rows from routing evidence and from routing results that never got a response', () => {
    const map = routingMap(report);
    expect(map.vantages).toEqual(['aws-us-east-1']);
    expect(map.kinds).toEqual(['manifest-by-tag', 'tag-list', 'blob-in-bucket', 'root']);
  });
});

describe('writeReports', () => {
  it('writes results.json, junit.xml and index.html into the directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reports-test-'));
    try {
      const w = await writeReports(report, join(dir, 'nested'));
      expect(JSON.parse(await readFile(w.resultsJson, 'utf8'))).toMatchObject({
        schema: 'registry-canary/results/v1',
        verdict: { exitCode: 1 },
        counts: { byClass: { routing: 1 } },
      });
      expect(await readFile(w.junitXml, 'utf8')).toContain('<testsuites');
      expect(await readFile(w.indexHtml, 'utf8')).toContain('routing-map');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(defaultReportDir(new Date('2026-01-02T03:04:05.678Z'))).toBe(join('reports', '2026-01-02T03-04-05-678Z'));
  });
});

describe('progress', () => {
  const capture = () => {
    const s = new PassThrough();
    let out = '';
    s.on('data', (c) => (out += c));
    return { s, out: () => out };
  };
  it('plain lines off a terminal; a live line plus permanent non-passes on one', () => {
    const plain = capture();
    const p = createProgress(plain.s, { tty: false });
    p.start(2);
    p.finished(results[1]!, 1, 2);
    p.finished(results[0]!, 2, 2);
    p.end();
    expect(plain.out()).toBe(
      'running 2 checks\n[1/2] PASS    routing/manifest-by-tag@aws-us-east-1 (12 ms)\n[2/2] FAIL    routing/blob-in-bucket@aws-us-east-1 [routing] (12 ms): expected <bucket> & got upstream\n',
    );
    const tty = capture();
    const q = createProgress(tty.s, { tty: true });
    q.start(2);
    q.finished(results[1]!, 1, 2);
    q.finished(results[0]!, 2, 2);
    q.end();
    expect(tty.out()).toContain('\r\x1b[2K✗ FAIL   routing/blob-in-bucket@aws-us-east-1');
    expect(tty.out()).toContain('[2/2] ✓1 ✗1  routing/blob-in-bucket@aws-us-east-1');
  });
  it('formats a trace like crane --verbose', () => {
    expect(formatTrace([])).toBe('(no HTTP exchange recorded)');
    expect(
      formatTrace([{ ...hop(307, 'http://b/x'), requestHeaders: { 'x-forwarded-for': '1.2.3.4,5.6.7.8' } } as Hop]),
    ).toBe(
      '#1 GET http://127.0.0.1:8080/v2/p/blobs/sha256:1 → 307 (2.5 ms at +0.0 ms)\n     Location: http://b/x\n     sent X-Forwarded-For: 1.2.3.4,5.6.7.8\n     content-length: 0',
    );
  });
});

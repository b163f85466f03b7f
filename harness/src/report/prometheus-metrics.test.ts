import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../results/check.js';
import { countResults, decideVerdict, rollUpAll, type RunReport } from '../results/run-report.js';
import type { TargetDescription } from '../target/target-description.js';
import {
  MetricsPushError,
  pushMetrics,
  pushgatewayUrl,
  runLabels,
  runMetricsText,
  writeMetricsTextfile,
} from './prometheus-metrics.js';

const target = {
  name: 'production',
  url: 'https://registry.k8s.io',
  ipMode: 'egress',
  egressVantage: 'egress-auto',
  vantages: [{ name: 'egress-auto', ip: '108.128.0.9', cloud: 'AWS', region: 'eu-west-1', url: null }],
} as unknown as TargetDescription;
const r = (id: string, over: Partial<CheckResult> = {}): CheckResult => ({
  id,
  suite: id.split('/')[0]!,
  title: id,
  rule: 'r',
  status: 'pass',
  hops: [],
  durationMs: 250,
  ...over,
});
const results: CheckResult[] = [
  r('routing/blob-in-bucket@egress-auto', {
    hops: [{ method: 'GET', url: 'u', status: 307, headers: {}, startMs: 0, durationMs: 42 }],
    details: { routing: { kind: 'blob-in-bucket' } },
  }),
  r('routing/tag-list@egress-auto', {
    status: 'known-failure',
    failureClass: 'routing',
    knownIssue: 'https://github.com/kubernetes/registry.k8s.io/issues/326',
  }),
  r('integrity/pause:3.9@egress-auto', { status: 'fail', failureClass: 'integrity' }),
  r('routing/root@aws-us-east-1', { status: 'not-applicable', message: 'egress mode' }),
];
const report: RunReport = {
  schema: 'registry-canary/results/v1',
  target,
  suites: ['routing', 'integrity'],
  options: { concurrency: 4, checkTimeoutMs: 120_000 },
  startedAt: '2026-03-01T00:00:00.000Z',
  finishedAt: '2026-03-01T00:00:02.000Z',
  durationMs: 2000,
  preflight: { reachable: true, vantages: [] },
  status: rollUpAll(results),
  verdict: decideVerdict(results, null),
  counts: countResults(results),
  results,
};

describe('run metrics (Prometheus text format)', () => {
  it('labels every series with target and vantage and reports verdict, counts, classes, per-check and latency', async () => {
    expect(runLabels(report)).toEqual({ target: 'production', vantage: 'aws:eu-west-1' });
    const text = await runMetricsText(report);
    const line = (re: RegExp) => text.split('\n').find((l) => re.test(l));
    expect(line(/^registry_canary_run_exit_code\{/)).toBe(
      'registry_canary_run_exit_code{target="production",vantage="aws:eu-west-1"} 1',
    );
    expect(line(/^registry_canary_run_success\{/)).toMatch(/ 0$/);
    expect(line(/^registry_canary_run_timestamp_seconds\{/)).toMatch(/ 1772323202$/);
    expect(line(/^registry_canary_checks\{status="pass"/)).toBe(
      'registry_canary_checks{status="pass",target="production",vantage="aws:eu-west-1"} 1',
    );
    expect(line(/^registry_canary_failures\{class="integrity"/)).toMatch(/ 1$/);
    expect(line(/^registry_canary_known_failures\{/)).toMatch(/ 1$/);
    expect(line(/^registry_canary_suite_red_checks\{suite="integrity"/)).toMatch(/ 1$/);
    expect(
      line(/^registry_canary_check_ok\{suite="integrity",check="integrity\/pause:3.9@egress-auto",status="fail"/),
    ).toMatch(/ 0$/);
    expect(
      line(/^registry_canary_check_ok\{suite="routing",check="routing\/tag-list@egress-auto",status="known-failure"/),
    ).toMatch(/ 1$/);
    expect(line(/^registry_canary_first_hop_seconds\{kind="blob-in-bucket"/)).toMatch(/ 0.042$/);
    expect(text).toMatch(/# HELP registry_canary_run_exit_code /);
    expect(text).toMatch(/# TYPE registry_canary_checks gauge/);
  });

  it('writes a textfile atomically (no temporary file left behind)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metrics-'));
    try {
      const file = join(dir, 'registry_canary.prom');
      await writeMetricsTextfile(await runMetricsText(report), file);
      expect(await readFile(file, 'utf8')).toMatch(/^# HELP/);
      expect(await readdir(dir)).toEqual(['registry_canary.prom']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Pushgateway push', () => {
  it('builds grouping-key URLs, base64-encoding values with a slash', () => {
    expect(pushgatewayUrl('http://pg:9091/', { job: 'registry-canary', instance: 'production-aws-eu-west-1' })).toBe(
      'http://pg:9091/metrics/job/registry-canary/instance/production-aws-eu-west-1',
    );
    expect(pushgatewayUrl('http://pg:9091', { job: 'j', instance: 'a/b' })).toBe(
      `http://pg:9091/metrics/job/j/instance@base64/${Buffer.from('a/b').toString('base64url')}`,
    );
  });

  it('PUTs the text to a local gateway, and reports a refusal', async () => {
    const got: { method: string; url: string; type: string; body: string }[] = [];
    let status = 200;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ method: req.method!, url: req.url!, type: String(req.headers['content-type']), body });
        res.writeHead(status);
        res.end(status === 200 ? '' : 'pushed metrics are invalid or inconsistent');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const gw = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const text = await runMetricsText(report);
      expect(await pushMetrics(text, gw, { job: 'registry-canary', instance: 'eks-us-east-2' })).toBe(
        `${gw}/metrics/job/registry-canary/instance/eks-us-east-2`,
      );
      expect(got[0]).toMatchObject({
        method: 'PUT',
        url: '/metrics/job/registry-canary/instance/eks-us-east-2',
        type: 'text/plain; version=0.0.4; charset=utf-8',
        body: text,
      });
      status = 400;
      await expect(pushMetrics(text, gw, { job: 'j', instance: 'i' })).rejects.toThrow(
        /HTTP 400: pushed metrics are invalid/,
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await expect(
      pushMetrics('x 1\n', 'http://127.0.0.1:9', { job: 'j', instance: 'i', timeoutMs: 2000 }),
    ).rejects.toBeInstanceOf(MetricsPushError);
  });
});

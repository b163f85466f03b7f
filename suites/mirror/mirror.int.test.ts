/**
 * Proving the mirror suite: against the local stack with a corrupted object in one bucket and a planned object
 * hidden in another, exactly those buckets fail with class integrity and name the blob; the others stay green.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks, startStack, type RunReport, type StartedStack } from '../../harness/src/index.js';
import { mirrorChecks } from './mirror.suite.js';

let stack: StartedStack;
let report: RunReport;
let digest: string;

beforeAll(async () => {
  stack = await startStack({ bigLayerMiB: 1 });
  digest = stack.fixtures.blobs.find((b) => b.role === 'pause:config')!.digest;
  await stack.faults.set('bucket:prod-registry-k8s-io-us-east-1', { kind: 'corrupt', digest });
  await stack.faults.set('bucket:prod-registry-k8s-io-eu-west-1', { kind: 'status', status: 404, digest });
  report = await runChecks({
    target: stack.target,
    checks: mirrorChecks(stack.target),
    suites: ['mirror'],
    preflight: false,
    concurrency: 4,
  });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
}, 120_000);

describe('mirror suite against a broken world', () => {
  const result = (id: string) => report.results.find((r) => r.id === id)!;

  it('a corrupted object fails its bucket with class integrity, naming the blob', () => {
    const r = result('mirror/bucket-us-east-1');
    expect(r.status).toBe('fail');
    expect(r.failureClass).toBe('integrity');
    expect(r.message).toMatch(/corrupted/);
    expect(r.message).toContain(digest.slice(0, 19));
    expect(r.hops.some((h) => h.url.endsWith(`/containers/images/${digest}`))).toBe(true);
  });

  it('a missing object the plan puts there fails its bucket with class integrity', () => {
    const r = result('mirror/bucket-eu-west-1');
    expect(r.status).toBe('fail');
    expect(r.failureClass).toBe('integrity');
    expect(r.message).toMatch(/missing that the mirror plan puts there/);
  });

  it('planned gaps are reported, not failed, and coverage is recorded per region', () => {
    for (const id of [
      'mirror/bucket-default',
      'mirror/bucket-me-central-1',
      'mirror/bucket-us-west-2',
      'mirror/bucket-af-south-1',
    ]) {
      expect(result(id).status, `${id}: ${result(id).message}`).toBe('pass');
    }
    expect((result('mirror/bucket-me-central-1').details?.coverage as { present: number } | undefined)?.present).toBe(
      0,
    );
    const coverage = result('mirror/coverage').details?.coverage as Record<string, string>;
    expect(coverage['me-south-1']).toMatch(/^0\//);
    expect(Object.keys(coverage)).toEqual(expect.arrayContaining(['(default)', 'us-east-1', 'cn-north-1']));
  });
});

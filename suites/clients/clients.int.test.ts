/**
 * Proving the clients suite: with one blob corrupted in the default bucket (the bucket the internet vantage is
 * routed to), skopeo, ctr, crane and regctl through that vantage fail with class integrity, while the GCP vantage
 * (routed to the upstream, which is intact) stays green.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks, startStack, type RunReport, type StartedStack } from '../../harness/src/index.js';
import { clientsChecks } from './clients.suite.js';

let stack: StartedStack;
let report: RunReport;

beforeAll(async () => {
  stack = await startStack({ bigLayerMiB: 1 });
  const blob = stack.fixtures.blobs.find((b) => b.role === 'conformance:layer')!;
  const defaultBucket = new URL(stack.target.bucketMap.default).pathname.split('/').filter(Boolean).pop()!;
  await stack.faults.set(`bucket:${defaultBucket}`, { kind: 'corrupt', digest: blob.digest });
  const wanted = /^clients\/(skopeo|ctr|crane|regctl)@(internet-v4|gcp-v4)$/;
  const checks = clientsChecks(stack.target).filter((c) => wanted.test(c.id));
  report = await runChecks({
    target: stack.target,
    checks,
    suites: ['clients'],
    preflight: false,
    concurrency: 1,
    checkTimeoutMs: 180_000,
  });
}, 600_000);

afterAll(async () => {
  await stack?.stop();
}, 120_000);

describe('clients suite against a corrupted bucket object', () => {
  const result = (id: string) => report.results.find((r) => r.id === id)!;

  const tools = ['skopeo', 'ctr', 'crane', 'regctl'];
  it.each(tools.map((t) => `clients/${t}@internet-v4`))('%s fails with class integrity', (id) => {
    const r = result(id);
    expect(r.status, r.message).toBe('fail');
    expect(r.failureClass, r.message).toBe('integrity');
  });

  it.each(tools.map((t) => `clients/${t}@gcp-v4`))('%s (upstream route) stays green', (id) => {
    expect(result(id).status, result(id).message).toBe('pass');
  });
});

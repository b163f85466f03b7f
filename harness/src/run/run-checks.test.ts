import { describe, expect, it } from 'vitest';
import { CheckFailure, NotApplicable, type Check, type CheckContext, type Hop } from '../results/check.js';
import type { Preflight } from '../results/run-report.js';
import type { TargetDescription } from '../target/target-description.js';
import { OciError } from '../oci/oci-error.js';
import { OracleError } from '../oracle/routing-oracle.js';
import { Inconclusive } from './classify-outcome.js';
import { runCheck, runChecks } from './run-checks.js';

const target: TargetDescription = {
  name: 't',
  url: 'http://127.0.0.1:1',
  ipMode: 'xff',
  semantics: 'most-specific',
  upstream: 'http://127.0.0.1:2',
  upstreamPath: '',
  signatureUpstream: null,
  infoUrl: 'http://info.example/',
  privacyUrl: 'http://privacy.example/',
  bucketMap: { default: 'http://127.0.0.1:3/default', regions: {} },
  s3: null,
  vantages: [],
  images: [],
  mirrorPlan: null,
  knownIssues: [
    {
      check: 'routing/tag-list@*',
      link: 'https://github.com/kubernetes/registry.k8s.io/issues/326',
      reason: 'query dropped',
    },
    { check: 'routing/fixed@*', link: 'https://github.com/example/fixed/issues/1', reason: 'was broken' },
  ],
};

const hop = (status: number, extra: Partial<Hop> = {}): Hop => ({
  method: 'GET',
  url: 'http://x/v2/',
  status,
  headers: {},
  startMs: 0,
  durationMs: 1,
  ...extra,
});
const check = (id: string, run: (ctx: CheckContext) => Promise<void>): Check => ({
  id,
  suite: id.split('/')[0]!,
  title: id,
  rule: 'test rule',
  run,
});
const reachable: Preflight = { reachable: true, vantages: [{ vantage: 'v', ok: true, status: 200, hops: [] }] };
const opts = { target, preflight: async () => reachable };

describe('runCheck: what a thrown value means', () => {
  const one = (run: Check['run'], id = 'suite/x') => runCheck(check(id, run), { target, checkTimeoutMs: 200 });

  it('pass, with the hops and details the check recorded', async () => {
    const r = await one(async (ctx) => ctx.record?.([hop(307, { location: 'http://b/' })], { routing: { kind: 'k' } }));
    expect(r).toMatchObject({ status: 'pass', hops: [{ status: 307 }], details: { routing: { kind: 'k' } } });
    expect(r.failureClass).toBeUndefined();
  });

  it('CheckFailure → fail with its class, hops and details', async () => {
    const r = await one(async () => {
      throw new CheckFailure('routing', 'went elsewhere', [hop(307)], { why: 1 });
    });
    expect(r).toMatchObject({
      status: 'fail',
      failureClass: 'routing',
      message: 'went elsewhere',
      hops: [{ status: 307 }],
      details: { why: 1 },
    });
  });

  it('NotApplicable → not-applicable with the reason and no class', async () => {
    const r = await one(async () => {
      throw new NotApplicable('needs an edge port');
    });
    expect(r).toMatchObject({ status: 'not-applicable', message: 'needs an edge port' });
    expect(r.failureClass).toBeUndefined();
  });

  it.each([
    [new OciError('DIGEST_MISMATCH', 'bad bytes', { hops: [hop(200)] }), 'fail', 'integrity'],
    [new OciError('SIZE_MISMATCH', 'short'), 'fail', 'integrity'],
    [new OciError('NETWORK', 'refused'), 'error', 'availability'],
    [new OciError('TIMEOUT', 'slow'), 'error', 'availability'],
    [new OciError('HTTP_STATUS', '503', { status: 503, hops: [hop(503)] }), 'error', 'availability'],
    [new OciError('HTTP_STATUS', '429', { status: 429, hops: [hop(429)] }), 'error', 'rate-limited'],
    [
      new OciError('HTTP_STATUS', 'gfe', {
        status: 403,
        hops: [hop(403, { headers: { 'content-type': 'text/html; charset=UTF-8' } })],
      }),
      'error',
      'blocked',
    ],
    [new OciError('HTTP_STATUS', '404', { status: 404, hops: [hop(404)] }), 'fail', 'conformance'],
    [new Inconclusive('availability', 'redirector 503', [hop(503)]), 'error', 'availability'],
    [new TypeError('oops'), 'error', 'harness'],
  ] as const)('%s → %s/%s', async (err, status, failureClass) => {
    const r = await one(async () => {
      throw err;
    });
    expect(r.status).toBe(status);
    expect(r.failureClass).toBe(failureClass);
  });

  it('an oracle that disagrees with the description is a misconfiguration (exit 2)', async () => {
    const r = await one(async () => {
      throw new OracleError('ORACLE_VANTAGE_MISMATCH', 'vantage x is declared AWS but is GCP');
    });
    expect(r).toMatchObject({ status: 'error', failureClass: 'harness', details: { misconfigured: true } });
  });

  it('a check past its deadline is an availability error, and its signal is aborted', async () => {
    let aborted = false;
    const r = await one(
      (ctx) =>
        new Promise<void>((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }),
    );
    expect(r).toMatchObject({
      status: 'error',
      failureClass: 'availability',
      message: expect.stringMatching(/within 200 ms/),
    });
    expect(aborted).toBe(true);
  });

  it('an aborted run turns the check into a harness error at once', async () => {
    const ac = new AbortController();
    ac.abort(new Error('Ctrl-C'));
    const r = await runCheck(
      check('s/x', async () => {}),
      { target, signal: ac.signal },
    );
    expect(r).toMatchObject({
      status: 'error',
      failureClass: 'harness',
      message: expect.stringMatching(/aborted: Ctrl-C/),
    });
  });

  it('known issues: a matching fail is a known failure; a matching pass is reported fixed; errors stay errors', async () => {
    const issues = [{ check: 'routing/tag-list@*', link: 'https://l/326', reason: 'query dropped' }];
    const failing = await runCheck(
      check('routing/tag-list@aws', async () => Promise.reject(new CheckFailure('routing', 'no query'))),
      { target, knownIssues: issues },
    );
    expect(failing).toMatchObject({
      status: 'known-failure',
      failureClass: 'routing',
      knownIssue: 'https://l/326',
      knownIssueReason: 'query dropped',
    });
    const passing = await runCheck(
      check('routing/tag-list@gcp', async () => {}),
      { target, knownIssues: issues },
    );
    expect(passing).toMatchObject({ status: 'pass', fixedKnownIssue: 'https://l/326' });
    const erroring = await runCheck(
      check('routing/tag-list@x', async () => Promise.reject(new OciError('NETWORK', 'down'))),
      { target, knownIssues: issues },
    );
    expect(erroring.status).toBe('error');
    const other = await runCheck(
      check('routing/manifest@aws', async () => Promise.reject(new CheckFailure('routing', 'new'))),
      { target, knownIssues: issues },
    );
    expect(other.status).toBe('fail');
  });
});

describe('runChecks', () => {
  it('bounds concurrency, keeps the order of checks, counts by status and class, and rolls up', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = (id: string, fail?: CheckFailure) =>
      check(id, async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 15));
        inFlight--;
        if (fail) throw fail;
      });
    const checks = [
      ...Array.from({ length: 7 }, (_, i) => slow(`routing/ok-${i}`)),
      slow('routing/bad', new CheckFailure('routing', 'wrong bucket')),
      slow('integrity/bad', new CheckFailure('integrity', 'flipped byte')),
      check('routing/na', async () => Promise.reject(new NotApplicable('no edge'))),
    ];
    const report = await runChecks({ ...opts, checks, concurrency: 3 });
    expect(peak).toBe(3);
    expect(report.results.map((r) => r.id)).toEqual(checks.map((c) => c.id));
    expect(report.counts.byStatus).toMatchObject({ pass: 7, fail: 2, 'not-applicable': 1 });
    expect(report.counts.byClass).toMatchObject({ routing: 1, integrity: 1, conformance: 0 });
    expect(report.status).toBe('fail');
    expect(report.verdict).toMatchObject({ exitCode: 1, reason: '2 checks failed: 1 routing, 1 integrity' });
    expect(report.suites).toEqual(['routing', 'integrity']);
    expect(report.results.every((r) => typeof r.startMs === 'number')).toBe(true);
  });

  it('a known failure and a fixed issue keep the run green; the target is redacted in the report', async () => {
    const report = await runChecks({
      ...opts,
      target: { ...target, stack: { s3Credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } } },
      checks: [
        check('routing/tag-list@aws', async () => Promise.reject(new CheckFailure('routing', 'query dropped'))),
        check('routing/fixed@aws', async () => {}),
        check('routing/plain@aws', async () => {}),
      ],
    });
    expect(report.verdict.exitCode).toBe(0);
    expect(report.status).toBe('known-failure');
    expect(report.counts).toMatchObject({ knownFailures: 1, fixedKnownIssues: 1 });
    expect(JSON.stringify(report.target)).not.toContain('SK');
    expect((report.target.stack as { s3Credentials: unknown }).s3Credentials).toBe('<redacted>');
  });

  it('an unreachable target: no check runs, every result is an availability error, exit 2', async () => {
    let ran = 0;
    const report = await runChecks({
      target,
      checks: [check('routing/a', async () => void ran++), check('routing/b', async () => void ran++)],
      preflight: async () => ({
        reachable: false,
        vantages: [{ vantage: 'aws', ok: false, message: 'ECONNREFUSED', hops: [] }],
      }),
    });
    expect(ran).toBe(0);
    expect(report.results.every((r) => r.status === 'error' && r.failureClass === 'availability')).toBe(true);
    expect(report.verdict).toMatchObject({
      exitCode: 2,
      reason: expect.stringMatching(/unreachable.*: ECONNREFUSED.* \(from aws\)/),
    });
  });

  it('pings through the vantages the checks use', async () => {
    const seen: string[] = [];
    const v = (name: string) => ({ name, ip: '1.2.3.4', cloud: null, region: null, url: null });
    await runChecks({
      target: { ...target, vantages: [v('a'), v('b'), v('c')] },
      checks: [{ ...check('routing/x@b', async () => {}), vantage: v('b') }],
      preflight: async (_t, vantages) => {
        seen.push(...vantages.map((x) => x.name));
        return reachable;
      },
    });
    expect(seen).toEqual(['b']);
  });

  it('reports progress for every finished check', async () => {
    const finished: string[] = [];
    await runChecks({
      ...opts,
      checks: [check('s/a', async () => {}), check('s/b', async () => {})],
      progress: {
        start: () => {},
        finished: (r, done, total) => finished.push(`${r.id} ${done}/${total}`),
        note: () => {},
        end: () => {},
      },
    });
    expect(finished.map((f) => f.split(' ')[1])).toEqual(['1/2', '2/2']);
    expect(finished.map((f) => f.split(' ')[0]).sort()).toEqual(['s/a', 's/b']);
  });
});

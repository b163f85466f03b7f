import { describe, expect, it } from 'vitest';
import type { CheckResult, Status } from './check.js';
import { globMatches, knownIssuesOf } from './known-issue.js';
import { redactTarget } from './redact-target.js';
import { countResults, decideVerdict, rollUpAll } from './run-report.js';
import type { TargetDescription } from '../target/target-description.js';

const r = (
  status: Status,
  failureClass?: CheckResult['failureClass'],
  extra: Partial<CheckResult> = {},
): CheckResult => ({
  id: `s/${Math.random()}`,
  suite: 's',
  title: 't',
  rule: 'r',
  status,
  ...(failureClass ? { failureClass } : {}),
  hops: [],
  durationMs: 1,
  ...extra,
});

describe('decideVerdict (exit codes)', () => {
  it('0 when every check passed or was not applicable, as long as one passed', () => {
    expect(decideVerdict([r('pass'), r('not-applicable'), r('known-failure', 'routing')], null)).toMatchObject({
      exitCode: 0,
    });
  });
  it('1 for any fail or error once the target answered', () => {
    expect(decideVerdict([r('pass'), r('fail', 'conformance')], null)).toMatchObject({
      exitCode: 1,
      reason: '1 check failed: 1 conformance',
    });
    expect(decideVerdict([r('pass'), r('error', 'availability')], null).exitCode).toBe(1);
    expect(decideVerdict([r('pass'), r('error', 'rate-limited'), r('error', 'blocked')], null).exitCode).toBe(1);
  });
  it('2 when the target is unreachable, misconfigured, or nothing was verified: never green', () => {
    expect(decideVerdict([r('pass')], { reachable: false, vantages: [] }).exitCode).toBe(2);
    expect(decideVerdict([r('error', 'availability'), r('error', 'availability')], null)).toMatchObject({
      exitCode: 2,
      reason: expect.stringMatching(/availability/),
    });
    expect(
      decideVerdict(
        [r('pass'), r('error', 'harness', { details: { misconfigured: true }, message: 'vantage x lies' })],
        null,
      ),
    ).toMatchObject({ exitCode: 2, reason: 'target misconfigured: vantage x lies' });
    expect(decideVerdict([], null).exitCode).toBe(2);
    expect(decideVerdict([r('not-applicable'), r('known-failure', 'routing')], null).exitCode).toBe(2);
  });
});

describe('roll-up and counts', () => {
  it('rises through the lattice and counts red results by class', () => {
    expect(rollUpAll([])).toBe('unknown');
    expect(rollUpAll([r('pass'), r('not-applicable')])).toBe('pass');
    expect(rollUpAll([r('pass'), r('fail', 'routing'), r('known-failure', 'routing')])).toBe('fail');
    expect(rollUpAll([r('fail', 'routing'), r('error', 'harness')])).toBe('error');
    const c = countResults([
      r('fail', 'routing'),
      r('error', 'availability'),
      r('known-failure', 'routing'),
      r('pass', undefined, { fixedKnownIssue: 'x' }),
    ]);
    expect(c).toMatchObject({
      total: 4,
      knownFailures: 1,
      fixedKnownIssues: 1,
      byClass: { routing: 1, availability: 1, integrity: 0 },
    });
  });
});

describe('known issues', () => {
  const base = { name: 'x' } as TargetDescription;
  it('match check ids by glob', () => {
    expect(globMatches('routing/tag-list@*', 'routing/tag-list@aws-us-east-1')).toBe(true);
    expect(globMatches('integrity/etcd:sha256-*.sig@gcp-*', 'integrity/etcd:sha256-ab.sig@gcp-v4')).toBe(true);
    expect(globMatches('integrity/etcd:sha256-*.sig@gcp-*', 'integrity/etcd:sha256-abxsig@gcp-v4')).toBe(false);
    expect(globMatches('routing/?oot@*', 'routing/root@x')).toBe(true);
    expect(globMatches('routing/root', 'routing/root@x')).toBe(false);
  });
  it('are validated: each needs check, an http(s) link and a reason', () => {
    expect(knownIssuesOf(base)).toEqual([]);
    expect(() => knownIssuesOf({ ...base, knownIssues: {} })).toThrow(/knownIssues must be an array/);
    expect(() => knownIssuesOf({ ...base, knownIssues: [{ check: 'a', link: 'x', reason: 'r' }] })).toThrow(
      /knownIssues\[0\]\.link must be an http/,
    );
    expect(() => knownIssuesOf({ ...base, knownIssues: [{ check: 'a', link: 'https://l' }] })).toThrow(
      /knownIssues\[0\]\.reason/,
    );
  });
});

describe('redactTarget', () => {
  it('removes secret-looking values and URL passwords, and keeps everything else', () => {
    const t = redactTarget({
      name: 'x',
      url: 'https://user:hunter2@registry.example/',
      upstream: 'https://up.example',
      auth: { password: 'p', token: 't', user: 'u' },
      list: [{ apiKey: 'k' }],
    } as unknown as TargetDescription) as unknown as Record<string, unknown>;
    expect(t.url).toBe('https://user:%3Credacted%3E@registry.example/');
    expect(t.upstream).toBe('https://up.example');
    expect(t.auth).toEqual({ password: '<redacted>', token: '<redacted>', user: 'u' });
    expect(t.list).toEqual([{ apiKey: '<redacted>' }]);
  });
});

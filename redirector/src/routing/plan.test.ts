// Router-level tests with hand-made client facts (no range data): every rule in both behaviours.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BucketRouter, parseBucketMap } from './buckets.js';
import { createArcheioRouter } from './plan-archeio.js';
import { BLOB_ROUTE_MEMO_MAX, UNKNOWN_CLIENT, blobBaseFor, createRouter, plan, type ClientFacts } from './plan.js';
import { allowedLocationPrefixes, buildRoutingTable, normalizeUpstreamPath } from './routing-table.js';
import { probeReason, resolveProbe, type ProbePlan } from './decision.js';

const buckets = new BucketRouter(
  parseBucketMap('{"default":"https://cdn.example","regions":{"eu-west-3":"https://paris.example"}}', 'test'),
);
const table = buildRoutingTable({
  upstreamEndpoint: 'https://up.example/',
  upstreamPath: '/k8s/images/',
  signatureEndpoint: 'https://sig.example',
  infoUrl: 'https://info.example/',
  privacyUrl: 'https://privacy.example/',
  preserveQuery: true,
  buckets,
});
const D = 'sha256:' + 'd'.repeat(64);
const paris: ClientFacts = { ip: '35.180.1.1', cloud: 'AWS', region: 'eu-west-3', prefix: '35.180.0.0/16' };
const gcp: ClientFacts = { ip: '35.220.26.1', cloud: 'GCP', region: 'europe-north1', prefix: '35.220.26.0/24' };
const azure: ClientFacts = { ip: '20.0.0.1', cloud: 'Azure', region: 'eu-west-3', prefix: '20.0.0.0/8' };

describe('routing table', () => {
  it('precomputes prefixes and the allowed Location set', () => {
    expect(table.upstreamPrefix).toBe('https://up.example/v2/k8s/images');
    expect(table.signaturePrefix).toBe('https://sig.example/v2/k8s/images');
    expect(allowedLocationPrefixes(table)).toEqual({
      prefixes: [
        'https://up.example/v2/k8s/images/',
        'https://sig.example/v2/k8s/images/',
        'https://cdn.example/containers/images/',
        'https://paris.example/containers/images/',
      ],
      exact: ['https://info.example/', 'https://privacy.example/'],
    });
    const bare = buildRoutingTable({
      ...table,
      upstreamEndpoint: 'https://up.example',
      upstreamPath: '',
      signatureEndpoint: null,
    });
    expect(bare.upstreamPrefix).toBe('https://up.example/v2');
    expect(bare.signaturePrefix).toBeNull();
    expect(allowedLocationPrefixes(bare).prefixes[0]).toBe('https://up.example/v2/');
    expect(normalizeUpstreamPath('//a/b//')).toBe('a/b');
  });
});

describe('default router', () => {
  const router = createRouter(table);
  const at = (method: string, target: string, client: ClientFacts = UNKNOWN_CLIENT) =>
    plan({ method, target, client }, router);

  it('rule 1', () => {
    expect(at('PUT', '/v2/x/manifests/y')).toMatchObject({
      kind: 'error',
      status: 405,
      allow: true,
      oci: { code: 'UNSUPPORTED' },
    });
    expect(at('PATCH', '/')).toMatchObject({ kind: 'error', status: 405, allow: true, text: expect.any(String) });
    expect(at('get', '/v2/')).toMatchObject({ reason: 'method-not-allowed' });
  });
  it('rules 2 and 3', () => {
    expect(at('GET', '/')).toEqual({ kind: 'redirect', reason: 'info', location: 'https://info.example/' });
    expect(at('GET', '/?x=1')).toEqual({ kind: 'redirect', reason: 'info', location: 'https://info.example/' });
    expect(at('GET', '/privacy')).toMatchObject({ reason: 'privacy', location: 'https://privacy.example/' });
    expect(at('GET', '/nope')).toMatchObject({ reason: 'not-found', status: 404 });
    expect(at('HEAD', '/v2')).toEqual({ kind: 'ping', reason: 'v2-ping' });
    expect(at('GET', '/v2/_catalog')).toMatchObject({ reason: 'catalog-unsupported', status: 404 });
  });
  it('rule 4', () => {
    expect(at('GET', '/v2/../x')).toMatchObject({
      reason: 'bad-path',
      status: 400,
      oci: { code: 'NAME_INVALID', detail: 'path contains a dot segment' },
    });
  });
  it('rule 5', () => {
    expect(at('GET', '/v2/a/manifests/b?n=1')).toEqual({
      kind: 'redirect',
      reason: 'upstream',
      location: 'https://up.example/v2/k8s/images/a/manifests/b?n=1',
    });
    expect(at('GET', `/v2/a/manifests/sha256-${'e'.repeat(64)}.sig?x`)).toEqual({
      kind: 'redirect',
      reason: 'signature-upstream',
      location: `https://sig.example/v2/k8s/images/a/manifests/sha256-${'e'.repeat(64)}.sig?x`,
    });
    const noSig = createRouter(
      buildRoutingTable({
        ...table,
        upstreamEndpoint: 'https://up.example',
        upstreamPath: 'k8s/images',
        signatureEndpoint: null,
      }),
    );
    expect(
      plan({ method: 'GET', target: `/v2/a/manifests/sha256-${'e'.repeat(64)}.att`, client: UNKNOWN_CLIENT }, noSig),
    ).toMatchObject({ reason: 'upstream' });
    const noQuery = createRouter(
      buildRoutingTable({
        ...table,
        upstreamEndpoint: 'https://up.example',
        upstreamPath: 'k8s/images',
        preserveQuery: false,
      }),
    );
    expect(plan({ method: 'GET', target: '/v2/a/tags/list?n=1', client: UNKNOWN_CLIENT }, noQuery)).toMatchObject({
      location: 'https://up.example/v2/k8s/images/a/tags/list',
    });
  });
  it('rule 5: malformed names and references are answered, not redirected', () => {
    expect(at('GET', '/v2/a/manifests/sha256:totallywrong')).toEqual({
      kind: 'error',
      reason: 'bad-reference',
      status: 400,
      oci: { code: 'DIGEST_INVALID', message: 'invalid digest', detail: 'invalid digest: "sha256:totallywrong"' },
    });
    expect(at('HEAD', '/v2/a/manifests/.INVALID_MANIFEST_NAME')).toEqual({
      kind: 'error',
      reason: 'bad-reference',
      status: 404,
      oci: {
        code: 'MANIFEST_UNKNOWN',
        message: 'manifest unknown',
        detail: 'not a valid tag or digest, so no manifest has it: ".INVALID_MANIFEST_NAME"',
      },
    });
    expect(at('GET', '/v2/A/tags/list?n=1')).toMatchObject({
      reason: 'bad-reference',
      status: 400,
      oci: { code: 'NAME_INVALID', message: 'invalid repository name' },
    });
    expect(at('GET', '/v2/a/referrers/x?artifactType=y')).toMatchObject({
      reason: 'bad-reference',
      status: 400,
      oci: { code: 'DIGEST_INVALID' },
    });
    expect(at('GET', `/v2/a/manifests/${D}?ns=x`)).toEqual({
      kind: 'redirect',
      reason: 'upstream',
      location: `https://up.example/v2/k8s/images/a/manifests/${D}?ns=x`,
    });
    expect(at('GET', `/v2/a/referrers/${D}`)).toMatchObject({ reason: 'upstream' });
    expect(at('GET', `/v2/a/manifests/sha256-${'e'.repeat(64)}`)).toMatchObject({ reason: 'upstream' });
  });
  it('rule 6', () => {
    expect(at('GET', `/v2/a/blobs/${D}?ns=x`, gcp)).toEqual({
      kind: 'redirect',
      reason: 'blob-gcp-client',
      location: `https://up.example/v2/k8s/images/a/blobs/${D}?ns=x`,
    });
    const p = at('GET', `/v2/a/blobs/${D}?ns=x`, paris) as ProbePlan;
    expect(p).toEqual({
      kind: 'probe',
      base: 'https://paris.example',
      url: `https://paris.example/containers/images/${D}`,
      onHit: { kind: 'redirect', reason: 'blob-bucket-hit', location: `https://paris.example/containers/images/${D}` },
      fallback: `https://up.example/v2/k8s/images/a/blobs/${D}?ns=x`,
    });
    expect(resolveProbe(p, 'hit')).toBe(p.onHit);
    expect(resolveProbe(p, 'miss')).toEqual({ kind: 'redirect', reason: 'blob-bucket-miss', location: p.fallback });
    expect(probeReason('error')).toBe('blob-bucket-error');
    expect(probeReason('breaker-open')).toBe('blob-breaker-open');
    expect((at('GET', `/v2/a/blobs/${D}`, azure) as ProbePlan).base).toBe('https://cdn.example');
    expect((at('GET', `/v2/a/blobs/${D}`) as ProbePlan).base).toBe('https://cdn.example');
    expect(at('GET', '/v2/a/blobs/sha256:x')).toMatchObject({ reason: 'bad-blob', oci: { code: 'DIGEST_INVALID' } });
    expect(at('GET', `/v2/A/blobs/${D}`)).toMatchObject({
      reason: 'bad-blob',
      oci: { code: 'NAME_INVALID', message: 'invalid repository name' },
    });
  });
  it('blobBaseFor agrees with planBlob', () => {
    expect(blobBaseFor(router, paris)).toBe('https://paris.example');
    expect(blobBaseFor(router, gcp)).toBeNull();
    expect(blobBaseFor(router, UNKNOWN_CLIENT)).toBe('https://cdn.example');
  });
});

describe('archeio router', () => {
  const router = createArcheioRouter(table);
  const at = (method: string, target: string, client: ClientFacts = UNKNOWN_CLIENT) =>
    plan({ method, target, client }, router);

  it('reproduces the quirks', () => {
    expect(router.mode).toBe('archeio');
    expect(at('OPTIONS', '/v2/')).toEqual({
      kind: 'error',
      reason: 'method-not-allowed',
      status: 405,
      text: 'Only GET and HEAD are allowed.\n',
    });
    expect(at('GET', '/privacy-policy')).toMatchObject({ reason: 'privacy' });
    expect(at('GET', '/x')).toMatchObject({ reason: 'not-found', text: '404 page not found\n' });
    expect(at('GET', '/v2/%zz')).toMatchObject({ reason: 'bad-path', status: 400 });
    expect(at('GET', '/v2foo?x=1')).toMatchObject({
      reason: 'upstream',
      location: 'https://up.example/v2/k8s/images/foo',
    });
    expect(at('GET', '/v2/../../../x')).toMatchObject({ location: 'https://up.example/x' });
    expect(at('GET', '/v2/a/manifests/\u00e9')).toMatchObject({
      location: 'https://up.example/v2/k8s/images/a/manifests/%e9',
    });
    expect(at('GET', '/v2/a/manifests/x%0d%0ay')).toMatchObject({
      location: 'https://up.example/v2/k8s/images/a/manifests/x  y',
    });
  });
  it('redirects malformed names and references upstream, as production does', () => {
    expect(at('GET', '/v2/a/manifests/sha256:totallywrong')).toEqual({
      kind: 'redirect',
      reason: 'upstream',
      location: 'https://up.example/v2/k8s/images/a/manifests/sha256:totallywrong',
    });
    expect(at('HEAD', '/v2/a/manifests/.INVALID_MANIFEST_NAME')).toMatchObject({ reason: 'upstream' });
    expect(at('GET', '/v2/A/tags/list')).toMatchObject({
      reason: 'upstream',
      location: 'https://up.example/v2/k8s/images/A/tags/list',
    });
    expect(at('GET', '/v2/a/referrers/x')).toMatchObject({ reason: 'upstream' });
    expect(at('GET', `/v2/A/manifests/sha256-${'e'.repeat(64)}.sig`)).toMatchObject({ reason: 'signature-upstream' });
  });
  it('blob rules', () => {
    expect(at('GET', '/v2/a/blobs/x:y')).toMatchObject({
      kind: 'error',
      reason: 'client-ip-invalid',
      status: 400,
      text: 'cannot determine the client IP\n',
    });
    expect(at('GET', '/v2/a/blobs/x:y', { ...UNKNOWN_CLIENT, problem: 'X-Forwarded-For has 1 entry' })).toMatchObject({
      text: 'X-Forwarded-For has 1 entry\n',
    });
    expect(at('GET', '/v2/a/blobs/x:y', gcp)).toMatchObject({
      reason: 'blob-gcp-client',
      location: 'https://up.example/v2/k8s/images/a/blobs/x:y',
    });
    // archeio looks the region up by name, whatever the cloud
    expect(at('GET', '/v2/a/blobs/x:y', azure)).toMatchObject({
      kind: 'probe',
      base: 'https://paris.example',
      url: 'https://paris.example/containers/images/x:y',
    });
    expect(at('GET', '/v2/a/blobs/sha256:\u00e9:a', paris)).toMatchObject({
      onHit: { location: 'https://paris.example/containers/images/sha256:%e9:a' },
    });
  });
});

// The default router remembers blob routes (by request-target) and probe plans (by route and bucket base). Its twin
// is the same router with nothing remembered: a fresh router for every call must give equal answers, in any order,
// with repeats, past the memo's bound; remembered answers are frozen (shared between requests) and reused.
const MEMO_CLIENTS: ClientFacts[] = [
  UNKNOWN_CLIENT,
  { ip: '35.180.1.1', cloud: 'AWS', region: 'eu-west-3', prefix: '35.180.0.0/16' },
  { ip: '3.80.0.1', cloud: 'AWS', region: 'us-east-1', prefix: '3.80.0.0/12' },
  { ip: '35.220.26.1', cloud: 'GCP', region: 'europe-north1', prefix: '35.220.26.0/24' },
  { ip: '20.0.0.1', cloud: 'Azure', region: 'eu-west-3', prefix: '20.0.0.0/8' },
];

const hex = (n: number): string => n.toString(16).padStart(64, '0');
// blob targets (valid and not), manifests, queries, odd methods: a small alphabet so that targets repeat
const target = fc.oneof(
  fc.nat(7).map((n) => `/v2/pause/blobs/sha256:${hex(n)}`),
  fc
    .tuple(fc.nat(3), fc.constantFrom('?ns=registry.k8s.io', '?', '?a=%22'))
    .map(([n, q]) => `/v2/pause/blobs/sha256:${hex(n)}${q}`),
  fc.nat(3).map((n) => `/v2/a/b/blobs/sha256:${hex(n)}`),
  fc.nat(3).map((n) => `/v2/pause/blobs/sha256:${hex(n).slice(1)}`),
  fc.constantFrom(
    '/v2/pause/manifests/3.10',
    '/v2/',
    '/',
    '/privacy',
    '/v2/%2e%2e/blobs/sha256:' + hex(1),
    `/v2/pause/manifests/sha256-${hex(2)}.sig`,
  ),
);
const method = fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE');

describe('the default router remembers blob routes and plans', () => {
  it('answers exactly as a router with nothing remembered, for any sequence of requests and clients', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(method, target, fc.nat(MEMO_CLIENTS.length - 1)), { minLength: 1, maxLength: 60 }),
        (requests) => {
          const remembering = createRouter(table);
          for (const [m, t, c] of requests) {
            const fresh = createRouter(table);
            const got = remembering.route(m, t);
            const want = fresh.route(m, t);
            expect(got).toEqual(want);
            if (got.kind === 'blob' && want.kind === 'blob') {
              expect(remembering.planBlob(got, MEMO_CLIENTS[c]!)).toEqual(fresh.planBlob(want, MEMO_CLIENTS[c]!));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('shares one frozen route per target and one frozen plan per route and bucket', () => {
    const router = createRouter(table);
    const t = `/v2/pause/blobs/sha256:${hex(9)}`;
    const a = router.route('GET', t);
    const b = router.route('HEAD', `${t}`);
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    if (a.kind !== 'blob') throw new Error('not a blob route');
    const paris = router.planBlob(a, MEMO_CLIENTS[1]!);
    expect(router.planBlob(a, { ...MEMO_CLIENTS[1]!, ip: '35.180.9.9' })).toBe(paris);
    expect(Object.isFrozen(paris)).toBe(true);
    if (paris.kind !== 'probe') throw new Error('not a probe plan');
    expect(Object.isFrozen(paris.onHit)).toBe(true);
    // another bucket, another plan; the default base for unknown and unmapped clients alike
    const elsewhere = router.planBlob(a, MEMO_CLIENTS[2]!);
    expect(elsewhere).not.toBe(paris);
    expect(elsewhere).toMatchObject({ kind: 'probe', base: 'https://cdn.example' });
    expect(router.planBlob(a, UNKNOWN_CLIENT)).toBe(elsewhere);
    // a route handed in from elsewhere (not remembered) is planned the same
    expect(router.planBlob({ ...a }, MEMO_CLIENTS[1]!)).toEqual(paris);
  });

  it('stays right past its bound (it forgets and recomputes)', () => {
    const router = createRouter(table);
    const first = router.route('GET', `/v2/pause/blobs/sha256:${hex(0)}`);
    for (let i = 1; i <= BLOB_ROUTE_MEMO_MAX + 10; i++) {
      const r = router.route('GET', `/v2/pause/blobs/sha256:${hex(i)}`);
      expect(r).toMatchObject({ kind: 'blob', digest: `sha256:${hex(i)}` });
    }
    const again = router.route('GET', `/v2/pause/blobs/sha256:${hex(0)}`);
    expect(again).toEqual(first);
  });

  it('never remembers a route for another method: a POST to a blob path is still a 405', () => {
    const router = createRouter(table);
    const t = `/v2/pause/blobs/sha256:${hex(3)}`;
    expect(router.route('GET', t).kind).toBe('blob');
    expect(router.route('POST', t)).toMatchObject({ kind: 'error', status: 405 });
  });
});

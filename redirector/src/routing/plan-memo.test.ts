// The default router remembers blob routes (by request-target) and probe plans (by route and bucket base). Its twin
// is the same router with nothing remembered: a fresh router for every call must give equal answers, in any order,
// with repeats, past the memo's bound; remembered answers are frozen (shared between requests) and reused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BucketRouter, parseBucketMap } from './buckets.js';
import { BLOB_ROUTE_MEMO_MAX, UNKNOWN_CLIENT, createRouter, type ClientFacts } from './plan.js';
import { buildRoutingTable } from './routing-table.js';

const buckets = new BucketRouter(parseBucketMap('{"default":"https://cdn.example","regions":{"eu-west-3":"https://paris.example","us-east-1":"https://virginia.example"}}', 'test'));
const table = buildRoutingTable({
  upstreamEndpoint: 'https://up.example/',
  upstreamPath: '/k8s/images/',
  signatureEndpoint: 'https://sig.example',
  infoUrl: 'https://info.example/',
  privacyUrl: 'https://privacy.example/',
  preserveQuery: true,
  buckets,
});

const CLIENTS: ClientFacts[] = [
  UNKNOWN_CLIENT,
  { ip: '35.180.1.1', cloud: 'AWS', region: 'eu-west-3', prefix: '35.180.0.0/16' },
  { ip: '3.80.0.1', cloud: 'AWS', region: 'us-east-1', prefix: '3.80.0.0/12' },
  { ip: '13.34.0.1', cloud: 'AWS', region: 'ap-south-2', prefix: '13.34.0.0/27' },
  { ip: '35.220.26.1', cloud: 'GCP', region: 'europe-north1', prefix: '35.220.26.0/24' },
  { ip: '20.0.0.1', cloud: 'Azure', region: 'eu-west-3', prefix: '20.0.0.0/8' },
];

const hex = (n: number): string => n.toString(16).padStart(64, '0');
// blob targets (valid and not), manifests, queries, odd methods: a small alphabet so that targets repeat
const target = fc.oneof(
  fc.nat(7).map((n) => `/v2/pause/blobs/sha256:${hex(n)}`),
  fc.tuple(fc.nat(3), fc.constantFrom('?ns=registry.k8s.io', '?', '?a=%22')).map(([n, q]) => `/v2/pause/blobs/sha256:${hex(n)}${q}`),
  fc.nat(3).map((n) => `/v2/a/b/blobs/sha256:${hex(n)}`),
  fc.nat(3).map((n) => `/v2/pause/blobs/sha256:${hex(n).slice(1)}`),
  fc.constantFrom('/v2/pause/manifests/3.10', '/v2/', '/', '/privacy', '/v2/%2e%2e/blobs/sha256:' + hex(1), `/v2/pause/manifests/sha256-${hex(2)}.sig`),
);
const method = fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE');

describe('the default router remembers blob routes and plans', () => {
  it('answers exactly as a router with nothing remembered, for any sequence of requests and clients', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(method, target, fc.nat(CLIENTS.length - 1)), { minLength: 1, maxLength: 60 }), (requests) => {
        const remembering = createRouter(table);
        for (const [m, t, c] of requests) {
          const fresh = createRouter(table);
          const got = remembering.route(m, t);
          const want = fresh.route(m, t);
          expect(got).toEqual(want);
          if (got.kind === 'blob' && want.kind === 'blob') {
            expect(remembering.planBlob(got, CLIENTS[c]!)).toEqual(fresh.planBlob(want, CLIENTS[c]!));
          }
        }
      }),
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
    const paris = router.planBlob(a, CLIENTS[1]!);
    expect(router.planBlob(a, { ...CLIENTS[1]!, ip: '35.180.9.9' })).toBe(paris);
    expect(Object.isFrozen(paris)).toBe(true);
    if (paris.kind !== 'probe') throw new Error('not a probe plan');
    expect(Object.isFrozen(paris.onHit)).toBe(true);
    // another bucket, another plan; the default base for unknown and unmapped clients alike
    const virginia = router.planBlob(a, CLIENTS[2]!);
    expect(virginia).not.toBe(paris);
    expect(virginia).toMatchObject({ kind: 'probe', base: 'https://virginia.example' });
    expect(router.planBlob(a, UNKNOWN_CLIENT)).toBe(router.planBlob(a, CLIENTS[3]!));
    // a route handed in from elsewhere (not remembered) is planned the same
    expect(router.planBlob({ ...a }, CLIENTS[1]!)).toEqual(paris);
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

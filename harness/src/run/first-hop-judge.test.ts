import { describe, expect, it } from 'vitest';
import { CheckFailure, type Hop } from '../results/check.js';
import { readPublishedRanges } from '../oracle/published-ranges.js';
import { RoutingOracle } from '../oracle/routing-oracle.js';
import type { TargetDescription, Vantage } from '../target/target-description.js';
import { Inconclusive } from './classify-outcome.js';
import { judgeFirstHop } from './first-hop-judge.js';

const prefixes = readPublishedRanges();
const D = `sha256:${'1'.repeat(64)}`;
const target = {
  name: 'remote',
  url: 'https://registry.example',
  ipMode: 'egress',
  semantics: 'archeio',
  upstream: 'https://us-central1-docker.pkg.dev',
  upstreamPath: 'k8s-artifacts-prod/images',
  signatureUpstream: 'https://us-central1-docker.pkg.dev',
  infoUrl: 'https://info.example/',
  privacyUrl: 'https://privacy.example/',
  bucketMap: { default: 'https://cdn.example', regions: { 'us-east-1': 'https://bucket-us-east-1.example' } },
  s3: null,
  vantages: [],
  images: [],
  mirrorPlan: { buckets: { 'https://bucket-us-east-1.example': [D] } },
  locationMatch: { toleratedQueryParams: ['rid'], upstreamHosts: ['*-docker.pkg.dev'] },
} as unknown as TargetDescription;
const oracle = new RoutingOracle(target, { prefixes });
const aws: Vantage = { name: 'aws', ip: '44.192.0.1', cloud: 'AWS', region: 'us-east-1', url: null };
const hop = (status: number, location?: string, headers: Record<string, string> = {}): Hop => ({
  method: 'GET',
  url: 'https://registry.example/x',
  status,
  headers,
  startMs: 0,
  durationMs: 1,
  ...(location ? { location } : {}),
});
const judge = (path: string, h: Hop | undefined, kind = 'k') =>
  judgeFirstHop({ oracle, vantage: aws, request: { method: 'GET', path }, hop: h, kind, xff: '44.192.0.1,1.1.1.1' });

describe('judgeFirstHop', () => {
  it('passes the exact expectation and returns the evidence', async () => {
    const e = await judge(
      `/v2/pause/blobs/${D}`,
      hop(307, `https://bucket-us-east-1.example/containers/images/${D}?rid=42`),
    );
    expect(e).toMatchObject({
      matched: true,
      kind: 'k',
      vantage: 'aws',
      expected: { status: 307, reason: 'blob-bucket-hit' },
      request: { xff: '44.192.0.1,1.1.1.1' },
    });
  });

  it('lets a regional AR host stand in for the upstream, but not for the signature upstream', async () => {
    await expect(
      judge(
        '/v2/pause/manifests/3.9',
        hop(307, 'https://europe-west4-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/manifests/3.9'),
      ),
    ).resolves.toMatchObject({ matched: true });
    const sig = `/v2/pause/manifests/sha256-${'a'.repeat(64)}.sig`;
    await expect(
      judge(sig, hop(307, `https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images${sig.slice(3)}`)),
    ).resolves.toMatchObject({ matched: true });
    await expect(
      judge(sig, hop(307, `https://europe-west4-docker.pkg.dev/v2/k8s-artifacts-prod/images${sig.slice(3)}`)),
    ).rejects.toBeInstanceOf(CheckFailure);
  });

  it('a wrong place or a wrong status is a routing failure carrying the hop and the evidence', async () => {
    const err = await judge(
      `/v2/pause/blobs/${D}`,
      hop(307, `https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/blobs/${D}`),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckFailure);
    const f = err as CheckFailure;
    expect(f.failureClass).toBe('routing');
    expect(f.message).toMatch(
      /from aws \(AWS us-east-1, 44\.192\.0\.1\): expected 307 → https:\/\/bucket-us-east-1\.example\/containers\/images\/.* \[blob-bucket-hit via https:\/\/bucket-us-east-1\.example\], got 307 → https:\/\/us-central1/,
    );
    expect(f.hops).toHaveLength(1);
    expect(f.details?.routing).toMatchObject({ matched: false, actual: { status: 307 } });
    await expect(judge('/', hop(302, 'https://info.example/'))).rejects.toThrow(/expected 307 .* got 302/);
    await expect(judge('/v1/_ping', hop(200))).rejects.toThrow(/expected 404/);
  });

  it('5xx, 429, an HTML 403 or no answer are inconclusive, with their class', async () => {
    for (const [h, cls] of [
      [hop(503), 'availability'],
      [hop(429), 'rate-limited'],
      [hop(403, undefined, { 'content-type': 'text/html; charset=UTF-8' }), 'blocked'],
      [hop(0), 'availability'],
      [undefined, 'availability'],
    ] as const) {
      const err = await judge('/', h).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Inconclusive);
      expect((err as Inconclusive).failureClass).toBe(cls);
    }
  });
});

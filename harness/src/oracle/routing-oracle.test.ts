import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TargetDescription, Vantage } from '../target/target-description.js';
import { readPublishedRanges } from './published-ranges.js';
import {
  REQUEST_KINDS,
  OracleError,
  RoutingOracle,
  SYNTHETIC_ABSENT_DIGEST,
  loadMirrorPlan,
  locationMatches,
  routingOracleFor,
} from './routing-oracle.js';

const prefixes = readPublishedRanges();
const d = (c: string) => `sha256:${c.repeat(64)}`;
const EU3 = 'http://127.0.0.1:9000/prod-registry-k8s-io-eu-west-3';
const AP_SOUTH = 'http://127.0.0.1:9000/prod-registry-k8s-io-ap-south-1';
const DEFAULT = 'http://127.0.0.1:9000/prod-registry-k8s-io-default';

const v = (name: string, ip: string, cloud: Vantage['cloud'], region: string | null, tags?: string[]): Vantage => ({
  name,
  ip,
  cloud,
  region,
  url: null,
  tags,
});
const vantages = {
  euWest3: v('aws-eu-west-3', '35.180.1.1', 'AWS', 'eu-west-3'),
  gcp: v('gcp-v4', '35.220.26.1', 'GCP', 'europe-north1'),
  internet: v('internet-v4', '192.168.0.1', null, null),
  azure: v('azure', '20.42.0.1', 'Azure', 'eastus'),
  global: v('aws-global', '108.156.0.1', 'AWS', 'GLOBAL'),
  shadowed: v('aws-shadowed', '15.193.0.5', 'AWS', 'ap-south-1', ['shadowed-by-global']),
  mapped: v('aws-mapped', '::ffff:35.180.1.1', 'AWS', 'eu-west-3'),
};

function makeTarget(over: Partial<TargetDescription> = {}): TargetDescription {
  return {
    name: 'hand-made',
    url: 'http://127.0.0.1:8080',
    ipMode: 'xff',
    semantics: 'most-specific',
    upstream: 'http://127.0.0.1:5000',
    upstreamPath: 'k8s-artifacts-prod/images',
    signatureUpstream: 'http://127.0.0.1:5001',
    infoUrl: 'https://github.com/kubernetes/registry.k8s.io',
    privacyUrl: 'https://www.linuxfoundation.org/privacy-policy/',
    bucketMap: { default: DEFAULT, regions: { 'eu-west-3': EU3, 'ap-south-1': `${AP_SOUTH}/` } },
    s3: null,
    vantages: Object.values(vantages),
    images: [
      { ref: 'pause:3.9', digest: d('7'), kind: ['index'] },
      { ref: 'pause:sha256-' + '7'.repeat(64) + '.sig', digest: d('5'), kind: ['signature'] },
    ],
    mirrorPlan: { buckets: { [EU3]: [d('1'), d('2')], [AP_SOUTH]: [d('1')], [DEFAULT]: [d('1'), d('3')] } },
    lbIp: '10.0.0.1',
    ...over,
  };
}

const oracle = (over?: Partial<TargetDescription>) => new RoutingOracle(makeTarget(over), { prefixes });
const get = (path: string) => ({ method: 'GET', path });

describe('routing oracle: classification', () => {
  it('agrees with declared vantages, including GLOBAL-shadowed ones under both semantics', () => {
    for (const semantics of ['most-specific', 'archeio'] as const) {
      const o = oracle({ semantics });
      for (const vantage of Object.values(vantages)) {
        if (vantage === vantages.mapped && semantics === 'archeio') continue; // unclassified under archeio: see below
        expect(() => o.classify(vantage)).not.toThrow();
      }
    }
    expect(oracle({ semantics: 'archeio' }).classify(vantages.shadowed)).toMatchObject({ region: 'GLOBAL' });
    expect(oracle().classify(vantages.shadowed)).toMatchObject({ region: 'ap-south-1' });
  });

  it('treats a declaration that contradicts the publications as a harness error', () => {
    const liar = v('liar', '35.220.26.1', 'AWS', 'us-east-1');
    expect(() => oracle().classify(liar)).toThrow(OracleError);
    try {
      oracle().classify(liar);
    } catch (err) {
      expect((err as OracleError).code).toBe('ORACLE_VANTAGE_MISMATCH');
      expect((err as Error).message).toMatch(/liar \(35\.220\.26\.1\) is declared AWS us-east-1.*GCP europe-north1/);
    }
    expect(() => oracle().classify(v('net', '44.192.0.1', null, null))).toThrow(/plain internet/);
    expect(() => oracle().classify(v('bad', 'not-an-ip', null, null))).toThrow(OracleError);
  });

  it('keeps IPv4-mapped IPv6 unmapped under archeio semantics (unknown → default base)', () => {
    expect(oracle().blobBase(vantages.mapped)).toBe(EU3);
    expect(oracle({ semantics: 'archeio' }).classifyUnder(vantages.mapped, 'archeio')).toBeNull();
  });

  it('trusts a vantage declared without an address (egress `--vantage aws:eu-west-3`)', () => {
    const declared = v('egress', '', 'AWS', 'eu-west-3', ['declared-without-ip']);
    expect(oracle().blobBase(declared)).toBe(EU3);
    expect(oracle().blobBase(v('egress', '', null, null))).toBe(DEFAULT);
  });
});

describe('routing oracle: request handling rules', () => {
  const o = oracle();
  const at = vantages.euWest3;

  it('rule 1: methods other than GET and HEAD → 405', async () => {
    expect(await o.expect(at, { method: 'POST', path: '/v2/' })).toMatchObject({
      status: 405,
      reason: 'method-not-allowed',
    });
    expect(await o.expect(at, { method: 'HEAD', path: '/v2/' })).toMatchObject({ status: 200 });
  });

  it('rule 2: /, /privacy and /privacy/ redirect; other paths outside /v2 are 404 (including /v2foo)', async () => {
    expect(await o.expect(at, get('/'))).toEqual({
      status: 307,
      reason: 'info',
      location: 'https://github.com/kubernetes/registry.k8s.io',
      classification: null,
    });
    expect(await o.expect(at, get('/privacy'))).toMatchObject({
      status: 307,
      location: 'https://www.linuxfoundation.org/privacy-policy/',
    });
    expect(await o.expect(at, get('/privacy/'))).toMatchObject({ status: 307, reason: 'privacy' });
    for (const p of ['/privacyX', '/v2foo', '/v3/', '/v1/_ping'])
      expect(await o.expect(at, get(p))).toMatchObject({ status: 404, reason: 'not-found' });
  });

  it('rule 3: the ping and _catalog', async () => {
    expect(await o.expect(at, get('/v2'))).toMatchObject({ status: 200, reason: 'ping' });
    expect(await o.expect(at, get('/v2/'))).toMatchObject({ status: 200, reason: 'ping' });
    expect(await o.expect(at, get('/v2/_catalog?n=1'))).toMatchObject({ status: 404, reason: 'catalog-not-found' });
  });

  it('rule 4: dot segments (decoded or encoded) are 400; query strings survive', async () => {
    expect(await o.expect(at, get('/v2/../x/manifests/1'))).toMatchObject({ status: 400 });
    expect(await o.expect(at, get('/v2/%2e%2e/%2E%2E/x/manifests/1'))).toMatchObject({ status: 400 });
    expect(await o.expect(at, get('/v2/pause/tags/list?n=10&last=3.1'))).toMatchObject({
      status: 307,
      location: 'http://127.0.0.1:5000/v2/k8s-artifacts-prod/images/pause/tags/list?n=10&last=3.1',
    });
  });

  it('rule 5: manifests and tags go upstream + /v2/ + upstreamPath; cosign tags to the signature upstream', async () => {
    expect((await o.expect(at, get('/v2/e2e-test-images/busybox/manifests/1.29'))).location).toBe(
      'http://127.0.0.1:5000/v2/k8s-artifacts-prod/images/e2e-test-images/busybox/manifests/1.29',
    );
    const sig = `/v2/pause/manifests/sha256-${'ab'.repeat(32)}.sig`;
    expect(await o.expect(at, get(sig))).toMatchObject({
      reason: 'signature-upstream',
      location: `http://127.0.0.1:5001/v2/k8s-artifacts-prod/images${sig.slice(3)}`,
    });
    expect(await o.expect(at, get(sig.replace('.sig', '.att')))).toMatchObject({ reason: 'signature-upstream' });
    // uppercase hex and .sbom are ordinary tags (docs/reference/archeio.md#test-vectors vector 9)
    expect(await o.expect(at, get(sig.replace('.sig', '.sbom')))).toMatchObject({ reason: 'upstream' });
    expect(await o.expect(at, get(`/v2/pause/manifests/sha256-${'AB'.repeat(32)}.sig`))).toMatchObject({
      reason: 'upstream',
    });
    // no signature upstream: the tag is just a tag
    expect(await oracle({ signatureUpstream: null }).expect(at, get(sig))).toMatchObject({ reason: 'upstream' });
    // an empty upstream path
    expect((await oracle({ upstreamPath: '' }).expect(at, get('/v2/pause/manifests/3.9'))).location).toBe(
      'http://127.0.0.1:5000/v2/pause/manifests/3.9',
    );
  });

  it('rule 5: a malformed name or reference is answered by the redirector: 400, or 404 for a malformed tag', async () => {
    const answered = async (path: string, status: number) =>
      expect(await o.expect(at, get(path))).toEqual({
        status,
        reason: 'bad-reference',
        location: undefined,
        classification: null,
      });
    // malformed digests (G1 pull 13, G2 R21), of each registered algorithm and the generic grammar
    await answered('/v2/pause/manifests/sha256:totallywrong', 400);
    await answered('/v2/pause/manifests/sha256:baddigeststring?x=1', 400);
    await answered(`/v2/pause/manifests/sha256:${'AB'.repeat(32)}`, 400);
    await answered(`/v2/pause/manifests/sha256:${'ab'.repeat(31)}`, 400);
    await answered(`/v2/pause/manifests/sha512:${'ab'.repeat(32)}`, 400);
    await answered(`/v2/pause/manifests/blake3:${'ab'.repeat(33)}`, 400);
    await answered('/v2/pause/manifests/md5+:abc', 400);
    await answered('/v2/pause/manifests/a:b.c', 400);
    // malformed tags: 404, as G1 pull 5/9 require for `.INVALID_MANIFEST_NAME`
    await answered('/v2/pause/manifests/.INVALID_MANIFEST_NAME', 404);
    await answered(`/v2/pause/manifests/${'t'.repeat(129)}`, 404);
    await answered('/v2/pause/manifests/-x', 404);
    // malformed names, on every endpoint, before the reference
    await answered('/v2/Pause/manifests/latest', 400);
    await answered('/v2/Pause/manifests/.bad', 400);
    await answered(`/v2/pause-/manifests/sha256-${'ab'.repeat(32)}.sig`, 400);
    await answered('/v2/a//b/tags/list?n=1', 400);
    await answered('/v2/manifests/latest', 400);
    await answered(`/v2/A/referrers/${d('1')}`, 400);
    // referrers take a digest only
    await answered('/v2/pause/referrers/sha256:baddigeststring', 400);
    await answered('/v2/pause/referrers/latest', 400);
    // decoded before judging
    await answered('/v2/pause/manifests/sha256%3Atotallywrong', 400);
  });

  it('rule 5: well-formed names and references still go upstream', async () => {
    const upstream = async (path: string) =>
      expect(await o.expect(at, get(path))).toMatchObject({ status: 307, reason: 'upstream' });
    await upstream(`/v2/pause/manifests/sha512:${'ab'.repeat(64)}`);
    await upstream(`/v2/pause/manifests/blake3:${'ab'.repeat(32)}`);
    await upstream(`/v2/pause/manifests/md5:${'AB'.repeat(16)}`);
    await upstream('/v2/pause/manifests/sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564=');
    await upstream(`/v2/pause/manifests/${'t'.repeat(128)}`);
    await upstream('/v2/pause/manifests/_x');
    await upstream(`/v2/pause/manifests/sha256-${'ab'.repeat(32)}`);
    await upstream(`/v2/pause/referrers/${d('1')}?artifactType=x`);
    await upstream('/v2/a/manifests/b/manifests/latest');
    await upstream('/v2/pause/tags/list/');
    await upstream('/v2/pause/blobs/uploads/');
  });

  it('rule 6: blobs from GCP go upstream; others to their bucket when it holds the digest, else upstream', async () => {
    const blob = (digest: string) => get(`/v2/pause/blobs/${digest}`);
    expect(await o.expect(vantages.gcp, blob(d('1')))).toMatchObject({
      status: 307,
      reason: 'blob-gcp-client',
      location: `http://127.0.0.1:5000/v2/k8s-artifacts-prod/images/pause/blobs/${d('1')}`,
    });
    expect(await o.expect(at, blob(d('2')))).toMatchObject({
      reason: 'blob-bucket-hit',
      base: EU3,
      location: `${EU3}/containers/images/${d('2')}`,
    });
    expect(await o.expect(at, blob(d('3')))).toMatchObject({
      reason: 'blob-bucket-miss',
      base: EU3,
      location: `http://127.0.0.1:5000/v2/k8s-artifacts-prod/images/pause/blobs/${d('3')}`,
    });
    // internet, Azure and AWS GLOBAL use the default base
    for (const who of [vantages.internet, vantages.azure, vantages.global]) {
      expect(await o.expect(who, blob(d('3')))).toMatchObject({ reason: 'blob-bucket-hit', base: DEFAULT });
      expect(await o.expect(who, blob(d('2')))).toMatchObject({ reason: 'blob-bucket-miss' });
    }
    // a HEAD takes the same decision
    expect(await o.expect(at, { method: 'HEAD', path: `/v2/pause/blobs/${d('2')}` })).toMatchObject({
      reason: 'blob-bucket-hit',
    });
    // a malformed digest is not a blob: it goes upstream like any other /v2 path
    expect(await o.expect(at, get('/v2/pause/blobs/NOPE'))).toMatchObject({ reason: 'upstream' });
  });

  it('routes GLOBAL-shadowed prefixes by the declared semantics', async () => {
    const blob = get(`/v2/pause/blobs/${d('1')}`);
    expect(await oracle().expect(vantages.shadowed, blob)).toMatchObject({
      base: AP_SOUTH,
      location: `${AP_SOUTH}/containers/images/${d('1')}`,
    });
    expect(await oracle({ semantics: 'archeio' }).expect(vantages.shadowed, blob)).toMatchObject({
      base: DEFAULT,
      location: `${DEFAULT}/containers/images/${d('1')}`,
    });
    // the other semantics, on demand
    expect(await oracle().expect(vantages.shadowed, blob, 'archeio')).toMatchObject({ base: DEFAULT });
  });
});

describe('routing oracle: presence without a mirror plan', () => {
  it('HEADs the bucket object once per URL through the injected probe', async () => {
    const asked: string[] = [];
    const o = new RoutingOracle(makeTarget({ mirrorPlan: null }), {
      prefixes,
      probeBlob: async (url) => {
        asked.push(url);
        return url.endsWith(d('9'));
      },
      blobs: [
        { repository: 'pause', digest: d('8') },
        { repository: 'pause', digest: d('9') },
      ],
    });
    const hit = await o.expect(vantages.euWest3, get(`/v2/pause/blobs/${d('9')}`));
    expect(hit).toMatchObject({ reason: 'blob-bucket-hit', location: `${EU3}/containers/images/${d('9')}` });
    await o.expect(vantages.euWest3, get(`/v2/pause/blobs/${d('9')}`));
    expect(asked).toEqual([`${EU3}/containers/images/${d('9')}`]);
    expect(await o.probeFor('blob-in-bucket', vantages.euWest3)).toMatchObject({ digest: d('9') });
    expect(await o.probeFor('blob-absent-from-bucket', vantages.euWest3)).toMatchObject({ digest: d('8') });
    // with no plan nothing says which blobs no bucket holds: a synthetic digest, labelled
    expect(await o.probeFor('blob-upstream-only', vantages.euWest3)).toMatchObject({
      digest: SYNTHETIC_ABSENT_DIGEST,
      note: expect.stringMatching(/synthetic/),
    });
  });
});

describe('routing oracle: probes per request kind', () => {
  it('builds a request for every kind from the images and the mirror plan', async () => {
    const o = new RoutingOracle(makeTarget(), { prefixes, blobs: [{ repository: 'pause', digest: d('4') }] });
    const probes = Object.fromEntries(
      await Promise.all(REQUEST_KINDS.map(async (k) => [k, await o.probeFor(k, vantages.euWest3)] as const)),
    );
    expect(probes['manifest-by-tag']).toMatchObject({ method: 'GET', path: '/v2/pause/manifests/3.9' });
    expect(probes['manifest-by-digest']).toMatchObject({ path: `/v2/pause/manifests/${d('7')}` });
    expect(probes['tag-list']).toMatchObject({ path: '/v2/pause/tags/list?n=2&last=3.9' });
    expect(probes['signature-tag']).toMatchObject({ path: `/v2/pause/manifests/sha256-${'7'.repeat(64)}.sig` });
    expect(probes['blob-in-bucket']).toMatchObject({ digest: d('1') });
    // d('3') is in the default bucket but not eu-west-3: preferred over d('4'), which no bucket holds
    expect(probes['blob-absent-from-bucket']).toMatchObject({
      digest: d('3'),
      note: expect.stringMatching(/another bucket/),
    });
    expect(probes['blob-upstream-only']).toMatchObject({ digest: d('4') });
    expect(probes.root).toMatchObject({ path: '/' });
    expect(probes.privacy).toMatchObject({ path: '/privacy' });
    expect(probes['unknown-path']).toMatchObject({ path: '/v1/_ping' });
    // GCP vantages are probed with the default base's blobs (what they would get if they were not GCP)
    expect(await o.probeFor('blob-in-bucket', vantages.gcp)).toMatchObject({ digest: d('1') });
  });

  it('constructs a cosign tag when no signature image is listed, and reports kinds it cannot build', async () => {
    const o = new RoutingOracle(
      makeTarget({ images: [{ ref: 'pause:3.9', digest: d('7') }], mirrorPlan: { buckets: {} } }),
      { prefixes },
    );
    expect(await o.probeFor('signature-tag', vantages.euWest3)).toMatchObject({
      note: expect.stringMatching(/constructed/),
    });
    expect(await o.probeFor('blob-in-bucket', vantages.euWest3)).toBeNull();
    expect(o.unavailableReason('blob-in-bucket', vantages.euWest3)).toMatch(
      /no known blob fits "blob-in-bucket" for .*eu-west-3/,
    );
    const empty = new RoutingOracle(makeTarget({ images: [], mirrorPlan: { buckets: {} } }), { prefixes });
    expect(await empty.probeFor('manifest-by-tag', vantages.euWest3)).toBeNull();
    expect(empty.unavailableReason('manifest-by-tag', vantages.euWest3)).toMatch(/no images/);
  });
});

describe('mirror plans and the per-target cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oracle-plan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a plan by relative path and rejects malformed ones', () => {
    writeFileSync(join(dir, 'plan.json'), JSON.stringify({ buckets: { [EU3]: [d('1')] } }));
    expect(loadMirrorPlan('plan.json', dir)?.buckets[EU3]).toEqual([d('1')]);
    expect(loadMirrorPlan(null)).toBeNull();
    expect(() => loadMirrorPlan('missing.json', dir)).toThrow(/cannot read mirror plan/);
    expect(() => loadMirrorPlan({ buckets: { x: 'no' } } as never)).toThrow(/must be a list of digests/);
    expect(() => loadMirrorPlan({} as never)).toThrow(/buckets/);
  });

  it('shares one oracle per target object', async () => {
    const t = makeTarget();
    let calls = 0;
    const blobs = async () => {
      calls++;
      return [];
    };
    const [a, b] = await Promise.all([
      routingOracleFor(t, { prefixes, blobs }),
      routingOracleFor(t, { prefixes, blobs }),
    ]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
  });
});

describe('locationMatches', () => {
  it('compares scheme, host and path exactly and the query by parameters', () => {
    const e = 'https://up.example/v2/x/tags/list?n=2&last=a';
    expect(locationMatches(e, 'https://UP.example/v2/x/tags/list?last=a&n=2')).toBe(true);
    expect(locationMatches(e, 'https://up.example/v2/x/tags/list')).toBe(false);
    expect(locationMatches(e, 'http://up.example/v2/x/tags/list?n=2&last=a')).toBe(false);
    expect(locationMatches(e, 'https://up.example/v2/y/tags/list?n=2&last=a')).toBe(false);
    expect(locationMatches(e, undefined)).toBe(false);
    expect(locationMatches(e, 'https://up.example/v2/x/tags/list?n=2&last=a&rid=1')).toBe(false);
    expect(
      locationMatches(e, 'https://up.example/v2/x/tags/list?n=2&last=a&rid=1', { toleratedQueryParams: ['rid'] }),
    ).toBe(true);
  });

  it('lets regional upstream hosts stand in for the upstream when the target says so', () => {
    const opts = { upstream: 'https://us-central1-docker.pkg.dev', upstreamHosts: ['*-docker.pkg.dev'] };
    const e = 'https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/manifests/3.9';
    expect(
      locationMatches(e, 'https://us-east4-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/manifests/3.9', opts),
    ).toBe(true);
    expect(locationMatches(e, 'https://evil.example/v2/k8s-artifacts-prod/images/pause/manifests/3.9', opts)).toBe(
      false,
    );
    // only the upstream is stood in for: a bucket expectation stays exact
    expect(
      locationMatches(
        'https://cdn.registry.k8s.io/containers/images/x',
        'https://us-east4-docker.pkg.dev/containers/images/x',
        opts,
      ),
    ).toBe(false);
  });
});

describe('findShadowedPrefixes', () => {
  it('lists regional AWS prefixes inside GLOBAL ones, whose two semantics disagree', async () => {
    const { findShadowedPrefixes } = await import('./routing-oracle.js');
    const { classifyByScan } = await import('./published-ranges.js');
    const shadowed = findShadowedPrefixes(prefixes);
    expect(shadowed.find((s) => s.prefix === '15.193.0.0/24')).toMatchObject({
      region: 'ap-south-1',
      shadowedBy: '15.193.0.0/19',
      sample: '15.193.0.1',
    });
    expect(shadowed.some((s) => s.family === 6)).toBe(true);
    for (const s of shadowed.slice(0, 20)) {
      expect(classifyByScan(prefixes, s.sample, 'archeio')).toMatchObject({ region: 'GLOBAL' });
      expect(classifyByScan(prefixes, s.sample, 'most-specific')?.region).not.toBe('GLOBAL');
    }
  });
});

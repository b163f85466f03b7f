// The assembled redirector in memory: decision logs, metrics, the admin endpoints, explain, range refresh, mutants.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../blobs/index.js';
import { loadConfig } from '../config.js';
import { BUNDLED_RANGE_SOURCES, loadRangeData, type RangeData } from '../ranges/index.js';
import { BucketMapError } from '../routing/index.js';
import { assembleRedirector, type RedirectorDeps } from './redirector.js';
import { REFUSAL_LOG_PER_REASON, REFUSAL_LOG_WINDOW_MS } from './refusal-log.js';
import type { HttpRequest } from './request-handler.js';

const D = 'sha256:' + 'd'.repeat(64);
const BLOB = `/v2/pause/blobs/${D}`;
const PARIS = 'https://prod-registry-k8s-io-eu-west-3.s3.dualstack.eu-west-3.amazonaws.com';
const UP = 'https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images';

let data: RangeData;
beforeAll(() => {
  data = loadRangeData(BUNDLED_RANGE_SOURCES);
});

function build(env: Record<string, string> = {}, deps: RedirectorDeps = {}) {
  const lines: Record<string, unknown>[] = [];
  const heads: string[] = [];
  const clock = new ManualClock();
  const r = assembleRedirector(loadConfig(env), {
    rangeData: data,
    clock,
    logDestination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
    fetcher: (url) => {
      heads.push(url);
      return Promise.resolve(url.includes('missing') ? 404 : 200);
    },
    ...deps,
  });
  const req = (target: string, xff?: string, method = 'GET', remoteAddress = '10.0.0.1'): HttpRequest => ({
    method,
    target,
    xff,
    remoteAddress,
  });
  const get = async (path: string) => {
    const reply = await r.admin(req(path));
    return { ...reply, json: () => JSON.parse(reply.body) as Record<string, unknown> };
  };
  return { r, lines, heads, clock, req, get };
}

const location = (headers: string[]) => headers[headers.indexOf('Location') + 1];

describe('decision log', () => {
  it('writes one line per decision with the client facts for blobs', async () => {
    const { r, lines, req } = build();
    await r.handler(req(BLOB, '35.180.1.1, 130.211.0.1'));
    await r.handler(req(BLOB, '35.180.1.1, 130.211.0.1'));
    await r.handler(req('/v2/pause/manifests/latest?n=1'));
    await r.handler(req(BLOB, 'garbage'));
    const d = lines.filter((l) => l.msg === 'decision');
    expect(d).toHaveLength(4);
    expect(d[0]).toMatchObject({
      level: 30,
      reason: 'blob-bucket-hit',
      rule: 6,
      method: 'GET',
      path: BLOB,
      status: 307,
      target: `${PARIS}/containers/images/${D}`,
      ip: '35.180.1.1',
      ipSource: 'xff',
      cloud: 'AWS',
      region: 'eu-west-3',
      prefix: '35.180.0.0/16',
      cache: 'head-found',
      headStatus: 200,
      headMs: 0,
    });
    expect(d[0]).not.toHaveProperty('probeUrl');
    expect(d[1]).toMatchObject({ cache: 'cached-found' });
    expect(d[1]).not.toHaveProperty('headMs');
    expect(d[2]).toEqual({
      level: 30,
      time: expect.any(Number),
      msg: 'decision',
      reason: 'upstream',
      rule: 5,
      method: 'GET',
      path: '/v2/pause/manifests/latest?n=1',
      status: 307,
      target: `${UP}/pause/manifests/latest?n=1`,
    });
    expect(d[3]).toMatchObject({
      reason: 'blob-bucket-hit',
      ip: null,
      ipSource: 'xff',
      ipProblem: expect.stringContaining('has 1 entry'),
      cloud: null,
    });
  });

  it('is off above info, explicitly', async () => {
    const { r, lines, req } = build({ LOG_LEVEL: 'warn' });
    await r.handler(req('/'));
    expect(lines.filter((l) => l.msg === 'decision')).toEqual([]);
  });
});

describe('admin endpoints', () => {
  it('/metrics counts decisions, checks, HEADs, caches and range data', async () => {
    const { r, req, get } = build();
    await r.handler(req(BLOB, '35.180.1.1, 130.211.0.1'));
    await r.handler(req(BLOB, '35.180.1.1, 130.211.0.1'));
    await Promise.all([
      r.handler(req('/v2/p/blobs/sha256:' + 'e'.repeat(64), '8.8.8.8, 1.1.1.1')),
      r.handler(req('/v2/p/blobs/sha256:' + 'e'.repeat(64), '8.8.8.8, 1.1.1.1')),
    ]);
    await r.handler(req(BLOB, 'x'));
    await r.handler(req('/'));
    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.headers[1]).toMatch(/^text\/plain/);
    const body = m.body;
    expect(body).toContain('redirector_decisions_total{reason="blob-bucket-hit",cloud="AWS",region="eu-west-3"} 2');
    expect(body).toContain('redirector_decisions_total{reason="info",cloud="",region=""} 1');
    // answers by outcome: a coalesced waiter reports the outcome of the HEAD it waited on
    expect(body).toContain('redirector_blob_checks_total{outcome="cached-found"} 1');
    expect(body).toContain('redirector_blob_checks_total{outcome="head-found"} 4');
    expect(body).toContain('redirector_blob_checks_coalesced_total 1');
    expect(body).toContain('redirector_client_ip_problems_total 1');
    expect(body).toContain(`redirector_blob_heads_total{bucket="${PARIS}",outcome="hit"} 1`);
    expect(body).toMatch(/redirector_blob_head_seconds_count\{outcome="hit"\} 3/);
    expect(body).toContain('redirector_blob_cache_entries{cache="positive"} 3');
    expect(body).toContain('redirector_blob_cache_capacity{cache="positive"} 100000');
    expect(body).toContain('redirector_blob_heads_in_flight 0');
    expect(body).toContain(`redirector_breaker_state{bucket="${PARIS}",state="closed"} 1`);
    expect(body).toContain('redirector_range_data_info{cloud="AWS",version="2026-07-29-08-27-05"} 1');
    expect(body).toMatch(/redirector_range_prefixes\{cloud="AWS",family="v4"\} \d+/);
    expect(body).toContain('redirector_info{semantics="most-specific",protocol_compat="none",client_ip_rule="gclb"} 1');
    expect(body).not.toMatch(/redirector_mutant\{/);
    expect(body).toContain('process_resident_memory_bytes');
    // a second scrape reuses the cached prefix counts and re-derives the tallies
    expect((await get('/metrics')).body).toContain('redirector_blob_checks_total{outcome="cached-found"} 1');
  });

  it('/metrics counts refused requests by status and reason, every reason from 0; the log samples them', async () => {
    const { r, get, lines, clock } = build();
    const before = (await get('/metrics')).body;
    expect(before).toContain('redirector_listener_refusals_total{status="431",reason="header-too-large"} 0');
    for (let i = 0; i < 50; i++) {
      r.refused({ reason: 'bad-header', remoteAddress: '10.0.0.1', firstLine: `GET /${i} HTTP/1.1` });
    }
    r.refused({ reason: 'timeout', remoteAddress: '10.0.0.2', firstLine: '' });
    const body = (await get('/metrics')).body;
    expect(body).toContain('redirector_listener_refusals_total{status="400",reason="bad-header"} 50');
    expect(body).toContain('redirector_listener_refusals_total{status="408",reason="timeout"} 1');
    expect(body).toContain('redirector_listener_refusals_total{status="400",reason="missing-host"} 0');
    const refused = lines.filter((l) => l.msg === 'request refused');
    expect(refused).toHaveLength(REFUSAL_LOG_PER_REASON + 1);
    expect(refused[0]).toMatchObject({ level: 30, status: 400, reason: 'bad-header', firstLine: 'GET /0 HTTP/1.1' });
    clock.advance(REFUSAL_LOG_WINDOW_MS);
    const suppressed = { 'bad-header': 50 - REFUSAL_LOG_PER_REASON };
    expect(lines.at(-1)).toMatchObject({ msg: 'refused requests not logged', suppressed });
  });

  it('/healthz and /readyz, which turns 503 while draining', async () => {
    const { r, get } = build();
    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ready',
      semantics: 'most-specific',
      protocolCompat: 'none',
      mutant: null,
      ranges: data.versions,
    });
    r.state.ready = false;
    const draining = await get('/readyz');
    expect(draining.status).toBe(503);
    expect(draining.json().status).toBe('draining');
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    const { r, req, get } = build();
    expect((await get('/')).status).toBe(404);
    const post = await r.admin(req('/metrics', undefined, 'POST'));
    expect(post.status).toBe(405);
    expect(post.headers).toContain('Allow');
  });
});

describe('/explain', () => {
  it('traces a blob decision without a HEAD, then with probe=1, then from the cache', async () => {
    const { heads, get } = build();
    const q = `/explain?ip=15.193.0.5&path=${encodeURIComponent(BLOB + '?ns=x')}`;
    const t = (await get(q)).json();
    expect(heads).toEqual([]);
    expect(t).toMatchObject({
      request: { method: 'GET', path: BLOB + '?ns=x' },
      semantics: 'most-specific',
      protocolCompat: 'none',
      client: { ip: '15.193.0.5', cloud: 'AWS', region: 'ap-south-1', prefix: '15.193.0.0/24' },
      probe: {
        known: null,
        result: null,
        ifHit: expect.stringContaining('ap-south-1'),
        otherwise: `${UP}/pause/blobs/${D}?ns=x`,
      },
      decision: null,
    });
    const probed = (await get(q + '&probe=1')).json();
    expect(heads).toHaveLength(1);
    expect(probed).toMatchObject({
      probe: { known: null, result: { outcome: 'head-found' } },
      decision: { reason: 'blob-bucket-hit', rule: 6, status: 307 },
    });
    const cached = (await get(q)).json();
    expect(cached).toMatchObject({
      probe: { known: 'cached-found', result: null },
      decision: { reason: 'blob-bucket-hit' },
    });
    expect(heads).toHaveLength(1);
  });

  it('traces non-blob requests, unknown clients and v4-mapped addresses', async () => {
    const { get } = build();
    expect((await get('/explain?path=/v2/')).json()).toMatchObject({
      client: null,
      decision: { reason: 'v2-ping', status: 200, location: null },
    });
    expect((await get('/explain?path=/v2/x/manifests/y&method=head')).json()).toMatchObject({
      request: { method: 'HEAD' },
      decision: { reason: 'upstream', status: 307 },
    });
    expect((await get('/explain?path=/v2/..&method=GET')).json()).toMatchObject({
      decision: { reason: 'bad-path', status: 400 },
    });
    expect((await get(`/explain?path=${BLOB}`)).json()).toMatchObject({ client: { ip: null, cloud: null } });
    expect((await get(`/explain?ip=::ffff:35.180.1.1&path=${BLOB}`)).json()).toMatchObject({
      client: { ip: '35.180.1.1', region: 'eu-west-3' },
    });
    expect((await get(`/explain?ip=35.220.26.1&path=${BLOB}`)).json()).toMatchObject({
      probe: null,
      decision: { reason: 'blob-gcp-client' },
    });
  });

  it('refuses a bad ip or a missing path', async () => {
    const { get } = build();
    const bad = await get(`/explain?ip=1.2.3&path=${BLOB}`);
    expect(bad.status).toBe(400);
    expect(bad.json().error).toMatch(/"1.2.3" is not an IP address/);
    expect((await get('/explain?ip=1.2.3.4')).status).toBe(400);
  });

  it('uses archeio semantics and compat when configured', async () => {
    const { get } = build({ ROUTING_SEMANTICS: 'archeio', PROTOCOL_COMPAT: 'archeio' });
    expect((await get(`/explain?ip=::ffff:35.180.1.1&path=${BLOB}`)).json()).toMatchObject({
      protocolCompat: 'archeio',
      semantics: 'archeio',
      client: { ip: '::ffff:35.180.1.1', cloud: null },
    });
    expect((await get(`/explain?path=${BLOB}`)).json()).toMatchObject({
      decision: { reason: 'client-ip-invalid', status: 400 },
    });
  });
});

describe('start-up validation', () => {
  it('names AWS regions without a bucket unless allowed', () => {
    let err: unknown;
    try {
      build({ ALLOW_UNMAPPED_REGIONS: 'none' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BucketMapError);
    expect((err as BucketMapError).regions).toEqual(['me-west-1', 'sa-west-1', 'us-south-1']);
  });
  it('applies DEFAULT_AWS_BASE_URL', async () => {
    const { r, req } = build({ DEFAULT_AWS_BASE_URL: 'https://cdn.example/' });
    expect(location((await r.handler(req(BLOB, '8.8.8.8, 1.1.1.1'))).headers)).toBe(
      `https://cdn.example/containers/images/${D}`,
    );
  });
});

describe('range refresh', () => {
  const aws = JSON.parse(readFileSync(BUNDLED_RANGE_SOURCES.aws, 'utf8')) as {
    syncToken: string;
    createDate: string;
    prefixes: { ip_prefix: string; region: string; service: string; network_border_group: string }[];
  };
  const text = (source: string) => readFileSync(source, 'utf8');

  it('swaps a newer valid table, counts it and warns about unmapped regions', async () => {
    const newer = {
      ...aws,
      syncToken: String(Number(aws.syncToken) + 1),
      createDate: '2026-08-01-00-00-00',
      prefixes: [
        ...aws.prefixes,
        { ip_prefix: '198.51.100.0/24', region: 'xx-new-1', service: 'EC2', network_border_group: 'xx-new-1' },
      ],
    };
    const { r, lines, req, get } = build(
      {
        RANGES_REFRESH_INTERVAL_S: '3600',
        AWS_IP_RANGES_URL: 'aws-source',
        GCP_IP_RANGES_URL: BUNDLED_RANGE_SOURCES.gcp,
        AZURE_IP_RANGES_URL: BUNDLED_RANGE_SOURCES.azure,
      },
      { readRangeText: async (source) => (source === 'aws-source' ? JSON.stringify(newer) : text(source)) },
    );
    expect((await r.refreshRanges())?.outcome).toBe('swapped');
    expect(r.classifier().data.versions.aws).toBe('2026-08-01-00-00-00');
    await r.handler(req(BLOB, '198.51.100.7, 1.1.1.1'));
    expect(lines.find((l) => l.msg === 'decision')).toMatchObject({
      cloud: 'AWS',
      region: 'xx-new-1',
      target: expect.stringContaining('cloudfront'),
    });
    expect(lines.find((l) => l.msg === 'range data swapped')).toBeDefined();
    expect(lines.find((l) => typeof l.msg === 'string' && l.msg.includes('without a bucket'))).toMatchObject({
      regions: ['xx-new-1'],
    });
    const body = (await get('/metrics')).body;
    expect(body).toContain('redirector_range_refresh_total{result="swap"} 1');
    expect(body).toContain('version="2026-08-01-00-00-00"');
    expect((await get('/readyz')).json().ranges).toMatchObject({ aws: '2026-08-01-00-00-00' });
    r.startBackground();
    await r.dispose();
  });

  it('rejects a corrupt refresh and keeps serving the last good table', async () => {
    const { r, lines, get } = build(
      { RANGES_REFRESH_INTERVAL_S: '60' },
      { readRangeText: async () => '{"truncated": ' },
    );
    expect((await r.refreshRanges())?.outcome).toBe('rejected');
    expect(r.classifier().data.versions).toEqual(data.versions);
    expect(lines.find((l) => l.msg === 'range refresh rejected; the last good table keeps serving')).toBeDefined();
    expect((await get('/metrics')).body).toContain('redirector_range_refresh_total{result="reject"} 1');
  });

  it('is off by default', () => {
    expect(build().r.refreshRanges()).toBeNull();
  });
});

describe('mutants', () => {
  const env = (name: string) => ({ REDIRECTOR_MUTANT: name, REDIRECTOR_ALLOW_MUTANTS: '1' });

  it('announce themselves in the log, /readyz and /metrics', async () => {
    const { lines, get } = build(env('redirect-302'));
    expect(lines.find((l) => l.level === 40 && String(l.msg).startsWith('MUTANT ACTIVE'))).toMatchObject({
      mutant: 'redirect-302',
    });
    expect((await get('/readyz')).json().mutant).toBe('redirect-302');
    expect((await get('/metrics')).body).toContain('redirector_mutant{name="redirect-302"} 1');
  });

  it('ignore-xff routes by the socket address', async () => {
    const { r, req } = build(env('ignore-xff'));
    expect(location((await r.handler(req(BLOB, '35.180.1.1, 130.211.0.1', 'GET', '35.220.26.1'))).headers)).toContain(
      UP,
    );
  });

  it('trust-leftmost-xff routes by the spoofable first entry', async () => {
    const { r, req } = build(env('trust-leftmost-xff'));
    expect(location((await r.handler(req(BLOB, '35.220.26.1, 35.180.1.1, 130.211.0.1'))).headers)).toContain(UP);
    expect(location((await r.handler(req(BLOB, undefined, 'GET', '35.180.1.1'))).headers)).toContain(PARIS);
  });

  it('wrong-bucket sends us-east-1 to us-west-2', async () => {
    const { r, req } = build(env('wrong-bucket'));
    expect(location((await r.handler(req(BLOB, '15.230.221.5, 1.1.1.1'))).headers)).toContain(
      'prod-registry-k8s-io-us-west-2',
    );
  });

  it('no-existence-check never sends a HEAD', async () => {
    const { r, req, heads } = build(env('no-existence-check'));
    const reply = await r.handler(req(`/v2/pause/blobs/sha256:${'f'.repeat(64)}`, '35.180.1.1, 1.1.1.1'));
    expect(location(reply.headers)).toContain(PARIS);
    expect(heads).toEqual([]);
  });

  it('manifests-to-bucket sends manifests to the default bucket', async () => {
    const { r, req } = build(env('manifests-to-bucket'));
    expect(location((await r.handler(req('/v2/pause/manifests/3.10?ns=x'))).headers)).toBe(
      'https://d1be1w964nk82h.cloudfront.net/containers/images/3.10',
    );
    expect((await r.handler(req('/v2/'))).status).toBe(200);
    expect(location((await r.handler(req('/v2/pause/tags/list'))).headers)).toBe(`${UP}/pause/tags/list`);
  });

  it('gcp-to-s3 sends GCP clients to the default bucket', async () => {
    const { r, req } = build(env('gcp-to-s3'));
    expect(location((await r.handler(req(BLOB, '35.220.26.1, 1.1.1.1'))).headers)).toContain('cloudfront');
    expect(location((await r.handler(req(BLOB, '35.180.1.1, 1.1.1.1'))).headers)).toContain(PARIS);
  });

  it('no-ipv6 never classifies IPv6', async () => {
    const { r, req } = build(env('no-ipv6'));
    expect(location((await r.handler(req(BLOB, '2600:1900:4030::1, 1.1.1.1'))).headers)).toContain('cloudfront');
    expect(location((await r.handler(req(BLOB, '35.220.26.1, 1.1.1.1'))).headers)).toContain(UP);
  });

  it('redirect-302 answers 302, synchronously and after a HEAD', async () => {
    const { r, req } = build(env('redirect-302'));
    expect((await r.handler(req('/'))).status).toBe(302);
    expect((await r.handler(req(BLOB, '35.180.1.1, 1.1.1.1'))).status).toBe(302);
    expect((await r.handler(req('/v2/'))).status).toBe(200);
  });
});

describe('announce', () => {
  it('writes the listening line even when LOG_LEVEL silences everything else', () => {
    const { r, lines } = build({ LOG_LEVEL: 'silent' });
    r.announce({ url: 'http://127.0.0.1:1', adminUrl: 'http://127.0.0.1:2' });
    expect(lines).toEqual([
      {
        level: 30,
        time: expect.any(Number),
        url: 'http://127.0.0.1:1',
        adminUrl: 'http://127.0.0.1:2',
        msg: 'listening',
      },
    ]);
  });
});

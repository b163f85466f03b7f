import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { FaultBoard, FaultProxy, digestInPath, parseFault } from './fault-proxy.js';
import { FaultControlServer, LocalFaultControl } from './fault-control.js';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const BODY = Buffer.from('0123456789abcdef');

describe('digestInPath / parseFault', () => {
  it('finds digests in bucket keys and registry paths, raw or %3A-encoded', () => {
    expect(digestInPath(`/bkt/containers/images/${D1}`)).toBe(D1);
    expect(digestInPath(`/v2/pause/blobs/sha256%3A${'a'.repeat(64)}`)).toBe(D1);
    expect(digestInPath('/v2/pause/manifests/3.10')).toBeNull();
  });

  it('rejects faults that make no sense, naming the target', () => {
    expect(() => parseFault({ kind: 'down', mode: 'refuse' }, 'bucket:x')).toThrow(/registry fronts/);
    expect(() => parseFault({ kind: 'status', status: 200 }, 'bucket:x')).toThrow(/400 to 599/);
    expect(() => parseFault({ kind: 'corrupt' }, 'bucket:x')).toThrow(/digest/);
    expect(() => parseFault({ kind: 'hang', digest: 'nope' }, 'bucket:x')).toThrow(/OCI digest/);
    expect(() => parseFault({ kind: 'explode' }, 'upstream')).toThrow(/kind/);
    expect(parseFault({ kind: 'down', mode: 'status' }, 'upstream')).toEqual({ kind: 'down', mode: 'status' });
  });
});

describe('FaultProxy + FaultControl', () => {
  let backend: http.Server;
  let backendHits = 0;
  let board: FaultBoard;
  let buckets: FaultProxy;
  let upstream: FaultProxy;
  let control: LocalFaultControl;
  let server: FaultControlServer;

  beforeAll(async () => {
    backend = http.createServer((req, res) => {
      backendHits++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BODY.length, etag: '"e"' });
      res.end(req.method === 'HEAD' ? undefined : BODY);
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const backendUrl = new URL(`http://127.0.0.1:${(backend.address() as AddressInfo).port}`);
    board = new FaultBoard(new Set(['bucket-a', 'bucket-b']), new Set(['buckets', 'upstream']));
    buckets = await new FaultProxy({ front: 'buckets', backend: backendUrl, board }).start();
    upstream = await new FaultProxy({ front: 'upstream', backend: backendUrl, board }).start();
    control = new LocalFaultControl(board, [buckets, upstream]);
    server = await new FaultControlServer(control).start();
  });

  afterAll(async () => {
    await Promise.all([buckets.stop(), upstream.stop(), server.stop()]);
    await new Promise<void>((r) => backend.close(() => r()));
  });

  beforeEach(async () => {
    await control.clear();
    control.resetLog();
  });

  const get = async (base: string, path: string, method: 'GET' | 'HEAD' = 'GET') => {
    const res = await request(`${base}${path}`, { method });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, body, headers: res.headers };
  };

  it('passes requests through untouched when no fault is set', async () => {
    const r = await get(buckets.url, `/bucket-a/containers/images/${D1}`);
    expect(r.status).toBe(200);
    expect(r.body.equals(BODY)).toBe(true);
  });

  it('answers a status for one bucket only, in S3’s dialect', async () => {
    await control.set('bucket:bucket-a', { kind: 'status', status: 403 });
    const a = await get(buckets.url, `/bucket-a/containers/images/${D1}`);
    const b = await get(buckets.url, `/bucket-b/containers/images/${D1}`);
    expect(a.status).toBe(403);
    expect(a.body.toString()).toContain('<Code>AccessDenied</Code>');
    expect(b.status).toBe(200);
    const head = await get(buckets.url, `/bucket-a/containers/images/${D1}`, 'HEAD');
    expect(head.status).toBe(403);
    expect(head.body.length).toBe(0);
  });

  it('applies bucket:* to every bucket, and a digest-scoped fault to that digest only', async () => {
    await control.set('bucket:*', { kind: 'status', status: 503, digest: D2 });
    expect((await get(buckets.url, `/bucket-a/containers/images/${D1}`)).status).toBe(200);
    expect((await get(buckets.url, `/bucket-b/containers/images/${D2}`)).status).toBe(503);
  });

  it('resets connections', async () => {
    await control.set('bucket:bucket-b', { kind: 'reset' });
    await expect(request(`${buckets.url}/bucket-b/containers/images/${D1}`)).rejects.toThrow(
      /ECONNRESET|other side closed|socket/i,
    );
  });

  it('corrupts exactly one digest’s bytes, keeping length and headers', async () => {
    await control.set('bucket:bucket-a', { kind: 'corrupt', digest: D1 });
    const bad = await get(buckets.url, `/bucket-a/containers/images/${D1}`);
    expect(bad.status).toBe(200);
    expect(bad.body.length).toBe(BODY.length);
    expect(bad.body.equals(BODY)).toBe(false);
    expect(bad.body.subarray(1).equals(BODY.subarray(1))).toBe(true);
    expect(bad.headers.etag).toBe('"e"');
    expect((await get(buckets.url, `/bucket-a/containers/images/${D2}`)).body.equals(BODY)).toBe(true);
  });

  it('holds a hung request until the fault is cleared, then lets it through', async () => {
    await control.set('bucket:bucket-a', { kind: 'hang' });
    let settled = false;
    const pending = get(buckets.url, `/bucket-a/containers/images/${D1}`).then((r) => {
      settled = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    expect(control.count({ front: 'buckets', scope: 'bucket-a' })).toBe(1);
    await control.clear('bucket:bucket-a');
    expect((await pending).status).toBe(200);
  });

  it('a hung request whose client gives up is recorded with status 0', async () => {
    await control.set('bucket:bucket-b', { kind: 'hang' });
    await expect(
      request(`${buckets.url}/bucket-b/containers/images/${D1}`, { method: 'HEAD', signal: AbortSignal.timeout(80) }),
    ).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 30));
    const [rec] = control.requests({ scope: 'bucket-b' });
    expect(rec).toMatchObject({ method: 'HEAD', status: 0, fault: 'hang', digest: D1 });
  });

  it('delays', async () => {
    await control.set('upstream', { kind: 'delay', ms: 120 });
    const t = performance.now();
    expect((await get(upstream.url, '/v2/')).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(110);
  });

  it('takes the upstream down by refusing connections, and brings it back on the same port', async () => {
    const url = upstream.url;
    await control.set('upstream', { kind: 'down', mode: 'refuse' });
    await expect(request(`${url}/v2/`)).rejects.toThrow(/ECONNREFUSED/);
    expect((await get(buckets.url, `/bucket-a/containers/images/${D1}`)).status).toBe(200);
    await control.clear('upstream');
    expect(upstream.url).toBe(url);
    expect((await get(url, '/v2/')).status).toBe(200);
  });

  it('takes the upstream down with 503s in the registry dialect', async () => {
    await control.set('upstream', { kind: 'down', mode: 'status' });
    const r = await get(upstream.url, '/v2/pause/manifests/3.10');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body.toString()).errors[0].code).toBe('UNAVAILABLE');
  });

  it('counts requests per front, scope, method and digest', async () => {
    const before = backendHits;
    await Promise.all(Array.from({ length: 20 }, () => get(buckets.url, `/bucket-a/containers/images/${D1}`, 'HEAD')));
    await get(buckets.url, `/bucket-b/containers/images/${D1}`);
    await get(upstream.url, `/v2/pause/blobs/${D1}`);
    expect(backendHits - before).toBe(22);
    expect(control.count({ front: 'buckets', method: 'HEAD', digest: D1 })).toBe(20);
    expect(control.count({ front: 'buckets', method: 'head', scope: 'bucket-a' })).toBe(20);
    expect(control.count({ digest: D1 })).toBe(22);
    expect(control.count({ front: 'upstream' })).toBe(1);
    expect(control.requests({ scope: 'bucket-b' })).toEqual([
      expect.objectContaining({ front: 'buckets', method: 'GET', status: 200, fault: null }),
    ]);
    control.resetLog();
    expect(control.count()).toBe(0);
  });

  it('rejects unknown targets instead of silently doing nothing', async () => {
    await expect(control.set('bucket:nope', { kind: 'reset' })).rejects.toThrow(/unknown bucket "nope"/);
    await expect(control.set('signature', { kind: 'reset' })).rejects.toThrow(/no signature front/);
    await expect(control.set('elsewhere', { kind: 'reset' })).rejects.toThrow(/unknown fault target/);
  });

  describe('HTTP control endpoint', () => {
    const call = async (method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown) => {
      const res = await request(`${control.controlUrl}${path}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.statusCode, json: (await res.body.json()) as any };
    };

    it('sets, lists and clears faults', async () => {
      expect((await call('PUT', '/faults/bucket:bucket-a', { kind: 'status', status: 500 })).status).toBe(200);
      const listed = await call('GET', '/faults');
      expect(listed.json.faults).toEqual({ 'bucket:bucket-a': { kind: 'status', status: 500 } });
      expect(listed.json.targets).toEqual(['bucket:bucket-a', 'bucket:bucket-b', 'bucket:*', 'upstream']);
      expect((await get(buckets.url, `/bucket-a/containers/images/${D1}`)).status).toBe(500);
      expect((await call('DELETE', '/faults/bucket:bucket-a')).json).toEqual({ cleared: 'bucket:bucket-a' });
      expect((await get(buckets.url, `/bucket-a/containers/images/${D1}`)).status).toBe(200);
      await call('PUT', `/faults/${encodeURIComponent('bucket:*')}`, { kind: 'status', status: 503 });
      expect((await call('DELETE', '/faults')).json).toEqual({ cleared: 'all' });
      expect(control.active()).toEqual({});
    });

    it('answers counters and the request log', async () => {
      await get(buckets.url, `/bucket-a/containers/images/${D1}`, 'HEAD');
      expect((await call('GET', `/counters?front=buckets&method=HEAD&digest=${D1}`)).json).toEqual({
        count: 1,
        truncated: false,
      });
      expect((await call('GET', '/requests?scope=bucket-a&limit=5')).json.requests).toHaveLength(1);
      await call('DELETE', '/requests');
      expect((await call('GET', '/counters')).json.count).toBe(0);
    });

    it('explains bad input with 400 and a stable code', async () => {
      const bad = await call('PUT', '/faults/bucket:bucket-a', { kind: 'down', mode: 'refuse' });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('STACK_FAULT_INVALID');
      expect((await call('GET', '/counters?front=moon')).status).toBe(400);
      expect((await call('GET', '/nope')).status).toBe(404);
    });
  });

  it('stop() destroys hung connections and is idempotent', async () => {
    const b = new FaultBoard(new Set(['x']), new Set(['buckets']));
    const p = await new FaultProxy({ front: 'buckets', backend: new URL('http://127.0.0.1:1'), board: b }).start();
    const c = new LocalFaultControl(b, [p]);
    await c.set('bucket:x', { kind: 'hang' });
    const pending = request(`${p.url}/x/k`).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((r) => setTimeout(r, 50));
    await p.stop();
    await p.stop();
    expect(await pending).toBe('failed');
  });
});

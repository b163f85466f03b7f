import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { parseRangeHeader, resolveByteRange } from './bucket-range.js';
import { FaultBoard, FaultProxy } from './fault-proxy.js';
import { LocalFaultControl } from './fault-control.js';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const KEY1 = `/bucket-a/containers/images/${D1}`;

/** deterministic, position-dependent bytes, so a slice from the wrong offset never matches by accident */
function objectBytes(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return b;
}

describe('parseRangeHeader (RFC 9110 §14.1, §14.2)', () => {
  it('reads one int-range, open range or suffix range', () => {
    expect(parseRangeHeader('bytes=500-1499')).toEqual({
      kind: 'single',
      spec: { kind: 'int', first: 500, last: 1499 },
    });
    expect(parseRangeHeader('bytes=500-')).toEqual({ kind: 'single', spec: { kind: 'int', first: 500, last: null } });
    expect(parseRangeHeader('bytes=-500')).toEqual({ kind: 'single', spec: { kind: 'suffix', length: 500 } });
    expect(parseRangeHeader('bytes=0-0')).toEqual({ kind: 'single', spec: { kind: 'int', first: 0, last: 0 } });
    expect(parseRangeHeader('bytes=-0')).toEqual({ kind: 'single', spec: { kind: 'suffix', length: 0 } });
  });

  it('takes the unit case-insensitively and empty list elements and OWS around commas as the list rule allows', () => {
    expect(parseRangeHeader('Bytes=1-2')).toEqual({ kind: 'single', spec: { kind: 'int', first: 1, last: 2 } });
    expect(parseRangeHeader('bytes=1-2,')).toEqual({ kind: 'single', spec: { kind: 'int', first: 1, last: 2 } });
    expect(parseRangeHeader('bytes= , 1-2 ,')).toEqual({ kind: 'single', spec: { kind: 'int', first: 1, last: 2 } });
  });

  it('marks what S3 ignores: an invalid range, another unit, several ranges', () => {
    expect(parseRangeHeader('bytes=500-0')).toEqual({ kind: 'ignored', reason: 'syntax' });
    expect(parseRangeHeader('bytes=0-1,5-2')).toEqual({ kind: 'ignored', reason: 'syntax' });
    for (const bad of [
      'bytes',
      'bytes=',
      'bytes=,',
      'bytes=x-1',
      'bytes=1-x',
      'bytes=--5',
      'bytes=1-2-3',
      'bytes=-',
      'bytes=+1-2',
      'bytes=1 -2',
      '=0-1',
      'by tes=0-1',
    ]) {
      expect(parseRangeHeader(bad), bad).toEqual({ kind: 'ignored', reason: 'syntax' });
    }
    expect(parseRangeHeader('items=0-1')).toEqual({ kind: 'ignored', reason: 'unit' });
    expect(parseRangeHeader('bytes=0-1,5-6')).toEqual({ kind: 'ignored', reason: 'multiple' });
    expect(parseRangeHeader('bytes=-5, 0-1')).toEqual({ kind: 'ignored', reason: 'multiple' });
    expect(parseRangeHeader(undefined)).toBeUndefined();
  });

  it('keeps positions past 2^53 in order', () => {
    const r = parseRangeHeader('bytes=99999999999999999999-');
    expect(r?.kind).toBe('single');
    expect(resolveByteRange((r as { spec: Parameters<typeof resolveByteRange>[0] }).spec, 10)).toBe('unsatisfiable');
    expect(parseRangeHeader('bytes=99999999999999999999-1')).toEqual({ kind: 'ignored', reason: 'syntax' });
  });
});

describe('resolveByteRange (RFC 9110 §14.1.2)', () => {
  it('selects, clamps and refuses as the RFC says', () => {
    expect(resolveByteRange({ kind: 'int', first: 500, last: 1499 }, 2600)).toEqual({ start: 500, end: 1499 });
    expect(resolveByteRange({ kind: 'int', first: 500, last: null }, 2600)).toEqual({ start: 500, end: 2599 });
    expect(resolveByteRange({ kind: 'int', first: 2552, last: 5552 }, 2600)).toEqual({ start: 2552, end: 2599 });
    expect(resolveByteRange({ kind: 'int', first: 0, last: 0 }, 2600)).toEqual({ start: 0, end: 0 });
    expect(resolveByteRange({ kind: 'int', first: 2599, last: 2599 }, 2600)).toEqual({ start: 2599, end: 2599 });
    expect(resolveByteRange({ kind: 'suffix', length: 500 }, 2600)).toEqual({ start: 2100, end: 2599 });
    expect(resolveByteRange({ kind: 'suffix', length: 5000 }, 2600)).toEqual({ start: 0, end: 2599 });
  });

  it('is unsatisfiable from the end on, for -0, and for any int-range of an empty object', () => {
    expect(resolveByteRange({ kind: 'int', first: 2600, last: null }, 2600)).toBe('unsatisfiable');
    expect(resolveByteRange({ kind: 'int', first: 5552, last: 10552 }, 2600)).toBe('unsatisfiable');
    expect(resolveByteRange({ kind: 'suffix', length: 0 }, 2600)).toBe('unsatisfiable');
    expect(resolveByteRange({ kind: 'int', first: 0, last: null }, 0)).toBe('unsatisfiable');
    expect(resolveByteRange({ kind: 'suffix', length: 3 }, 0)).toBe('whole');
  });
});

interface Seen {
  method: string;
  url: string;
  range: string | undefined;
}

/**
 * A stand-in for s3rver 3.7.1 that reproduces its Range handling exactly (lib/controllers/object.js and
 * lib/stores/filesystem.js): `bytes=-n` read as 0-n, a last position of 0 read as "to the end", 416 InvalidRange
 * without Content-Range. The body is written in 100-byte pieces so slices cross chunk boundaries. `ignoreRange`
 * makes it answer 200 with the whole object, like a backend without Range support.
 */

/** Retries an assertion until it holds (socket close events arrive asynchronously), for at most 5 s. */
async function eventually(assertion: () => void): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      assertion();
      return;
    } catch (err) {
      if (i >= 250) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

class FakeS3rver {
  readonly objects = new Map<string, Buffer>();
  readonly seen: Seen[] = [];
  /** answers whose connection was closed before the whole body was sent */
  /** URLs whose response the front closed before the fake finished writing it */
  cutShortUrls: string[] = [];
  ignoreRange = false;
  /** keys whose body stops after 64 KiB and never ends: only a reader that stops early gets an answer */
  readonly stalling = new Set<string>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  get url(): URL {
    return new URL(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}`);
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', range: req.headers.range });
    res.on('close', () => {
      if (!res.writableFinished) this.cutShortUrls.push((req.url ?? '').split('?')[0]!);
    });
    const object = this.objects.get((req.url ?? '').split('?')[0]!);
    const error = (status: number, code: string) => {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code></Error>`;
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (object === undefined) return error(404, 'NoSuchKey');
    let range: { start: number; end: number } | null = null;
    const header = this.ignoreRange ? undefined : req.headers.range;
    if (header !== undefined && /^bytes=/.test(header)) {
      const [start, end] = header.replace('bytes=', '').split('-');
      const lastByte = Math.max(0, object.length - 1);
      range = { start: Number(start) || 0, end: Math.min((end ? Number(end) : 0) || Infinity, lastByte) };
      if (range.start < 0 || Math.min(range.end, lastByte) < range.start) return error(416, 'InvalidRange');
    }
    const headers: http.OutgoingHttpHeaders = {
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      etag: `"${createHash('md5').update(object).digest('hex')}"`,
      'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT',
    };
    let body = object;
    if (range !== null) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${object.length}`;
      body = object.subarray(range.start, range.end + 1);
    }
    headers['content-length'] = body.length;
    res.writeHead(range === null ? 200 : 206, headers);
    if (req.method === 'HEAD') return void res.end();
    let at = 0;
    const stall = this.stalling.has((req.url ?? '').split('?')[0]!);
    const pump = (): void => {
      while (at < body.length) {
        if (stall && at >= 65536) return;
        const ok = res.write(body.subarray(at, at + 100));
        at += 100;
        if (!ok) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  }
}

interface Answer {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

async function fetchFrom(base: string, path: string, range?: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Answer> {
  const res = await request(`${base}${path}`, { method, headers: range === undefined ? {} : { range } });
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()), headers: res.headers };
}

describe('the buckets front answers Range as S3 does (over a stand-in with s3rver’s Range bugs)', () => {
  const SIZE = 2600;
  const OBJ = objectBytes(SIZE, 7);
  const BIG = objectBytes(4 * 1024 * 1024, 3);
  let fake: FakeS3rver;
  let board: FaultBoard;
  let buckets: FaultProxy;
  let upstream: FaultProxy;
  let control: LocalFaultControl;
  const get = (path: string, range?: string, method: 'GET' | 'HEAD' = 'GET') =>
    fetchFrom(buckets.url, path, range, method);
  const etag = () => `"${createHash('md5').update(OBJ).digest('hex')}"`;

  beforeAll(async () => {
    fake = await new FakeS3rver().start();
    fake.objects.set(KEY1, OBJ);
    fake.objects.set(`/bucket-a/containers/images/${D2}`, BIG);
    fake.objects.set('/bucket-b/empty', Buffer.alloc(0));
    fake.objects.set('/bucket-b/stalling', BIG);
    fake.stalling.add('/bucket-b/stalling');
    board = new FaultBoard(new Set(['bucket-a', 'bucket-b']), new Set(['buckets', 'upstream']));
    buckets = await new FaultProxy({ front: 'buckets', backend: fake.url, board }).start();
    upstream = await new FaultProxy({ front: 'upstream', backend: fake.url, board }).start();
    control = new LocalFaultControl(board, [buckets, upstream]);
  });

  afterAll(async () => {
    await Promise.all([buckets.stop(), upstream.stop()]);
    await fake.stop();
  });

  beforeEach(async () => {
    await control.clear();
    control.resetLog();
    fake.seen.length = 0;
    fake.cutShortUrls = [];
    fake.ignoreRange = false;
  });

  const expectSlice = (r: Answer, start: number, end: number, size = SIZE, bytes = OBJ) => {
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
    expect(r.headers['content-length']).toBe(String(end - start + 1));
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.body.equals(bytes.subarray(start, end + 1))).toBe(true);
  };

  it('leaves requests without Range alone', async () => {
    const r = await get(KEY1);
    expect(r.status).toBe(200);
    expect(r.body.equals(OBJ)).toBe(true);
    expect(fake.seen).toEqual([{ method: 'GET', url: KEY1, range: undefined }]);
  });

  it('bytes=500-1499: 206, the exact slice, with s3rver’s ETag, Last-Modified and Content-Type', async () => {
    const r = await get(KEY1, 'bytes=500-1499');
    expectSlice(r, 500, 1499);
    expect(r.headers.etag).toBe(etag());
    expect(r.headers['last-modified']).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(fake.seen).toEqual([{ method: 'GET', url: KEY1, range: 'bytes=500-1499' }]);
  });

  it('bytes=500-: 206 to the end', async () => {
    expectSlice(await get(KEY1, 'bytes=500-'), 500, SIZE - 1);
  });

  it('bytes=-500: 206, the LAST 500 bytes (s3rver alone answers the first 501)', async () => {
    expectSlice(await get(KEY1, 'bytes=-500'), SIZE - 500, SIZE - 1);
    // the size comes from a HEAD; s3rver is then asked only for a range it serves right
    expect(fake.seen).toEqual([
      { method: 'HEAD', url: KEY1, range: undefined },
      { method: 'GET', url: KEY1, range: `bytes=${SIZE - 500}-${SIZE - 1}` },
    ]);
  });

  it('a suffix longer than the object selects all of it', async () => {
    expectSlice(await get(KEY1, 'bytes=-100000'), 0, SIZE - 1);
  });

  it('a last position past the end is clamped (G2 R10)', async () => {
    expectSlice(await get(KEY1, `bytes=${SIZE - 48}-${SIZE + 2952}`), SIZE - 48, SIZE - 1);
  });

  it('bytes=0-0 is one byte (s3rver alone answers the whole object), without streaming the rest of a big one', async () => {
    expectSlice(await get(KEY1, 'bytes=0-0'), 0, 0);
    expectSlice(await get(`/bucket-a/containers/images/${D2}`, 'bytes=0-0'), 0, 0, BIG.length, BIG);
    // s3rver is asked for bytes=0- and its answer is cut after the first byte: a body that never ends proves it
    expectSlice(await get('/bucket-b/stalling', 'bytes=0-0'), 0, 0, BIG.length, BIG);
    await eventually(() => expect(fake.cutShortUrls).toContain('/bucket-b/stalling'));
    expectSlice(
      await get(`/bucket-a/containers/images/${D2}`, 'bytes=-1'),
      BIG.length - 1,
      BIG.length - 1,
      BIG.length,
      BIG,
    );
    expectSlice(await get(KEY1, `bytes=${SIZE - 1}-${SIZE - 1}`), SIZE - 1, SIZE - 1);
  });

  it('bytes=500-0 (invalid) is ignored: 200 with the whole object, and s3rver never sees the header', async () => {
    const r = await get(KEY1, 'bytes=500-0');
    expect(r.status).toBe(200);
    expect(r.headers['content-range']).toBeUndefined();
    expect(r.headers['content-length']).toBe(String(SIZE));
    expect(r.body.equals(OBJ)).toBe(true);
    expect(fake.seen).toEqual([{ method: 'GET', url: KEY1, range: undefined }]);
  });

  it('several ranges, another unit or garbage: the whole object with 200, as S3 answers', async () => {
    for (const range of ['bytes=0-1,5-6', 'bytes=-5,0-1', 'items=0-1', 'bytes=abc', 'bytes=0-1-2']) {
      const r = await get(KEY1, range);
      expect(r.status, range).toBe(200);
      expect(r.body.equals(OBJ), range).toBe(true);
    }
    expect(fake.seen.every((s) => s.range === undefined)).toBe(true);
  });

  it('a first position at or past the end: 416 with Content-Range bytes */size and S3’s InvalidRange', async () => {
    for (const range of [
      `bytes=${SIZE}-`,
      `bytes=${SIZE + 2952}-${SIZE + 7952}`,
      'bytes=-0',
      'bytes=99999999999999999999-',
    ]) {
      const r = await get(KEY1, range);
      expect(r.status, range).toBe(416);
      expect(r.headers['content-range'], range).toBe(`bytes */${SIZE}`);
      expect(r.body.toString()).toContain('<Code>InvalidRange</Code>');
      expect(r.body.toString()).toContain(`<ActualObjectSize>${SIZE}</ActualObjectSize>`);
      expect(r.headers['content-length']).toBe(String(r.body.length));
    }
    const head = await get(KEY1, `bytes=${SIZE}-`, 'HEAD');
    expect(head.status).toBe(416);
    expect(head.headers['content-range']).toBe(`bytes */${SIZE}`);
    expect(head.body.length).toBe(0);
  });

  it('an empty object: an int-range is unsatisfiable, a suffix range gets the (empty) object', async () => {
    const r = await get('/bucket-b/empty', 'bytes=0-');
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe('bytes */0');
    const s = await get('/bucket-b/empty', 'bytes=-10');
    expect(s.status).toBe(200);
    expect(s.body.length).toBe(0);
  });

  it('a missing key: s3rver’s own 404 NoSuchKey, whatever the range', async () => {
    for (const range of ['bytes=0-10', 'bytes=-10', 'bytes=5-0']) {
      const r = await get(`/bucket-a/containers/images/${D1.replace('a', 'c')}`, range);
      expect(r.status, range).toBe(404);
      expect(r.body.toString(), range).toContain('<Code>NoSuchKey</Code>');
    }
    const head = await get(`/bucket-a/missing`, 'bytes=-10', 'HEAD');
    expect(head.status).toBe(404);
    expect(head.body.length).toBe(0);
  });

  it('HEAD with Range: the 206 headers of the slice, no body', async () => {
    for (const [range, start, end] of [
      ['bytes=-500', SIZE - 500, SIZE - 1],
      ['bytes=0-0', 0, 0],
      ['bytes=100-', 100, SIZE - 1],
    ] as const) {
      const r = await get(KEY1, range, 'HEAD');
      expect(r.status, range).toBe(206);
      expect(r.headers['content-range'], range).toBe(`bytes ${start}-${end}/${SIZE}`);
      expect(r.headers['content-length'], range).toBe(String(end - start + 1));
      expect(r.body.length).toBe(0);
    }
  });

  it('slices a backend that ignores Range (200, whole object) too', async () => {
    fake.ignoreRange = true;
    expectSlice(await get(KEY1, 'bytes=500-1499'), 500, 1499);
    expectSlice(await get(KEY1, 'bytes=-500'), SIZE - 500, SIZE - 1);
    const r = await get(KEY1, `bytes=${SIZE}-`);
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe(`bytes */${SIZE}`);
  });

  it('two halves recombine (containerd’s parallel chunks)', async () => {
    const half = Math.floor(BIG.length / 2);
    const [a, b] = await Promise.all([
      get(`/bucket-a/containers/images/${D2}`, `bytes=0-${half - 1}`),
      get(`/bucket-a/containers/images/${D2}`, `bytes=${half}-`),
    ]);
    expect(Buffer.concat([a.body, b.body]).equals(BIG)).toBe(true);
  });

  it('the registry fronts pass Range through untouched', async () => {
    await fetchFrom(upstream.url, KEY1, 'bytes=-500');
    expect(fake.seen).toEqual([{ method: 'GET', url: KEY1, range: 'bytes=-500' }]);
  });

  describe('faults on ranged requests', () => {
    it('corrupt flips the first byte of the slice served; length, status and headers stay', async () => {
      await control.set('bucket:bucket-a', { kind: 'corrupt', digest: D1 });
      for (const [range, start, end] of [
        ['bytes=-500', SIZE - 500, SIZE - 1],
        ['bytes=500-1499', 500, 1499],
        ['bytes=0-0', 0, 0],
      ] as const) {
        const r = await get(KEY1, range);
        const want = OBJ.subarray(start, end + 1);
        expect(r.status, range).toBe(206);
        expect(r.headers['content-range'], range).toBe(`bytes ${start}-${end}/${SIZE}`);
        expect(r.body.length, range).toBe(want.length);
        expect(r.body[0], range).toBe(want[0]! ^ 0xff);
        expect(r.body.subarray(1).equals(want.subarray(1)), range).toBe(true);
        expect(r.headers.etag).toBe(etag());
      }
      // another digest is untouched
      expectSlice(await get(`/bucket-a/containers/images/${D2}`, 'bytes=0-99'), 0, 99, BIG.length, BIG);
      expect(control.requests({ scope: 'bucket-a', digest: D1 })).toEqual(
        Array.from({ length: 3 }, () => expect.objectContaining({ method: 'GET', status: 206, fault: 'corrupt' })),
      );
    });

    it('corrupt on an ignored range flips the first byte of the whole object', async () => {
      await control.set('bucket:*', { kind: 'corrupt', digest: D1 });
      const r = await get(KEY1, 'bytes=500-0');
      expect(r.status).toBe(200);
      expect(r.body[0]).toBe(OBJ[0]! ^ 0xff);
      expect(r.body.subarray(1).equals(OBJ.subarray(1))).toBe(true);
    });

    it('status answers the injected status, and the backend is not asked', async () => {
      await control.set('bucket:bucket-a', { kind: 'status', status: 503, digest: D1 });
      const r = await get(KEY1, 'bytes=-500');
      expect(r.status).toBe(503);
      expect(r.body.toString()).toContain('<Code>SlowDown</Code>');
      expect(fake.seen).toEqual([]);
      expect(control.requests({ scope: 'bucket-a' })).toEqual([
        expect.objectContaining({ status: 503, fault: 'status' }),
      ]);
    });

    it('hang holds a ranged request until cleared, then serves the right slice', async () => {
      await control.set('bucket:bucket-a', { kind: 'hang' });
      let settled = false;
      const pending = get(KEY1, 'bytes=-500').then((r) => {
        settled = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(settled).toBe(false);
      expect(fake.seen).toEqual([]);
      await control.clear('bucket:bucket-a');
      expectSlice(await pending, SIZE - 500, SIZE - 1);
    });

    it('reset destroys the connection', async () => {
      await control.set('bucket:bucket-a', { kind: 'reset', digest: D1 });
      await expect(request(`${buckets.url}${KEY1}`, { headers: { range: 'bytes=-500' } })).rejects.toThrow(
        /ECONNRESET|other side closed|socket/i,
      );
    });

    it('delay waits, then serves the slice', async () => {
      await control.set('bucket:bucket-a', { kind: 'delay', ms: 120 });
      const t = performance.now();
      expectSlice(await get(KEY1, 'bytes=-500'), SIZE - 500, SIZE - 1);
      expect(performance.now() - t).toBeGreaterThanOrEqual(110);
    });
  });

  it('counts a ranged request once and records the status its client got', async () => {
    await get(KEY1, 'bytes=-500');
    await get(KEY1, `bytes=${SIZE}-`);
    expect(control.count({ front: 'buckets', digest: D1 })).toBe(2);
    expect(control.requests({ scope: 'bucket-a' }).map((r) => [r.method, r.status])).toEqual([
      ['GET', 206],
      ['GET', 416],
    ]);
  });

  it('a client that leaves mid-slice aborts the backend request; the front keeps serving', async () => {
    const controller = new AbortController();
    const res = await request(`${buckets.url}/bucket-b/stalling`, {
      headers: { range: 'bytes=100-' },
      signal: controller.signal,
    });
    expect(res.statusCode).toBe(206);
    controller.abort();
    await res.body.arrayBuffer().catch(() => undefined);
    await eventually(() => expect(fake.cutShortUrls).toEqual(['/bucket-b/stalling']));
    expectSlice(await get(KEY1, 'bytes=-500'), SIZE - 500, SIZE - 1);
  });

  it('an unreachable backend is a 502', async () => {
    const b = new FaultBoard(new Set(['x']), new Set(['buckets']));
    const p = await new FaultProxy({ front: 'buckets', backend: new URL('http://127.0.0.1:1'), board: b }).start();
    try {
      for (const range of ['bytes=-5', 'bytes=0-5', 'bytes=5-0']) {
        const r = await fetchFrom(p.url, '/x/k', range);
        expect(r.status, range).toBe(502);
      }
      expect(b.requests().map((r) => r.status)).toEqual([502, 502, 502]);
    } finally {
      await p.stop();
    }
  });
});

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

describe('the buckets front over the real s3rver 3.7.1 (in process)', () => {
  const SIZE = 3000;
  const OBJ = objectBytes(SIZE, 11);
  let dir: string;
  let s3: S3rverInstance;
  let buckets: FaultProxy;
  let s3Url: string;
  const get = (range?: string) => fetchFrom(buckets.url, KEY1, range);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bucket-range-'));
    const S3rver = createRequire(import.meta.url)('s3rver') as new (o: object) => S3rverInstance;
    s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: dir,
      vhostBuckets: false,
      configureBuckets: [{ name: 'bucket-a' }],
    });
    const addr = await s3.run();
    s3Url = `http://127.0.0.1:${addr.port}`;
    // s3rver accepts anonymous writes
    const put = await request(`${s3Url}${KEY1}`, {
      method: 'PUT',
      body: OBJ,
      headers: { 'content-type': 'application/octet-stream' },
    });
    await put.body.dump();
    expect(put.statusCode).toBe(200);
    const board = new FaultBoard(new Set(['bucket-a']), new Set(['buckets']));
    buckets = await new FaultProxy({ front: 'buckets', backend: new URL(s3Url), board }).start();
  });

  afterAll(async () => {
    await buckets?.stop();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('s3rver alone still gets suffix and invalid ranges wrong (what the front corrects)', async () => {
    const suffix = await fetchFrom(s3Url, KEY1, 'bytes=-500');
    expect(suffix.headers['content-range']).toBe(`bytes 0-500/${SIZE}`);
    const invalid = await fetchFrom(s3Url, KEY1, 'bytes=500-0');
    expect(invalid.status).toBe(206);
  });

  it('answers every G2 vector as S3 does', async () => {
    const slice = async (range: string, start: number, end: number) => {
      const r = await get(range);
      expect(r.status, range).toBe(206);
      expect(r.headers['content-range'], range).toBe(`bytes ${start}-${end}/${SIZE}`);
      expect(r.headers['content-length'], range).toBe(String(end - start + 1));
      expect(r.headers['accept-ranges'], range).toBe('bytes');
      expect(r.headers.etag, range).toMatch(/^"[0-9a-f]{32}"$/);
      expect(r.body.equals(OBJ.subarray(start, end + 1)), range).toBe(true);
    };
    await slice('bytes=500-1499', 500, 1499);
    await slice('bytes=500-', 500, SIZE - 1);
    await slice('bytes=-500', SIZE - 500, SIZE - 1);
    await slice(`bytes=${SIZE - 48}-${SIZE + 2952}`, SIZE - 48, SIZE - 1);
    await slice('bytes=0-0', 0, 0);

    const invalid = await get('bytes=500-0');
    expect(invalid.status).toBe(200);
    expect(invalid.body.equals(OBJ)).toBe(true);

    const multi = await get('bytes=0-1,5-6');
    expect(multi.status).toBe(200);
    expect(multi.body.equals(OBJ)).toBe(true);

    const past = await get(`bytes=${SIZE + 2952}-${SIZE + 7952}`);
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${SIZE}`);
    expect(past.body.toString()).toContain('<Code>InvalidRange</Code>');

    const missing = await fetchFrom(buckets.url, `/bucket-a/containers/images/${D2}`, 'bytes=-500');
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain('NoSuchKey');
  });
});

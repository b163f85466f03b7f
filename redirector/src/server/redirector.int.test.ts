// Integration tier (spawns listeners and a process): startRedirector on port 0 with a local fake bucket, over real
// sockets with undici, the admin listener, the drain on close, and the entry point as a child process answering
// SIGTERM. Every listener binds 127.0.0.1 and every process and listener is stopped in the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { BUNDLED_RANGE_SOURCES, loadRangeData, type RangeData } from '../ranges/index.js';
import { createHeadFetcher } from '../blobs/index.js';
import { connectableHost, type Listener } from './listener.js';
import { listenNodeHttp } from './node-adapter.js';
import { REFUSAL_LOG_PER_REASON } from './refusal-log.js';
import { startRedirector, type StartedRedirector } from './start-redirector.js';
import type { Reply } from './reply.js';

const PRESENT = 'sha256:' + '1'.repeat(64);
const SLOW = 'sha256:' + '5'.repeat(64);
const ABSENT = 'sha256:' + '0'.repeat(64);

let data: RangeData;
let bucket: Listener;
const bucketHeads: string[] = [];
let releaseSlow: () => void = () => {};
let slowArrived: Promise<void>;
let markSlowArrived: () => void = () => {};

const ok = (status: number): Reply => ({ status, headers: ['Content-Length', '0'], body: '' });

beforeAll(async () => {
  data = loadRangeData(BUNDLED_RANGE_SOURCES);
  slowArrived = new Promise((r) => (markSlowArrived = r));
  // a tiny public bucket: HEAD/GET containers/images/<digest>
  bucket = await listenNodeHttp(
    (req) => {
      bucketHeads.push(`${req.method} ${req.target}`);
      if (req.target.endsWith(SLOW)) {
        markSlowArrived();
        return new Promise<Reply>((resolve) => (releaseSlow = () => resolve(ok(200))));
      }
      return ok(req.target.endsWith(PRESENT) ? 200 : 404);
    },
    { host: '127.0.0.1', port: 0 },
  );
});
afterAll(async () => {
  releaseSlow();
  await bucket.close();
});

function config(extra: Record<string, string> = {}) {
  return loadConfig({
    PORT: '0',
    ADMIN_PORT: '0',
    UPSTREAM_REGISTRY_ENDPOINT: 'http://127.0.0.1:9',
    DEFAULT_AWS_BASE_URL: `${bucket.url}/default-bucket`,
    DRAIN_TIMEOUT_MS: '10000',
    ...extra,
  });
}

describe.each(['strict', 'node'])('startRedirector over real sockets (HTTP_LISTENER=%s)', (listener) => {
  let s: StartedRedirector;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    bucketHeads.length = 0;
    s = await startRedirector(config({ HTTP_LISTENER: listener }), {
      rangeData: data,
      logDestination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
    });
  });
  afterAll(async () => {
    releaseSlow();
    await s.close();
  });

  it('announces url and adminUrl with the real ports', () => {
    const listening = lines.find((l) => l.msg === 'listening');
    expect(listening).toMatchObject({
      url: s.url,
      adminUrl: s.adminUrl,
      semantics: 'most-specific',
      protocolCompat: 'none',
      mutant: null,
    });
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.url).not.toBe('http://127.0.0.1:0');
    expect(s.adminUrl).not.toBe(s.url);
  });

  it('pings, redirects and refuses as the handler says', async () => {
    const ping = await request(`${s.url}/v2/`);
    expect(ping.statusCode).toBe(200);
    expect(ping.headers['docker-distribution-api-version']).toBe('registry/2.0');
    await ping.body.dump();

    const manifest = await request(`${s.url}/v2/pause/manifests/latest?ns=registry.k8s.io`, { method: 'HEAD' });
    expect(manifest.statusCode).toBe(307);
    expect(manifest.headers.location).toBe(
      'http://127.0.0.1:9/v2/k8s-artifacts-prod/images/pause/manifests/latest?ns=registry.k8s.io',
    );
    expect(manifest.headers['cache-control']).toBe('private, no-store');
    await manifest.body.dump();

    const post = await request(`${s.url}/v2/`, { method: 'POST', body: 'x' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(await post.body.json()).toEqual({
      errors: [{ code: 'UNSUPPORTED', message: 'only GET and HEAD are allowed' }],
    });
  });

  it('checks the bucket with a real HEAD and caches the answer', async () => {
    const blob = (digest: string) =>
      request(`${s.url}/v2/pause/blobs/${digest}`, { headers: { 'x-forwarded-for': '8.8.8.8, 130.211.0.1' } });
    const hit = await blob(PRESENT);
    expect(hit.statusCode).toBe(307);
    expect(hit.headers.location).toBe(`${bucket.url}/default-bucket/containers/images/${PRESENT}`);
    await hit.body.dump();
    const miss = await blob(ABSENT);
    expect(miss.headers.location).toBe(`http://127.0.0.1:9/v2/k8s-artifacts-prod/images/pause/blobs/${ABSENT}`);
    await miss.body.dump();
    await (await blob(PRESENT)).body.dump();
    expect(bucketHeads.filter((h) => h.includes(PRESENT))).toEqual([
      `HEAD /default-bucket/containers/images/${PRESENT}`,
    ]);
    const decision = lines.filter((l) => l.msg === 'decision' && l.path === `/v2/pause/blobs/${PRESENT}`);
    expect(decision.map((d) => d.cache)).toEqual(['head-found', 'cached-found']);
    expect(decision[0]).toMatchObject({ ip: '8.8.8.8', ipSource: 'xff', headStatus: 200 });
  });

  it('serves the admin endpoints on their own port', async () => {
    const health = await request(`${s.adminUrl}/healthz`);
    expect(await health.body.text()).toBe('ok\n');
    const metrics = await request(`${s.adminUrl}/metrics`);
    expect(await metrics.body.text()).toContain('redirector_decisions_total{reason="v2-ping"');
    const explain = await request(`${s.adminUrl}/explain?ip=35.220.26.1&path=/v2/pause/blobs/${PRESENT}`);
    expect(await explain.body.json()).toMatchObject({ decision: { reason: 'blob-gcp-client' } });
    // the public port does not serve them
    const notHere = await request(`${s.url}/metrics`);
    expect(notHere.statusCode).toBe(404);
    await notHere.body.dump();
  });
});

describe('refused requests', () => {
  /** Sends `bytes` on a connection of its own; resolves with the answer's status line once the server closes it. */
  function refusedWith(url: string, bytes: string): Promise<string> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve) => {
      const sock = connect({ host: hostname, port: Number(port) });
      let got = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => (got += d));
      sock.on('error', () => {});
      sock.on('close', () => resolve(got.split('\r\n')[0]!));
      sock.write(bytes);
      setTimeout(() => sock.destroy(), 5_000).unref();
    });
  }

  /** The refusal counter's samples: `status reason` → value. */
  async function refusalCounts(adminUrl: string): Promise<Map<string, number>> {
    const text = await (await request(`${adminUrl}/metrics`)).body.text();
    const counts = new Map<string, number>();
    const sample = /^redirector_listener_refusals_total\{status="(\d+)",reason="([a-z-]+)"\} (\d+)$/gm;
    for (const m of text.matchAll(sample)) counts.set(`${m[1]} ${m[2]}`, Number(m[3]));
    return counts;
  }

  const title = `are counted by kind on /metrics and logged ${REFUSAL_LOG_PER_REASON} a reason at most (HTTP_LISTENER=%s)`;
  it.each(['strict', 'node'])(title, async (listener) => {
    const lines: Record<string, unknown>[] = [];
    const s = await startRedirector(config({ HTTP_LISTENER: listener, HEADERS_TIMEOUT_MS: '300' }), {
      rangeData: data,
      logDestination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
    });
    try {
      const before = await refusalCounts(s.adminUrl);
      expect(before.get('400 bad-header')).toBe(0);
      // a flood of one kind, 50 connections at a time, and one of three others
      for (let i = 0; i < 1_000; i += 50) {
        const bad = (n: number) => refusedWith(s.url, `GET /${n} HTTP/1.1\r\nHost: r\r\nBad Name: x\r\n\r\n`);
        const answers = await Promise.all(Array.from({ length: 50 }, (_, j) => bad(i + j)));
        expect(new Set(answers)).toEqual(new Set(['HTTP/1.1 400 Bad Request']));
      }
      const big = `GET /big HTTP/1.1\r\nHost: r\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`;
      expect(await refusedWith(s.url, big)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expect(await refusedWith(s.url, 'GET /slow HTTP/1.1\r\nHost: r\r\n')).toBe('HTTP/1.1 408 Request Timeout');
      expect(await refusedWith(s.url, 'FOO /m HTTP/1.1\r\nHost: r\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
      // an accepted request is not counted
      const ping = await request(`${s.url}/v2/`);
      expect(ping.statusCode).toBe(200);
      await ping.body.dump();

      const after = await refusalCounts(s.adminUrl);
      expect(after.get('400 bad-header')).toBe(1_000);
      expect(after.get('431 header-too-large')).toBe(1);
      expect(after.get('408 timeout')).toBe(1);
      expect(after.get('400 bad-method')).toBe(1);
      expect([...after.values()].reduce((a, b) => a + b, 0)).toBe(1_003);

      const refused = lines.filter((l) => l.msg === 'request refused');
      expect(refused.filter((l) => l.reason === 'bad-header')).toHaveLength(REFUSAL_LOG_PER_REASON);
      const others = refused.map((l) => l.reason).filter((r) => r !== 'bad-header');
      expect(others).toEqual(['header-too-large', 'timeout', 'bad-method']);
      expect(refused[0]).toMatchObject({ status: 400, reason: 'bad-header', remoteAddress: '127.0.0.1' });
      expect(String(refused[0]!.firstLine)).toMatch(/^GET \/\d+ HTTP\/1\.1$/);
      expect(lines.filter((l) => l.msg === 'refused requests not logged')).toEqual([]);
    } finally {
      await s.close();
    }
    // the window still open is counted on the way out
    const counted = lines.filter((l) => l.msg === 'refused requests not logged');
    expect(counted).toMatchObject([{ suppressed: { 'bad-header': 1_000 - REFUSAL_LOG_PER_REASON } }]);
  });
});

describe('drain', () => {
  it.each(['strict', 'node'])(
    'finishes in-flight requests, turns /readyz 503, then refuses connections (HTTP_LISTENER=%s)',
    async (listener) => {
      slowArrived = new Promise((r) => (markSlowArrived = r));
      const s = await startRedirector(config({ HTTP_LISTENER: listener }), {
        rangeData: data,
        logDestination: { write: () => {} },
      });
      const inFlight = request(`${s.url}/v2/pause/blobs/${SLOW}`, {
        headers: { 'x-forwarded-for': '8.8.8.8, 130.211.0.1' },
      });
      await slowArrived;
      const closed = s.close();
      const ready = await request(`${s.adminUrl}/readyz`);
      expect(ready.statusCode).toBe(503);
      expect(await ready.body.json()).toMatchObject({ status: 'draining' });
      releaseSlow();
      const res = await inFlight;
      expect(res.statusCode).toBe(307);
      expect(res.headers.connection).toBe('close');
      await res.body.dump();
      await closed;
      await expect(request(`${s.url}/v2/`)).rejects.toThrow(/ECONNREFUSED/);
      await s.close();
    },
  );

  it('a busy port is reported and nothing is left running', async () => {
    const s = await startRedirector(config(), { rangeData: data, logDestination: { write: () => {} } });
    const port = new URL(s.url).port;
    await expect(
      startRedirector(config({ PORT: port }), { rangeData: data, logDestination: { write: () => {} } }),
    ).rejects.toThrow(/EADDRINUSE/);
    await expect(
      startRedirector(config({ ADMIN_PORT: new URL(s.adminUrl).port }), {
        rangeData: data,
        logDestination: { write: () => {} },
      }),
    ).rejects.toThrow(/EADDRINUSE/);
    await s.close();
  });
});

describe('node adapter details', () => {
  it('answers 500 (and reports) when a handler throws or rejects, and joins repeated X-Forwarded-For lines', async () => {
    const errors: unknown[] = [];
    const seen: (string | undefined)[] = [];
    const l = await listenNodeHttp(
      (req) => {
        seen.push(req.xff);
        if (req.target === '/throw') throw new Error('sync bug');
        if (req.target === '/reject') return Promise.reject(new Error('async bug'));
        return ok(204);
      },
      { host: '127.0.0.1', port: 0, onError: (e) => errors.push(e) },
    );
    expect((await request(`${l.url}/throw`)).statusCode).toBe(500);
    expect((await request(`${l.url}/reject`)).statusCode).toBe(500);
    const joined = await request(`${l.url}/ok`, {
      headers: ['x-forwarded-for', '1.1.1.1', 'x-forwarded-for', '2.2.2.2, 3.3.3.3'],
    });
    expect(joined.statusCode).toBe(204);
    expect(seen.at(-1)).toBe('1.1.1.1, 2.2.2.2, 3.3.3.3');
    expect(errors.map((e) => (e as Error).message)).toEqual(['sync bug', 'async bug']);
    expect(l.inFlight()).toBe(0);
    await l.close();
    await l.close();
  });

  it('prints connectable URLs for wildcard binds', () => {
    expect(connectableHost('0.0.0.0')).toBe('127.0.0.1');
    expect(connectableHost('')).toBe('127.0.0.1');
    expect(connectableHost('::')).toBe('[::1]');
    expect(connectableHost('::1')).toBe('[::1]');
    expect(connectableHost('localhost')).toBe('localhost');
  });

  it('the undici HEAD fetcher reports statuses and transport errors', async () => {
    const f = createHeadFetcher({ timeoutMs: 2000 });
    expect(await f.fetch(`${bucket.url}/b/containers/images/${PRESENT}`, new AbortController().signal)).toBe(200);
    expect(await f.fetch(`${bucket.url}/b/containers/images/${ABSENT}`, new AbortController().signal)).toBe(404);
    await expect(f.fetch('http://127.0.0.1:9/x', new AbortController().signal)).rejects.toThrow();
    await f.close();
  });
});

describe('the entry point as a process', () => {
  const main = fileURLToPath(new URL('../main.ts', import.meta.url));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    return { child, out: () => out, err: () => err };
  }

  it('prints the listening line, serves, and drains on SIGTERM with exit 0', async () => {
    const p = run({ PORT: '0', ADMIN_PORT: '0', DEFAULT_AWS_BASE_URL: bucket.url });
    const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const l = p
          .out()
          .split('\n')
          .find((x) => x.includes('"msg":"listening"'));
        if (l) resolve(JSON.parse(l) as Record<string, unknown>);
      };
      p.child.stdout!.on('data', check);
      p.child.once('exit', (code) => reject(new Error(`exited ${code}: ${p.err()}`)));
    });
    expect(line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(line.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ping = await request(`${line.url as string}/v2/`);
    expect(ping.statusCode).toBe(200);
    await ping.body.dump();
    p.child.kill('SIGTERM');
    const [code] = (await once(p.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(p.out()).toContain('"msg":"stopped"');
  });

  it('exits 2 naming the setting on invalid configuration', async () => {
    const p = run({ PORT: 'eighty' });
    const [code] = (await once(p.child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(p.err()).toMatch(
      /^redirector: PORT: expected a whole number from 0 to 65535, got "eighty" \(CONFIG_INVALID\)/,
    );
  });
});

describe('the undici HEAD fetcher, lazily loaded', () => {
  it('can be closed before it was ever used, and preloads on request', async () => {
    const unused = createHeadFetcher({ timeoutMs: 100 });
    await unused.close();
    const f = createHeadFetcher({ timeoutMs: 2000 });
    f.preload();
    expect(await f.fetch(`${bucket.url}/b/containers/images/${ABSENT}`, new AbortController().signal)).toBe(404);
    await f.close();
  });
});

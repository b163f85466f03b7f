import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { Edge, edgeRequestHeaders } from './edge.js';

describe('edgeRequestHeaders (GCLB X-Forwarded-For rule)', () => {
  it('appends <client-ip>,<lb-ip> when the client sent none', () => {
    expect(edgeRequestHeaders({}, '44.192.0.1', '34.96.108.209')['x-forwarded-for']).toBe('44.192.0.1,34.96.108.209');
  });

  it('keeps a client-supplied value before its own entries', () => {
    const h = edgeRequestHeaders({ 'x-forwarded-for': '1.2.3.4' }, '44.192.0.1', '34.96.108.209');
    expect(h['x-forwarded-for']).toBe('1.2.3.4,44.192.0.1,34.96.108.209');
  });

  it('keeps a supplied list verbatim, spaces included', () => {
    const h = edgeRequestHeaders({ 'x-forwarded-for': '1.2.3.4, 5.6.7.8' }, '2600:1f18::1', '34.96.108.209');
    expect(h['x-forwarded-for']).toBe('1.2.3.4, 5.6.7.8,2600:1f18::1,34.96.108.209');
  });

  it('treats an empty supplied header as absent', () => {
    expect(edgeRequestHeaders({ 'x-forwarded-for': '' }, '5.75.240.113', '34.96.108.209')['x-forwarded-for']).toBe(
      '5.75.240.113,34.96.108.209',
    );
  });

  it('sets X-Forwarded-Proto and adds Via: 1.1 google; drops hop-by-hop headers', () => {
    const h = edgeRequestHeaders(
      {
        connection: 'keep-alive, x-secret',
        'x-secret': 'drop me',
        'keep-alive': 'timeout=5',
        accept: 'a/b',
        via: '1.0 corp',
      },
      '1.1.1.1',
      '2.2.2.2',
    );
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h.via).toBe('1.0 corp, 1.1 google');
    expect(h.accept).toBe('a/b');
    expect(h.connection).toBeUndefined();
    expect(h['keep-alive']).toBeUndefined();
    expect(h['x-secret']).toBeUndefined();
  });
});

describe('Edge (over sockets, with a stand-in redirector)', () => {
  interface Seen {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
  }
  const seen: Seen[] = [];
  let backend: http.Server;
  let edge: Edge;

  beforeAll(async () => {
    backend = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url === '/redirect') {
          res.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' });
          return res.end();
        }
        if (req.url === '/big') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          // streamed in chunks: the edge must pass it on without buffering rules getting in the way
          let n = 0;
          const push = () => {
            while (n < 64) {
              n++;
              if (!res.write(Buffer.alloc(16 * 1024, n))) return res.once('drain', push);
            }
            res.end();
          };
          return push();
        }
        res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': 'yes' });
        res.end(`echo:${body}`);
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    edge = await new Edge({
      backend: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
      lbIp: '34.96.108.209',
      ports: [
        { name: 'aws-us-east-1', clientIp: '44.192.0.1' },
        { name: 'gcp-v6', clientIp: '2600:1900:4030::1' },
      ],
    }).start();
  });

  afterAll(async () => {
    await edge.stop();
    await new Promise<void>((r) => backend.close(() => r()));
  });

  it('lists one port per vantage, in the given order', () => {
    expect(edge.ports.map((p) => p.name)).toEqual(['aws-us-east-1', 'gcp-v6']);
    expect(new Set(edge.ports.map((p) => p.url)).size).toBe(2);
    expect(edge.urlFor('gcp-v6')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(edge.urlFor('nope')).toBeNull();
  });

  it('stamps each port’s vantage address, after a client-supplied value', async () => {
    seen.length = 0;
    await (await request(`${edge.urlFor('aws-us-east-1')}/v2/`)).body.dump();
    await (await request(`${edge.urlFor('gcp-v6')}/v2/`, { headers: { 'x-forwarded-for': '6.6.6.6' } })).body.dump();
    expect(seen.map((s) => s.headers['x-forwarded-for'])).toEqual([
      '44.192.0.1,34.96.108.209',
      '6.6.6.6,2600:1900:4030::1,34.96.108.209',
    ]);
  });

  it('joins repeated X-Forwarded-For headers in order, before its own entries', async () => {
    seen.length = 0;
    const raw = await rawRequest(
      edge.urlFor('aws-us-east-1')!,
      'GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\nConnection: close\r\n\r\n',
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(seen[0]!.headers['x-forwarded-for']).toBe('1.1.1.1, 2.2.2.2,44.192.0.1,34.96.108.209');
  });

  it('passes the raw request-target through, without normalising it', async () => {
    seen.length = 0;
    for (const target of [
      '/v2/a/../b/manifests/x',
      '/v2/a%2fb/blobs/sha256%3Aab',
      '//evil.example/v2/',
      '/v2/x?n=1&last=a%20b',
    ]) {
      const raw = await rawRequest(
        edge.urlFor('aws-us-east-1')!,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(raw).toMatch(/^HTTP\/1\.1 200/);
    }
    expect(seen.map((s) => s.url)).toEqual([
      '/v2/a/../b/manifests/x',
      '/v2/a%2fb/blobs/sha256%3Aab',
      '//evil.example/v2/',
      '/v2/x?n=1&last=a%20b',
    ]);
  });

  it('passes method and body through and returns redirects without following them', async () => {
    seen.length = 0;
    const res = await request(`${edge.urlFor('aws-us-east-1')}/post`, { method: 'POST', body: 'hello' });
    expect(await res.body.text()).toBe('echo:hello');
    expect(res.headers['x-backend']).toBe('yes');
    expect(seen[0]!.method).toBe('POST');
    const head = await request(`${edge.urlFor('aws-us-east-1')}/v2/`, { method: 'HEAD' });
    await head.body.dump();
    expect(seen[1]!.method).toBe('HEAD');
    const redirect = await request(`${edge.urlFor('aws-us-east-1')}/redirect`);
    await redirect.body.dump();
    expect(redirect.statusCode).toBe(307);
    expect(redirect.headers.location).toBe('http://127.0.0.1:1/elsewhere');
    expect(seen.filter((s) => s.url === '/elsewhere')).toHaveLength(0);
  });

  it('streams large responses intact', async () => {
    const res = await request(`${edge.urlFor('gcp-v6')}/big`);
    const body = Buffer.from(await res.body.arrayBuffer());
    expect(body.length).toBe(64 * 16 * 1024);
    expect(body[16 * 1024 * 63]).toBe(64);
  });

  it('answers 502 when the redirector is unreachable', async () => {
    const dead = await new Edge({
      backend: 'http://127.0.0.1:1',
      lbIp: '34.96.108.209',
      ports: [{ name: 'x', clientIp: '1.1.1.1' }],
    }).start();
    try {
      const res = await request(`${dead.urlFor('x')}/v2/`);
      await res.body.dump();
      expect(res.statusCode).toBe(502);
    } finally {
      await dead.stop();
    }
  });

  it('stop() closes every port and is idempotent', async () => {
    const e = await new Edge({
      backend: 'http://127.0.0.1:1',
      lbIp: '34.96.108.209',
      ports: [{ name: 'x', clientIp: '1.1.1.1' }],
    }).start();
    const url = e.urlFor('x')!;
    await e.stop();
    await e.stop();
    await expect(request(`${url}/v2/`)).rejects.toThrow(/ECONNREFUSED/);
  });
});

/** Sends bytes exactly as given (undici would normalise repeated headers and some targets). */
function rawRequest(baseUrl: string, text: string): Promise<string> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    // write, not end: node's http server drops a request whose client half-closes before the answer
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (c) => (out += c));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

/**
 * The OCI client against real node:http servers on 127.0.0.1: bodies verified while they stream (never buffered
 * whole), corrupted and truncated bodies, raw paths reaching the server byte for byte, credentials never reaching
 * another origin, timeouts, and the dispatcher's source address.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keystreamBytes } from '../images/keystream.js';
import { createOciClient } from './oci-client.js';
import { OciError } from './oci-error.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
const agents: Agent[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function agent(opts: ConstructorParameters<typeof Agent>[0] = {}): Agent {
  const a = new Agent(opts);
  agents.push(a);
  return a;
}

async function caught(p: Promise<unknown>): Promise<OciError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OciError) return e;
    throw e;
  }
  throw new Error('expected an OciError');
}

const BLOB = keystreamBytes('stream-test', 32 * 1024 * 1024);
const BLOB_DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.destroy()));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

describe('streaming verification', () => {
  it('hands bytes to the sink while the body is still arriving (no whole-body buffering)', async () => {
    // The server sends 1 MiB, then waits until the client's sink has seen bytes before sending the rest. A client
    // that buffered the body before hashing/sinking would never see the rest: the test would hang, not pass.
    let sinkStarted!: () => void;
    const started = new Promise<void>((resolve) => (sinkStarted = resolve));
    const url = await serve((req, res) => {
      res.writeHead(200, { 'content-length': String(BLOB.length), 'content-type': 'application/octet-stream' });
      res.write(BLOB.subarray(0, 1024 * 1024));
      void started.then(() => res.end(BLOB.subarray(1024 * 1024)));
    });
    let received = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        sinkStarted();
        cb();
      },
    });
    const client = createOciClient({ baseUrl: url, dispatcher: agent() });
    const r = await client.getBlob('big', BLOB_DIGEST, { expectedSize: BLOB.length, sink });
    expect(r.digest).toBe(BLOB_DIGEST);
    expect(received).toBe(BLOB.length);
    expect(r.hops[0]!.bodyBytes).toBe(BLOB.length);
  });

  it('a corrupted body fails DIGEST_MISMATCH with the serving hop', async () => {
    const corrupt = Buffer.from(BLOB);
    corrupt[corrupt.length - 1] ^= 0xff;
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(corrupt.length) });
      res.end(corrupt);
    });
    const client = createOciClient({ baseUrl: url, dispatcher: agent() });
    const e = await caught(client.getBlob('big', BLOB_DIGEST, { expectedSize: BLOB.length }));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.details).toMatchObject({ expected: BLOB_DIGEST, size: BLOB.length });
    expect(e.hops[0]!.url).toBe(`${url}/v2/big/blobs/${BLOB_DIGEST}`);
  });

  it('a connection dropped mid-body fails NETWORK', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(BLOB.length) });
      res.write(BLOB.subarray(0, 4 * 1024 * 1024), () => res.socket?.destroy());
    });
    const client = createOciClient({ baseUrl: url, dispatcher: agent() });
    const e = await caught(client.getBlob('big', BLOB_DIGEST, { expectedSize: BLOB.length }));
    expect(e.code).toBe('NETWORK');
    expect(e.hops).toHaveLength(1);
  });

  it('headers that never come fail TIMEOUT', async () => {
    const url = await serve(() => {
      // never answers
    });
    const client = createOciClient({ baseUrl: url, dispatcher: agent(), headersTimeoutMs: 100 });
    expect((await caught(client.ping())).code).toBe('TIMEOUT');
  });

  it('an aborted signal fails ABORTED', async () => {
    const url = await serve(() => {
      // never answers
    });
    const controller = new AbortController();
    const client = createOciClient({ baseUrl: url, dispatcher: agent(), signal: controller.signal });
    const p = caught(client.ping());
    controller.abort();
    expect((await p).code).toBe('ABORTED');
  });
});

describe('what the server sees', () => {
  it('raw probes send the path bytes exactly: .., %2e, // are not normalised', async () => {
    const paths: string[] = [];
    const url = await serve((req, res) => {
      paths.push(req.url!);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"NAME_INVALID"}]}');
    });
    const client = createOciClient({ baseUrl: url, dispatcher: agent() });
    const raw = [
      '/v2/../v2/x/manifests/t',
      '/v2/%2e%2e/x/manifests/t',
      '//v2//a//manifests/t',
      '/v2/a\\b/tags/list',
      '/v2/a/manifests/t?n=1&x=%0d%0a',
    ];
    for (const p of raw) {
      const r = await client.rawProbe('GET', p);
      expect(r.status).toBe(404);
      expect(r.body.toString()).toContain('NAME_INVALID');
      expect(r.hops[0]!.url).toBe(`${url}${p}`);
    }
    const first = await client.firstHop('GET', '/v2/./x/manifests/t');
    expect(first.hop.url).toBe(`${url}/v2/./x/manifests/t`);
    expect(paths).toEqual([...raw, '/v2/./x/manifests/t']);
  });

  it('Authorization and marked headers never reach another origin (same host, other port counts)', async () => {
    const seenB: Record<string, string | string[] | undefined>[] = [];
    const b = await serve((req, res) => {
      seenB.push(req.headers);
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
    const seenA: Record<string, string | string[] | undefined>[] = [];
    const a = await serve((req, res) => {
      seenA.push(req.headers);
      res.writeHead(307, { location: `${b}${req.url}` });
      res.end();
    });
    const client = createOciClient({
      baseUrl: a,
      dispatcher: agent(),
      headers: {
        authorization: 'Basic Zm9vOmJhcg==',
        cookie: 'c=1',
        'x-forwarded-for': '198.51.100.1, 35.191.0.1',
        'x-kept': 'yes',
      },
      originBoundHeaders: ['x-forwarded-for'],
    });
    const r = await client.rawProbe('GET', '/v2/');
    expect(r.hops.map((h) => h.status)).toEqual([307, 200]);
    expect(seenA[0]).toMatchObject({
      authorization: 'Basic Zm9vOmJhcg==',
      cookie: 'c=1',
      'x-forwarded-for': '198.51.100.1, 35.191.0.1',
    });
    expect(seenB[0]!.authorization).toBeUndefined();
    expect(seenB[0]!.cookie).toBeUndefined();
    expect(seenB[0]!['x-forwarded-for']).toBeUndefined();
    expect(seenB[0]!['x-kept']).toBe('yes');
    expect(seenB[0]!['accept-encoding']).toBe('identity');
  });

  it('Accept can go as one line per type (as the G2 suite sends it)', async () => {
    let raw: string[] = [];
    const url = await serve((req, res) => {
      raw = req.rawHeaders;
      res.writeHead(404);
      res.end();
    });
    const client = createOciClient({ baseUrl: url, dispatcher: agent() });
    await caught(
      client.headManifest('x', 't', { accept: ['application/a', 'application/b'], acceptAsSeparateLines: true }),
    );
    const accepts = raw.filter((_v, i) => i % 2 === 0 && raw[i]!.toLowerCase() === 'accept').length;
    expect(accepts).toBe(2);
  });

  it('the dispatcher decides the source address (Agent localAddress)', async () => {
    let remote = '';
    const url = await serve((req, res) => {
      remote = req.socket.remoteAddress ?? '';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const client = createOciClient({ baseUrl: url, dispatcher: agent({ localAddress: '127.0.0.7' }) });
    await client.ping();
    expect(remote.replace(/^::ffff:/, '')).toBe('127.0.0.7');
  });
});

beforeAll(() => {
  expect(BLOB.length).toBe(32 * 1024 * 1024);
});

afterAll(() => {
  expect(servers).toHaveLength(0);
});

// Regression tests for the node adapter's raw-socket edge cases found by the resilience suite (docs/reliability.md):
// a CONNECT request is answered by the handler (405 with Allow, rule 1) instead of the connection being closed in
// silence. A 127.0.0.1 listener the test starts and stops; raw sockets so nothing completes the exchange for us.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type Listener } from './node-adapter.js';
import type { Reply } from './reply.js';
import type { HttpRequest } from './request-handler.js';

let listener: Listener | undefined;

afterEach(async () => {
  await listener?.close();
  listener = undefined;
});

/** Writes `bytes`, returns everything the server sends until it closes the connection. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (got += d));
    s.on('error', reject);
    s.on('close', () => resolve(got));
    s.write(bytes);
    setTimeout(() => s.destroy(), 2_000).unref();
  });
}

const NOT_ALLOWED: Reply = { status: 405, headers: ['Allow', 'GET, HEAD', 'Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '3'], body: 'no\n' };

describe('CONNECT', () => {
  it('is answered by the handler (405 with Allow) and the connection then closed, instead of a silent close', async () => {
    const seen: HttpRequest[] = [];
    listener = await listen(
      (req) => {
        seen.push({ method: req.method, target: req.target, xff: req.xff, remoteAddress: req.remoteAddress });
        return NOT_ALLOWED;
      },
      { host: '127.0.0.1', port: 0 },
    );
    const answer = await exchange(listener.port, 'CONNECT registry.k8s.io:443 HTTP/1.1\r\nHost: registry.k8s.io:443\r\nX-Forwarded-For: 1.2.3.4, 34.96.108.209\r\n\r\n');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(answer).toContain('\r\nAllow: GET, HEAD\r\n');
    expect(answer).toContain('\r\nConnection: close\r\n');
    expect(answer.endsWith('\r\n\r\nno\n')).toBe(true);
    expect(seen).toEqual([{ method: 'CONNECT', target: 'registry.k8s.io:443', xff: '1.2.3.4, 34.96.108.209', remoteAddress: '127.0.0.1' }]);
  });

  it('a handler that throws gives a 500 and is reported; a header value with CR/LF is never written', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    listener = await listen(
      () => {
        if (calls++ === 0) throw new Error('boom');
        return { status: 405, headers: ['Allow', 'GET, HEAD', 'X-Bad', 'a\r\nX-Injected: 1', 'Content-Length', '0'], body: '' };
      },
      { host: '127.0.0.1', port: 0, onError: (err) => errors.push(err) },
    );
    const first = await exchange(listener.port, 'CONNECT * HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(first.split('\r\n')[0]).toBe('HTTP/1.1 500 Internal Server Error');
    expect(errors).toHaveLength(1);
    const second = await exchange(listener.port, 'CONNECT * HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(second.split('\r\n')[0]).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(second).not.toMatch(/X-Injected|X-Bad/);
  });
});

describe('drain', () => {
  const OK: Reply = { status: 200, headers: ['Content-Type', 'text/plain', 'Content-Length', '3'], body: 'ok\n' };

  it('answers a request sent on an idle keep-alive connection right after close() began, with Connection: close', async () => {
    const l = await listen(() => OK, { host: '127.0.0.1', port: 0 });
    const s = connect({ port: l.port, host: '127.0.0.1' });
    s.setEncoding('latin1');
    let got = '';
    s.on('data', (d: string) => (got += d));
    s.on('error', () => {}); // a reset shows up as a missing second answer below
    const closedSocket = new Promise<void>((r) => s.on('close', () => r()));
    s.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((r) => {
      const poll = () => (got.includes('ok\n') ? r() : setTimeout(poll, 5));
      poll();
    });
    // the connection is now idle; the drain begins, and the client sends its next request at that moment
    const draining = l.close(5_000);
    s.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
    await closedSocket;
    await draining;
    const answers = got.split('HTTP/1.1 200 OK').length - 1;
    expect(answers).toBe(2);
    expect(got.slice(got.lastIndexOf('HTTP/1.1 200 OK'))).toContain('\r\nConnection: close\r\n');
  });

  it('stops accepting new connections at once', async () => {
    const l = await listen(() => OK, { host: '127.0.0.1', port: 0 });
    const draining = l.close(1_000);
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ port: l.port, host: '127.0.0.1' });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.on('connect', () => resolve('connected'));
    });
    expect(refused).toBe('ECONNREFUSED');
    await draining;
  });
});

describe('X-Forwarded-For', () => {
  it('is read whatever the spelling of its name, repeated lines joined in order, look-alike names ignored', async () => {
    const seen: (string | undefined)[] = [];
    listener = await listen(
      (req) => {
        seen.push(req.xff);
        return { status: 200, headers: ['Content-Length', '0'], body: '' };
      },
      { host: '127.0.0.1', port: 0 },
    );
    const answer = await exchange(
      listener.port,
      'GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-FOR: 2.2.2.2\r\nX-Forwarded-Fox: 9.9.9.9\r\nx-forwarded-for: 3.3.3.3\r\nConnection: close\r\n\r\n' +
        'GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(answer.startsWith('HTTP/1.1 200')).toBe(true);
    expect(seen).toEqual(['1.1.1.1, 2.2.2.2, 3.3.3.3']);
  });
});

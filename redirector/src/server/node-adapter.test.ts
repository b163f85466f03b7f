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

// The contract both public listeners keep (node-adapter.ts on node:http, strict-listener.ts on raw sockets), each
// case run against each: raw-socket edge cases found by the resilience suite (docs/reliability.md), e.g. a CONNECT
// request is answered by the handler (405 with Allow, rule 1) instead of the connection being closed in silence; the
// drain; X-Forwarded-For. A 127.0.0.1 listener the test starts and stops; raw sockets so nothing completes the
// exchange for us.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Listener } from './listener.js';
import { listenNodeHttp } from './node-adapter.js';
import { listenStrict } from './strict-listener.js';
import { REFUSAL_STATUS, type Refusal } from './refusal.js';
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

// A reply header with CR/LF (a handler bug) is never written: node's raw CONNECT path drops that header and writes
// the rest; the strict listener answers 500 and reports it, as for a handler that throws.
describe.each([
  ['node:http', listenNodeHttp, 'HTTP/1.1 405 Method Not Allowed'],
  ['strict', listenStrict, 'HTTP/1.1 500 Internal Server Error'],
] as const)('%s listener', (_name, listen, badHeaderStatus) => {
  const NOT_ALLOWED: Reply = {
    status: 405,
    headers: ['Allow', 'GET, HEAD', 'Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '3'],
    body: 'no\n',
  };

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
      const answer = await exchange(
        listener.port,
        'CONNECT registry.k8s.io:443 HTTP/1.1\r\nHost: registry.k8s.io:443\r\nX-Forwarded-For: 1.2.3.4, 34.96.108.209\r\n\r\n',
      );
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 405 Method Not Allowed');
      expect(answer).toContain('\r\nAllow: GET, HEAD\r\n');
      expect(answer).toContain('\r\nConnection: close\r\n');
      expect(answer.endsWith('\r\n\r\nno\n')).toBe(true);
      expect(seen).toEqual([
        { method: 'CONNECT', target: 'registry.k8s.io:443', xff: '1.2.3.4, 34.96.108.209', remoteAddress: '127.0.0.1' },
      ]);
    });

    it('a handler that throws gives a 500 and is reported; a header value with CR/LF is never written', async () => {
      const errors: unknown[] = [];
      let calls = 0;
      listener = await listen(
        () => {
          if (calls++ === 0) throw new Error('boom');
          return {
            status: 405,
            headers: ['Allow', 'GET, HEAD', 'X-Bad', 'a\r\nX-Injected: 1', 'Content-Length', '0'],
            body: '',
          };
        },
        { host: '127.0.0.1', port: 0, onError: (err) => errors.push(err) },
      );
      const first = await exchange(listener.port, 'CONNECT r:443 HTTP/1.1\r\nHost: r:443\r\n\r\n');
      expect(first.split('\r\n')[0]).toBe('HTTP/1.1 500 Internal Server Error');
      expect(errors).toHaveLength(1);
      const second = await exchange(listener.port, 'CONNECT r:443 HTTP/1.1\r\nHost: r:443\r\n\r\n');
      expect(second.split('\r\n')[0]).toBe(badHeaderStatus);
      expect(second).not.toMatch(/X-Injected|X-Bad/);
      expect(errors).toHaveLength(badHeaderStatus.includes('500') ? 2 : 1);
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

  describe('timeouts', () => {
    it('a connection that sends nothing gets 408 at the header timeout, counted from its start', async () => {
      listener = await listen(() => ({ status: 200, headers: ['Content-Length', '0'], body: '' }), {
        host: '127.0.0.1',
        port: 0,
        headersTimeoutMs: 300,
        keepAliveTimeoutMs: 10_000,
      });
      const started = Date.now();
      const answer = await exchange(listener.port, '');
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(Date.now() - started).toBeLessThan(1_900);
    });

    it('a head sent a byte at a time is still cut off at the header timeout (each byte does not restart it)', async () => {
      listener = await listen(() => ({ status: 200, headers: ['Content-Length', '0'], body: '' }), {
        host: '127.0.0.1',
        port: 0,
        headersTimeoutMs: 400,
        keepAliveTimeoutMs: 10_000,
      });
      const started = Date.now();
      const answer = await new Promise<string>((resolve) => {
        const s = connect({ port: listener!.port, host: '127.0.0.1' });
        let got = '';
        s.setEncoding('latin1');
        s.on('data', (d: string) => (got += d));
        s.on('error', () => {});
        s.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
        const drip = setInterval(() => s.writable && s.write('a'), 50);
        s.on('close', () => {
          clearInterval(drip);
          resolve(got);
        });
        setTimeout(() => s.destroy(), 3_000).unref();
      });
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      expect(Date.now() - started).toBeLessThan(2_000);
    });
  });

  describe('refusals', () => {
    // heads both listeners refuse for the same reason (each listener names others that the other does not see)
    it.each([
      ['bad-header', 'GET /h HTTP/1.1\r\nHost: r\r\nBad Name: x\r\n\r\n'],
      ['bad-method', 'FOO /m HTTP/1.1\r\nHost: r\r\n\r\n'],
      ['bad-target', 'GET t HTTP/1.1\r\nHost: r\r\n\r\n'],
      ['bad-version', 'GET /v HTTP/1.x\r\nHost: r\r\n\r\n'],
      ['bad-line-end', 'GET /l HTTP/1.1\r\nHost: r\nX: y\r\n\r\n'],
      ['bad-content-length', 'GET /c HTTP/1.1\r\nHost: r\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n'],
      ['bad-transfer-encoding', 'POST /t HTTP/1.1\r\nHost: r\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
    ])('%s: 400, reported once with its first line, the handler never called', async (reason, bytes) => {
      const refusals: Refusal[] = [];
      let calls = 0;
      listener = await listen(
        () => {
          calls++;
          return { status: 200, headers: ['Content-Length', '0'], body: '' };
        },
        { host: '127.0.0.1', port: 0, onRefusal: (r) => refusals.push(r) },
      );
      const answer = await exchange(listener.port, bytes);
      expect(answer).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      expect(calls).toBe(0);
      expect(refusals).toHaveLength(1);
      const firstLine = bytes.slice(0, bytes.indexOf('\r\n'));
      expect(refusals[0]).toMatchObject({ reason, remoteAddress: '127.0.0.1', firstLine });
      expect(REFUSAL_STATUS[refusals[0]!.reason]).toBe(400);
    });

    it('431 header-too-large for a head over 16 KiB, 408 timeout for a slow one, nothing for good requests', async () => {
      const refusals: Refusal[] = [];
      listener = await listen(() => ({ status: 200, headers: ['Content-Length', '0'], body: '' }), {
        host: '127.0.0.1',
        port: 0,
        headersTimeoutMs: 300,
        onRefusal: (r) => refusals.push(r),
      });
      const good = await exchange(
        listener.port,
        'GET /a HTTP/1.1\r\nHost: r\r\n\r\nGET /b HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n',
      );
      expect(good.split('HTTP/1.1 200 OK').length - 1).toBe(2);
      expect(refusals).toEqual([]);
      const big = await exchange(listener.port, `GET /big HTTP/1.1\r\nHost: r\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(big).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
      const slow = await exchange(listener.port, 'GET /slow HTTP/1.1\r\nHost: r\r\n');
      expect(slow).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      expect(refusals.map((r) => [REFUSAL_STATUS[r.reason], r.reason])).toEqual([
        [431, 'header-too-large'],
        [408, 'timeout'],
      ]);
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
});

// The strict listener's request-head reader (strict-listener.ts) against node:http's (llhttp) on generated heads,
// valid and broken: whatever the strict reader accepts, node accepts as the same request. The node listener is
// closed in the end.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Listener } from './listener.js';
import { listenNodeHttp } from './node-adapter.js';
import { exchange } from './socket-exchange.test-support.js';
import type { HttpRequest } from './request-handler.js';
import { type RequestHead, MAX_EMPTY_LINES, parseRequestHead } from './strict-listener.js';

function accepted(text: string): RequestHead {
  const head = parseRequestHead(text);
  expect(head, `refused: ${String(head)}`).toBeTypeOf('object');
  return head as RequestHead;
}

describe('against node:http (llhttp), generated heads', () => {
  let node: Listener;
  const seen: HttpRequest[] = [];
  beforeAll(async () => {
    node = await listenNodeHttp(
      (req) => {
        seen.push({ method: req.method, target: req.target, xff: req.xff, remoteAddress: undefined });
        return { status: 200, headers: ['Content-Length', '0'], body: '' };
      },
      { host: '127.0.0.1', port: 0 },
    );
  });
  afterAll(() => node.close());

  /** What node:http makes of a head: the request its handler saw, or null when it refused it. */
  async function nodeReads(text: string): Promise<HttpRequest | null> {
    seen.length = 0;
    const { got } = await exchange(node.port, `${text}\r\n\r\n`, {
      untilDone: (g) => g.includes('\r\n\r\n'),
      giveUpMs: 1_000,
    });
    if (seen.length === 0) {
      // refused: node answers 400 (or 431/505) and closes, or waits for more (which counts as not a request)
      expect(got === '' || /^HTTP\/1\.1 (400|431|505) /.test(got)).toBe(true);
      return null;
    }
    expect(seen).toHaveLength(1);
    return seen[0]!;
  }

  // each part mostly valid, sometimes broken, so that a good share of heads is accepted and the rest is near misses
  const mostly = <T>(valid: fc.Arbitrary<T>, broken: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: valid, weight: 8 }, { arbitrary: broken, weight: 1 });
  const method = mostly(
    fc.constantFrom('GET', 'HEAD', 'GET', 'POST', 'OPTIONS'),
    fc.constantFrom('CONNECT', 'FOO', 'get', 'G T', ''),
  );
  const target = mostly(
    fc.constantFrom(
      '/',
      '/v2/',
      '/v2/pause/blobs/sha256:' + 'a'.repeat(64),
      '/v2/x/manifests/1.0?ns=k8s.io',
      'http://h/v2/',
      '/%2e%2e/',
    ),
    fc.oneof(
      fc.constantFrom('*', 'r:443', 'h/v2', '', 'HTTP://h/', 'ftp://h/'),
      fc
        .string({
          unit: fc.constantFrom('/', 'a', '%', '?', '#', '"', '\\', ' ', '\t', '\x01', '\x7f', '\xe9', '{'),
          maxLength: 8,
        })
        .map((s) => '/' + s),
    ),
  );
  const version = mostly(
    fc.constantFrom('HTTP/1.1', 'HTTP/1.0'),
    fc.constantFrom('HTTP/2.0', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1.', 'HTTP/1.01'),
  );
  const name = mostly(
    fc.constantFrom(
      'X-Forwarded-For',
      'x-forwarded-for',
      'Connection',
      'Content-Length',
      'Transfer-Encoding',
      'User-Agent',
      'Host',
    ),
    fc.constantFrom('Bad Name', 'X(', '', ' Host', 'X-Forwarded-For ', 'X\xe9'),
  );
  const value = mostly(
    fc.constantFrom(
      'r',
      '1.2.3.4, 35.191.0.1',
      '0',
      '5',
      'chunked',
      'close',
      'keep-alive',
      ' padded ',
      '',
      'a\tb',
      '\xe9t\xe9',
    ),
    fc.string({
      unit: fc.constantFrom('a', '1', '.', ',', ' ', '\t', '\x00', '\x7f', '\xe9', '\r', '\n', ':'),
      maxLength: 6,
    }),
  );
  const separator = mostly(fc.constantFrom(': ', ':', ':\t', ':  '), fc.constantFrom(' : ', ' :'));
  const lineEnd = mostly(fc.constant('\r\n'), fc.constantFrom('\n', '\r', '\n\r'));
  const header = fc.tuple(name, separator, value, lineEnd).map(([n, sep, val, e]) => `${n}${sep}${val}${e}`);
  const host = fc.oneof(
    { arbitrary: fc.constant(['Host: registry.k8s.io\r\n']), weight: 8 },
    { arbitrary: fc.constant([]), weight: 1 },
  );
  // empty lines before the request line (RFC 9112 §2.2): mostly none, sometimes some, sometimes too many or not CRLF
  const emptyLines = fc.oneof(
    { arbitrary: fc.constant(''), weight: 12 },
    { arbitrary: fc.integer({ min: 1, max: MAX_EMPTY_LINES }).map((n) => '\r\n'.repeat(n)), weight: 3 },
    { arbitrary: fc.constantFrom('\n', '\r', '\r\n\n', '\n\r\n', '\r\n'.repeat(MAX_EMPTY_LINES + 1)), weight: 1 },
  );
  const headText = fc
    .tuple(method, target, version, lineEnd, host, fc.array(header, { maxLength: 4 }), fc.nat(), emptyLines)
    .map(([m, t, v, end, h, hs, at, empty]) => {
      const lines = [...hs];
      lines.splice(at % (lines.length + 1), 0, ...h);
      return [empty, `${m} ${t} ${v}${end}${lines.join('')}`.replace(/(\r\n|\n\r|\n|\r)$/, '')] as const;
    })
    .filter(([, text]) => !text.includes('\r\n\r\n'))
    .map(([empty, text]) => empty + text);

  it('every head the strict reader accepts, node accepts as the same request (method, target, X-Forwarded-For)', async () => {
    let acceptedHeads = 0;
    let afterEmptyLines = 0;
    await fc.assert(
      fc.asyncProperty(headText, async (text) => {
        const strict = parseRequestHead(text);
        if (typeof strict === 'string') return;
        acceptedHeads++;
        if (text.startsWith('\r\n')) afterEmptyLines++;
        const n = await nodeReads(text);
        expect(n).not.toBeNull();
        const same = { method: strict.method, target: strict.target, xff: strict.xff };
        expect({ method: n!.method, target: n!.target, xff: n!.xff }).toEqual(same);
      }),
      { numRuns: 20_000 },
    );
    // the generator reaches the accepting side often enough for the property to mean something
    expect(acceptedHeads).toBeGreaterThan(3_000);
    expect(afterEmptyLines).toBeGreaterThan(300);
  }, 60_000);

  it('heads of the shape real clients send are accepted by both', async () => {
    const clean = fc
      .tuple(
        fc.constantFrom('GET', 'HEAD'),
        fc.constantFrom(
          '/v2/',
          '/v2/pause/blobs/sha256:' + 'a'.repeat(64),
          '/v2/x/manifests/1.0?ns=k8s.io',
          '/v2/x/tags/list?n=10&last=a',
        ),
        fc.constantFrom('HTTP/1.1', 'HTTP/1.0'),
        fc.array(
          fc.tuple(
            fc.constantFrom('X-Forwarded-For', 'User-Agent', 'Accept', 'Authorization', 'Connection'),
            fc.constantFrom('1.2.3.4, 35.191.0.1', 'containerd/1.7', '*/*', 'keep-alive', 'Bearer x'),
          ),
          { maxLength: 4 },
        ),
      )
      .map(([m, t, v, hs]) =>
        [`${m} ${t} ${v}`, 'Host: registry.k8s.io', ...hs.map(([n, val]) => `${n}: ${val}`)].join('\r\n'),
      );
    await fc.assert(
      fc.asyncProperty(clean, async (text) => {
        const strict = accepted(text);
        const n = await nodeReads(text);
        const same = { method: strict.method, target: strict.target, xff: strict.xff };
        expect({ method: n!.method, target: n!.target, xff: n!.xff }).toEqual(same);
      }),
      { numRuns: 100 },
    );
  }, 30_000);
});

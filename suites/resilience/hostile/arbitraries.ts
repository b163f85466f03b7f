/**
 * fast-check arbitraries for hostile requests, built on the OCI grammar (distribution-spec names and references,
 * image-spec digests; docs/reference/oci-distribution.md#grammar): valid requests, then the same requests
 * bent in every way docs/reliability.md lists. Every string here is a BYTE string (one char per byte, latin1):
 * non-ASCII look-alikes are their UTF-8 bytes, raw or percent-encoded, because that is what arrives on the wire.
 */
import fc from 'fast-check';

export type Family =
  | 'valid'
  | 'traversal'
  | 'absolute'
  | 'crlf'
  | 'oversized'
  | 'xff'
  | 'method'
  | 'digest'
  | 'query'
  | 'version';

export interface HostileRequest {
  family: Family;
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
}

/** The marker an injected header carries: it must never come back as a response header. */
export const INJECTED = 'X-Canary-Injected';

const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const pct = (s: string) => [...Buffer.from(s, 'latin1')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

// ---- the OCI grammar ----
const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:(?:\.|_|__|-{1,2})[a-z0-9]{1,6}){0,2}$/);
export const repoName = fc.array(component, { minLength: 1, maxLength: 3 }).map((c) => c.join('/'));
const tag = fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,20}$/);
const hex = (n: number) => fc.stringMatching(new RegExp(`^[a-f0-9]{${n}}$`));
export const digest = fc.oneof(
  hex(64).map((h) => `sha256:${h}`),
  hex(128).map((h) => `sha512:${h}`),
);
const reference = fc.oneof(tag, digest);

const validPath = fc.oneof(
  fc.tuple(repoName, reference).map(([n, r]) => `/v2/${n}/manifests/${r}`),
  fc.tuple(repoName, digest).map(([n, d]) => `/v2/${n}/blobs/${d}`),
  repoName.map((n) => `/v2/${n}/tags/list`),
  fc.tuple(repoName, digest).map(([n, d]) => `/v2/${n}/referrers/${d}`),
  fc.tuple(repoName, hex(64)).map(([n, h]) => `/v2/${n}/manifests/sha256-${h}.sig`),
  fc.constantFrom('/', '/v2', '/v2/', '/privacy', '/privacy/', '/v2/_catalog', '/v1/_ping', '/favicon.ico'),
);

// ---- traversal: dot segments, encoded slashes, backslashes, look-alikes, overlong UTF-8 ----
const LOOKALIKES = ['\u2024', '\u2025', '\uff0e', '\u2215', '\u2044', '\uff0f', '\u29f8', '\ufe68', '\uff3c', '\u3002'];
const traversalSegment = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E%2E',
    '.%2e',
    '%2e.',
    '%2e',
    '..%2f',
    '..%2F',
    '%2f',
    '%2F',
    '%5c',
    '%5C',
    '..\\',
    '\\',
    '..%5c',
    '%252e%252e',
    '%252f',
    '%c0%ae%c0%ae',
    '%c0%af',
    '%e0%80%ae',
    '%c1%9c',
    '..;',
    ';',
    '%00',
    '..%00',
    '%2e%2e%2f%2e%2e',
    '',
    '/',
    '//',
    'evil.example',
    '@evil.example',
    '%40evil.example',
    '..%252f',
    '.%00.',
  ),
  fc.constantFrom(...LOOKALIKES).chain((c) => fc.constantFrom(utf8(c + c), pct(utf8(c + c)), utf8(c), pct(utf8(c)))),
);
const traversalPath = fc
  .tuple(
    fc.constantFrom('/v2/', '/v2', '/', '//', '/v2//', '/v2/%2e%2e/', '\\v2\\'),
    fc.array(fc.oneof({ weight: 2, arbitrary: component }, { weight: 3, arbitrary: traversalSegment }), {
      minLength: 1,
      maxLength: 8,
    }),
    fc.constantFrom('/', '/', '\\', '%2f'),
    fc.constantFrom('', '/manifests/latest', '/blobs/sha256:' + 'a'.repeat(64), '/tags/list', '/'),
  )
  .map(([prefix, segs, sep, tail]) => `${prefix}${segs.join(sep)}${tail}`);

// ---- absolute-form and authority tricks ----
const absolutePath = fc
  .tuple(
    fc.constantFrom(
      'http://evil.example',
      'https://evil.example',
      'http://127.0.0.1:1',
      '//evil.example',
      'http://user:pass@evil.example',
      'HTTP://EVIL.EXAMPLE',
      'http:evil.example',
      'http://evil.example:80@good',
    ),
    validPath,
  )
  .map(([a, p]) => `${a}${p}`);

// ---- CR/LF and header injection ----
const crlfPayload = fc.constantFrom(
  `%0d%0a${INJECTED}:%20path`,
  `%0D%0A${INJECTED}:%20path`,
  `%0a${INJECTED}:%20path`,
  `%0d${INJECTED}:%20path`,
  `\r\n${INJECTED}: raw`,
  `\n${INJECTED}: raw`,
  `\r${INJECTED}: raw`,
  `%0d%0a%0d%0a<html>${INJECTED}</html>`,
  `\r\n\r\nGET /v2/smuggled/manifests/x HTTP/1.1\r\nHost: x\r\n${INJECTED}: smuggled`,
  `${utf8('\u010d\u010a')}${INJECTED}:%20latin`,
  `%e5%98%8a%e5%98%8d${INJECTED}:%20utf8`,
  `%250d%250a${INJECTED}:%20double`,
);
/** request-smuggling framings: conflicting or obfuscated body lengths (node must refuse or frame them safely) */
const FRAMING: [string, string][][] = [
  [
    ['Transfer-Encoding', 'chunked'],
    ['Content-Length', '5'],
  ],
  [
    ['Content-Length', '0'],
    ['Content-Length', '5'],
  ],
  [['Transfer-Encoding', 'chunked, identity']],
  [['Transfer-Encoding', ' chunked']],
  [['Transfer-Encoding\t', 'chunked']],
  [['Content-Length', '-1']],
  [['Content-Length', '1e3']],
  [['Transfer-Encoding', 'chunked']],
  [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
  ],
  [
    ['Upgrade', 'h2c'],
    ['Connection', 'Upgrade, HTTP2-Settings'],
    ['HTTP2-Settings', 'AAMAAABkAAQAoAAAAAIAAAAA'],
  ],
  [
    ['Expect', '100-continue'],
    ['Content-Length', '0'],
  ],
];
const crlfRequest = fc
  .tuple(
    validPath,
    crlfPayload,
    fc.constantFrom('path', 'query', 'xff', 'header', 'framing'),
    fc.constantFrom(...FRAMING),
  )
  .map(([path, payload, where, framing]): Omit<HostileRequest, 'family' | 'method' | 'version'> => {
    if (where === 'framing') return { target: path, headers: framing };
    if (where === 'path') return { target: `${path}${payload}`, headers: [] };
    if (where === 'query') return { target: `${path}?n=1${payload}`, headers: [] };
    if (where === 'xff') return { target: path, headers: [['X-Forwarded-For', `1.2.3.4${payload}, 34.96.108.209`]] };
    return { target: path, headers: [['X-Anything', `v${payload}`]] };
  });

// ---- oversized ----
const oversized = fc.oneof(
  fc
    .tuple(repoName, fc.constantFrom(2_000, 8_000, 15_000, 17_000, 64_000))
    .map(([n, len]) => ({ target: `/v2/${n}/manifests/${'a'.repeat(len)}`, headers: [] as [string, string][] })),
  fc.tuple(fc.constantFrom(200, 1_000), fc.constantFrom('/v2/x/', '/v2/')).map(([k, p]) => ({
    target: `${p}${Array.from({ length: k }, (_, i) => `s${i}`).join('/')}/manifests/latest`,
    headers: [] as [string, string][],
  })),
  fc
    .tuple(validPath, fc.constantFrom(4_000, 15_000, 17_000, 40_000))
    .map(([p, len]) => ({ target: p, headers: [['X-Big', 'b'.repeat(len)]] as [string, string][] })),
  fc
    .tuple(validPath, fc.constantFrom(100, 500, 2_100, 5_000))
    .map(([p, k]) => ({ target: p, headers: Array.from({ length: k }, (_, i): [string, string] => [`X-H${i}`, 'v']) })),
  fc
    .tuple(validPath, fc.constantFrom(2_000, 15_000, 20_000))
    .map(([p, len]) => ({ target: `${p}?q=${'%41'.repeat(Math.floor(len / 3))}`, headers: [] as [string, string][] })),
);

// ---- X-Forwarded-For ----
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const ipv6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((g) => g.map((x) => x.toString(16)).join(':'));
const xffEntry = fc.oneof(
  ipv4,
  ipv6,
  ipv4.map((a) => `::ffff:${a}`),
  ipv4.map((a) => `[::ffff:${a}]`),
  ipv4.map((a) => `${a}:443`),
  ipv6.map((a) => `[${a}]:443`),
  fc.constantFrom(
    'fe80::1%eth0',
    'fe80::1%25eth0',
    'fe80::1%',
    '::ffff:0102:0304',
    '::1',
    '0.0.0.0',
    '255.255.255.255',
    '01.02.03.04',
    '0x7f.1',
    '2130706433',
    '1.2.3',
    '1.2.3.4.5',
    '::ffff:999.1.1.1',
    'unknown',
    '_hidden',
    '"1.2.3.4"',
    'for=1.2.3.4',
    '',
    ' ',
    '\t',
    ';',
    '%31.2.3.4',
    utf8('\uff11.2.3.4'),
    '::',
    ':::',
    '[',
    ']',
  ),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, '')),
);
const xffHeaders = fc.oneof(
  fc
    .tuple(fc.array(xffEntry, { minLength: 0, maxLength: 6 }), fc.constantFrom(',', ', ', ' ', ',,', ' ,\t'))
    .map(([e, sep]) => [['X-Forwarded-For', e.join(sep)]] as [string, string][]),
  fc
    .tuple(fc.constantFrom(100, 300, 1_000), xffEntry)
    .map(([k, e]) => [['X-Forwarded-For', Array.from({ length: k }, () => e).join(', ')]] as [string, string][]),
  fc.array(xffEntry, { minLength: 2, maxLength: 5 }).map((e) => e.map((x): [string, string] => ['X-Forwarded-For', x])),
  fc.constantFrom<[string, string][]>(
    [['x-forwarded-for', '1.2.3.4']],
    [['X-FORWARDED-FOR', '13.244.0.1, 34.96.108.209']],
    [['X-Forwarded-For ', '1.2.3.4']],
    [['Forwarded', 'for=13.244.0.1']],
  ),
);
const blobPath = fc.tuple(repoName, digest).map(([n, d]) => `/v2/${n}/blobs/${d}`);

// ---- methods ----
const method = fc.constantFrom(
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'PROPFIND',
  'MKCOL',
  'LOCK',
  'SEARCH',
  'PURGE',
  'get',
  'Get',
  'hEAD',
  'FOO',
  'GETS',
  'G',
  'GET\x00',
  'GE T',
  utf8('\uff27\uff25\uff34'),
  '',
);

// ---- malformed digests ----
const badDigest = fc.oneof(
  fc.nat(130).chain((n) => hex(n).map((h) => `sha256:${h}`)),
  hex(64).map((h) => `sha256:${h.toUpperCase()}`),
  hex(64).map((h) => `SHA256:${h}`),
  hex(64).map((h) => `sha512:${h}`),
  hex(64).map((h) => `md5:${h}`),
  hex(64).map((h) => `sha256+b64u:${h}`),
  hex(64).map((h) => `:${h}`),
  hex(64).map((h) => `sha256::${h}`),
  hex(64).map((h) => `sha256%3a${h}`),
  hex(64).map((h) => `sha256:${h}/extra`),
  hex(64).map((h) => `sha256:${h.slice(0, 32)}%00${h.slice(32)}`),
  hex(64).map((h) => `sha256:${h.slice(0, 63)}g`),
  fc.constantFrom(
    'sha256:',
    ':',
    'sha256',
    'a:b',
    'sha256:..',
    'sha256:%2e%2e',
    'blake3:' + 'A'.repeat(64),
    'sha256:' + 'a'.repeat(64) + '\\',
  ),
  fc.string({ maxLength: 30 }).map((s) => `x${encodeURIComponent(s)}:y`),
);
const badDigestPath = fc
  .tuple(repoName, badDigest, fc.constantFrom('blobs', 'manifests', 'referrers'))
  .map(([n, d, kind]) => `/v2/${n}/${kind}/${d}`);

// ---- queries ----
const queryChar = fc.constantFrom(
  'a',
  '=',
  '&',
  '%',
  '%0',
  '%zz',
  '%00',
  '%7f',
  '%ff',
  '<',
  '>',
  '"',
  "'",
  '`',
  '{',
  '|',
  '}',
  '^',
  '#',
  '?',
  '\x7f',
  '\x80',
  '\xff',
  '[',
  ']',
  ';',
  '+',
  '%25',
  '%0d%0a',
  utf8('\u202e'),
);
const queryTarget = fc.tuple(validPath, fc.array(queryChar, { maxLength: 30 })).map(([p, q]) => `${p}?${q.join('')}`);

const VERSION = fc.constantFrom(
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/2.0',
  'HTTP/1.2',
  'HTTP/0.9',
  'http/1.1',
  'HTTP/1.1 ',
  'HTTP/11',
  '',
);

const host: [string, string] = ['Host', 'registry.k8s.io'];
/** a GCLB-style header from a real AWS region, so blob requests reach the bucket probe */
const goodXff: [string, string] = ['X-Forwarded-For', '13.244.0.1,34.96.108.209'];
const getOrHead = fc.constantFrom('GET', 'HEAD');

function req(
  family: Family,
  m: string,
  target: string,
  headers: [string, string][],
  version = 'HTTP/1.1',
): HostileRequest {
  return { family, method: m, target, version, headers };
}

export const hostileRequest: fc.Arbitrary<HostileRequest> = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(getOrHead, validPath).map(([m, p]) => req('valid', m, p, [host, goodXff])) },
  {
    weight: 20,
    arbitrary: fc.tuple(getOrHead, traversalPath).map(([m, p]) => req('traversal', m, p, [host, goodXff])),
  },
  { weight: 6, arbitrary: fc.tuple(getOrHead, absolutePath).map(([m, p]) => req('absolute', m, p, [host, goodXff])) },
  {
    weight: 12,
    arbitrary: fc
      .tuple(getOrHead, crlfRequest)
      .map(([m, r]) => req('crlf', m, r.target, [host, ...(r.headers.length ? r.headers : [goodXff])])),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(getOrHead, oversized)
      .map(([m, r]) => req('oversized', m, r.target, [host, goodXff, ...r.headers])),
  },
  {
    weight: 15,
    arbitrary: fc.tuple(getOrHead, blobPath, xffHeaders).map(([m, p, h]) => req('xff', m, p, [host, ...h])),
  },
  {
    weight: 8,
    arbitrary: fc
      .tuple(method, fc.oneof(validPath, traversalPath, fc.constantFrom('registry.k8s.io:443', '127.0.0.1:22', '*')))
      .map(([m, p]) =>
        req('method', m, p, [
          host,
          goodXff,
          ...(m === 'POST' || m === 'PUT' || m === 'PATCH' ? ([['Content-Length', '0']] as [string, string][]) : []),
        ]),
      ),
  },
  { weight: 12, arbitrary: fc.tuple(getOrHead, badDigestPath).map(([m, p]) => req('digest', m, p, [host, goodXff])) },
  { weight: 8, arbitrary: fc.tuple(getOrHead, queryTarget).map(([m, p]) => req('query', m, p, [host, goodXff])) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(getOrHead, validPath, VERSION, fc.boolean())
      .map(([m, p, v, withHost]) => req('version', m, p, withHost ? [host, goodXff] : [goodXff], v)),
  },
);

/** The request's bytes: `METHOD SP target SP version CRLF (name: value CRLF)* CRLF`. */
export function serialize(r: HostileRequest): Buffer {
  const line = r.version === '' ? `${r.method} ${r.target}` : `${r.method} ${r.target} ${r.version}`;
  return Buffer.from(`${line}\r\n${r.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'latin1');
}

/** Whether the request frames as exactly one HTTP/1.1 request a server answers on a reusable connection. */
export function wellFramed(r: HostileRequest): boolean {
  const parts = [r.method, r.target, r.version, ...r.headers.flat()];
  if (parts.some((p) => /[\r\n]/.test(p))) return false;
  if (r.method === 'CONNECT' || r.version !== 'HTTP/1.1') return false;
  // a body length, or a protocol switch, makes the server read past the blank line
  if (r.headers.some(([n]) => /^(content-length|transfer-encoding|upgrade|expect)/i.test(n.trim()))) return false;
  return true;
}

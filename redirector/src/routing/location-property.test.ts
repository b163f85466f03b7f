// Rule 4's invariant as a property (fast-check): for arbitrary methods, paths, queries and X-Forwarded-For values,
// the default mode never answers 5xx, never emits a header value node would refuse (or a client would split), and
// every Location lies on an allowed host and prefix, both as written and as a WHATWG URL parser resolves it
// (which turns `%2e%2e` and `\` into path navigation).
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../blobs/index.js';
import { loadConfig } from '../config.js';
import { BUNDLED_RANGE_SOURCES, loadRangeData, type RangeData } from '../ranges/index.js';
import { assembleRedirector } from '../server/index.js';
import { allowedLocationPrefixes } from './routing-table.js';

let data: RangeData;
beforeAll(() => {
  data = loadRangeData(BUNDLED_RANGE_SOURCES);
});

const HEX = '0123456789abcdef';
const digest = fc.oneof(
  fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`),
  fc.constantFrom('sha512:' + 'ab'.repeat(64), 'foo:bar', 'sha256:' + HEX.toUpperCase(), 'sha256:', ':x', 'a:b:c'),
);
const segment = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'v2',
      'pause',
      'e2e-test-images',
      'busybox',
      'manifests',
      'blobs',
      'tags',
      'list',
      'referrers',
      'uploads',
      'latest',
      '_catalog',
      'privacy',
    ),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%2E.',
      '.%2e',
      '%2f',
      '%2F..',
      '%5c',
      '\\',
      '..\\..',
      '%00',
      '%0d%0a',
      '%zz',
      '%',
      '#',
      '?',
      '//',
      '@evil.example',
      'http:',
      '%252e%252e',
      '\u2025',
      '\uff0e\uff0e',
      '\u00e9',
      'sha256-' + HEX.repeat(4) + '.sig',
    ),
  },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: digest },
);
const path = fc.oneof(
  fc.array(segment, { maxLength: 8 }).map((s) => '/' + s.join('/')),
  fc.array(segment, { maxLength: 6 }).map((s) => '/v2/' + s.join('/')),
  fc.tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), digest).map(([n, d]) => `/v2/${n.join('/')}/blobs/${d}`),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('//evil.example/v2/x', 'http://evil.example/v2/x/manifests/y', '*', ''),
);
const query = fc.option(
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('n=10&last=3.1', 'ns=registry.k8s.io', '\r\nSet-Cookie: x=1', '#frag', '%zz', 'a=\u00e9'),
  ),
  {
    nil: undefined,
  },
);
const ip = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom(
    '35.180.1.1',
    '35.220.26.1',
    '15.193.0.5',
    '2600:1f14::1',
    '::ffff:35.180.1.1',
    '20.135.52.1',
    'fe80::1%eth0',
    'garbage',
    '',
    '999.1.1.1',
  ),
);
const xff = fc.option(
  fc.oneof(
    fc.array(ip, { maxLength: 5 }).map((a) => a.join(', ')),
    fc.array(ip, { maxLength: 300 }).map((a) => a.join(',')),
    fc.string({ maxLength: 60 }),
  ),
  { nil: undefined },
);
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'HEAD') },
  { weight: 1, arbitrary: fc.constantFrom('POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'get', '') },
);

// node's rule for header values (lib/_http_common.js checkInvalidHeaderChar)
const VALID_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function checkLocations(envOverrides: Record<string, string>) {
  const config = loadConfig({ SIGNATURE_UPSTREAM_ENDPOINT: 'https://sig.example.test', ...envOverrides });
  const clock = new ManualClock();
  const r = assembleRedirector(config, {
    rangeData: data,
    clock,
    logDestination: { write: () => {} },
    // deterministic bucket behaviour per URL: present, absent, failing
    fetcher: (url) => {
      const h = [...url].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7) % 3;
      return h === 0 ? Promise.resolve(200) : h === 1 ? Promise.resolve(404) : Promise.reject(new Error('boom'));
    },
  });
  const { prefixes, exact } = allowedLocationPrefixes(r.router.table);
  const whatwgPrefixes = prefixes.map((p) => new URL(p).href);
  const whatwgExact = exact.map((e) => new URL(e).href);

  return fc.asyncProperty(method, path, query, xff, fc.option(ip, { nil: undefined }), async (m, p, q, x, remote) => {
    const target = q === undefined ? p : `${p}?${q}`;
    const reply = await r.handler({ method: m, target, xff: x, remoteAddress: remote });
    expect(reply.status).toBeLessThan(500);
    for (let i = 0; i < reply.headers.length; i += 2) expect(reply.headers[i + 1]).toMatch(VALID_HEADER_VALUE);
    const at = reply.headers.indexOf('Location');
    if (reply.status === 307) {
      const location = reply.headers[at + 1]!;
      expect(exact.includes(location) || prefixes.some((pre) => location.startsWith(pre))).toBe(true);
      const resolved = new URL(location).href;
      expect(whatwgExact.includes(resolved) || whatwgPrefixes.some((pre) => resolved.startsWith(pre))).toBe(true);
    } else {
      expect(at).toBe(-1);
    }
  });
}

describe('every Location stays on an allowed host and prefix', () => {
  it('with the production configuration', async () => {
    await fc.assert(checkLocations({}), { numRuns: 3000 });
  });
  it('with an empty UPSTREAM_REGISTRY_PATH and a path-style bucket map base', async () => {
    await fc.assert(
      checkLocations({
        UPSTREAM_REGISTRY_PATH: '',
        UPSTREAM_REGISTRY_ENDPOINT: 'http://127.0.0.1:5000',
        DEFAULT_AWS_BASE_URL: 'http://127.0.0.1:4569/prod-registry-k8s-io-us-east-1',
      }),
      {
        numRuns: 2000,
      },
    );
  });
});

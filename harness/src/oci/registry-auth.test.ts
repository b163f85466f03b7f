/**
 * The anonymous token flow: the pure parsing, and the client against two local servers, a redirector and an
 * Artifact-Registry-like upstream that answers every anonymous request with `401 WWW-Authenticate: Bearer …` and
 * issues tokens at its realm (docs/reference/incidents.md#upstream-and-replication U1; docs/canary-operations.md
 * "Anonymous tokens").
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOciClient } from './oci-client.js';
import { OciError } from './oci-error.js';
import { pullImage } from './pull-image.js';
import {
  AnonymousTokenCache,
  bearerChallengeOf,
  parseTokenResponse,
  parseWwwAuthenticate,
  repositoryOfPath,
  tokenRequestUrl,
} from './registry-auth.js';

describe('WWW-Authenticate parsing', () => {
  it('reads a Bearer challenge with quoted params, commas inside quotes and escapes', () => {
    const v =
      'Bearer realm="https://us-central1-docker.pkg.dev/v2/token",service="us-central1-docker.pkg.dev",scope="repository:k8s-artifacts-prod/images/pause:pull"';
    expect(bearerChallengeOf(v)).toEqual({
      realm: 'https://us-central1-docker.pkg.dev/v2/token',
      service: 'us-central1-docker.pkg.dev',
      scopes: ['repository:k8s-artifacts-prod/images/pause:pull'],
    });
    expect(
      parseWwwAuthenticate('Basic realm="a, b", Bearer realm="r",scope="x y", error="insufficient_scope"'),
    ).toEqual([
      { scheme: 'basic', params: { realm: 'a, b' } },
      { scheme: 'bearer', params: { realm: 'r', scope: 'x y', error: 'insufficient_scope' } },
    ]);
    expect(
      parseWwwAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'),
    ).toEqual([
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'basic', params: { realm: 'simple' } },
    ]);
    expect(parseWwwAuthenticate('Negotiate abc==')).toEqual([{ scheme: 'negotiate', params: { token68: 'abc==' } }]);
    expect(bearerChallengeOf('Bearer realm="r",scope="a b"')?.scopes).toEqual(['a', 'b']);
  });

  it('has no Bearer challenge for Basic, a realm-less Bearer, or nothing', () => {
    expect(bearerChallengeOf('Basic realm="x"')).toBeNull();
    expect(bearerChallengeOf('Bearer service="x"')).toBeNull();
    expect(bearerChallengeOf(undefined)).toBeNull();
  });

  it('builds the realm URL with service and scopes, resolving a relative realm; refuses non-http realms', () => {
    const u = tokenRequestUrl(
      { realm: '/v2/token?x=1', service: 's', scopes: ['a', 'b'] },
      'http://127.0.0.1:5000/v2/p/manifests/1',
    );
    expect(u.href).toBe('http://127.0.0.1:5000/v2/token?x=1&service=s&scope=a&scope=b');
    expect(() => tokenRequestUrl({ realm: 'file:///etc/passwd', scopes: [] }, 'http://h/')).toThrow(/not http/);
  });

  it('reads token or access_token, with expiry (60 s default, refreshed 5 s early)', () => {
    expect(parseTokenResponse('{"token":"t","expires_in":300}', 1000)).toEqual({
      token: 't',
      expiresAt: 1000 + 295_000,
    });
    expect(parseTokenResponse('{"access_token":"a"}', 0)).toEqual({ token: 'a', expiresAt: 55_000 });
    expect(() => parseTokenResponse('{}', 0)).toThrow(/no "token"/);
    expect(() => parseTokenResponse('<html>', 0)).toThrow(/not JSON/);
  });

  it('caches per origin and repository until expiry', () => {
    expect(repositoryOfPath('/v2/e2e-test-images/busybox/blobs/sha256:x')).toBe('e2e-test-images/busybox');
    const cache = new AnonymousTokenCache();
    cache.set('http://a', '/v2/pause/manifests/3.9', { token: 't', expiresAt: 100 });
    expect(cache.get('http://a', '/v2/pause/blobs/sha256:1', 50)).toBe('t');
    expect(cache.get('http://b', '/v2/pause/blobs/sha256:1', 50)).toBeUndefined();
    expect(cache.get('http://a', '/v2/etcd/blobs/sha256:1', 50)).toBeUndefined();
    expect(cache.get('http://a', '/v2/pause/blobs/sha256:1', 100)).toBeUndefined();
  });
});

// ------------------------------------------------------------------ the flow against local servers

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const CONFIG = Buffer.from('{"architecture":"amd64","os":"linux"}');
const LAYER = Buffer.from('pause layer '.repeat(200));
const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(CONFIG), size: CONFIG.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(LAYER), size: LAYER.length }],
  }),
);
const PREFIX = '/v2/k8s-artifacts-prod/images';

interface Seen {
  server: string;
  method: string;
  url: string;
  authorization?: string;
  xff?: string;
}

let seen: Seen[] = [];
let tokenStatus = 200;
let issued = 0;
const servers: Server[] = [];
let redirectorUrl = '';
let upstreamUrl = '';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

const listen = async (name: string, handle: (req: IncomingMessage, base: string) => Answer) => {
  const server = createServer((req, res) => {
    seen.push({
      server: name,
      method: req.method!,
      url: req.url!,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(req.headers['x-forwarded-for'] ? { xff: String(req.headers['x-forwarded-for']) } : {}),
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = handle(req, base);
    res.writeHead(r.status, r.headers ?? {});
    res.end(req.method === 'HEAD' ? undefined : r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  upstreamUrl = await listen('upstream', (req, base): Answer => {
    const url = new URL(req.url!, base);
    if (url.pathname === '/v2/token') {
      if (tokenStatus !== 200) return { status: tokenStatus, body: 'denied' };
      issued++;
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: `tok-${url.searchParams.get('scope')}`, expires_in: 3600 }),
      };
    }
    const repo = /^\/v2\/(.+?)\/(manifests|blobs)\//.exec(url.pathname)?.[1] ?? '';
    if (req.headers.authorization !== `Bearer tok-repository:${repo}:pull`) {
      return {
        status: 401,
        headers: {
          'www-authenticate': `Bearer realm="${base}/v2/token",service="upstream.test",scope="repository:${repo}:pull"`,
          'content-type': 'application/json',
        },
        body: '{"errors":[{"code":"UNAUTHORIZED"}]}',
      };
    }
    if (
      url.pathname === `${PREFIX}/pause/manifests/3.9` ||
      url.pathname === `${PREFIX}/pause/manifests/${sha256(MANIFEST)}`
    ) {
      return {
        status: 200,
        headers: {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'docker-content-digest': sha256(MANIFEST),
        },
        body: MANIFEST,
      };
    }
    // AR sends blobs to a relative download URL on its own host
    // (docs/reference/incidents.md#upstream-and-replication U6); the token goes along
    if (url.pathname.startsWith(`${PREFIX}/pause/blobs/`))
      return {
        status: 302,
        headers: { location: `/artifacts-downloads/namespaces/x/downloads/${url.pathname.split('/').pop()}` },
      };
    return { status: 404 };
  });
  redirectorUrl = await listen('redirector', (req) => ({
    status: 307,
    headers: { location: `${upstreamUrl}${PREFIX}${req.url!.slice(3)}` },
  }));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

beforeEach(() => {
  seen = [];
  tokenStatus = 200;
  issued = 0;
});

describe('the anonymous token flow through a redirector', () => {
  it('answers the upstream 401 with an anonymous token, retries with it, and never sends it elsewhere', async () => {
    const client = createOciClient({
      baseUrl: redirectorUrl,
      headers: { 'x-forwarded-for': '35.180.1.1,0.0.0.0' },
      originBoundHeaders: ['x-forwarded-for'],
    });
    const m = await client.getManifest('pause', '3.9');
    expect(m.digest).toBe(sha256(MANIFEST));
    expect(m.hops.map((h) => `${h.status} ${new URL(h.url).pathname}`)).toEqual([
      '307 /v2/pause/manifests/3.9',
      `401 ${PREFIX}/pause/manifests/3.9`,
      '200 /v2/token',
      `200 ${PREFIX}/pause/manifests/3.9`,
    ]);
    expect(m.hops[2]!.url).toContain('scope=repository%3Ak8s-artifacts-prod%2Fimages%2Fpause%3Apull');
    expect(m.hops[3]!.requestHeaders.authorization).toBe('<redacted>'); // recorded as sent, never its value
    // the redirector saw XFF and no token; the token request went out anonymous; only the upstream saw the token
    expect(
      seen
        .filter((s) => s.server === 'redirector')
        .every((s) => s.authorization === undefined && s.xff === '35.180.1.1,0.0.0.0'),
    ).toBe(true);
    const tokenRequest = seen.find((s) => s.url.startsWith('/v2/token'))!;
    expect(tokenRequest.authorization).toBeUndefined();
    expect(tokenRequest.xff).toBeUndefined();
    expect(
      seen
        .filter((s) => s.authorization !== undefined)
        .every((s) => s.server === 'upstream' && !s.url.startsWith('/v2/token')),
    ).toBe(true);
  });

  it('reuses the token for the same repository (no second 401) across chains', async () => {
    const client = createOciClient({ baseUrl: redirectorUrl });
    await client.headManifest('pause', '3.9');
    const second = await client.headManifest('pause', sha256(MANIFEST));
    expect(second.hops.map((h) => h.status)).toEqual([307, 200]);
    expect(issued).toBe(1);
  });

  it('pulls a whole image, the blobs going through a relative same-host redirect with the token', async () => {
    const client = createOciClient({ baseUrl: redirectorUrl });
    const blobs: Record<string, Buffer> = { [sha256(CONFIG)]: CONFIG, [sha256(LAYER)]: LAYER };
    // serve the download URLs from the upstream server itself
    const upstream = servers[0]!;
    const handler = upstream.listeners('request')[0] as (
      req: IncomingMessage,
      res: import('node:http').ServerResponse,
    ) => void;
    upstream.removeAllListeners('request');
    upstream.on('request', (req: IncomingMessage, res: import('node:http').ServerResponse) => {
      const m = /^\/artifacts-downloads\/namespaces\/x\/downloads\/(.+)$/.exec(req.url!);
      if (m && req.headers.authorization?.startsWith('Bearer ')) {
        seen.push({ server: 'upstream', method: req.method!, url: req.url!, authorization: req.headers.authorization });
        res.writeHead(200, { 'content-length': String(blobs[m[1]!]!.length) });
        res.end(blobs[m[1]!]);
        return;
      }
      handler(req, res);
    });
    try {
      const pulled = await pullImage(client, 'pause', '3.9');
      expect(pulled.blobs.map((b) => b.digest).sort()).toEqual(Object.keys(blobs).sort());
      expect(issued).toBe(1);
      const download = seen.filter((s) => s.url.startsWith('/artifacts-downloads/'));
      expect(download).toHaveLength(2);
      expect(
        download.every((s) => s.authorization === 'Bearer tok-repository:k8s-artifacts-prod/images/pause:pull'),
      ).toBe(true);
    } finally {
      upstream.removeAllListeners('request');
      upstream.on('request', handler);
    }
  });

  it('a realm that refuses anonymous tokens ends the chain with its status and the whole trace (U1)', async () => {
    tokenStatus = 403;
    const client = createOciClient({ baseUrl: redirectorUrl });
    const err = await client.getManifest('pause', '3.9').then(
      () => null,
      (e: unknown) => e as OciError,
    );
    expect(err).toBeInstanceOf(OciError);
    expect(err!.code).toBe('HTTP_STATUS');
    expect(err!.status).toBe(403);
    expect(err!.message).toMatch(/failed to fetch an anonymous token: .*\/v2\/token answered HTTP 403/);
    expect(err!.hops.map((h) => h.status)).toEqual([307, 401, 403]);
  });

  it('is off for first hops, pings and when disabled: the 401 comes back as it is', async () => {
    const direct = createOciClient({ baseUrl: upstreamUrl });
    expect((await direct.firstHop('GET', `${PREFIX}/pause/manifests/3.9`)).status).toBe(401);
    const off = createOciClient({ baseUrl: redirectorUrl, anonymousAuth: false });
    const ex = await off.exchange('GET', '/v2/pause/manifests/3.9');
    await ex.body.dump();
    expect(ex.status).toBe(401);
    expect(issued).toBe(0);
  });
});

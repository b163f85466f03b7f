/**
 * Hermetic tests of the OCI client on undici's MockAgent (no sockets; net connect disabled). Real-socket behaviour
 * (streaming, raw paths, source address, cross-origin headers as a server sees them) is in oci-client.stream.test.ts.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOciClient, type OciClient } from './oci-client.js';
import { failureClassOf, OciError } from './oci-error.js';
import { MediaType } from './media-types.js';

const FRONT = 'http://redirector.test';
const UPSTREAM = 'http://upstream.test:5000';
const BUCKET = 'https://bucket.test';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const sha512 = (b: Buffer | string) => `sha512:${createHash('sha512').update(b).digest('hex')}`;

const LAYER = Buffer.from('layer bytes '.repeat(1000));
const LAYER_DIGEST = sha256(LAYER);

let agent: MockAgent;
let client: OciClient;

type Captured = { path: string; method: string; headers: Record<string, string> };

function headersOf(opts: { headers?: unknown }): Record<string, string> {
  const out: Record<string, string> = {};
  const h = opts.headers as Record<string, string | string[]> | undefined;
  if (h !== undefined)
    for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
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

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  client = createOciClient({
    baseUrl: FRONT,
    dispatcher: agent,
    headers: { authorization: 'Bearer secret', 'x-forwarded-for': '203.0.113.7, 35.191.0.1' },
    originBoundHeaders: ['X-Forwarded-For'],
  });
});

afterEach(async () => {
  await agent.close();
});

describe('redirects and hops', () => {
  it('follows 307 → 302 → 200, records every hop, keeps credentials and marked headers on the base origin only', async () => {
    const seen: Captured[] = [];
    const capture = (status: number, data: Buffer | string, headers: Record<string, string>) => (opts: any) => {
      seen.push({ path: opts.path, method: opts.method, headers: headersOf(opts) });
      return { statusCode: status, data, responseOptions: { headers } };
    };
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(capture(307, '', { location: `${UPSTREAM}/v2/pause/blobs/${LAYER_DIGEST}`, 'cache-control': 'private' }));
    agent
      .get(UPSTREAM)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(capture(302, 'moved', { location: `${BUCKET}/containers/images/${LAYER_DIGEST}` }));
    agent
      .get(BUCKET)
      .intercept({ path: `/containers/images/${LAYER_DIGEST}` })
      .reply(
        capture(200, LAYER, { 'content-length': String(LAYER.length), 'content-type': 'application/octet-stream' }),
      );

    const r = await client.getBlob('pause', LAYER_DIGEST, { expectedSize: LAYER.length });
    expect(r.digest).toBe(LAYER_DIGEST);
    expect(r.size).toBe(LAYER.length);
    expect(r.hops.map((h) => [h.method, h.status, h.url])).toEqual([
      ['GET', 307, `${FRONT}/v2/pause/blobs/${LAYER_DIGEST}`],
      ['GET', 302, `${UPSTREAM}/v2/pause/blobs/${LAYER_DIGEST}`],
      ['GET', 200, `${BUCKET}/containers/images/${LAYER_DIGEST}`],
    ]);
    expect(r.hops[0]!.location).toBe(`${UPSTREAM}/v2/pause/blobs/${LAYER_DIGEST}`);
    expect(r.hops[0]!.headers['cache-control']).toBe('private');
    expect(r.hops[2]!.headers['content-length']).toBe(String(LAYER.length));
    expect(r.hops[2]!.bodyBytes).toBe(LAYER.length);
    expect(r.hops[1]!.bodyBytes).toBe(5);
    // what the servers received
    expect(seen[0]!.headers.authorization).toBe('Bearer secret');
    expect(seen[0]!.headers['x-forwarded-for']).toBe('203.0.113.7, 35.191.0.1');
    for (const s of seen.slice(1)) {
      expect(s.headers.authorization).toBeUndefined();
      expect(s.headers['x-forwarded-for']).toBeUndefined();
      expect(s.headers['accept-encoding']).toBe('identity');
    }
    // what the trace says was sent (credentials redacted, never recorded)
    expect(r.hops[0]!.requestHeaders.authorization).toBe('<redacted>');
    expect(r.hops[1]!.requestHeaders.authorization).toBeUndefined();
    expect(r.hops[1]!.requestHeaders['x-forwarded-for']).toBeUndefined();
    expect(r.hops.every((h, i) => i === 0 || h.startMs >= r.hops[i - 1]!.startMs)).toBe(true);
  });

  it('resolves a relative Location against the hop URL and keeps HEAD a HEAD across 302', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}`, method: 'HEAD' })
      .reply(302, '', { headers: { location: `/storage/${LAYER_DIGEST}` } });
    agent
      .get(FRONT)
      .intercept({ path: `/storage/${LAYER_DIGEST}`, method: 'HEAD' })
      .reply(200, '', {
        headers: { 'content-length': String(LAYER.length), 'docker-content-digest': LAYER_DIGEST },
      });
    const r = await client.headBlob('pause', LAYER_DIGEST);
    expect(r.size).toBe(LAYER.length);
    expect(r.hops.map((h) => `${h.method} ${h.url}`)).toEqual([
      `HEAD ${FRONT}/v2/pause/blobs/${LAYER_DIGEST}`,
      `HEAD ${FRONT}/storage/${LAYER_DIGEST}`,
    ]);
    // same origin: the marked header still goes along
    expect(r.hops[1]!.requestHeaders['x-forwarded-for']).toBe('203.0.113.7, 35.191.0.1');
  });

  it('stops after maxRedirects with TOO_MANY_REDIRECTS and the whole chain', async () => {
    const c = createOciClient({ baseUrl: FRONT, dispatcher: agent, maxRedirects: 3 });
    agent
      .get(FRONT)
      .intercept({ path: /\/loop\/\d+/ })
      .reply((opts) => {
        const n = Number(opts.path.split('/').pop());
        return { statusCode: 307, data: '', responseOptions: { headers: { location: `/loop/${n + 1}` } } };
      })
      .persist();
    const e = await caught(c.exchange('GET', '/loop/0'));
    expect(e.code).toBe('TOO_MANY_REDIRECTS');
    expect(e.hops.map((h) => h.url)).toEqual([0, 1, 2, 3].map((n) => `${FRONT}/loop/${n}`));
  });

  it('a 3xx without Location is the final answer (HTTP_STATUS for an endpoint)', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(307, '');
    const e = await caught(client.getBlob('pause', LAYER_DIGEST));
    expect(e.code).toBe('HTTP_STATUS');
    expect(e.status).toBe(307);
    expect(e.hops).toHaveLength(1);
  });

  it('firstHop sends one request and does not follow', async () => {
    agent
      .get(FRONT)
      .intercept({ path: '/v2/pause/manifests/3.10', method: 'HEAD' })
      .reply(307, '', { headers: { location: `${UPSTREAM}/v2/pause/manifests/3.10` } });
    const r = await client.firstHop('HEAD', '/v2/pause/manifests/3.10', { accept: MediaType.OciManifest });
    expect(r.status).toBe(307);
    expect(r.location).toBe(`${UPSTREAM}/v2/pause/manifests/3.10`);
    expect(r.hop.requestHeaders.accept).toBe(MediaType.OciManifest);
    expect(r.hops).toHaveLength(1);
  });

  it('transport failures are NETWORK errors that carry the failed hop', async () => {
    agent.get(FRONT).intercept({ path: '/v2/' }).replyWithError(new Error('socket hang up'));
    const e = await caught(client.ping());
    expect(e.code).toBe('NETWORK');
    expect(e.hops).toEqual([expect.objectContaining({ status: 0, url: `${FRONT}/v2/` })]);
    expect(failureClassOf(e)).toBe('availability');
  });
});

describe('verification', () => {
  it('DIGEST_MISMATCH when the bytes are not the digest, with the hop that served them', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(307, '', { headers: { location: `${BUCKET}/x` } });
    const corrupt = Buffer.from(LAYER);
    corrupt[100] ^= 1;
    agent.get(BUCKET).intercept({ path: '/x' }).reply(200, corrupt);
    const e = await caught(client.getBlob('pause', LAYER_DIGEST, { expectedSize: LAYER.length }));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.details).toMatchObject({ expected: LAYER_DIGEST, actual: sha256(corrupt) });
    expect(e.hops.at(-1)!.url).toBe(`${BUCKET}/x`);
    expect(failureClassOf(e)).toBe('integrity');
  });

  it('SIZE_MISMATCH before reading when Content-Length disagrees with the descriptor', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(200, LAYER, { headers: { 'content-length': String(LAYER.length) } });
    const e = await caught(client.getBlob('pause', LAYER_DIGEST, { expectedSize: LAYER.length - 1 }));
    expect(e.code).toBe('SIZE_MISMATCH');
    expect(e.details).toMatchObject({ header: 'content-length' });
  });

  it('SIZE_MISMATCH as soon as the body outgrows the descriptor (no Content-Length)', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(200, Buffer.concat([LAYER, Buffer.from('x')]));
    const e = await caught(client.getBlob('pause', LAYER_DIGEST, { expectedSize: LAYER.length }));
    expect(e.code).toBe('SIZE_MISMATCH');
  });

  it('verifies sha512 digests with sha512', async () => {
    const d = sha512(LAYER);
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${d}` })
      .reply(200, LAYER, { headers: { 'docker-content-digest': LAYER_DIGEST } });
    const r = await client.getBlob('pause', d, { expectedSize: LAYER.length });
    expect(r.digest).toBe(d);
    // a sha256 Docker-Content-Digest for a sha512 request (distribution 2.8 does this) is recorded, not compared
    expect(r.dockerContentDigest).toBe(LAYER_DIGEST);
  });

  it('UNSUPPORTED_DIGEST for a well-formed digest it cannot compute, BAD_DIGEST for a malformed one', async () => {
    expect((await caught(client.getBlob('pause', `blake3:${'a'.repeat(64)}`))).code).toBe('UNSUPPORTED_DIGEST');
    expect((await caught(client.getBlob('pause', 'sha256:short'))).code).toBe('BAD_DIGEST');
  });

  it('a Docker-Content-Digest that does not name the body is DIGEST_MISMATCH', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(200, LAYER, { headers: { 'docker-content-digest': sha256('other') } });
    const e = await caught(client.getBlob('pause', LAYER_DIGEST));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.details).toMatchObject({ header: 'docker-content-digest' });
  });

  it('sinks receive exactly the verified bytes', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(200, LAYER);
    const parts: Buffer[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (parts.push(c as Buffer), cb()) });
    await client.getBlob('pause', LAYER_DIGEST, { sink });
    expect(Buffer.concat(parts).equals(LAYER)).toBe(true);
    expect(sink.writableFinished).toBe(true);
  });
});

describe('manifests', () => {
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] }),
  );
  const digest = sha256(manifest);

  it('sends the explicit Accept list and identity encoding; verifies a by-digest body', async () => {
    let headers: Record<string, string> = {};
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/manifests/${digest}` })
      .reply((opts) => {
        headers = headersOf(opts);
        return {
          statusCode: 200,
          data: manifest,
          responseOptions: { headers: { 'content-type': MediaType.OciManifest, 'docker-content-digest': digest } },
        };
      });
    const m = await client.getManifest('pause', digest);
    expect(headers.accept!.split(', ')).toEqual([
      MediaType.OciIndex,
      MediaType.OciManifest,
      MediaType.DockerManifestList,
      MediaType.DockerManifest,
      MediaType.OciArtifactManifest,
    ]);
    expect(headers['accept-encoding']).toBe('identity');
    expect(m).toMatchObject({
      digest,
      size: manifest.length,
      mediaType: MediaType.OciManifest,
      bodyMediaType: MediaType.OciManifest,
      dockerContentDigest: digest,
    });
  });

  it('a by-digest body that hashes to something else is DIGEST_MISMATCH', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/manifests/${digest}` })
      .reply(200, Buffer.concat([manifest, Buffer.from(' ')]));
    expect((await caught(client.getManifest('pause', digest))).code).toBe('DIGEST_MISMATCH');
  });

  it('by tag: an expected digest is enforced; non-JSON is BAD_MANIFEST; oversize is SIZE_MISMATCH', async () => {
    agent.get(FRONT).intercept({ path: '/v2/pause/manifests/a' }).reply(200, manifest);
    expect((await caught(client.getManifest('pause', 'a', { expected: { digest: sha256('x') } }))).code).toBe(
      'DIGEST_MISMATCH',
    );
    agent.get(FRONT).intercept({ path: '/v2/pause/manifests/b' }).reply(200, '<html>');
    expect((await caught(client.getManifest('pause', 'b'))).code).toBe('BAD_MANIFEST');
    const small = createOciClient({ baseUrl: FRONT, dispatcher: agent, maxManifestBytes: 10 });
    agent.get(FRONT).intercept({ path: '/v2/pause/manifests/c' }).reply(200, manifest);
    expect((await caught(small.getManifest('pause', 'c'))).code).toBe('SIZE_MISMATCH');
  });

  it('HEAD reports type, length and digest; a wrong digest header on a by-digest HEAD is DIGEST_MISMATCH', async () => {
    agent
      .get(FRONT)
      .intercept({ path: '/v2/pause/manifests/3.10', method: 'HEAD' })
      .reply(200, '', {
        headers: {
          'content-type': `${MediaType.OciManifest}; charset=utf-8`,
          'content-length': '402',
          'docker-content-digest': digest,
        },
      });
    const h = await client.headManifest('pause', '3.10');
    expect(h).toMatchObject({
      mediaType: MediaType.OciManifest,
      contentType: `${MediaType.OciManifest}; charset=utf-8`,
      size: 402,
      dockerContentDigest: digest,
    });
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/manifests/${digest}`, method: 'HEAD' })
      .reply(200, '', { headers: { 'docker-content-digest': sha256('y') } });
    expect((await caught(client.headManifest('pause', digest))).code).toBe('DIGEST_MISMATCH');
  });

  it('HTTP_STATUS carries the status, the parsed OCI errors and a failure class', async () => {
    const body = JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
    agent
      .get(FRONT)
      .intercept({ path: '/v2/pause/manifests/nope' })
      .reply(404, body, { headers: { 'content-type': 'application/json' } });
    const e = await caught(client.getManifest('pause', 'nope'));
    expect(e).toMatchObject({
      code: 'HTTP_STATUS',
      status: 404,
      errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }],
    });
    expect(failureClassOf(e)).toBe('conformance');

    agent
      .get(FRONT)
      .intercept({ path: '/v2/pause/manifests/x' })
      .reply(429, '', { headers: { 'retry-after': '5' } });
    const limited = await caught(client.getManifest('pause', 'x'));
    expect(failureClassOf(limited)).toBe('rate-limited');
    expect(limited.hops[0]!.headers['retry-after']).toBe('5');
    agent
      .get(FRONT)
      .intercept({ path: '/v2/pause/manifests/y' })
      .reply(403, '<html>blocked</html>', { headers: { 'content-type': 'text/html; charset=UTF-8' } });
    expect(failureClassOf(await caught(client.getManifest('pause', 'y')))).toBe('blocked');
    agent.get(FRONT).intercept({ path: '/v2/pause/manifests/z' }).reply(503, 'down');
    expect(failureClassOf(await caught(client.getManifest('pause', 'z')))).toBe('availability');
  });
});

describe('tags/list', () => {
  it('follows Link rel="next" (relative, resolved against the page URL) and keeps every page', async () => {
    agent
      .get(FRONT)
      .intercept({ path: '/v2/pause/tags/list?n=2' })
      .reply(
        200,
        { name: 'pause', tags: ['a', 'b'] },
        {
          headers: { link: '</v2/pause/tags/list?n=2&last=b>; rel="next"' },
        },
      );
    agent
      .get(FRONT)
      .intercept({ path: '/v2/pause/tags/list?n=2&last=b' })
      .reply(307, '', { headers: { location: `${UPSTREAM}/v2/prefix/pause/tags/list?n=2&last=b` } });
    agent
      .get(UPSTREAM)
      .intercept({ path: '/v2/prefix/pause/tags/list?n=2&last=b' })
      .reply(200, { name: 'prefix/pause', tags: ['c'] });
    const r = await client.listTags('pause', { n: 2 });
    expect(r.tags).toEqual(['a', 'b', 'c']);
    expect(r.name).toBe('pause');
    expect(r.pages.map((p) => p.name)).toEqual(['pause', 'prefix/pause']);
    expect(r.pages[0]!.next).toBe(`${FRONT}/v2/pause/tags/list?n=2&last=b`);
    expect(r.hops.map((h) => h.status)).toEqual([200, 307, 200]);
  });

  it('a Link that loops is BAD_RESPONSE, not an endless crawl', async () => {
    agent
      .get(FRONT)
      .intercept({ path: '/v2/pause/tags/list' })
      .reply(200, { name: 'pause', tags: ['a'] }, { headers: { link: '</v2/pause/tags/list>; rel="next"' } });
    expect((await caught(client.listTags('pause'))).code).toBe('BAD_RESPONSE');
  });

  it('followLinks:false returns the first page only, with its next link', async () => {
    agent
      .get(FRONT)
      .intercept({ path: '/v2/pause/tags/list?n=1&last=a' })
      .reply(200, { name: 'pause', tags: ['b'] }, { headers: { link: '<?n=1&last=b>; rel="next"' } });
    const r = await client.listTags('pause', { n: 1, last: 'a', followLinks: false });
    expect(r.tags).toEqual(['b']);
    expect(r.pages[0]!.next).toBe(`${FRONT}/v2/pause/tags/list?n=1&last=b`);
  });
});

describe('referrers', () => {
  const subject = sha256('subject');
  const entry = {
    mediaType: MediaType.OciManifest,
    digest: sha256('r1'),
    size: 10,
    artifactType: 'application/x-sbom',
  };

  it('reads the API answer with its filters header', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/referrers/${subject}?artifactType=application%2Fx-sbom` })
      .reply(
        200,
        { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [entry] },
        { headers: { 'content-type': MediaType.OciIndex, 'oci-filters-applied': 'artifactType' } },
      );
    const r = await client.referrers('pause', subject, { artifactType: 'application/x-sbom' });
    expect(r).toMatchObject({
      source: 'api',
      status: 200,
      contentType: MediaType.OciIndex,
      filtersApplied: ['artifactType'],
      manifests: [entry],
    });
  });

  it('falls back to the sha256-<hex> tag on 404, and to "none" when that is missing too', async () => {
    const tag = `sha256-${subject.slice(7)}`;
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/referrers/${subject}` })
      .reply(404, '');
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/manifests/${tag}` })
      .reply(
        200,
        { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [entry] },
        {
          headers: { 'content-type': MediaType.OciIndex },
        },
      );
    const r = await client.referrers('pause', subject, { fallbackToTagSchema: true });
    expect(r.source).toBe('tag-schema');
    expect(r.manifests).toEqual([entry]);
    expect(r.hops.map((h) => h.status)).toEqual([404, 200]);

    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/referrers/${subject}` })
      .reply(404, '');
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/manifests/${tag}` })
      .reply(404, '');
    expect((await client.referrers('pause', subject, { fallbackToTagSchema: true })).source).toBe('none');

    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/referrers/${subject}` })
      .reply(404, '');
    expect((await caught(client.referrers('pause', subject))).status).toBe(404);
  });
});

describe('range and parity', () => {
  it('206: checks Content-Range against the bytes and the slice digest', async () => {
    const slice = LAYER.subarray(10, 20);
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}`, headers: { range: 'bytes=10-19' } })
      .reply(206, slice, {
        headers: { 'content-range': `bytes 10-19/${LAYER.length}`, 'content-length': '10' },
      });
    const r = await client.getBlobRange('pause', LAYER_DIGEST, { start: 10, end: 19 }, { sliceDigest: sha256(slice) });
    expect(r).toMatchObject({
      status: 206,
      size: 10,
      verified: 'slice',
      parsedContentRange: { kind: 'range', start: 10, end: 19, size: LAYER.length },
    });

    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(206, LAYER.subarray(0, 10), { headers: { 'content-range': `bytes 10-19/${LAYER.length}` } });
    expect(
      (await caught(client.getBlobRange('pause', LAYER_DIGEST, { start: 10, end: 19 }, { sliceDigest: sha256(slice) })))
        .code,
    ).toBe('DIGEST_MISMATCH');
  });

  it('416 and 200 are answers, not errors; a 200 must be the whole blob', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(416, '', { headers: { 'content-range': `bytes */${LAYER.length}` } });
    const r = await client.getBlobRange('pause', LAYER_DIGEST, 'bytes=500-0');
    expect(r).toMatchObject({
      status: 416,
      range: 'bytes=500-0',
      parsedContentRange: { kind: 'unsatisfied', size: LAYER.length },
      size: 0,
    });
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}` })
      .reply(200, LAYER);
    expect((await client.getBlobRange('pause', LAYER_DIGEST, { suffix: 5 })).verified).toBe('full');
  });

  it('HEAD/GET parity lists the headers that differ', async () => {
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}`, method: 'HEAD' })
      .reply(200, '', {
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(LAYER.length),
          'docker-content-digest': LAYER_DIGEST,
        },
      });
    agent
      .get(FRONT)
      .intercept({ path: `/v2/pause/blobs/${LAYER_DIGEST}`, method: 'GET' })
      .reply(200, LAYER, {
        headers: { 'content-type': 'binary/octet-stream', 'content-length': String(LAYER.length) },
      });
    const p = await client.headGetParity('blob', 'pause', LAYER_DIGEST);
    expect(p.mismatches).toEqual([
      'content-type: "application/octet-stream" (HEAD) vs "binary/octet-stream" (GET)',
      `docker-content-digest: "${LAYER_DIGEST}" (HEAD) vs undefined (GET)`,
    ]);
    expect(p.get.bodyDigest).toBe(LAYER_DIGEST);
  });
});

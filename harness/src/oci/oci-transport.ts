/**
 * The OCI client's transport, on undici's Dispatcher API: request chains, the anonymous token flow, hop recording
 * and the errors a chain ends with. The endpoint methods (oci-client.ts) are written on top of it. Never fetch:
 * fetch normalises paths, decodes Content-Encoding and follows redirects out of sight.
 *
 * - Redirects are followed by hand, up to `maxRedirects` (default 10, as Go's net/http), and every request of a chain
 *   is recorded as a hop (hop.ts) by `send`, the one place a hop is made. 307/308 keep the method; 301/302/303 turn
 *   anything but GET/HEAD into GET (RFC 9110, https://www.rfc-editor.org/rfc/rfc9110#section-15.4).
 * - Authorization, Proxy-Authorization, Cookie and any header the caller marks origin-bound (e.g. X-Forwarded-For,
 *   meant for the redirector only) are sent only to the base URL's origin: a hop to another scheme/host/port never
 *   sees them (the distribution spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md).
 * - `Accept-Encoding: identity` is sent unless the caller overrides it, so the bytes hashed are the bytes stored.
 *   Bodies are verified while they stream (body-verifier.ts).
 * - The first hop's path can be sent byte for byte (`raw`), so `..`, `%2e` and `//` reach the server.
 * - A 401 with a `Bearer` challenge is answered like Docker and containerd do: an anonymous token from the realm, then
 *   the same request again with `Authorization: Bearer`, sent only to the origin that challenged (registry-auth.ts).
 *   Artifact Registry, registry.k8s.io's upstream, needs it for every pull.
 *
 * docs/oci-client.md describes the hops and the errors.
 */
import type { Readable, Writable } from 'node:stream';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import { verifyBody, type VerifiedBody, type VerifyExpectation } from './body-verifier.js';
import { headerValue, pickRecordedHeaders, redactRequestHeaders, type OciHop } from './hop.js';
import { OciError, type OciErrorBodyEntry } from './oci-error.js';
import {
  AnonymousTokenCache,
  RegistryAuthError,
  bearerChallengeOf,
  parseTokenResponse,
  tokenRequestUrl,
  type BearerChallenge,
} from './registry-auth.js';

export interface OciTransportOptions {
  /** scheme://host[:port] of the registry (or redirector) the client talks to; a path part is ignored */
  baseUrl: string;
  /** headers sent on every request chain (e.g. X-Forwarded-For); per-call headers override them */
  headers?: Record<string, string>;
  /** header names (any case) sent only to the base URL's origin, in addition to the credentials always treated so */
  originBoundHeaders?: string[];
  /** e.g. `new Agent({ localAddress: '127.0.0.7' })` (undici's top-level option sets the source address) */
  dispatcher?: Dispatcher;
  /** redirects followed before TOO_MANY_REDIRECTS; default 10 */
  maxRedirects?: number;
  /** time allowed for each hop's response headers; default 30 s */
  headersTimeoutMs?: number;
  /** longest pause between body chunks; default 30 s */
  bodyTimeoutMs?: number;
  /** aborts everything in flight (ABORTED, or TIMEOUT when the reason is a TimeoutError) */
  signal?: AbortSignal;
  userAgent?: string;
  /** buffer of each response body stream; default 1 MiB (fewer, larger chunks hash faster) */
  highWaterMark?: number;
  /** clock for hop timings, in ms; default performance.now */
  now?: () => number;
  /**
   * answer a 401 `Bearer` challenge with an anonymous token from its realm and retry (default true; registry-auth.ts).
   * Only for followed chains: a first hop fetched without following is reported as it came.
   */
  anonymousAuth?: boolean;
}

/** Request headers; an array value is sent as repeated header lines. */
export type HeaderInput = Record<string, string | string[]>;

export interface ExchangeOptions {
  headers?: HeaderInput;
  /** follow redirects (default true) */
  follow?: boolean;
  /** send the first hop's path exactly as given (no URL parsing or normalisation) */
  raw?: boolean;
  maxRedirects?: number;
  /** request body (push); a stream body cannot be replayed, so a redirect then fails with BAD_RESPONSE */
  body?: Buffer | string | Readable;
  /** run the anonymous token flow on a 401 Bearer challenge (default: the client's `anonymousAuth`, when following) */
  auth?: boolean;
}

/** The final response of a chain. Its body must be consumed or dumped by the caller. */
export interface Exchange {
  hops: OciHop[];
  final: OciHop;
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** clock reading when the final hop's request was sent */
  startedAt: number;
}

/** The hops of one request chain so far, and when the chain started (hop start times are relative to it). */
interface HopChain {
  hops: OciHop[];
  startedAt: number;
}

/** One request of a chain, as `send` dispatches it. */
interface HopRequest {
  origin: string;
  path: string;
  method: string;
  headers: HeaderInput;
  /** the URL the hop records (the origin and path, as the caller names them) */
  url: string;
  body?: ExchangeOptions['body'] | null;
  highWaterMark?: number;
}

/** The largest error or probe body kept, and the most of any unwanted body read before dropping the connection. */
export const ERROR_BODY_LIMIT = 64 * 1024;

const ALWAYS_ORIGIN_BOUND = ['authorization', 'proxy-authorization', 'cookie'];
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export function lowerCaseKeys(h: HeaderInput | undefined): HeaderInput {
  const out: HeaderInput = {};
  if (h !== undefined) for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

export class OciTransport {
  readonly origin: string;
  readonly maxRedirects: number;
  private readonly dispatcher: Dispatcher;
  private readonly defaultHeaders: HeaderInput;
  private readonly originBound: Set<string>;
  private readonly headersTimeout: number;
  private readonly bodyTimeout: number;
  private readonly signal: AbortSignal | undefined;
  private readonly highWaterMark: number;
  private readonly now: () => number;
  private readonly anonymousAuth: boolean;
  private readonly tokens = new AnonymousTokenCache();

  constructor(options: OciTransportOptions) {
    const u = new URL(options.baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new TypeError(`baseUrl must be http(s): ${options.baseUrl}`);
    this.origin = u.origin;
    this.dispatcher = options.dispatcher ?? getGlobalDispatcher();
    this.maxRedirects = options.maxRedirects ?? 10;
    this.defaultHeaders = {
      'user-agent': options.userAgent ?? 'registry-canary-oci-client/0.1',
      'accept-encoding': 'identity',
      ...lowerCaseKeys(options.headers),
    };
    this.originBound = new Set([
      ...ALWAYS_ORIGIN_BOUND,
      ...(options.originBoundHeaders ?? []).map((h) => h.toLowerCase()),
    ]);
    this.headersTimeout = options.headersTimeoutMs ?? 30_000;
    this.bodyTimeout = options.bodyTimeoutMs ?? 30_000;
    this.signal = options.signal;
    this.highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.now = options.now ?? (() => performance.now());
    this.anonymousAuth = options.anonymousAuth ?? true;
  }

  /**
   * Sends one request chain and returns the final response (body unread). `target` is a path on the base URL or an
   * absolute URL.
   */
  async exchange(method: string, target: string, options: ExchangeOptions = {}): Promise<Exchange> {
    const follow = options.follow ?? true;
    const maxRedirects = options.maxRedirects ?? this.maxRedirects;
    const requestHeaders = { ...this.defaultHeaders, ...lowerCaseKeys(options.headers) };
    const chain: HopChain = { hops: [], startedAt: this.now() };
    const hops = chain.hops;
    let origin: string;
    let path: string;
    if (options.raw === true) {
      if (!target.startsWith('/')) throw new TypeError('a raw target must be a path starting with "/"');
      origin = this.origin;
      path = target;
    } else {
      const u = this.resolve(target);
      origin = u.origin;
      path = `${u.pathname}${u.search}`;
    }
    let currentMethod = method.toUpperCase();
    let body = options.body;
    const auth = options.auth ?? (this.anonymousAuth && follow);
    const replayable = (b: ExchangeOptions['body']) => b === undefined || typeof b === 'string' || Buffer.isBuffer(b);
    let challenged = false; // this hop's request already went out again with a fresh token
    // tokens used in this chain, by origin: a same-origin redirect (Artifact Registry's relative blob download URL)
    // keeps its token, as Go's client keeps Authorization on a same-host redirect
    const chainTokens = new Map<string, string>();
    for (let redirects = 0; ; redirects++) {
      const headers = this.headersFor(origin, requestHeaders, body !== undefined);
      if (auth && headers.authorization === undefined) {
        // a token learnt from this origin's challenge goes to this origin only (never across hosts)
        const token = this.tokens.get(origin, path, this.now()) ?? chainTokens.get(origin);
        if (token !== undefined) {
          headers.authorization = `Bearer ${token}`;
          chainTokens.set(origin, token);
        }
      }
      const url = `${origin}${path}`;
      const { res, hop, startedAt } = await this.send(chain, {
        origin,
        path,
        method: currentMethod,
        headers,
        url,
        body: body ?? null,
        highWaterMark: this.highWaterMark,
      });
      if (auth && res.statusCode === 401 && !challenged && replayable(body)) {
        const challenge = bearerChallengeOf(headerValue(res.headers, 'www-authenticate'));
        if (challenge !== null) {
          hop.bodyBytes = await this.drain(res.body, hops, url);
          const token = await this.anonymousToken(challenge, url, chain);
          this.tokens.set(origin, path, token);
          chainTokens.delete(origin); // the old one was refused
          challenged = true;
          redirects--; // the same request again: not a redirect
          continue;
        }
      }
      challenged = false;
      const location = hop.location;
      if (!follow || !REDIRECT_STATUSES.has(res.statusCode) || location === undefined) {
        return { hops, final: hop, url, status: res.statusCode, headers: res.headers, body: res.body, startedAt };
      }
      hop.bodyBytes = await this.drain(res.body, hops, url, 1024 * 1024);
      hop.durationMs = this.now() - startedAt;
      if (redirects >= maxRedirects) {
        throw new OciError('TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects, last to ${location}`, {
          hops,
          status: res.statusCode,
        });
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch (e) {
        throw new OciError('BAD_RESPONSE', `unparseable Location ${JSON.stringify(location)}`, {
          hops,
          status: res.statusCode,
          cause: e,
        });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new OciError('BAD_RESPONSE', `redirect to a non-HTTP URL ${next.href}`, { hops, status: res.statusCode });
      }
      if ([301, 302, 303].includes(res.statusCode) && currentMethod !== 'GET' && currentMethod !== 'HEAD') {
        currentMethod = 'GET';
        body = undefined;
      } else if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
        throw new OciError('BAD_RESPONSE', `cannot replay a streamed request body across a ${res.statusCode}`, {
          hops,
        });
      }
      origin = next.origin;
      path = `${next.pathname}${next.search}`;
    }
  }

  /** A path on the base URL, or an absolute URL, as a URL. */
  resolve(target: string): URL {
    return new URL(target, `${this.origin}/`);
  }

  /**
   * Sends one request of a chain and records it as the chain's next hop: the one place a hop is made. A request that
   * gets no response is recorded with status 0 and ends the chain with its transport error.
   */
  private async send(
    chain: HopChain,
    request: HopRequest,
  ): Promise<{ res: Dispatcher.ResponseData; hop: OciHop; startedAt: number }> {
    const { url, headers } = request;
    const startedAt = this.now();
    const record = (status: number, responseHeaders: Dispatcher.ResponseData['headers'] | null): OciHop => {
      const elapsed = this.now() - startedAt;
      const location = responseHeaders === null ? undefined : headerValue(responseHeaders, 'location');
      const hop: OciHop = {
        method: request.method,
        url,
        status,
        ...(location !== undefined ? { location } : {}),
        headers: responseHeaders === null ? {} : pickRecordedHeaders(responseHeaders),
        requestHeaders: redactRequestHeaders(headers),
        startMs: startedAt - chain.startedAt,
        durationMs: elapsed,
        headersMs: elapsed,
      };
      chain.hops.push(hop);
      return hop;
    };
    let res: Dispatcher.ResponseData;
    try {
      res = await this.dispatcher.request({
        origin: request.origin,
        path: request.path,
        method: request.method as Dispatcher.HttpMethod,
        headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
        headersTimeout: this.headersTimeout,
        bodyTimeout: this.bodyTimeout,
        signal: this.signal ?? null,
        ...(request.highWaterMark !== undefined ? { highWaterMark: request.highWaterMark } : {}),
      });
    } catch (e) {
      record(0, null);
      throw this.transportError(e, chain.hops, url);
    }
    return { res, hop: record(res.statusCode, res.headers), startedAt };
  }

  /**
   * GET the challenge's realm without credentials for an anonymous token (the token request is a hop of the chain).
   * A realm that refuses (a regional Artifact Registry answering 403) ends the chain with HTTP_STATUS and that status.
   */
  private async anonymousToken(challenge: BearerChallenge, challengedUrl: string, chain: HopChain) {
    const hops = chain.hops;
    let url: URL;
    try {
      url = tokenRequestUrl(challenge, challengedUrl);
    } catch (e) {
      throw new OciError('BAD_RESPONSE', `401 from ${challengedUrl}: ${(e as Error).message}`, {
        hops,
        status: 401,
        cause: e,
      });
    }
    const headers: HeaderInput = { 'user-agent': this.defaultHeaders['user-agent']!, accept: 'application/json' };
    const { res, hop, startedAt } = await this.send(chain, {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers,
      url: url.href,
    });
    const exchange: Exchange = {
      hops,
      final: hop,
      url: url.href,
      status: res.statusCode,
      headers: res.headers,
      body: res.body,
      startedAt,
    };
    const { body } = await this.readCapped(exchange, ERROR_BODY_LIMIT);
    if (res.statusCode !== 200) {
      throw new OciError(
        'HTTP_STATUS',
        `failed to fetch an anonymous token: ${url.origin}${url.pathname} answered HTTP ${res.statusCode} (asked for by the 401 from ${challengedUrl})`,
        {
          hops,
          status: res.statusCode,
          details: { body: body.toString('utf8').slice(0, 4096), realm: challenge.realm, scopes: challenge.scopes },
        },
      );
    }
    try {
      return parseTokenResponse(body.toString('utf8'), this.now());
    } catch (e) {
      if (e instanceof RegistryAuthError)
        throw new OciError('BAD_RESPONSE', `token from ${url.origin}${url.pathname}: ${e.message}`, {
          hops,
          status: 200,
          cause: e,
        });
      throw e;
    }
  }

  /** Headers for one hop: origin-bound ones only while talking to the base URL's origin. */
  private headersFor(origin: string, headers: HeaderInput, hasBody: boolean): HeaderInput {
    const out: HeaderInput = {};
    for (const [k, v] of Object.entries(headers)) {
      if (origin !== this.origin && this.originBound.has(k)) continue;
      if (!hasBody && (k === 'content-type' || k === 'content-length')) continue;
      out[k] = v;
    }
    return out;
  }

  /** The OciError a failed request or body read ends its chain with (TIMEOUT, ABORTED or NETWORK), with the hops. */
  private transportError(e: unknown, hops: OciHop[], url: string): OciError {
    if (e instanceof OciError) return e.hops.length > 0 ? e : e.withHops(hops);
    const err = e as { code?: string; name?: string; message?: string };
    const reason = this.signal?.reason as { name?: string } | undefined;
    if (
      err.code === 'UND_ERR_HEADERS_TIMEOUT' ||
      err.code === 'UND_ERR_BODY_TIMEOUT' ||
      err.code === 'UND_ERR_CONNECT_TIMEOUT'
    ) {
      return new OciError('TIMEOUT', `${err.code} on ${url}`, { hops, cause: e });
    }
    if (
      err.name === 'AbortError' ||
      err.code === 'UND_ERR_ABORTED' ||
      err.code === 'ABORT_ERR' ||
      this.signal?.aborted === true
    ) {
      if (reason?.name === 'TimeoutError') return new OciError('TIMEOUT', `timed out on ${url}`, { hops, cause: e });
      return new OciError('ABORTED', `aborted on ${url}`, { hops, cause: e });
    }
    return new OciError('NETWORK', `${err.code ?? err.name ?? 'error'} on ${url}: ${err.message ?? String(e)}`, {
      hops,
      cause: e,
    });
  }

  /** Reads and discards a body (at most `limit` bytes, then the connection is dropped); returns the count. */
  async drain(
    body: Dispatcher.ResponseData['body'],
    hops: OciHop[],
    url: string,
    limit = ERROR_BODY_LIMIT,
  ): Promise<number> {
    let n = 0;
    try {
      for await (const chunk of body) {
        n += (chunk as Buffer).byteLength;
        if (n > limit) {
          body.destroy();
          break;
        }
      }
    } catch (e) {
      throw this.transportError(e, hops, url);
    }
    return n;
  }

  /** Reads up to `limit` body bytes, then drops the rest. */
  async readCapped(ex: Exchange, limit: number): Promise<{ body: Buffer; bodyBytes: number; truncated: boolean }> {
    const chunks: Buffer[] = [];
    let kept = 0;
    let total = 0;
    let truncated = false;
    const start = ex.startedAt;
    try {
      for await (const c of ex.body) {
        const chunk = c as Buffer;
        total += chunk.byteLength;
        if (kept < limit) {
          const part = chunk.subarray(0, limit - kept);
          chunks.push(part);
          kept += part.byteLength;
        }
        if (total > limit) {
          truncated = true;
          ex.body.destroy();
          break;
        }
      }
    } catch (e) {
      throw this.transportError(e, ex.hops, ex.url);
    }
    ex.final.bodyBytes = total;
    ex.final.durationMs = this.now() - start;
    return { body: Buffer.concat(chunks, kept), bodyBytes: total, truncated };
  }

  /** Streams the final body through the verifier, records the byte count, and attaches hops to any error. */
  async readVerified(
    ex: Exchange,
    expected: VerifyExpectation,
    opts: { collect?: boolean; collectLimit?: number; sink?: Writable; onProgress?: (n: number) => void } = {},
  ): Promise<VerifiedBody> {
    const start = ex.startedAt;
    let bytes = 0;
    try {
      const result = await verifyBody(ex.body, expected, {
        ...opts,
        onProgress: (n) => {
          bytes = n;
          opts.onProgress?.(n);
        },
      });
      return result;
    } catch (e) {
      throw this.transportError(e, ex.hops, ex.url);
    } finally {
      ex.final.bodyBytes = bytes;
      ex.final.durationMs = this.now() - start;
    }
  }

  /** Throws HTTP_STATUS (with the parsed OCI error body) unless the final status is one of `ok`. */
  async expectStatus(ex: Exchange, ok: readonly number[], what: string): Promise<void> {
    if (ok.includes(ex.status)) return;
    const { body } = await this.readCapped(ex, ERROR_BODY_LIMIT);
    const text = body.toString('utf8');
    let errors: OciErrorBodyEntry[] | undefined;
    try {
      const parsed = JSON.parse(text) as { errors?: unknown };
      if (Array.isArray(parsed.errors)) errors = parsed.errors as OciErrorBodyEntry[];
    } catch {
      // not JSON: the spec allows any 4xx body format
    }
    const codes = errors?.map((e) => e.code).join(', ');
    throw new OciError('HTTP_STATUS', `${what}: HTTP ${ex.status}${codes ? ` (${codes})` : ''} from ${ex.url}`, {
      hops: ex.hops,
      status: ex.status,
      ...(errors !== undefined ? { errors } : {}),
      details: { body: text.slice(0, 4096) },
    });
  }
}

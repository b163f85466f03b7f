/**
 * The harness's OCI distribution pull client, on undici's Dispatcher API (never fetch: fetch normalises paths,
 * decodes Content-Encoding and follows redirects out of sight; oci-pull-path.md §5).
 *
 * - Redirects are followed by hand, up to `maxRedirects` (default 10, as Go clients; §3.1), and every hop is
 *   recorded (hop.ts). 307/308 keep the method; 301/302/303 turn anything but GET/HEAD into GET (RFC 9110 §15.4).
 * - Authorization, Proxy-Authorization, Cookie and any header the caller marks origin-bound (e.g. X-Forwarded-For,
 *   meant for the redirector only) are sent only to the base URL's origin: a hop to another scheme/host/port never
 *   sees them (spec main §2.1 "MUST NOT forward Authorization across host boundaries"; §4 E17).
 * - `Accept-Encoding: identity` is sent unless the caller overrides it, so the bytes hashed are the bytes stored
 *   (§3.2 item 5). Bodies are verified while they stream (body-verifier.ts).
 * - The first hop's path can be sent byte for byte (`raw`), so `..`, `%2e` and `//` reach the server (§4 E13).
 * - A 401 with a `Bearer` challenge is answered like Docker and containerd do: an anonymous token from the realm, then
 *   the same request again with `Authorization: Bearer`, sent only to the origin that challenged (registry-auth.ts).
 *   Artifact Registry, registry.k8s.io's upstream, needs it for every pull (field-failures.md U1).
 *
 * One method per endpoint; pullImage (pull-image.ts) composes them.
 */
import type { Readable, Writable } from 'node:stream';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import { verifyBody, type VerifiedBody, type VerifyExpectation } from './body-verifier.js';
import { parseContentRange, rangeHeaderValue, type ByteRangeRequest, type ContentRange } from './byte-range.js';
import { computableAlgorithm, digestOf, isDigest, parseDigest, referrersTagFor, tryParseDigest } from './digest.js';
import { descriptorProblem, isImageIndexJson, type Descriptor } from './descriptor.js';
import { headerValue, pickRecordedHeaders, redactRequestHeaders, type OciHop } from './hop.js';
import { nextLink } from './link-header.js';
import { acceptHeader, essenceOf, MANIFEST_ACCEPT, MediaType } from './media-types.js';
import { OciError, type OciErrorBodyEntry } from './oci-error.js';
import { AnonymousTokenCache, RegistryAuthError, bearerChallengeOf, parseTokenResponse, tokenRequestUrl, type BearerChallenge } from './registry-auth.js';

export interface OciClientOptions {
  /** scheme://host[:port] of the registry (or redirector) the client talks to; a path part is ignored */
  baseUrl: string;
  /** headers sent on every request chain (e.g. X-Forwarded-For); per-call headers override them */
  headers?: Record<string, string>;
  /** header names (any case) sent only to the base URL's origin, in addition to the credentials always treated so */
  originBoundHeaders?: string[];
  /** e.g. `new Agent({ localAddress: '127.0.0.7' })` (toolchain.md §1: the top-level option sets the source address) */
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
  /** largest manifest body accepted; default 8 MiB (spec §2.4: handle ≥ 4 MB) */
  maxManifestBytes?: number;
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

export interface PingResult {
  hops: OciHop[];
  status: number;
  apiVersion?: string;
}

export interface ManifestOptions {
  /** Accept types; default every manifest type the client knows (media-types.ts MANIFEST_ACCEPT) */
  accept?: readonly string[];
  /** send each Accept type as its own header line instead of one comma-joined line (§4 E4) */
  acceptAsSeparateLines?: boolean;
  headers?: Record<string, string>;
  /** also require this digest/size (e.g. from the target's image list when pulling by tag) */
  expected?: { digest?: string; size?: number };
  /** verify a Docker-Content-Digest the final hop sends against the body/requested digest; default true */
  checkDigestHeader?: boolean;
}

export interface ManifestHead {
  hops: OciHop[];
  status: number;
  contentType?: string;
  mediaType?: string;
  size?: number;
  dockerContentDigest?: string;
}

export interface ManifestResult extends ManifestHead {
  /** computed digest of the body (the requested digest's algorithm, else sha256) */
  digest: string;
  size: number;
  bytes: Buffer;
  json: Record<string, unknown>;
  /** the `mediaType` field of the body, when present */
  bodyMediaType?: string;
}

export interface BlobHead {
  hops: OciHop[];
  status: number;
  contentType?: string;
  size?: number;
  dockerContentDigest?: string;
}

export interface BlobOptions {
  headers?: Record<string, string>;
  /** descriptor size: checked against Content-Length before reading and against the bytes while reading */
  expectedSize?: number;
  /** receives the verified bytes; default: discarded */
  sink?: Writable;
  onProgress?: (bytes: number) => void;
  checkDigestHeader?: boolean;
}

export interface BlobResult {
  hops: OciHop[];
  status: number;
  digest: string;
  size: number;
  contentType?: string;
  dockerContentDigest?: string;
}

export interface RangeOptions {
  headers?: Record<string, string>;
  /** expected digest of the requested slice (any computable algorithm); a 206 body that differs throws */
  sliceDigest?: string;
  /** the blob's size, to verify a 200 answer (range ignored) is the whole blob */
  blobSize?: number;
  sink?: Writable;
}

export interface RangeResult {
  hops: OciHop[];
  status: number;
  /** the Range header value sent */
  range: string;
  contentRange?: string;
  parsedContentRange: ContentRange | null;
  contentLength?: number;
  /** bytes received (0 for statuses other than 200/206, whose bodies are drained) */
  size: number;
  /** digest of the bytes received, with the algorithm of `sliceDigest` or the blob digest */
  digest: string;
  /** what the body was checked against: the slice digest (206), the blob digest (200), or nothing */
  verified: 'slice' | 'full' | 'none';
}

export interface ParitySide {
  hops: OciHop[];
  status: number;
  contentType?: string;
  contentLength?: number;
  dockerContentDigest?: string;
}

export interface ParityResult {
  head: ParitySide;
  get: ParitySide & { bodyBytes: number; bodyDigest?: string };
  /** header/status differences between the final HEAD and GET hops, e.g. `content-type: "a" (HEAD) vs "b" (GET)` */
  mismatches: string[];
}

export interface TagPage {
  url: string;
  hops: OciHop[];
  name: string;
  tags: string[];
  link?: string;
  next?: string;
}

export interface TagList {
  name: string;
  tags: string[];
  pages: TagPage[];
  hops: OciHop[];
}

export interface ListTagsOptions {
  n?: number;
  last?: string;
  /** follow `Link: <…>; rel="next"` (default true) */
  followLinks?: boolean;
  /** pages fetched before BAD_RESPONSE (a Link loop); default 1000 */
  maxPages?: number;
  headers?: Record<string, string>;
}

export interface ReferrersOptions {
  artifactType?: string;
  /** on 404 fetch the referrers tag schema `sha256-<hex>` (spec §2.8 client fallback); default false */
  fallbackToTagSchema?: boolean;
  followLinks?: boolean;
  maxPages?: number;
  headers?: Record<string, string>;
}

export interface ReferrersResult {
  /** where the list came from; `none` = API 404 and no fallback tag */
  source: 'api' | 'tag-schema' | 'none';
  status: number;
  contentType?: string;
  /** `OCI-Filters-Applied` values of the first page */
  filtersApplied: string[];
  manifests: Descriptor[];
  pages: { url: string; hops: OciHop[]; manifests: Descriptor[]; next?: string }[];
  hops: OciHop[];
}

export interface ProbeOptions {
  headers?: Record<string, string>;
  follow?: boolean;
  /** body bytes kept (default 64 KiB); the rest is drained and counted */
  maxBody?: number;
}

export interface ProbeResult {
  hops: OciHop[];
  status: number;
  headers: Record<string, string>;
  location?: string;
  body: Buffer;
  bodyBytes: number;
  truncated: boolean;
}

export interface FirstHopResult extends ProbeResult {
  hop: OciHop;
}

const ALWAYS_ORIGIN_BOUND = ['authorization', 'proxy-authorization', 'cookie'];
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const ERROR_BODY_LIMIT = 64 * 1024;

function lowerCaseKeys(h: HeaderInput | undefined): HeaderInput {
  const out: HeaderInput = {};
  if (h !== undefined) for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

function parseIntHeader(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

export class OciClient {
  readonly baseUrl: string;
  readonly origin: string;
  readonly maxRedirects: number;
  private readonly dispatcher: Dispatcher;
  private readonly defaultHeaders: HeaderInput;
  private readonly originBound: Set<string>;
  private readonly headersTimeout: number;
  private readonly bodyTimeout: number;
  private readonly signal: AbortSignal | undefined;
  private readonly maxManifestBytes: number;
  private readonly highWaterMark: number;
  private readonly now: () => number;
  private readonly anonymousAuth: boolean;
  private readonly tokens = new AnonymousTokenCache();

  constructor(options: OciClientOptions) {
    const u = new URL(options.baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`baseUrl must be http(s): ${options.baseUrl}`);
    this.origin = u.origin;
    this.baseUrl = u.origin;
    this.dispatcher = options.dispatcher ?? getGlobalDispatcher();
    this.maxRedirects = options.maxRedirects ?? 10;
    this.defaultHeaders = {
      'user-agent': options.userAgent ?? 'registry-canary-oci-client/0.1',
      'accept-encoding': 'identity',
      ...lowerCaseKeys(options.headers),
    };
    this.originBound = new Set([...ALWAYS_ORIGIN_BOUND, ...(options.originBoundHeaders ?? []).map((h) => h.toLowerCase())]);
    this.headersTimeout = options.headersTimeoutMs ?? 30_000;
    this.bodyTimeout = options.bodyTimeoutMs ?? 30_000;
    this.signal = options.signal;
    this.maxManifestBytes = options.maxManifestBytes ?? 8 * 1024 * 1024;
    this.highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.now = options.now ?? (() => performance.now());
    this.anonymousAuth = options.anonymousAuth ?? true;
  }

  // ---------------------------------------------------------------- transport

  /**
   * Sends one request chain and returns the final response (body unread). Used by every endpoint method; exposed
   * for probes the endpoint methods do not cover. `target` is a path on the base URL or an absolute URL.
   */
  async exchange(method: string, target: string, options: ExchangeOptions = {}): Promise<Exchange> {
    const follow = options.follow ?? true;
    const maxRedirects = options.maxRedirects ?? this.maxRedirects;
    const requestHeaders = { ...this.defaultHeaders, ...lowerCaseKeys(options.headers) };
    const hops: OciHop[] = [];
    const chainStart = this.now();
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
    // tokens used in this chain, by origin: a same-origin redirect (AR's relative blob download URL, U6) keeps its
    // token, as Go's client keeps Authorization on a same-host redirect
    const chainTokens = new Map<string, string>();
    for (let redirects = 0; ; redirects++) {
      const headers = this.headersFor(origin, requestHeaders, body !== undefined);
      if (auth && headers.authorization === undefined) {
        // a token learnt from this origin's challenge goes to this origin only (never across hosts: spec §2.1)
        const token = this.tokens.get(origin, path, this.now()) ?? chainTokens.get(origin);
        if (token !== undefined) {
          headers.authorization = `Bearer ${token}`;
          chainTokens.set(origin, token);
        }
      }
      const url = `${origin}${path}`;
      const start = this.now();
      let res: Dispatcher.ResponseData;
      try {
        res = await this.dispatcher.request({
          origin,
          path,
          method: currentMethod as Dispatcher.HttpMethod,
          headers,
          body: body ?? null,
          headersTimeout: this.headersTimeout,
          bodyTimeout: this.bodyTimeout,
          signal: this.signal ?? null,
          highWaterMark: this.highWaterMark,
        });
      } catch (e) {
        hops.push({
          method: currentMethod,
          url,
          status: 0,
          headers: {},
          requestHeaders: redactRequestHeaders(headers),
          startMs: start - chainStart,
          durationMs: this.now() - start,
          headersMs: this.now() - start,
        });
        throw this.transportError(e, hops, url);
      }
      const elapsed = this.now() - start;
      const location = headerValue(res.headers, 'location');
      const hop: OciHop = {
        method: currentMethod,
        url,
        status: res.statusCode,
        ...(location !== undefined ? { location } : {}),
        headers: pickRecordedHeaders(res.headers),
        requestHeaders: redactRequestHeaders(headers),
        startMs: start - chainStart,
        durationMs: elapsed,
        headersMs: elapsed,
      };
      hops.push(hop);
      if (auth && res.statusCode === 401 && !challenged && replayable(body)) {
        const challenge = bearerChallengeOf(headerValue(res.headers, 'www-authenticate'));
        if (challenge !== null) {
          hop.bodyBytes = await this.drain(res.body, hops, url);
          const token = await this.anonymousToken(challenge, url, hops, chainStart);
          this.tokens.set(origin, path, token);
          chainTokens.delete(origin); // the old one was refused
          challenged = true;
          redirects--; // the same request again: not a redirect
          continue;
        }
      }
      challenged = false;
      if (!follow || !REDIRECT_STATUSES.has(res.statusCode) || location === undefined) {
        return { hops, final: hop, url, status: res.statusCode, headers: res.headers, body: res.body, startedAt: start };
      }
      hop.bodyBytes = await this.drain(res.body, hops, url, 1024 * 1024);
      hop.durationMs = this.now() - start;
      if (redirects >= maxRedirects) {
        throw new OciError('TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects, last to ${location}`, { hops, status: res.statusCode });
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch (e) {
        throw new OciError('BAD_RESPONSE', `unparseable Location ${JSON.stringify(location)}`, { hops, status: res.statusCode, cause: e });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new OciError('BAD_RESPONSE', `redirect to a non-HTTP URL ${next.href}`, { hops, status: res.statusCode });
      }
      if ([301, 302, 303].includes(res.statusCode) && currentMethod !== 'GET' && currentMethod !== 'HEAD') {
        currentMethod = 'GET';
        body = undefined;
      } else if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
        throw new OciError('BAD_RESPONSE', `cannot replay a streamed request body across a ${res.statusCode}`, { hops });
      }
      origin = next.origin;
      path = `${next.pathname}${next.search}`;
    }
  }

  private resolve(target: string): URL {
    return new URL(target, `${this.origin}/`);
  }

  /**
   * GET the challenge's realm without credentials for an anonymous token (the token request is a hop of the chain).
   * A realm that refuses (U1: a regional AR answering 403) ends the chain with HTTP_STATUS and that status.
   */
  private async anonymousToken(challenge: BearerChallenge, challengedUrl: string, hops: OciHop[], chainStart: number) {
    let url: URL;
    try {
      url = tokenRequestUrl(challenge, challengedUrl);
    } catch (e) {
      throw new OciError('BAD_RESPONSE', `401 from ${challengedUrl}: ${(e as Error).message}`, { hops, status: 401, cause: e });
    }
    const headers: HeaderInput = { 'user-agent': this.defaultHeaders['user-agent']!, accept: 'application/json' };
    const start = this.now();
    let res: Dispatcher.ResponseData;
    try {
      res = await this.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers,
        headersTimeout: this.headersTimeout,
        bodyTimeout: this.bodyTimeout,
        signal: this.signal ?? null,
      });
    } catch (e) {
      hops.push({ method: 'GET', url: url.href, status: 0, headers: {}, requestHeaders: redactRequestHeaders(headers), startMs: start - chainStart, durationMs: this.now() - start, headersMs: this.now() - start });
      throw this.transportError(e, hops, url.href);
    }
    const hop: OciHop = {
      method: 'GET',
      url: url.href,
      status: res.statusCode,
      headers: pickRecordedHeaders(res.headers),
      requestHeaders: redactRequestHeaders(headers),
      startMs: start - chainStart,
      durationMs: this.now() - start,
      headersMs: this.now() - start,
    };
    hops.push(hop);
    const { body } = await this.readCapped({ hops, final: hop, url: url.href, status: res.statusCode, headers: res.headers, body: res.body, startedAt: start }, ERROR_BODY_LIMIT);
    if (res.statusCode !== 200) {
      throw new OciError('HTTP_STATUS', `failed to fetch an anonymous token: ${url.origin}${url.pathname} answered HTTP ${res.statusCode} (asked for by the 401 from ${challengedUrl})`, {
        hops,
        status: res.statusCode,
        details: { body: body.toString('utf8').slice(0, 4096), realm: challenge.realm, scopes: challenge.scopes },
      });
    }
    try {
      return parseTokenResponse(body.toString('utf8'), this.now());
    } catch (e) {
      if (e instanceof RegistryAuthError) throw new OciError('BAD_RESPONSE', `token from ${url.origin}${url.pathname}: ${e.message}`, { hops, status: 200, cause: e });
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

  private transportError(e: unknown, hops: OciHop[], url: string): OciError {
    if (e instanceof OciError) return e.hops.length > 0 ? e : e.withHops(hops);
    const err = e as { code?: string; name?: string; message?: string };
    const reason = this.signal?.reason as { name?: string } | undefined;
    if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT' || err.code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new OciError('TIMEOUT', `${err.code} on ${url}`, { hops, cause: e });
    }
    if (err.name === 'AbortError' || err.code === 'UND_ERR_ABORTED' || err.code === 'ABORT_ERR' || this.signal?.aborted === true) {
      if (reason?.name === 'TimeoutError') return new OciError('TIMEOUT', `timed out on ${url}`, { hops, cause: e });
      return new OciError('ABORTED', `aborted on ${url}`, { hops, cause: e });
    }
    return new OciError('NETWORK', `${err.code ?? err.name ?? 'error'} on ${url}: ${err.message ?? String(e)}`, { hops, cause: e });
  }

  /** Reads and discards a body (at most `limit` bytes, then the connection is dropped); returns the count. */
  private async drain(body: Dispatcher.ResponseData['body'], hops: OciHop[], url: string, limit = ERROR_BODY_LIMIT): Promise<number> {
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
  private async readCapped(ex: Exchange, limit: number): Promise<{ body: Buffer; bodyBytes: number; truncated: boolean }> {
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
  private async readVerified(
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
  private async expectStatus(ex: Exchange, ok: readonly number[], what: string): Promise<void> {
    if (ok.includes(ex.status)) return;
    const { body } = await this.readCapped(ex, ERROR_BODY_LIMIT);
    const text = body.toString('utf8');
    let errors: OciErrorBodyEntry[] | undefined;
    try {
      const parsed = JSON.parse(text) as { errors?: unknown };
      if (Array.isArray(parsed.errors)) errors = parsed.errors as OciErrorBodyEntry[];
    } catch {
      // not JSON: the spec allows any 4xx body format (§2.6)
    }
    const codes = errors?.map((e) => e.code).join(', ');
    throw new OciError('HTTP_STATUS', `${what}: HTTP ${ex.status}${codes ? ` (${codes})` : ''} from ${ex.url}`, {
      hops: ex.hops,
      status: ex.status,
      ...(errors !== undefined ? { errors } : {}),
      details: { body: text.slice(0, 4096) },
    });
  }

  /**
   * Docker-Content-Digest, when present, must name the body (spec §2.4/§2.5: "if present, MUST match"). A header in
   * another algorithm is checked when the bytes are at hand (manifests); over a streamed blob it cannot be.
   */
  private verifyDigestHeader(ex: Exchange, body: { digest: string; bytes?: Buffer }): void {
    const dcd = headerValue(ex.headers, 'docker-content-digest')?.trim();
    if (dcd === undefined) return;
    const parsed = tryParseDigest(dcd);
    if (parsed === null) {
      throw new OciError('BAD_RESPONSE', `Docker-Content-Digest ${JSON.stringify(dcd)} is not a digest`, { hops: ex.hops, status: ex.status });
    }
    let actual: string;
    if (parsed.algorithm === parseDigest(body.digest).algorithm) actual = body.digest;
    else if (body.bytes !== undefined && (parsed.algorithm === 'sha256' || parsed.algorithm === 'sha512')) actual = digestOf(body.bytes, parsed.algorithm);
    else return;
    if (dcd !== actual) {
      throw new OciError('DIGEST_MISMATCH', `Docker-Content-Digest ${dcd} does not match the body (${actual})`, {
        hops: ex.hops,
        status: ex.status,
        details: { header: 'docker-content-digest', expected: actual, actual: dcd },
      });
    }
  }

  /** Accept as one comma-joined line, or (acceptAsSeparateLines) one line per type, as G2 sends (§1.5). */
  private manifestRequestHeaders(opts: ManifestOptions): HeaderInput {
    const types = opts.accept ?? MANIFEST_ACCEPT;
    const accept = opts.acceptAsSeparateLines === true ? [...types] : acceptHeader(types);
    return { accept, ...lowerCaseKeys(opts.headers) };
  }

  private async manifestExchange(method: 'GET' | 'HEAD', repo: string, reference: string, opts: ManifestOptions): Promise<Exchange> {
    return this.exchange(method, `/v2/${repo}/manifests/${reference}`, { headers: this.manifestRequestHeaders(opts) });
  }

  // ---------------------------------------------------------------- endpoints

  /** `GET /v2/` (spec §2.2): 200, or 401 with a challenge. Anything else is HTTP_STATUS. */
  async ping(headers?: Record<string, string>): Promise<PingResult> {
    // no token flow: a ping reports the challenge as it is (spec §2.2; registry.k8s.io must not send one, #78)
    const ex = await this.exchange('GET', '/v2/', { ...(headers ? { headers } : {}), auth: false });
    await this.expectStatus(ex, [200, 401], 'ping');
    await this.readCapped(ex, ERROR_BODY_LIMIT);
    const apiVersion = headerValue(ex.headers, 'docker-distribution-api-version');
    return { hops: ex.hops, status: ex.status, ...(apiVersion !== undefined ? { apiVersion } : {}) };
  }

  /** `HEAD /v2/<name>/manifests/<reference>` (spec §2.4). */
  async headManifest(repo: string, reference: string, opts: ManifestOptions = {}): Promise<ManifestHead> {
    const ex = await this.manifestExchange('HEAD', repo, reference, opts);
    await this.expectStatus(ex, [200], `HEAD manifest ${repo}:${reference}`);
    await this.drain(ex.body, ex.hops, ex.url);
    const head = this.headFields(ex);
    if ((opts.checkDigestHeader ?? true) && head.dockerContentDigest !== undefined && isDigest(reference)) {
      if (head.dockerContentDigest !== reference && tryParseDigest(head.dockerContentDigest)?.algorithm === parseDigest(reference).algorithm) {
        throw new OciError('DIGEST_MISMATCH', `Docker-Content-Digest ${head.dockerContentDigest} on HEAD of ${reference}`, {
          hops: ex.hops,
          status: ex.status,
          details: { header: 'docker-content-digest', expected: reference, actual: head.dockerContentDigest },
        });
      }
    }
    return head;
  }

  private headFields(ex: Exchange): ManifestHead {
    const contentType = headerValue(ex.headers, 'content-type');
    const mediaType = essenceOf(contentType);
    const size = parseIntHeader(headerValue(ex.headers, 'content-length'));
    const dcd = headerValue(ex.headers, 'docker-content-digest')?.trim();
    return {
      hops: ex.hops,
      status: ex.status,
      ...(contentType !== undefined ? { contentType } : {}),
      ...(mediaType !== undefined ? { mediaType } : {}),
      ...(size !== undefined ? { size } : {}),
      ...(dcd !== undefined ? { dockerContentDigest: dcd } : {}),
    };
  }

  /**
   * `GET /v2/<name>/manifests/<reference>` (spec §2.4). The body is read (capped at maxManifestBytes), hashed and
   * checked: by digest it must hash to the reference (clients SHOULD verify; ggcr and Docker MUST); any
   * `expected` digest/size must match; a Docker-Content-Digest must name the body. It must be a JSON object.
   */
  async getManifest(repo: string, reference: string, opts: ManifestOptions = {}): Promise<ManifestResult> {
    const byDigest = isDigest(reference);
    const ex = await this.manifestExchange('GET', repo, reference, opts);
    await this.expectStatus(ex, [200], `GET manifest ${repo}:${reference}`);
    const head = this.headFields(ex);
    const expectedDigest = byDigest ? reference : opts.expected?.digest;
    const expectedSize = opts.expected?.size;
    if (expectedSize !== undefined && head.size !== undefined && head.size !== expectedSize) {
      ex.body.destroy();
      throw new OciError('SIZE_MISMATCH', `Content-Length ${head.size} of ${repo}:${reference}, expected ${expectedSize}`, {
        hops: ex.hops,
        status: ex.status,
        details: { header: 'content-length', expectedSize, contentLength: head.size },
      });
    }
    const verified = await this.readVerified(
      ex,
      { ...(expectedDigest !== undefined ? { digest: expectedDigest } : {}), ...(expectedSize !== undefined ? { size: expectedSize } : {}) },
      { collect: true, collectLimit: this.maxManifestBytes },
    );
    const bytes = verified.bytes!;
    if (byDigest && opts.expected?.digest !== undefined && opts.expected.digest !== reference) {
      throw new OciError('DIGEST_MISMATCH', `${repo}@${reference} was expected to be ${opts.expected.digest}`, {
        hops: ex.hops,
        details: { expected: opts.expected.digest, actual: verified.digest },
      });
    }
    if (opts.checkDigestHeader ?? true) this.verifyDigestHeader(ex, { digest: verified.digest, bytes });
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new OciError('BAD_MANIFEST', `manifest ${repo}:${reference} is not JSON`, { hops: ex.hops, status: ex.status, cause: e });
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new OciError('BAD_MANIFEST', `manifest ${repo}:${reference} is not a JSON object`, { hops: ex.hops, status: ex.status });
    }
    const obj = json as Record<string, unknown>;
    return {
      ...head,
      digest: verified.digest,
      size: verified.size,
      bytes,
      json: obj,
      ...(typeof obj.mediaType === 'string' ? { bodyMediaType: obj.mediaType } : {}),
    };
  }

  /** `HEAD /v2/<name>/blobs/<digest>` (spec §2.5). A Docker-Content-Digest must equal the digest. */
  async headBlob(repo: string, digest: string, opts: { headers?: Record<string, string>; checkDigestHeader?: boolean } = {}): Promise<BlobHead> {
    parseDigest(digest);
    const ex = await this.exchange('HEAD', `/v2/${repo}/blobs/${digest}`, opts.headers ? { headers: opts.headers } : {});
    await this.expectStatus(ex, [200], `HEAD blob ${repo}@${digest}`);
    await this.drain(ex.body, ex.hops, ex.url);
    const { mediaType: _m, ...head } = this.headFields(ex);
    if ((opts.checkDigestHeader ?? true) && head.dockerContentDigest !== undefined && head.dockerContentDigest !== digest) {
      throw new OciError('DIGEST_MISMATCH', `Docker-Content-Digest ${head.dockerContentDigest} on HEAD of blob ${digest}`, {
        hops: ex.hops,
        status: ex.status,
        details: { header: 'docker-content-digest', expected: digest, actual: head.dockerContentDigest },
      });
    }
    return head;
  }

  /**
   * `GET /v2/<name>/blobs/<digest>` (spec §2.5), verified as it streams against the digest (sha256/sha512) and the
   * descriptor size. A Content-Length that disagrees with the size fails before the body is read (ggcr does the
   * same). The bytes go to `sink` or nowhere.
   */
  async getBlob(repo: string, digest: string, opts: BlobOptions = {}): Promise<BlobResult> {
    computableAlgorithm(digest);
    const ex = await this.exchange('GET', `/v2/${repo}/blobs/${digest}`, opts.headers ? { headers: opts.headers } : {});
    await this.expectStatus(ex, [200], `GET blob ${repo}@${digest}`);
    const contentType = headerValue(ex.headers, 'content-type');
    const contentLength = parseIntHeader(headerValue(ex.headers, 'content-length'));
    if (opts.expectedSize !== undefined && contentLength !== undefined && contentLength !== opts.expectedSize) {
      ex.body.destroy();
      opts.sink?.destroy();
      throw new OciError('SIZE_MISMATCH', `Content-Length ${contentLength} of blob ${digest}, descriptor size ${opts.expectedSize}`, {
        hops: ex.hops,
        status: ex.status,
        details: { header: 'content-length', expectedSize: opts.expectedSize, contentLength },
      });
    }
    const verified = await this.readVerified(
      ex,
      { digest, ...(opts.expectedSize !== undefined ? { size: opts.expectedSize } : {}) },
      { ...(opts.sink ? { sink: opts.sink } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) },
    );
    const dcd = headerValue(ex.headers, 'docker-content-digest')?.trim();
    if (opts.checkDigestHeader ?? true) this.verifyDigestHeader(ex, { digest: verified.digest });
    return {
      hops: ex.hops,
      status: ex.status,
      digest: verified.digest,
      size: verified.size,
      ...(contentType !== undefined ? { contentType } : {}),
      ...(dcd !== undefined ? { dockerContentDigest: dcd } : {}),
    };
  }

  /**
   * A blob GET with a `Range` header (spec §2.5, RFC 9110 §14; oci-pull-path.md §4 E8). Never throws on status: a
   * probe wants to see 206, 200 (range ignored) and 416 alike. It throws when bytes are wrong: a 206 whose body
   * does not hash to `sliceDigest`, or whose length disagrees with its Content-Range or Content-Length; a 200 that
   * is not the blob.
   */
  async getBlobRange(repo: string, digest: string, range: ByteRangeRequest, opts: RangeOptions = {}): Promise<RangeResult> {
    const rangeValue = rangeHeaderValue(range);
    const ex = await this.exchange('GET', `/v2/${repo}/blobs/${digest}`, { headers: { ...lowerCaseKeys(opts.headers), range: rangeValue } });
    const contentRange = headerValue(ex.headers, 'content-range');
    const parsedContentRange = parseContentRange(contentRange);
    const contentLength = parseIntHeader(headerValue(ex.headers, 'content-length'));
    const base = {
      hops: ex.hops,
      status: ex.status,
      range: rangeValue,
      ...(contentRange !== undefined ? { contentRange } : {}),
      parsedContentRange,
      ...(contentLength !== undefined ? { contentLength } : {}),
    };
    if (ex.status === 206) {
      const sliceLength = parsedContentRange?.kind === 'range' ? parsedContentRange.end - parsedContentRange.start + 1 : undefined;
      const expectedSize = sliceLength ?? contentLength;
      const algorithm = opts.sliceDigest !== undefined ? computableAlgorithm(opts.sliceDigest) : computableAlgorithm(digest);
      const v = await this.readVerified(
        ex,
        { algorithm, ...(opts.sliceDigest !== undefined ? { digest: opts.sliceDigest } : {}), ...(expectedSize !== undefined ? { size: expectedSize } : {}) },
        opts.sink ? { sink: opts.sink } : {},
      );
      if (contentLength !== undefined && contentLength !== v.size) {
        throw new OciError('SIZE_MISMATCH', `206 body has ${v.size} bytes, Content-Length says ${contentLength}`, { hops: ex.hops, status: 206 });
      }
      return { ...base, size: v.size, digest: v.digest, verified: opts.sliceDigest !== undefined ? 'slice' : 'none' };
    }
    if (ex.status === 200) {
      const v = await this.readVerified(ex, { digest, ...(opts.blobSize !== undefined ? { size: opts.blobSize } : {}) }, opts.sink ? { sink: opts.sink } : {});
      return { ...base, size: v.size, digest: v.digest, verified: 'full' };
    }
    await this.drain(ex.body, ex.hops, ex.url);
    return { ...base, size: 0, digest: digestOf(Buffer.alloc(0), computableAlgorithm(digest)), verified: 'none' };
  }

  /**
   * HEAD then GET of the same manifest or blob; compares the final hops' status, Content-Type, Content-Length and
   * Docker-Content-Digest (oci-pull-path.md §4 E18, §3.2 item 2). Never throws on status.
   */
  async headGetParity(kind: 'manifest' | 'blob', repo: string, reference: string, opts: ManifestOptions = {}): Promise<ParityResult> {
    const path = `/v2/${repo}/${kind === 'manifest' ? 'manifests' : 'blobs'}/${reference}`;
    const headers = kind === 'manifest' ? this.manifestRequestHeaders(opts) : lowerCaseKeys(opts.headers);
    const side = (ex: Exchange): ParitySide => {
      const contentType = headerValue(ex.headers, 'content-type');
      const contentLength = parseIntHeader(headerValue(ex.headers, 'content-length'));
      const dcd = headerValue(ex.headers, 'docker-content-digest')?.trim();
      return {
        hops: ex.hops,
        status: ex.status,
        ...(contentType !== undefined ? { contentType } : {}),
        ...(contentLength !== undefined ? { contentLength } : {}),
        ...(dcd !== undefined ? { dockerContentDigest: dcd } : {}),
      };
    };
    const headEx = await this.exchange('HEAD', path, { headers });
    await this.drain(headEx.body, headEx.hops, headEx.url);
    const head = side(headEx);
    const getEx = await this.exchange('GET', path, { headers });
    const get = side(getEx);
    let bodyBytes: number;
    let bodyDigest: string | undefined;
    if (getEx.status === 200) {
      const algorithm = isDigest(reference) ? computableAlgorithm(reference) : 'sha256';
      const v = await this.readVerified(getEx, { algorithm });
      bodyBytes = v.size;
      bodyDigest = v.digest;
    } else {
      bodyBytes = await this.drain(getEx.body, getEx.hops, getEx.url);
    }
    const mismatches: string[] = [];
    const cmp = (name: string, a: unknown, b: unknown) => {
      if (a !== b) mismatches.push(`${name}: ${JSON.stringify(a)} (HEAD) vs ${JSON.stringify(b)} (GET)`);
    };
    cmp('status', head.status, get.status);
    cmp('content-type', head.contentType, get.contentType);
    cmp('content-length', head.contentLength, get.contentLength);
    cmp('docker-content-digest', head.dockerContentDigest, get.dockerContentDigest);
    return { head, get: { ...get, bodyBytes, ...(bodyDigest !== undefined ? { bodyDigest } : {}) }, mismatches };
  }

  /**
   * `GET /v2/<name>/tags/list?n=&last=` (spec §2.7), following `Link: rel="next"` page by page (resolved against the
   * page's final URL). Returns every page with its hops, and the concatenated tags.
   */
  async listTags(repo: string, opts: ListTagsOptions = {}): Promise<TagList> {
    const query = new URLSearchParams();
    if (opts.n !== undefined) query.set('n', String(opts.n));
    if (opts.last !== undefined) query.set('last', opts.last);
    const qs = query.toString();
    let target: string | undefined = `/v2/${repo}/tags/list${qs ? `?${qs}` : ''}`;
    const pages: TagPage[] = [];
    const seen = new Set<string>();
    const maxPages = opts.maxPages ?? 1000;
    let name = repo;
    while (target !== undefined) {
      const key = this.resolve(target).href;
      if (pages.length >= maxPages || seen.has(key)) {
        throw new OciError('BAD_RESPONSE', `tag list pagination did not end (page ${pages.length + 1}: ${target})`, { hops: pages.flatMap((p) => p.hops) });
      }
      seen.add(key);
      const ex = await this.exchange('GET', target, opts.headers ? { headers: opts.headers } : {});
      await this.expectStatus(ex, [200], `tags/list ${repo}`);
      const body = await this.readJson(ex, 'tag list');
      const tags = body.tags === null || body.tags === undefined ? [] : body.tags;
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) {
        throw new OciError('BAD_RESPONSE', `tag list of ${repo} has no string array "tags"`, { hops: ex.hops, status: ex.status });
      }
      if (typeof body.name === 'string' && pages.length === 0) name = body.name;
      const link = headerValue(ex.headers, 'link');
      const next = nextLink(link, ex.url);
      pages.push({
        url: ex.url,
        hops: ex.hops,
        name: typeof body.name === 'string' ? body.name : '',
        tags: tags as string[],
        ...(link !== undefined ? { link } : {}),
        ...(next !== undefined ? { next } : {}),
      });
      target = opts.followLinks === false ? undefined : next;
    }
    return { name, tags: pages.flatMap((p) => p.tags), pages, hops: pages.flatMap((p) => p.hops) };
  }

  private async readJson(ex: Exchange, what: string): Promise<Record<string, unknown>> {
    const v = await this.readVerified(ex, {}, { collect: true, collectLimit: this.maxManifestBytes });
    try {
      const json = JSON.parse(v.bytes!.toString('utf8')) as unknown;
      if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw new OciError('BAD_RESPONSE', `${what} from ${ex.url} is not a JSON object`, { hops: ex.hops, status: ex.status });
  }

  /**
   * `GET /v2/<name>/referrers/<digest>[?artifactType=]` (spec §2.8), following Link pages. With
   * `fallbackToTagSchema`, a 404 makes the client fetch the tag `sha256-<hex>` as the spec's client fallback says;
   * a 404 there means "no referrers".
   */
  async referrers(repo: string, digest: string, opts: ReferrersOptions = {}): Promise<ReferrersResult> {
    const query = opts.artifactType !== undefined ? `?${new URLSearchParams({ artifactType: opts.artifactType }).toString()}` : '';
    let target: string | undefined = `/v2/${repo}/referrers/${digest}${query}`;
    const pages: ReferrersResult['pages'] = [];
    const seen = new Set<string>();
    let first: Exchange | undefined;
    while (target !== undefined) {
      const key = this.resolve(target).href;
      if (pages.length >= (opts.maxPages ?? 1000) || seen.has(key)) {
        throw new OciError('BAD_RESPONSE', `referrers pagination did not end (${target})`, { hops: pages.flatMap((p) => p.hops) });
      }
      seen.add(key);
      const ex = await this.exchange('GET', target, opts.headers ? { headers: opts.headers } : {});
      if (first === undefined && ex.status === 404 && opts.fallbackToTagSchema === true) {
        await this.drain(ex.body, ex.hops, ex.url);
        return this.referrersFromTagSchema(repo, digest, opts, ex);
      }
      await this.expectStatus(ex, [200], `referrers ${repo}@${digest}`);
      first ??= ex;
      const body = await this.readJson(ex, 'referrers index');
      const manifests = this.descriptorsOf(body, ex);
      const next = opts.followLinks === false ? undefined : nextLink(headerValue(ex.headers, 'link'), ex.url);
      pages.push({ url: ex.url, hops: ex.hops, manifests, ...(next !== undefined ? { next } : {}) });
      target = next;
    }
    const contentType = headerValue(first!.headers, 'content-type');
    const filters = headerValue(first!.headers, 'oci-filters-applied');
    return {
      source: 'api',
      status: first!.status,
      ...(contentType !== undefined ? { contentType } : {}),
      filtersApplied: filters === undefined ? [] : filters.split(',').map((s) => s.trim()).filter((s) => s !== ''),
      manifests: pages.flatMap((p) => p.manifests),
      pages,
      hops: pages.flatMap((p) => p.hops),
    };
  }

  private descriptorsOf(body: Record<string, unknown>, ex: Exchange): Descriptor[] {
    if (!isImageIndexJson(body)) throw new OciError('BAD_RESPONSE', `referrers response from ${ex.url} is not an image index`, { hops: ex.hops });
    for (const d of body.manifests) {
      const problem = descriptorProblem(d);
      if (problem !== null) throw new OciError('BAD_RESPONSE', `referrers response from ${ex.url}: ${problem}`, { hops: ex.hops });
    }
    return body.manifests;
  }

  private async referrersFromTagSchema(repo: string, digest: string, opts: ReferrersOptions, apiEx: Exchange): Promise<ReferrersResult> {
    const tag = referrersTagFor(digest);
    try {
      const m = await this.getManifest(repo, tag, { accept: [MediaType.OciIndex], ...(opts.headers ? { headers: opts.headers } : {}) });
      const hops = [...apiEx.hops, ...m.hops];
      if (!isImageIndexJson(m.json)) {
        // spec §2.8: "If that is not a valid index, the client SHOULD assume there are no referrers"
        return { source: 'none', status: 404, filtersApplied: [], manifests: [], pages: [], hops };
      }
      let manifests = m.json.manifests;
      if (opts.artifactType !== undefined) manifests = manifests.filter((d) => d.artifactType === opts.artifactType);
      return {
        source: 'tag-schema',
        status: m.status,
        ...(m.contentType !== undefined ? { contentType: m.contentType } : {}),
        filtersApplied: [],
        manifests,
        pages: [{ url: m.hops[m.hops.length - 1]!.url, hops: m.hops, manifests }],
        hops,
      };
    } catch (e) {
      if (e instanceof OciError && e.code === 'HTTP_STATUS' && e.status === 404) {
        return { source: 'none', status: 404, filtersApplied: [], manifests: [], pages: [], hops: [...apiEx.hops, ...e.hops] };
      }
      throw e;
    }
  }

  /**
   * One request, not followed, with the path sent byte for byte (routing checks assert on this hop; §4 E13, E16).
   * Never throws on status.
   */
  async firstHop(method: string, path: string, headers?: Record<string, string>): Promise<FirstHopResult> {
    const r = await this.rawProbe(method, path, { ...(headers ? { headers } : {}), follow: false });
    return { ...r, hop: r.hops[0]! };
  }

  /** A request whose first path is sent exactly as given (`..`, `%2e`, `//` intact), optionally followed. */
  async rawProbe(method: string, path: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
    const ex = await this.exchange(method, path, { raw: true, follow: opts.follow ?? true, ...(opts.headers ? { headers: opts.headers } : {}) });
    const { body, bodyBytes, truncated } = await this.readCapped(ex, opts.maxBody ?? ERROR_BODY_LIMIT);
    const flat: Record<string, string> = {};
    for (const k of Object.keys(ex.headers)) flat[k] = headerValue(ex.headers, k)!;
    const location = headerValue(ex.headers, 'location');
    return { hops: ex.hops, status: ex.status, headers: flat, ...(location !== undefined ? { location } : {}), body, bodyBytes, truncated };
  }
}

export function createOciClient(options: OciClientOptions): OciClient {
  return new OciClient(options);
}

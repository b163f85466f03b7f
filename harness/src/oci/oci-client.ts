/**
 * The harness's OCI distribution pull client: one method per endpoint, each checking what it reads (statuses,
 * digests, sizes, Docker-Content-Digest) on top of the transport (oci-transport.ts), which sends the request chains,
 * answers token challenges and records every hop. pullImage (pull-image.ts) composes the methods; the listings
 * (tags, referrers) are in oci-listings.ts. docs/oci-client.md describes the client; "the spec" is the OCI
 * distribution spec, https://github.com/opencontainers/distribution-spec/blob/main/spec.md.
 */
import type { Writable } from 'node:stream';
import { parseContentRange, rangeHeaderValue, type ByteRangeRequest, type ContentRange } from './byte-range.js';
import { computableAlgorithm, digestOf, isDigest, parseDigest, tryParseDigest } from './digest.js';
import { headerValue, type OciHop } from './hop.js';
import { acceptHeader, essenceOf, MANIFEST_ACCEPT } from './media-types.js';
import { OciError } from './oci-error.js';
import type { ManifestHead, ManifestOptions, ManifestResult } from './manifest-result.js';
import {
  listReferrers,
  listTags,
  type ListingContext,
  type ListTagsOptions,
  type ReferrersOptions,
  type ReferrersResult,
  type TagList,
} from './oci-listings.js';
import {
  ERROR_BODY_LIMIT,
  lowerCaseKeys,
  OciTransport,
  type Exchange,
  type ExchangeOptions,
  type HeaderInput,
  type OciTransportOptions,
} from './oci-transport.js';

export interface OciClientOptions extends OciTransportOptions {
  /** largest manifest body accepted; default 8 MiB (the spec: handle at least 4 MB) */
  maxManifestBytes?: number;
}

export interface PingResult {
  hops: OciHop[];
  status: number;
  apiVersion?: string;
}

export type { ManifestHead, ManifestOptions, ManifestResult } from './manifest-result.js';

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

function parseIntHeader(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

export class OciClient {
  readonly baseUrl: string;
  readonly origin: string;
  readonly maxRedirects: number;
  private readonly transport: OciTransport;
  private readonly maxManifestBytes: number;
  private readonly listing: ListingContext;

  constructor(options: OciClientOptions) {
    this.transport = new OciTransport(options);
    this.origin = this.transport.origin;
    this.baseUrl = this.transport.origin;
    this.maxRedirects = this.transport.maxRedirects;
    this.maxManifestBytes = options.maxManifestBytes ?? 8 * 1024 * 1024;
    this.listing = {
      transport: this.transport,
      maxJsonBytes: this.maxManifestBytes,
      getManifest: (repo, reference, opts) => this.getManifest(repo, reference, opts),
    };
  }

  /**
   * Sends one request chain and returns the final response (body unread): the transport (oci-transport.ts) every
   * endpoint method uses, for probes they do not cover. `target` is a path on the base URL or an absolute URL.
   */
  exchange(method: string, target: string, options: ExchangeOptions = {}): Promise<Exchange> {
    return this.transport.exchange(method, target, options);
  }

  /**
   * Docker-Content-Digest, when present, must name the body (the spec: "if present, MUST match"). A header in
   * another algorithm is checked when the bytes are at hand (manifests); over a streamed blob it cannot be.
   */
  private verifyDigestHeader(ex: Exchange, body: { digest: string; bytes?: Buffer }): void {
    const dcd = headerValue(ex.headers, 'docker-content-digest')?.trim();
    if (dcd === undefined) return;
    const parsed = tryParseDigest(dcd);
    if (parsed === null) {
      throw new OciError('BAD_RESPONSE', `Docker-Content-Digest ${JSON.stringify(dcd)} is not a digest`, {
        hops: ex.hops,
        status: ex.status,
      });
    }
    let actual: string;
    if (parsed.algorithm === parseDigest(body.digest).algorithm) actual = body.digest;
    else if (body.bytes !== undefined && (parsed.algorithm === 'sha256' || parsed.algorithm === 'sha512'))
      actual = digestOf(body.bytes, parsed.algorithm);
    else return;
    if (dcd !== actual) {
      throw new OciError('DIGEST_MISMATCH', `Docker-Content-Digest ${dcd} does not match the body (${actual})`, {
        hops: ex.hops,
        status: ex.status,
        details: { header: 'docker-content-digest', expected: actual, actual: dcd },
      });
    }
  }

  /** Accept as one comma-joined line, or (acceptAsSeparateLines) one line per type, as some clients send them. */
  private manifestRequestHeaders(opts: ManifestOptions): HeaderInput {
    const types = opts.accept ?? MANIFEST_ACCEPT;
    const accept = opts.acceptAsSeparateLines === true ? [...types] : acceptHeader(types);
    return { accept, ...lowerCaseKeys(opts.headers) };
  }

  private async manifestExchange(
    method: 'GET' | 'HEAD',
    repo: string,
    reference: string,
    opts: ManifestOptions,
  ): Promise<Exchange> {
    return this.transport.exchange(method, `/v2/${repo}/manifests/${reference}`, {
      headers: this.manifestRequestHeaders(opts),
    });
  }

  // ---------------------------------------------------------------- endpoints

  /** `GET /v2/` (the spec's API version check): 200, or 401 with a challenge. Anything else is HTTP_STATUS. */
  async ping(headers?: Record<string, string>): Promise<PingResult> {
    // no token flow: a ping reports the challenge as it is (registry.k8s.io must not send one)
    const ex = await this.transport.exchange('GET', '/v2/', { ...(headers ? { headers } : {}), auth: false });
    await this.transport.expectStatus(ex, [200, 401], 'ping');
    await this.transport.readCapped(ex, ERROR_BODY_LIMIT);
    const apiVersion = headerValue(ex.headers, 'docker-distribution-api-version');
    return { hops: ex.hops, status: ex.status, ...(apiVersion !== undefined ? { apiVersion } : {}) };
  }

  /** `HEAD /v2/<name>/manifests/<reference>` (the spec's "Pulling manifests"). */
  async headManifest(repo: string, reference: string, opts: ManifestOptions = {}): Promise<ManifestHead> {
    const ex = await this.manifestExchange('HEAD', repo, reference, opts);
    await this.transport.expectStatus(ex, [200], `HEAD manifest ${repo}:${reference}`);
    await this.transport.drain(ex.body, ex.hops, ex.url);
    const head = this.headFields(ex);
    if ((opts.checkDigestHeader ?? true) && head.dockerContentDigest !== undefined && isDigest(reference)) {
      if (
        head.dockerContentDigest !== reference &&
        tryParseDigest(head.dockerContentDigest)?.algorithm === parseDigest(reference).algorithm
      ) {
        throw new OciError(
          'DIGEST_MISMATCH',
          `Docker-Content-Digest ${head.dockerContentDigest} on HEAD of ${reference}`,
          {
            hops: ex.hops,
            status: ex.status,
            details: { header: 'docker-content-digest', expected: reference, actual: head.dockerContentDigest },
          },
        );
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
   * `GET /v2/<name>/manifests/<reference>` (the spec's "Pulling manifests"). The body is read (capped at
   * maxManifestBytes), hashed and checked: by digest it must hash to the reference (clients SHOULD verify; ggcr and
   * Docker MUST); any `expected` digest/size must match; a Docker-Content-Digest must name the body. It must be a
   * JSON object.
   */
  async getManifest(repo: string, reference: string, opts: ManifestOptions = {}): Promise<ManifestResult> {
    const byDigest = isDigest(reference);
    const ex = await this.manifestExchange('GET', repo, reference, opts);
    await this.transport.expectStatus(ex, [200], `GET manifest ${repo}:${reference}`);
    const head = this.headFields(ex);
    const expectedDigest = byDigest ? reference : opts.expected?.digest;
    const expectedSize = opts.expected?.size;
    if (expectedSize !== undefined && head.size !== undefined && head.size !== expectedSize) {
      ex.body.destroy();
      throw new OciError(
        'SIZE_MISMATCH',
        `Content-Length ${head.size} of ${repo}:${reference}, expected ${expectedSize}`,
        {
          hops: ex.hops,
          status: ex.status,
          details: { header: 'content-length', expectedSize, contentLength: head.size },
        },
      );
    }
    const verified = await this.transport.readVerified(
      ex,
      {
        ...(expectedDigest !== undefined ? { digest: expectedDigest } : {}),
        ...(expectedSize !== undefined ? { size: expectedSize } : {}),
      },
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
      throw new OciError('BAD_MANIFEST', `manifest ${repo}:${reference} is not JSON`, {
        hops: ex.hops,
        status: ex.status,
        cause: e,
      });
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new OciError('BAD_MANIFEST', `manifest ${repo}:${reference} is not a JSON object`, {
        hops: ex.hops,
        status: ex.status,
      });
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

  /** `HEAD /v2/<name>/blobs/<digest>` (the spec's "Pulling blobs"). A Docker-Content-Digest must equal the digest. */
  async headBlob(
    repo: string,
    digest: string,
    opts: { headers?: Record<string, string>; checkDigestHeader?: boolean } = {},
  ): Promise<BlobHead> {
    parseDigest(digest);
    const ex = await this.transport.exchange(
      'HEAD',
      `/v2/${repo}/blobs/${digest}`,
      opts.headers ? { headers: opts.headers } : {},
    );
    await this.transport.expectStatus(ex, [200], `HEAD blob ${repo}@${digest}`);
    await this.transport.drain(ex.body, ex.hops, ex.url);
    const { mediaType: _m, ...head } = this.headFields(ex);
    if (
      (opts.checkDigestHeader ?? true) &&
      head.dockerContentDigest !== undefined &&
      head.dockerContentDigest !== digest
    ) {
      throw new OciError(
        'DIGEST_MISMATCH',
        `Docker-Content-Digest ${head.dockerContentDigest} on HEAD of blob ${digest}`,
        {
          hops: ex.hops,
          status: ex.status,
          details: { header: 'docker-content-digest', expected: digest, actual: head.dockerContentDigest },
        },
      );
    }
    return head;
  }

  /**
   * `GET /v2/<name>/blobs/<digest>` (the spec's "Pulling blobs"), verified as it streams against the digest
   * (sha256/sha512) and the descriptor size. A Content-Length that disagrees with the size fails before the body is
   * read (ggcr does the same). The bytes go to `sink` or nowhere.
   */
  async getBlob(repo: string, digest: string, opts: BlobOptions = {}): Promise<BlobResult> {
    computableAlgorithm(digest);
    const ex = await this.transport.exchange(
      'GET',
      `/v2/${repo}/blobs/${digest}`,
      opts.headers ? { headers: opts.headers } : {},
    );
    await this.transport.expectStatus(ex, [200], `GET blob ${repo}@${digest}`);
    const contentType = headerValue(ex.headers, 'content-type');
    const contentLength = parseIntHeader(headerValue(ex.headers, 'content-length'));
    if (opts.expectedSize !== undefined && contentLength !== undefined && contentLength !== opts.expectedSize) {
      ex.body.destroy();
      opts.sink?.destroy();
      throw new OciError(
        'SIZE_MISMATCH',
        `Content-Length ${contentLength} of blob ${digest}, descriptor size ${opts.expectedSize}`,
        {
          hops: ex.hops,
          status: ex.status,
          details: { header: 'content-length', expectedSize: opts.expectedSize, contentLength },
        },
      );
    }
    const verified = await this.transport.readVerified(
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
   * A blob GET with a `Range` header (the spec's "Pulling blobs"; RFC 9110,
   * https://www.rfc-editor.org/rfc/rfc9110#section-14). Never throws on status: a probe wants to see 206, 200 (range
   * ignored) and 416 alike. It throws when bytes are wrong: a 206 whose body
   * does not hash to `sliceDigest`, or whose length disagrees with its Content-Range or Content-Length; a 200 that
   * is not the blob.
   */
  async getBlobRange(
    repo: string,
    digest: string,
    range: ByteRangeRequest,
    opts: RangeOptions = {},
  ): Promise<RangeResult> {
    const rangeValue = rangeHeaderValue(range);
    const ex = await this.transport.exchange('GET', `/v2/${repo}/blobs/${digest}`, {
      headers: { ...lowerCaseKeys(opts.headers), range: rangeValue },
    });
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
      const sliceLength =
        parsedContentRange?.kind === 'range' ? parsedContentRange.end - parsedContentRange.start + 1 : undefined;
      const expectedSize = sliceLength ?? contentLength;
      const algorithm =
        opts.sliceDigest !== undefined ? computableAlgorithm(opts.sliceDigest) : computableAlgorithm(digest);
      const v = await this.transport.readVerified(
        ex,
        {
          algorithm,
          ...(opts.sliceDigest !== undefined ? { digest: opts.sliceDigest } : {}),
          ...(expectedSize !== undefined ? { size: expectedSize } : {}),
        },
        opts.sink ? { sink: opts.sink } : {},
      );
      if (contentLength !== undefined && contentLength !== v.size) {
        throw new OciError('SIZE_MISMATCH', `206 body has ${v.size} bytes, Content-Length says ${contentLength}`, {
          hops: ex.hops,
          status: 206,
        });
      }
      return { ...base, size: v.size, digest: v.digest, verified: opts.sliceDigest !== undefined ? 'slice' : 'none' };
    }
    if (ex.status === 200) {
      const v = await this.transport.readVerified(
        ex,
        { digest, ...(opts.blobSize !== undefined ? { size: opts.blobSize } : {}) },
        opts.sink ? { sink: opts.sink } : {},
      );
      return { ...base, size: v.size, digest: v.digest, verified: 'full' };
    }
    await this.transport.drain(ex.body, ex.hops, ex.url);
    return { ...base, size: 0, digest: digestOf(Buffer.alloc(0), computableAlgorithm(digest)), verified: 'none' };
  }

  /**
   * HEAD then GET of the same manifest or blob; compares the final hops' status, Content-Type, Content-Length and
   * Docker-Content-Digest, which a registry must answer alike. Never throws on status.
   */
  async headGetParity(
    kind: 'manifest' | 'blob',
    repo: string,
    reference: string,
    opts: ManifestOptions = {},
  ): Promise<ParityResult> {
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
    const headEx = await this.transport.exchange('HEAD', path, { headers });
    await this.transport.drain(headEx.body, headEx.hops, headEx.url);
    const head = side(headEx);
    const getEx = await this.transport.exchange('GET', path, { headers });
    const get = side(getEx);
    let bodyBytes: number;
    let bodyDigest: string | undefined;
    if (getEx.status === 200) {
      const algorithm = isDigest(reference) ? computableAlgorithm(reference) : 'sha256';
      const v = await this.transport.readVerified(getEx, { algorithm });
      bodyBytes = v.size;
      bodyDigest = v.digest;
    } else {
      bodyBytes = await this.transport.drain(getEx.body, getEx.hops, getEx.url);
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

  /** `GET /v2/<name>/tags/list?n=&last=`, every page along `Link: rel="next"` (oci-listings.ts). */
  listTags(repo: string, opts: ListTagsOptions = {}): Promise<TagList> {
    return listTags(this.listing, repo, opts);
  }

  /** `GET /v2/<name>/referrers/<digest>`, every page, with the tag-schema fallback on request (oci-listings.ts). */
  referrers(repo: string, digest: string, opts: ReferrersOptions = {}): Promise<ReferrersResult> {
    return listReferrers(this.listing, repo, digest, opts);
  }

  /**
   * One request, not followed, with the path sent byte for byte (routing checks assert on this hop). Never throws on
   * status.
   */
  async firstHop(method: string, path: string, headers?: Record<string, string>): Promise<FirstHopResult> {
    const r = await this.rawProbe(method, path, { ...(headers ? { headers } : {}), follow: false });
    return { ...r, hop: r.hops[0]! };
  }

  /** A request whose first path is sent exactly as given (`..`, `%2e`, `//` intact), optionally followed. */
  async rawProbe(method: string, path: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
    const ex = await this.transport.exchange(method, path, {
      raw: true,
      follow: opts.follow ?? true,
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    const { body, bodyBytes, truncated } = await this.transport.readCapped(ex, opts.maxBody ?? ERROR_BODY_LIMIT);
    const flat: Record<string, string> = {};
    for (const k of Object.keys(ex.headers)) flat[k] = headerValue(ex.headers, k)!;
    const location = headerValue(ex.headers, 'location');
    return {
      hops: ex.hops,
      status: ex.status,
      headers: flat,
      ...(location !== undefined ? { location } : {}),
      body,
      bodyBytes,
      truncated,
    };
  }
}

export function createOciClient(options: OciClientOptions): OciClient {
  return new OciClient(options);
}

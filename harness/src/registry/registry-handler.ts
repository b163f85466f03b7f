/**
 * The embedded registry's request handling, free of node:http: a request description in, a response description
 * out (the adapter in embedded-registry.ts streams file bodies). Read-only OCI distribution-spec pull semantics
 * (docs/reference/oci-distribution.md#manifests), matched to the Debian docker-registry (distribution 2.8.2) where the
 * spec leaves room, and correct where 2.8.2 is not. The differences are listed in docs/oci-client.md.
 */
import { stat } from 'node:fs/promises';
import type { Descriptor } from '../oci/descriptor.js';
import { tryParseDigest } from '../oci/digest.js';
import { essenceOf, MediaType } from '../oci/media-types.js';
import {
  blobFilePath,
  NAME_GRAMMAR,
  TAG_GRAMMAR,
  type CatalogManifest,
  type CatalogRepo,
  type LayoutCatalog,
} from './layout-catalog.js';
import { decideRange } from './range-header.js';
import { routeOf, splitTarget } from './registry-route.js';

export interface RegistryRequest {
  method: string;
  /** the raw request target (path and query), as received */
  target: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface FileBody {
  file: string;
  start: number;
  /** inclusive */
  end: number;
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | FileBody;
}

export type RegistryHandler = (req: RegistryRequest) => Promise<RegistryResponse>;

/** distribution-spec "Error Codes" error codes used here */
type ErrorCode =
  | 'BLOB_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'UNSUPPORTED';

const API_VERSION = { 'docker-distribution-api-version': 'registry/2.0' };
const READ_METHODS = new Set(['GET', 'HEAD']);

function json(status: number, value: unknown, headers: Record<string, string> = {}): RegistryResponse {
  const body = Buffer.from(JSON.stringify(value));
  return {
    status,
    headers: { ...API_VERSION, 'content-type': 'application/json', 'content-length': String(body.length), ...headers },
    body,
  };
}

/** `{"errors":[{code,message,detail}]}` (spec "Error Codes") */
function error(
  status: number,
  code: ErrorCode,
  message: string,
  detail?: unknown,
  headers: Record<string, string> = {},
): RegistryResponse {
  return json(status, { errors: [{ code, message, ...(detail !== undefined ? { detail } : {}) }] }, headers);
}

function header(req: RegistryRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Every Accept line, split on ",", parameters dropped: what distribution's manifest handler reads (docs/reference/oci-distribution.md#manifests). */
function acceptedTypes(req: RegistryRequest): Set<string> {
  const raw = req.headers.accept;
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const out = new Set<string>();
  for (const line of lines)
    for (const part of line.split(',')) {
      const t = essenceOf(part);
      if (t !== undefined) out.add(t);
    }
  return out;
}

/** Sorted names after `last`, at most `n`, and the Link to the next page (spec "Listing Tags"; distribution's _catalog). */
function paginate(
  all: string[],
  query: URLSearchParams,
  nextPath: string,
): { items: string[]; link?: string } | { invalid: string } {
  const nRaw = query.get('n');
  const last = query.get('last');
  let items = last === null ? all : all.filter((t) => t > last);
  if (nRaw === null) return { items };
  if (!/^\d+$/.test(nRaw)) return { invalid: `n must be a non-negative integer, got ${JSON.stringify(nRaw)}` };
  const n = Number(nRaw);
  if (n === 0) return { items: [] }; // spec "Listing Tags": n=0 → empty list and no Link
  if (items.length <= n) return { items };
  items = items.slice(0, n);
  const next = new URLSearchParams({ n: String(n), last: items[items.length - 1]! });
  return { items, link: `<${nextPath}?${next.toString()}>; rel="next"` };
}

/** code-unit order, i.e. Go's sort.Strings for ASCII: allowed by spec main "Listing Tags" ("lexical or ASCIIbetical") */
function asciiSort(values: Iterable<string>): string[] {
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function createRegistryHandler(catalog: LayoutCatalog): RegistryHandler {
  const manifestHeaders = (m: CatalogManifest): Record<string, string> => ({
    ...API_VERSION,
    'content-type': m.mediaType,
    'content-length': String(m.size),
    'docker-content-digest': m.digest,
    etag: `"${m.digest}"`,
  });

  const serveManifest = (req: RegistryRequest, repo: CatalogRepo | undefined, reference: string): RegistryResponse => {
    const isDigestRef = reference.includes(':');
    if (isDigestRef && tryParseDigest(reference) === null) {
      return error(400, 'DIGEST_INVALID', 'invalid digest', { digest: reference });
    }
    const detail = isDigestRef ? { Digest: reference } : { Tag: reference };
    if (!isDigestRef && !TAG_GRAMMAR.test(reference))
      return error(404, 'MANIFEST_UNKNOWN', 'manifest unknown (invalid tag)', detail);
    if (repo === undefined) return error(404, 'MANIFEST_UNKNOWN', 'manifest unknown', detail);
    const digest = isDigestRef ? reference : repo.tags.get(reference);
    let m = digest === undefined ? undefined : repo.manifests.get(digest);
    if (m === undefined) return error(404, 'MANIFEST_UNKNOWN', 'manifest unknown', detail);

    // Accept handling as distribution 2.8 (docs/reference/oci-distribution.md#manifests): OCI types not accepted → 404; a
    // Docker list asked for by tag without list support → its linux/amd64 child. (2.8 then converts schema2 to signed
    // schema1 when schema2 is not accepted either; this registry serves schema2 as is.)
    const accepts = acceptedTypes(req);
    if (m.mediaType === MediaType.OciManifest && !accepts.has(MediaType.OciManifest)) {
      return error(404, 'MANIFEST_UNKNOWN', 'OCI manifest found, but accept header does not support OCI manifests');
    }
    if (m.mediaType === MediaType.OciIndex && !accepts.has(MediaType.OciIndex)) {
      return error(404, 'MANIFEST_UNKNOWN', 'OCI index found, but accept header does not support OCI indexes');
    }
    if (m.mediaType === MediaType.DockerManifestList && !isDigestRef && !accepts.has(MediaType.DockerManifestList)) {
      const child = m.children?.find((c) => c.platform?.os === 'linux' && c.platform.architecture === 'amd64');
      const resolved = child === undefined ? undefined : repo.manifests.get(child.digest);
      if (resolved === undefined) return error(404, 'MANIFEST_UNKNOWN', 'manifest list has no linux/amd64 manifest');
      m = resolved;
    }

    const inm = header(req, 'if-none-match');
    if (inm !== undefined && inm.split(',').some((t) => t.trim().replace(/^W\//, '').replace(/"/g, '') === m.digest)) {
      return { status: 304, headers: { ...API_VERSION, 'docker-content-digest': m.digest, etag: `"${m.digest}"` } };
    }
    return { status: 200, headers: manifestHeaders(m), body: { file: m.file, start: 0, end: m.size - 1 } };
  };

  const serveBlob = async (
    req: RegistryRequest,
    repo: CatalogRepo | undefined,
    digest: string,
  ): Promise<RegistryResponse> => {
    if (tryParseDigest(digest) === null) return error(400, 'DIGEST_INVALID', 'invalid digest', { digest });
    const unknown = () => error(404, 'BLOB_UNKNOWN', 'blob unknown to registry', digest);
    if (repo === undefined) return unknown();
    const file = blobFilePath(repo, digest);
    let size: number;
    try {
      const st = await stat(file!);
      if (!st.isFile()) return unknown();
      size = st.size;
    } catch {
      return unknown();
    }
    const base = {
      ...API_VERSION,
      'content-type': 'application/octet-stream',
      'docker-content-digest': digest,
      etag: `"${digest}"`,
      'accept-ranges': 'bytes',
      'cache-control': 'max-age=31536000',
    };
    // If-Range (RFC 9110 §13.1.5): a validator other than our ETag means "send the whole thing"
    const ifRange = header(req, 'if-range');
    const rangeHeader = ifRange !== undefined && ifRange.trim() !== `"${digest}"` ? undefined : header(req, 'range');
    const range = decideRange(rangeHeader, size);
    if (range.kind === 'unsatisfiable') {
      const { 'content-type': _type, ...rest } = base;
      return {
        status: 416,
        headers: { ...rest, 'content-range': `bytes */${size}`, 'content-length': '0' },
        body: Buffer.alloc(0),
      };
    }
    if (range.kind === 'partial') {
      return {
        status: 206,
        headers: {
          ...base,
          'content-range': `bytes ${range.start}-${range.end}/${size}`,
          'content-length': String(range.end - range.start + 1),
        },
        body: { file: file!, start: range.start, end: range.end },
      };
    }
    return {
      status: 200,
      headers: { ...base, 'content-length': String(size) },
      body: { file: file!, start: 0, end: size - 1 },
    };
  };

  const serveReferrers = (
    name: string,
    repo: CatalogRepo | undefined,
    digest: string,
    query: URLSearchParams,
  ): RegistryResponse => {
    // spec "Listing Referrers": an invalid digest MUST be 400
    if (tryParseDigest(digest) === null) return error(400, 'DIGEST_INVALID', 'invalid digest', { digest });
    if (repo === undefined) return error(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name });
    const artifactType = query.get('artifactType');
    const manifests: Descriptor[] = [];
    for (const m of [...repo.manifests.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1))) {
      if (m.subject !== digest) continue;
      if (artifactType !== null && m.artifactType !== artifactType) continue;
      manifests.push({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.size,
        ...(m.artifactType !== undefined ? { artifactType: m.artifactType } : {}),
        ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
      });
    }
    return json(
      200,
      { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests },
      {
        'content-type': MediaType.OciIndex,
        ...(artifactType !== null ? { 'oci-filters-applied': 'artifactType' } : {}),
      },
    );
  };

  return async (req) => {
    const method = req.method.toUpperCase();
    const { path, query } = splitTarget(req.target);
    const route = routeOf(path);
    if (route.kind === 'unknown') return error(404, 'UNSUPPORTED', `no such endpoint: ${path}`);
    // read-only: every write (and anything else) is 405 (spec "Error Codes" UNSUPPORTED;
    // docs/reference/oci-distribution.md#edge-cases E2)
    if (!READ_METHODS.has(method) || route.kind === 'upload') {
      return error(405, 'UNSUPPORTED', `${method} is not supported by this read-only registry`, undefined, {
        allow: 'GET, HEAD',
      });
    }
    switch (route.kind) {
      case 'ping':
        return json(200, {});
      case 'catalog': {
        const page = paginate(asciiSort(catalog.repos.keys()), query, '/v2/_catalog');
        if ('invalid' in page) return error(400, 'UNSUPPORTED', page.invalid);
        return json(200, { repositories: page.items }, page.link !== undefined ? { link: page.link } : {});
      }
      default:
        break;
    }
    if (!NAME_GRAMMAR.test(route.name))
      return error(400, 'NAME_INVALID', 'invalid repository name', { name: route.name });
    const repo = catalog.repos.get(route.name);
    switch (route.kind) {
      case 'tags': {
        if (repo === undefined)
          return error(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name: route.name });
        const page = paginate(asciiSort(repo.tags.keys()), query, `/v2/${route.name}/tags/list`);
        if ('invalid' in page) return error(400, 'UNSUPPORTED', page.invalid);
        return json(200, { name: route.name, tags: page.items }, page.link !== undefined ? { link: page.link } : {});
      }
      case 'manifest':
        return serveManifest(req, repo, route.reference);
      case 'blob':
        return serveBlob(req, repo, route.digest);
      case 'referrers':
        return serveReferrers(route.name, repo, route.digest, query);
    }
  };
}

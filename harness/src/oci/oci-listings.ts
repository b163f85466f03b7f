/**
 * Listings: a repository's tags and a manifest's referrers, page by page along `Link: rel="next"` (the distribution
 * spec's "Listing Tags" and "Listing Referrers",
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md). OciClient's `listTags` and `referrers`.
 */
import { referrersTagFor } from './digest.js';
import { descriptorProblem, isImageIndexJson, type Descriptor } from './descriptor.js';
import { headerValue, type OciHop } from './hop.js';
import { nextLink } from './link-header.js';
import { MediaType } from './media-types.js';
import type { ManifestOptions, ManifestResult } from './manifest-result.js';
import { OciError } from './oci-error.js';
import type { Exchange, OciTransport } from './oci-transport.js';

/** What the listings need of the client: its transport, its JSON size limit and its manifest GET (tag fallback). */
export interface ListingContext {
  transport: OciTransport;
  /** largest listing body accepted (the client's maxManifestBytes) */
  maxJsonBytes: number;
  getManifest(repo: string, reference: string, opts: ManifestOptions): Promise<ManifestResult>;
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
  /** on 404 fetch the referrers tag schema `sha256-<hex>` (the spec's client fallback); default false */
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

/**
 * `GET /v2/<name>/tags/list?n=&last=` (the spec's "Listing Tags"), following `Link: rel="next"` page by page (resolved against the
 * page's final URL). Returns every page with its hops, and the concatenated tags.
 */
export async function listTags(ctx: ListingContext, repo: string, opts: ListTagsOptions = {}): Promise<TagList> {
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
    const key = ctx.transport.resolve(target).href;
    if (pages.length >= maxPages || seen.has(key)) {
      throw new OciError('BAD_RESPONSE', `tag list pagination did not end (page ${pages.length + 1}: ${target})`, {
        hops: pages.flatMap((p) => p.hops),
      });
    }
    seen.add(key);
    const ex = await ctx.transport.exchange('GET', target, opts.headers ? { headers: opts.headers } : {});
    await ctx.transport.expectStatus(ex, [200], `tags/list ${repo}`);
    const body = await readJson(ctx, ex, 'tag list');
    const tags = body.tags === null || body.tags === undefined ? [] : body.tags;
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) {
      throw new OciError('BAD_RESPONSE', `tag list of ${repo} has no string array "tags"`, {
        hops: ex.hops,
        status: ex.status,
      });
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

async function readJson(ctx: ListingContext, ex: Exchange, what: string): Promise<Record<string, unknown>> {
  const v = await ctx.transport.readVerified(ex, {}, { collect: true, collectLimit: ctx.maxJsonBytes });
  try {
    const json = JSON.parse(v.bytes!.toString('utf8')) as unknown;
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new OciError('BAD_RESPONSE', `${what} from ${ex.url} is not a JSON object`, {
    hops: ex.hops,
    status: ex.status,
  });
}

/**
 * `GET /v2/<name>/referrers/<digest>[?artifactType=]` (the spec's "Listing Referrers"), following Link pages. With
 * `fallbackToTagSchema`, a 404 makes the client fetch the tag `sha256-<hex>` as the spec's client fallback says;
 * a 404 there means "no referrers".
 */
export async function listReferrers(
  ctx: ListingContext,
  repo: string,
  digest: string,
  opts: ReferrersOptions = {},
): Promise<ReferrersResult> {
  const query =
    opts.artifactType !== undefined ? `?${new URLSearchParams({ artifactType: opts.artifactType }).toString()}` : '';
  let target: string | undefined = `/v2/${repo}/referrers/${digest}${query}`;
  const pages: ReferrersResult['pages'] = [];
  const seen = new Set<string>();
  let first: Exchange | undefined;
  while (target !== undefined) {
    const key = ctx.transport.resolve(target).href;
    if (pages.length >= (opts.maxPages ?? 1000) || seen.has(key)) {
      throw new OciError('BAD_RESPONSE', `referrers pagination did not end (${target})`, {
        hops: pages.flatMap((p) => p.hops),
      });
    }
    seen.add(key);
    const ex = await ctx.transport.exchange('GET', target, opts.headers ? { headers: opts.headers } : {});
    if (first === undefined && ex.status === 404 && opts.fallbackToTagSchema === true) {
      await ctx.transport.drain(ex.body, ex.hops, ex.url);
      return referrersFromTagSchema(ctx, repo, digest, opts, ex);
    }
    await ctx.transport.expectStatus(ex, [200], `referrers ${repo}@${digest}`);
    first ??= ex;
    const body = await readJson(ctx, ex, 'referrers index');
    const manifests = descriptorsOf(body, ex);
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
    filtersApplied:
      filters === undefined
        ? []
        : filters
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
    manifests: pages.flatMap((p) => p.manifests),
    pages,
    hops: pages.flatMap((p) => p.hops),
  };
}

function descriptorsOf(body: Record<string, unknown>, ex: Exchange): Descriptor[] {
  if (!isImageIndexJson(body))
    throw new OciError('BAD_RESPONSE', `referrers response from ${ex.url} is not an image index`, { hops: ex.hops });
  for (const d of body.manifests) {
    const problem = descriptorProblem(d);
    if (problem !== null)
      throw new OciError('BAD_RESPONSE', `referrers response from ${ex.url}: ${problem}`, { hops: ex.hops });
  }
  return body.manifests;
}

async function referrersFromTagSchema(
  ctx: ListingContext,
  repo: string,
  digest: string,
  opts: ReferrersOptions,
  apiEx: Exchange,
): Promise<ReferrersResult> {
  const tag = referrersTagFor(digest);
  try {
    const m = await ctx.getManifest(repo, tag, {
      accept: [MediaType.OciIndex],
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    const hops = [...apiEx.hops, ...m.hops];
    if (!isImageIndexJson(m.json)) {
      // the spec: "If that is not a valid index, the client SHOULD assume there are no referrers"
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
      return {
        source: 'none',
        status: 404,
        filtersApplied: [],
        manifests: [],
        pages: [],
        hops: [...apiEx.hops, ...e.hops],
      };
    }
    throw e;
  }
}

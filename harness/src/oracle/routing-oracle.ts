/**
 * The routing oracle: for a target, a vantage and a request, the exact first hop a correct redirector answers with.
 *
 * It is written from the rules, not from redirector/src (docs/architecture.md: the harness never imports the system
 * under test). The rules are docs/request-handling.md's, which refine archeio's decision list
 * (docs/reference/archeio.md#decision-list) and URL construction (docs/reference/archeio.md#url-construction):
 *   1. methods other than GET/HEAD → 405;
 *   2. `/` → 307 infoUrl, `/privacy` and `/privacy/` → 307 privacyUrl, anything else outside `/v2` → 404;
 *   3. `/v2`, `/v2/` → 200; `/v2/_catalog` → 404;
 *   4. dot segments → 400; the query string survives on upstream and signature redirects, where registries read it
 *      (tags/list n and last, referrers artifactType, containerd's ns; archeio drops it:
 *      kubernetes/registry.k8s.io#326). Bucket objects and the info pages take no query, so none is expected there
 *      (docs/configuration.md PRESERVE_QUERY);
 *   5. a manifest, tag-list or referrers path with a malformed name or reference → 400 (NAME_INVALID, DIGEST_INVALID),
 *      or 404 for a malformed tag (G1 pull 5/9 require 404 for `.INVALID_MANIFEST_NAME`); a cosign tag
 *      `/manifests/sha256-<64 hex>.sig|.att` → signatureUpstream when set; other non-blob → upstream;
 *   6. blobs: GCP client → upstream; otherwise base = the bucket of the client's AWS region, or the default base;
 *      the base holds the digest → 307 `<base>/containers/images/<digest>`, else upstream.
 * Clients are classified by a brute-force scan of the raw publications (published-ranges.ts) under the target's
 * semantics, and "does the base hold the digest" comes from the target's mirror plan or, for remote targets without
 * one, from a HEAD on the bucket object (the injected probe).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { request } from 'undici';
import type { Semantics, TargetDescription, Vantage, MirrorPlan } from '../target/target-description.js';
import {
  bundledPublishedRanges,
  classifyByScan,
  type OracleClassification,
  type PublishedPrefix,
} from './published-ranges.js';

export { locationMatches, type LocationMatchOptions } from './location-match.js';
export { findShadowedPrefixes, type ShadowedPrefix } from './shadowed-prefixes.js';

/** The request kinds of the routing matrix (docs/suites.md, routing). */
export const REQUEST_KINDS = [
  'manifest-by-tag',
  'manifest-by-digest',
  'tag-list',
  'blob-in-bucket',
  'blob-absent-from-bucket',
  'blob-upstream-only',
  'signature-tag',
  'root',
  'privacy',
  'unknown-path',
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Which rule produced an expectation: the leaf of the decision list. */
export type ExpectedReason =
  | 'method-not-allowed'
  | 'info'
  | 'privacy'
  | 'not-found'
  | 'ping'
  | 'catalog-not-found'
  | 'dot-segments'
  | 'bad-reference'
  | 'signature-upstream'
  | 'upstream'
  | 'blob-gcp-client'
  | 'blob-bucket-hit'
  | 'blob-bucket-miss';

export interface ExpectedFirstHop {
  status: number;
  /** absolute URL, for redirects */
  location?: string;
  reason: ExpectedReason;
  /** the client's classification under the target's semantics (blob rules only look at it) */
  classification: OracleClassification | null;
  /** for blobs from non-GCP clients: the bucket base that was consulted */
  base?: string;
}

export interface OracleRequest {
  method: string;
  /** path plus optional `?query`, as sent on the wire */
  path: string;
}

/** A concrete request for one kind, chosen from the target's images and mirror plan. */
export interface RoutingProbe extends OracleRequest {
  kind: RequestKind;
  /** the digest a blob probe asks for */
  digest?: string;
  /** why this request was chosen, or what is unusual about it (e.g. a synthetic digest) */
  note?: string;
}

/** A blob the target's images are made of (the image catalog), used to pick real digests for blob probes. */
export interface KnownBlob {
  repository: string;
  digest: string;
  size?: number;
}

/** HEAD on a bucket object: true when it answers 200 (archeio's BlobExists, docs/reference/archeio.md#existence-check-and-cache). */
export type BlobPresenceProbe = (url: string) => Promise<boolean>;

export interface RoutingOracleOptions {
  /** the publications to classify with (default: the bundled snapshots) */
  prefixes?: readonly PublishedPrefix[];
  /** how to learn whether a base holds a digest when the target has no mirror plan (default: an undici HEAD) */
  probeBlob?: BlobPresenceProbe;
  /** directory a relative `mirrorPlan` path is resolved against (default: the working directory) */
  baseDir?: string;
  /** the blobs the images consist of; without it, the mirror plan's digests are the only known blobs */
  blobs?: readonly KnownBlob[];
}

export type OracleErrorCode = 'ORACLE_VANTAGE_MISMATCH' | 'ORACLE_MIRROR_PLAN_INVALID' | 'ORACLE_BAD_REQUEST';

/** A harness error: the oracle cannot give a trustworthy answer (the description contradicts the data). */
export class OracleError extends Error {
  constructor(
    readonly code: OracleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OracleError';
  }
}

/** A digest no bucket or registry holds: archeio's own fixture for the upstream fallback (docs/reference/incidents.md#routing-and-client-ip R4). */
export const SYNTHETIC_ABSENT_DIGEST = `sha256:${'a'.repeat(57)}1234567`;

// OCI distribution-spec: repository name and digest grammar (the redirector's "strict OCI name and digest grammar").
const NAME = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*';
const DIGEST = '[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+';
const BLOB_PATH = new RegExp(`^/v2/(${NAME})/blobs/(${DIGEST})$`);
const SIGNATURE_TAG_PATH = new RegExp(`^/v2/(${NAME})/manifests/sha256-[a-f0-9]{64}\\.(?:sig|att)$`);
const NAME_ONLY = new RegExp(`^${NAME}$`);
const TAG_ONLY = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_ONLY = new RegExp(`^${DIGEST}$`);
/** image-spec's registered algorithms and their encodings: stricter than the generic grammar (no uppercase hex). */
const REGISTERED_ALGORITHMS: ReadonlyMap<string, RegExp> = new Map([
  ['sha256', /^[a-f0-9]{64}$/],
  ['sha512', /^[a-f0-9]{128}$/],
  ['blake3', /^[a-f0-9]{64}$/],
]);

function isDigest(s: string): boolean {
  if (!DIGEST_ONLY.test(s)) return false;
  const colon = s.indexOf(':');
  return REGISTERED_ALGORITHMS.get(s.slice(0, colon))?.test(s.slice(colon + 1)) ?? true;
}

/**
 * For `/v2/<name>/manifests/<ref>`, `/v2/<name>/tags/list` and `/v2/<name>/referrers/<digest>` (read from the right
 * on the decoded segments), the redirector's own answer when the name or reference breaks the distribution-spec
 * grammar: 400 for a name or a digest, 404 for a reference that is no tag (and has no colon). Null otherwise.
 */
export function malformedReferenceStatus(segments: readonly string[]): 400 | 404 | null {
  const n = segments.length;
  if (n < 4) return null;
  const endpoint = segments[n - 2];
  const ref = segments[n - 1];
  const isTagList = endpoint === 'tags' && ref === 'list';
  if (endpoint !== 'manifests' && endpoint !== 'referrers' && !isTagList) return null;
  if (!NAME_ONLY.test(segments.slice(2, n - 2).join('/'))) return 400;
  if (isTagList) return null;
  if (endpoint === 'referrers' || ref.includes(':')) return isDigest(ref) ? null : 400;
  return TAG_ONLY.test(ref) ? null : 404;
}

const trimSlashes = (s: string) => s.replace(/^\/+|\/+$/g, '');
const trimTrailingSlash = (s: string) => s.replace(/\/+$/, '');

async function headProbe(url: string): Promise<boolean> {
  try {
    const res = await request(url, { method: 'HEAD', headersTimeout: 10_000, bodyTimeout: 10_000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false; // a HEAD error counts as a miss (archeio buckets.go; docs/reference/archeio.md#existence-check-and-cache)
  }
}

/** Reads a mirror plan given inline or as a path (resolved against baseDir). */
export function loadMirrorPlan(plan: TargetDescription['mirrorPlan'], baseDir = process.cwd()): MirrorPlan | null {
  if (plan === null || plan === undefined) return null;
  let value: unknown = plan;
  if (typeof plan === 'string') {
    const file = isAbsolute(plan) ? plan : resolve(baseDir, plan);
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new OracleError('ORACLE_MIRROR_PLAN_INVALID', `cannot read mirror plan ${file}: ${(err as Error).message}`);
    }
  }
  const buckets = (value as MirrorPlan | null)?.buckets;
  if (typeof buckets !== 'object' || buckets === null) {
    throw new OracleError(
      'ORACLE_MIRROR_PLAN_INVALID',
      'mirror plan: `buckets` must be an object of base URL → digests',
    );
  }
  for (const [base, digests] of Object.entries(buckets)) {
    if (!Array.isArray(digests) || digests.some((d) => typeof d !== 'string')) {
      throw new OracleError(
        'ORACLE_MIRROR_PLAN_INVALID',
        `mirror plan: buckets[${JSON.stringify(base)}] must be a list of digests`,
      );
    }
  }
  return value as MirrorPlan;
}

/** `<repository>:<tag>` → parts (the repository may contain `/`; a registry port never appears here). */
export function splitRef(ref: string): { repository: string; tag: string } {
  const i = ref.lastIndexOf(':');
  return { repository: ref.slice(0, i), tag: ref.slice(i + 1) };
}

export class RoutingOracle {
  readonly target: TargetDescription;
  readonly plan: MirrorPlan | null;
  private readonly prefixes: readonly PublishedPrefix[];
  private readonly probeBlob: BlobPresenceProbe;
  private readonly blobs: readonly KnownBlob[];
  private readonly planSets = new Map<string, Set<string>>();
  private readonly presence = new Map<string, Promise<boolean>>();

  constructor(target: TargetDescription, options: RoutingOracleOptions = {}) {
    this.target = target;
    this.prefixes = options.prefixes ?? bundledPublishedRanges();
    this.probeBlob = options.probeBlob ?? headProbe;
    this.plan = loadMirrorPlan(target.mirrorPlan, options.baseDir);
    if (this.plan) {
      for (const [base, digests] of Object.entries(this.plan.buckets))
        this.planSets.set(trimTrailingSlash(base), new Set(digests));
    }
    const known = new Map<string, KnownBlob>();
    for (const b of options.blobs ?? []) if (!known.has(b.digest)) known.set(b.digest, b);
    // Without a catalog, the plan's digests are the blobs we know exist somewhere.
    const fallbackRepo = primaryImage(target) ? splitRef(primaryImage(target)!.ref).repository : 'library/unknown';
    for (const set of this.planSets.values())
      for (const d of set) if (!known.has(d)) known.set(d, { repository: fallbackRepo, digest: d });
    this.blobs = [...known.values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  }

  /**
   * The vantage's classification under the target's semantics. The vantage declares what the publications say of
   * its address; if neither the target's semantics nor longest-prefix match agrees with that declaration, the
   * description and the data disagree and no expectation built on either can be trusted: a harness error.
   * (Longest-prefix is accepted too because a GLOBAL-shadowed vantage is declared by its regional owner, while
   * archeio semantics classify it GLOBAL: docs/reference/archeio.md#ip-classification.)
   */
  classify(vantage: Vantage): OracleClassification | null {
    if (vantage.ip === '' || vantage.tags?.includes('declared-without-ip')) {
      // An egress vantage declared on the command line (`--vantage aws:us-east-1`): nothing to scan, trust it.
      return vantage.cloud === null
        ? null
        : { cloud: vantage.cloud, region: vantage.region ?? '', prefix: '(declared)' };
    }
    let found: OracleClassification | null;
    let owner: OracleClassification | null;
    try {
      found = classifyByScan(this.prefixes, vantage.ip, this.target.semantics);
      owner =
        this.target.semantics === 'most-specific' ? found : classifyByScan(this.prefixes, vantage.ip, 'most-specific');
    } catch (err) {
      throw new OracleError('ORACLE_VANTAGE_MISMATCH', `vantage ${vantage.name}: ${(err as Error).message}`);
    }
    const agrees = (c: OracleClassification | null) =>
      c === null ? vantage.cloud === null : c.cloud === vantage.cloud && c.region === (vantage.region ?? '');
    if (!agrees(found) && !agrees(owner)) {
      const said = vantage.cloud === null ? 'plain internet' : `${vantage.cloud} ${vantage.region}`;
      const saw = found === null ? 'no published prefix' : `${found.cloud} ${found.region} (${found.prefix})`;
      throw new OracleError(
        'ORACLE_VANTAGE_MISMATCH',
        `vantage ${vantage.name} (${vantage.ip}) is declared ${said}, but the published ranges say ${saw} under ${this.target.semantics} semantics`,
      );
    }
    return found;
  }

  /** The bucket base a blob request from this vantage is checked against, or null when it goes upstream (GCP). */
  blobBase(vantage: Vantage): string | null {
    return this.baseFor(this.classify(vantage));
  }

  private baseFor(c: OracleClassification | null): string | null {
    if (c?.cloud === 'GCP') return null;
    const regional = c?.cloud === 'AWS' ? this.target.bucketMap.regions[c.region] : undefined;
    return trimTrailingSlash(regional ?? this.target.bucketMap.default);
  }

  /** Does the base hold the digest? From the mirror plan when there is one, else by HEAD on the object. */
  async holds(base: string, digest: string): Promise<boolean> {
    const b = trimTrailingSlash(base);
    if (this.plan) return this.planSets.get(b)?.has(digest) ?? false;
    const url = blobObjectUrl(b, digest);
    let p = this.presence.get(url);
    if (!p) {
      p = this.probeBlob(url);
      this.presence.set(url, p);
    }
    return p;
  }

  /** The upstream URL for a `/v2...` path: upstream + "/v2/" + upstreamPath + the rest (docs/reference/archeio.md#url-construction, without cleaning). */
  upstreamUrl(path: string, query = '', endpoint = this.target.upstream): string {
    const rest = path.slice('/v2'.length); // "/pause/manifests/3.9"
    const prefix = trimSlashes(this.target.upstreamPath);
    return `${trimTrailingSlash(endpoint)}/v2${prefix ? `/${prefix}` : ''}${rest}${query ? `?${query}` : ''}`;
  }

  /** The expected first hop for a request from a vantage. */
  async expect(
    vantage: Vantage,
    req: OracleRequest,
    semantics: Semantics = this.target.semantics,
  ): Promise<ExpectedFirstHop> {
    const q = req.path.indexOf('?');
    const path = q < 0 ? req.path : req.path.slice(0, q);
    const query = q < 0 ? '' : req.path.slice(q + 1);
    const hop = (status: number, reason: ExpectedReason, location?: string): ExpectedFirstHop => ({
      status,
      reason,
      location,
      classification: null,
    });
    if (!path.startsWith('/'))
      throw new OracleError('ORACLE_BAD_REQUEST', `path must start with "/": ${JSON.stringify(req.path)}`);

    if (req.method !== 'GET' && req.method !== 'HEAD') return hop(405, 'method-not-allowed');
    if (path === '/') return hop(307, 'info', this.target.infoUrl);
    if (path === '/privacy' || path === '/privacy/') return hop(307, 'privacy', this.target.privacyUrl);
    if (path !== '/v2' && !path.startsWith('/v2/')) return hop(404, 'not-found');
    if (path === '/v2' || path === '/v2/') return hop(200, 'ping');
    if (path === '/v2/_catalog') return hop(404, 'catalog-not-found');
    const segments = path.split('/').map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
    if (segments.some((s) => s === '.' || s === '..')) return hop(400, 'dot-segments');
    const malformed = malformedReferenceStatus(segments);
    if (malformed !== null) return hop(malformed, 'bad-reference');

    const blob = BLOB_PATH.exec(path);
    if (!blob) {
      if (this.target.signatureUpstream && SIGNATURE_TAG_PATH.test(path)) {
        return hop(307, 'signature-upstream', this.upstreamUrl(path, query, this.target.signatureUpstream));
      }
      return hop(307, 'upstream', this.upstreamUrl(path, query));
    }

    const digest = blob[2]!;
    const classification =
      semantics === this.target.semantics ? this.classify(vantage) : this.classifyUnder(vantage, semantics);
    const base = this.baseFor(classification);
    if (base === null)
      return { status: 307, reason: 'blob-gcp-client', location: this.upstreamUrl(path, query), classification };
    if (await this.holds(base, digest)) {
      return { status: 307, reason: 'blob-bucket-hit', location: blobObjectUrl(base, digest), classification, base };
    }
    return { status: 307, reason: 'blob-bucket-miss', location: this.upstreamUrl(path, query), classification, base };
  }

  /** Classification under another semantics than the target's (for shadowed-prefix checks); no declaration check. */
  classifyUnder(vantage: Vantage, semantics: Semantics): OracleClassification | null {
    if (vantage.ip === '' || vantage.tags?.includes('declared-without-ip')) return this.classify(vantage);
    return classifyByScan(this.prefixes, vantage.ip, semantics);
  }

  /** The known blobs, sorted by digest. */
  knownBlobs(): readonly KnownBlob[] {
    return this.blobs;
  }

  /**
   * A concrete request for a kind from a vantage. Blob kinds pick real digests so the redirect target can be
   * followed: one the vantage's base holds, one it lacks but another bucket holds (so the check proves the
   * redirector asked *this* bucket), one no bucket holds. When the target offers none, a synthetic digest stands in
   * and the probe says so. Returns null when the kind cannot be built for this target (the caller reports it as
   * not applicable, with `unavailableReason`).
   */
  async probeFor(kind: RequestKind, vantage: Vantage): Promise<RoutingProbe | null> {
    const image = primaryImage(this.target);
    const main = image ? splitRef(image.ref) : null;
    switch (kind) {
      case 'root':
        return { kind, method: 'GET', path: '/' };
      case 'privacy':
        return { kind, method: 'GET', path: '/privacy' };
      case 'unknown-path':
        // CRI-O probes the v1 ping; it must be a clean 404 (docs/reference/incidents.md#edge-and-network N2)
        return { kind, method: 'GET', path: '/v1/_ping' };
      case 'manifest-by-tag':
        return main && { kind, method: 'GET', path: `/v2/${main.repository}/manifests/${main.tag}` };
      case 'manifest-by-digest':
        return main && image && { kind, method: 'GET', path: `/v2/${main.repository}/manifests/${image.digest}` };
      case 'tag-list':
        // n and last must survive the redirect (redirector rule 4; archeio drops them, kubernetes/registry.k8s.io#326)
        return (
          main && {
            kind,
            method: 'GET',
            path: `/v2/${main.repository}/tags/list?n=2&last=${encodeURIComponent(main.tag)}`,
          }
        );
      case 'signature-tag': {
        const sig = this.target.images.find(
          (i) => i.kind?.includes('signature') || /:sha256-[a-f0-9]{64}\.(sig|att)$/.test(i.ref),
        );
        if (sig)
          return {
            kind,
            method: 'GET',
            path: `/v2/${splitRef(sig.ref).repository}/manifests/${splitRef(sig.ref).tag}`,
          };
        if (!main || !image?.digest.startsWith('sha256:')) return null;
        return {
          kind,
          method: 'GET',
          path: `/v2/${main.repository}/manifests/sha256-${image.digest.slice(7)}.sig`,
          note: 'constructed cosign tag (no signature image listed)',
        };
      }
      case 'blob-in-bucket':
      case 'blob-absent-from-bucket':
      case 'blob-upstream-only':
        return this.blobProbe(kind, vantage);
    }
  }

  /** Why `probeFor` returned null. */
  unavailableReason(kind: RequestKind, vantage: Vantage): string {
    if (kind.startsWith('blob-')) return `no known blob fits "${kind}" for ${this.baseLabel(vantage)}`;
    return 'the target lists no images';
  }

  private baseLabel(vantage: Vantage): string {
    return this.candidateBase(vantage);
  }

  /** The base blob probes are chosen against: the vantage's own, or for GCP the default (what it would use if not GCP). */
  private candidateBase(vantage: Vantage): string {
    return this.blobBase(vantage) ?? trimTrailingSlash(this.target.bucketMap.default);
  }

  private async blobProbe(
    kind: 'blob-in-bucket' | 'blob-absent-from-bucket' | 'blob-upstream-only',
    vantage: Vantage,
  ): Promise<RoutingProbe | null> {
    const base = this.candidateBase(vantage);
    const path = (b: KnownBlob) => `/v2/${b.repository}/blobs/${b.digest}`;
    const fallbackRepo = (() => {
      const image = primaryImage(this.target);
      return image ? splitRef(image.ref).repository : null;
    })();
    if (kind === 'blob-in-bucket') {
      for (const b of this.blobs)
        if (await this.holds(base, b.digest)) return { kind, method: 'GET', path: path(b), digest: b.digest };
      return null;
    }
    const allBases = [
      ...new Set([
        trimTrailingSlash(this.target.bucketMap.default),
        ...Object.values(this.target.bucketMap.regions).map(trimTrailingSlash),
      ]),
    ];
    if (kind === 'blob-absent-from-bucket') {
      let anyAbsent: KnownBlob | undefined;
      for (const b of this.blobs) {
        if (await this.holds(base, b.digest)) continue;
        anyAbsent ??= b;
        // Prefer a blob another bucket holds: then only a check of *this* bucket routes it correctly.
        if (this.plan && allBases.some((o) => o !== base && this.planSets.get(o)?.has(b.digest))) {
          return { kind, method: 'GET', path: path(b), digest: b.digest, note: 'held by another bucket, not this one' };
        }
      }
      if (anyAbsent) return { kind, method: 'GET', path: path(anyAbsent), digest: anyAbsent.digest };
    } else if (this.plan) {
      for (const b of this.blobs) {
        if (!allBases.some((o) => this.planSets.get(o)?.has(b.digest)))
          return { kind, method: 'GET', path: path(b), digest: b.digest, note: 'held by no bucket' };
      }
    }
    if (!fallbackRepo) return null;
    return {
      kind,
      method: 'GET',
      path: `/v2/${fallbackRepo}/blobs/${SYNTHETIC_ABSENT_DIGEST}`,
      digest: SYNTHETIC_ABSENT_DIGEST,
      note: 'synthetic digest: no real blob of this kind is known for this target',
    };
  }
}

/** `<base>/containers/images/<digest>`: GCR's GCS layout, copied by the buckets (the layout of docs/reference/archeio.md#url-construction). */
export function blobObjectUrl(base: string, digest: string): string {
  return `${trimTrailingSlash(base)}/containers/images/${digest}`;
}

/** The image routing probes are built from: the first that is not a signature or referrer artifact. */
export function primaryImage(target: TargetDescription) {
  return target.images.find((i) => !i.kind?.some((k) => k === 'signature' || k === 'referrer')) ?? target.images[0];
}

const oracles = new WeakMap<TargetDescription, Promise<RoutingOracle>>();

/**
 * One oracle per target object, shared by every check of a run (the mirror plan and the presence cache are read
 * once). `blobs` resolves the image catalog lazily; it is only called the first time.
 */
export function routingOracleFor(
  target: TargetDescription,
  options: Omit<RoutingOracleOptions, 'blobs'> & { blobs?: () => Promise<readonly KnownBlob[]> } = {},
): Promise<RoutingOracle> {
  let p = oracles.get(target);
  if (!p) {
    p = (async () =>
      new RoutingOracle(target, { ...options, blobs: options.blobs ? await options.blobs() : undefined }))();
    oracles.set(target, p);
    p.catch(() => oracles.delete(target));
  }
  return p;
}

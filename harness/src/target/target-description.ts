/**
 * A target description: everything the harness needs to know about one deployment of a registry.k8s.io-style
 * redirector and the world around it. `registry-canary stack up --json` prints one for the local stack; the
 * built-in `sandbox` and `production` targets live in fixtures/targets/. Any redirector can be tested against the
 * same world by changing `url`. The contract is documented in docs/target-description.md.
 */
export type Cloud = 'AWS' | 'GCP' | 'Azure';
export type IpMode = 'xff' | 'edge' | 'egress';
export type Semantics = 'most-specific' | 'archeio';

export interface BucketMap {
  /** base URL for clients without a regional bucket (internet, Azure, AWS GLOBAL, GovCloud, ...) */
  default: string;
  /** AWS region → bucket base URL */
  regions: Record<string, string>;
}

export interface Vantage {
  /** stable name, e.g. `aws-us-east-1`, `gcp-v6`, `internet-v4` */
  name: string;
  /** the simulated client address */
  ip: string;
  /** what the clouds' publications say of `ip` (null: plain internet) */
  cloud: Cloud | null;
  region: string | null;
  /** an edge URL whose load balancer stamps `ip` into X-Forwarded-For, or null when there is none */
  url: string | null;
  /** free-form labels, e.g. ["shadowed-by-global"], ["ipv6"] */
  tags?: string[];
}

export interface ImageRef {
  /** `<repository>:<tag>` as seen through the redirector (no upstream path prefix) */
  ref: string;
  /** digest of the manifest or index the tag points at */
  digest: string;
  /** optional labels: "index", "docker-manifest-list", "large-layer", "signature", "referrer" ... */
  kind?: string[];
}

export interface TargetDescription {
  name: string;
  /** redirector base URL the harness talks to */
  url: string;
  ipMode: IpMode;
  semantics: Semantics;
  /** upstream registry base URL (scheme://host[:port]) */
  upstream: string;
  /** repository prefix at the upstream, may be empty */
  upstreamPath: string;
  signatureUpstream: string | null;
  infoUrl: string;
  privacyUrl: string;
  bucketMap: BucketMap;
  s3: { endpoint: string; buckets: string[] } | null;
  vantages: Vantage[];
  images: ImageRef[];
  /** path to a mirror plan (JSON), the plan inline, or null when unknown (remote targets: found by HEAD) */
  mirrorPlan: string | MirrorPlan | null;
  /** the IP of the load balancer appended after the client in X-Forwarded-For (xff mode) */
  lbIp?: string;
  /** extra fields are allowed */
  [extra: string]: unknown;
}

/** Which blobs each bucket base holds. Keys are bucket base URLs exactly as in the bucket map. */
export interface MirrorPlan {
  /** bucket base URL → list of digests it holds */
  buckets: Record<string, string[]>;
  /** human notes on the deliberate gaps */
  notes?: string[];
}

export class TargetDescriptionError extends Error {
  readonly code = 'TARGET_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TargetDescriptionError';
  }
}

const CLOUDS = new Set(['AWS', 'GCP', 'Azure']);

function isUrl(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Validates an untrusted JSON value as a TargetDescription. Errors name the JSON path of the first bad field, so
 * `--target-config FILE` gives a precise message rather than a crash later in a suite.
 */
export function parseTargetDescription(value: unknown, source = 'target'): TargetDescription {
  const fail = (path: string, what: string): never => {
    throw new TargetDescriptionError(`${source}: ${path} ${what}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('(root)', 'must be a JSON object');
  const t = value as Record<string, unknown>;
  if (typeof t.name !== 'string' || t.name === '') fail('name', 'must be a non-empty string');
  if (!isUrl(t.url)) fail('url', 'must be an http(s) URL');
  if (!['xff', 'edge', 'egress'].includes(t.ipMode as string)) fail('ipMode', 'must be "xff", "edge" or "egress"');
  if (!['most-specific', 'archeio'].includes(t.semantics as string))
    fail('semantics', 'must be "most-specific" or "archeio"');
  if (!isUrl(t.upstream)) fail('upstream', 'must be an http(s) URL');
  if (typeof t.upstreamPath !== 'string') fail('upstreamPath', 'must be a string (may be empty)');
  if (t.signatureUpstream !== null && !isUrl(t.signatureUpstream))
    fail('signatureUpstream', 'must be an http(s) URL or null');
  if (!isUrl(t.infoUrl)) fail('infoUrl', 'must be an http(s) URL');
  if (!isUrl(t.privacyUrl)) fail('privacyUrl', 'must be an http(s) URL');
  const bm = t.bucketMap as Record<string, unknown> | undefined;
  if (typeof bm !== 'object' || bm === null) fail('bucketMap', 'must be an object');
  if (!isUrl(bm!.default)) fail('bucketMap.default', 'must be an http(s) URL');
  if (typeof bm!.regions !== 'object' || bm!.regions === null) fail('bucketMap.regions', 'must be an object');
  for (const [region, base] of Object.entries(bm!.regions as object)) {
    if (!isUrl(base)) fail(`bucketMap.regions.${region}`, 'must be an http(s) URL');
  }
  if (t.s3 !== null) {
    const s3 = t.s3 as Record<string, unknown> | undefined;
    if (typeof s3 !== 'object' || s3 === null) fail('s3', 'must be an object or null');
    if (!isUrl(s3!.endpoint)) fail('s3.endpoint', 'must be an http(s) URL');
    if (!Array.isArray(s3!.buckets)) fail('s3.buckets', 'must be an array');
  }
  if (!Array.isArray(t.vantages)) fail('vantages', 'must be an array');
  (t.vantages as unknown[]).forEach((v, i) => {
    const p = `vantages[${i}]`;
    if (typeof v !== 'object' || v === null) fail(p, 'must be an object');
    const o = v as Record<string, unknown>;
    if (typeof o.name !== 'string' || o.name === '') fail(`${p}.name`, 'must be a non-empty string');
    if (typeof o.ip !== 'string') fail(`${p}.ip`, 'must be an IP address string');
    if (o.cloud !== null && !CLOUDS.has(o.cloud as string)) fail(`${p}.cloud`, 'must be "AWS", "GCP", "Azure" or null');
    if (o.region !== null && typeof o.region !== 'string') fail(`${p}.region`, 'must be a string or null');
    if (o.url !== null && !isUrl(o.url)) fail(`${p}.url`, 'must be an http(s) URL or null');
  });
  if (!Array.isArray(t.images)) fail('images', 'must be an array');
  (t.images as unknown[]).forEach((im, i) => {
    const o = im as Record<string, unknown>;
    if (typeof o?.ref !== 'string' || !o.ref.includes(':')) fail(`images[${i}].ref`, 'must be "<repository>:<tag>"');
    if (typeof o.digest !== 'string' || !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(o.digest))
      fail(`images[${i}].digest`, 'must be an OCI digest');
  });
  if (
    t.mirrorPlan !== null &&
    typeof t.mirrorPlan !== 'string' &&
    (typeof t.mirrorPlan !== 'object' || t.mirrorPlan === undefined)
  ) {
    fail('mirrorPlan', 'must be a path, an inline plan object or null');
  }
  return t as TargetDescription;
}

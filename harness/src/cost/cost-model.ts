/**
 * KEP 3000's question, "how much is this going to save us": for a traffic mix (who pulls, which images, how often),
 * the bytes and dollars each origin serves — an S3 bucket per region, the default blob host (a CDN), or the
 * upstream registry — under both IP-classification semantics, so the cost of archeio's GLOBAL shadowing is visible.
 *
 * Routing comes from the harness's routing oracle (the same rules the routing suite enforces), never from the
 * redirector's code. Only blob bytes are counted: manifests and tag lists always go upstream and are a few KiB.
 */
import type { BucketMap, Cloud, Semantics, TargetDescription, Vantage } from '../target/target-description.js';
import { RoutingOracle } from '../oracle/routing-oracle.js';
import { classifyByScan, bundledPublishedRanges, type PublishedPrefix } from '../oracle/published-ranges.js';
import { closestName } from '../run/closest-name.js';

/** Where bytes come from. `s3:<region>` names the bucket's own region when the base URL carries it. */
export type OriginClass =
  | 's3-same-region'
  | 's3-other-region'
  | 'default-host'
  | 'upstream-to-gcp'
  | 'upstream-to-internet';

/** USD per GB served, by origin class. The defaults are illustrative list prices; pass your own with --prices. */
export type Prices = Record<OriginClass, number>;
export const DEFAULT_PRICES: Prices = {
  's3-same-region': 0.0, // S3 → EC2 in the same region is not charged
  's3-other-region': 0.02, // inter-region transfer (grouped regions such as cn-* → ap-east-1)
  'default-host': 0.085, // CDN egress to the internet
  'upstream-to-gcp': 0.01, // Artifact Registry → GCP clients (intra-continent)
  'upstream-to-internet': 0.12, // Artifact Registry → internet and other clouds (premium tier)
};

export interface TrafficClient {
  /** label for the report */
  name: string;
  /** a representative client address; classified under each semantics */
  ip?: string;
  /** or a declared class when no address is given */
  cloud?: Cloud | null;
  region?: string | null;
  /** share of all pulls (the shares are normalised to sum to 1) */
  share: number;
}

export interface TrafficImage {
  ref: string;
  /** blob bytes one pull of this image transfers (config + layers of one platform) */
  bytes: number;
  share: number;
}

export interface TrafficMix {
  /** image pulls in the period the report covers */
  pulls: number;
  clients: TrafficClient[];
  images: TrafficImage[];
  /** share of blobs present in the bucket a client is routed to (default 1: fully mirrored); misses go upstream */
  mirroredShare?: number;
}

export class TrafficMixError extends Error {
  readonly code = 'TRAFFIC_MIX_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TrafficMixError';
  }
}

const ROOT_KEYS = ['pulls', 'clients', 'images', 'mirroredShare'];
const CLIENT_KEYS = ['name', 'ip', 'cloud', 'region', 'share'];
const IMAGE_KEYS = ['ref', 'bytes', 'share'];

/** The regions each cloud publishes, from published prefixes (what a declared client's region is checked against). */
export function publishedRegions(prefixes: readonly PublishedPrefix[]): Record<Cloud, Set<string>> {
  const out: Record<Cloud, Set<string>> = { AWS: new Set(), GCP: new Set(), Azure: new Set() };
  for (const p of prefixes) out[p.cloud].add(p.region);
  return out;
}

/**
 * Validates an untrusted traffic file; errors name the field. Nothing is guessed: an unknown key (a misspelt
 * `mirroredShare` would otherwise leave its default in force), a declared region the cloud does not publish, and a
 * client with both `ip` and `cloud` are errors.
 */
export function parseTrafficMix(
  value: unknown,
  source = 'traffic',
  regions: Record<Cloud, Set<string>> = publishedRegions(bundledPublishedRanges()),
): TrafficMix {
  const fail = (path: string, what: string): never => {
    throw new TrafficMixError(`${source}: ${path} ${what}`);
  };
  const onlyKeys = (o: Record<string, unknown>, allowed: string[], path: string) => {
    for (const k of Object.keys(o)) {
      if (allowed.includes(k)) continue;
      const near = closestName(k, allowed);
      const hint = near ? ` (did you mean ${near}?)` : '';
      fail(path === '' ? k : `${path}.${k}`, `is not a known field${hint}; known: ${allowed.join(', ')}`);
    }
  };
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('(root)', 'must be an object');
  onlyKeys(v!, ROOT_KEYS, '');
  const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (!positive(v!.pulls)) fail('pulls', 'must be a non-negative number');
  if (!Array.isArray(v!.clients) || v!.clients.length === 0) fail('clients', 'must be a non-empty list');
  if (!Array.isArray(v!.images) || v!.images.length === 0) fail('images', 'must be a non-empty list');
  (v!.clients as unknown[]).forEach((c, i) => {
    const o = c as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) fail(`clients[${i}]`, 'must be an object');
    onlyKeys(o, CLIENT_KEYS, `clients[${i}]`);
    if (typeof o.name !== 'string') fail(`clients[${i}].name`, 'must be a string');
    if (!positive(o.share)) fail(`clients[${i}].share`, 'must be a non-negative number');
    if (o.ip === undefined && o.cloud === undefined)
      fail(`clients[${i}]`, 'needs an `ip` or a `cloud` (null for plain internet)');
    if (o.ip !== undefined && typeof o.ip !== 'string') fail(`clients[${i}].ip`, 'must be a string');
    if (o.cloud !== undefined && o.cloud !== null && !['AWS', 'GCP', 'Azure'].includes(o.cloud as string))
      fail(`clients[${i}].cloud`, 'must be AWS, GCP, Azure or null');
    if (o.ip !== undefined && (o.cloud !== undefined || o.region !== undefined)) {
      fail(`clients[${i}]`, 'has both `ip` and `cloud`/`region`: give one (an address is classified from the ranges)');
    }
    if (o.cloud === 'AWS' && o.ip === undefined && typeof o.region !== 'string')
      fail(`clients[${i}].region`, 'is required for a declared AWS client');
    if (o.region !== undefined && o.region !== null) {
      if (typeof o.region !== 'string') fail(`clients[${i}].region`, 'must be a string');
      if (o.cloud === undefined || o.cloud === null) fail(`clients[${i}].region`, 'needs a `cloud`: AWS, GCP or Azure');
      const known = regions[o.cloud as Cloud];
      if (!known.has(o.region as string)) {
        const near = closestName(o.region as string, known);
        const hint = near ? ` (did you mean ${near}?)` : '';
        fail(`clients[${i}].region`, `${JSON.stringify(o.region)} is not a region ${o.cloud} publishes${hint}`);
      }
    }
  });
  (v!.images as unknown[]).forEach((im, i) => {
    const o = im as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) fail(`images[${i}]`, 'must be an object');
    onlyKeys(o, IMAGE_KEYS, `images[${i}]`);
    if (typeof o.ref !== 'string') fail(`images[${i}].ref`, 'must be a string');
    if (!positive(o.bytes)) fail(`images[${i}].bytes`, 'must be a non-negative number');
    if (!positive(o.share)) fail(`images[${i}].share`, 'must be a non-negative number');
  });
  if (v!.mirroredShare !== undefined && (!positive(v!.mirroredShare) || (v!.mirroredShare as number) > 1))
    fail('mirroredShare', 'must be between 0 and 1');
  const sum = (xs: { share: number }[]) => xs.reduce((a, x) => a + x.share, 0);
  if (sum(v!.clients as TrafficClient[]) === 0) fail('clients', 'shares must not all be zero');
  if (sum(v!.images as TrafficImage[]) === 0) fail('images', 'shares must not all be zero');
  return v as unknown as TrafficMix;
}

export interface OriginLine {
  origin: OriginClass;
  /** the base URL or upstream that served the bytes */
  host: string;
  gb: number;
  usd: number;
}

export interface ClientLine {
  name: string;
  classification: string;
  origin: OriginClass;
  host: string;
  gb: number;
  usd: number;
}

export interface CostReport {
  semantics: Semantics;
  totalGb: number;
  totalUsd: number;
  /** what the same traffic costs when everything is served by the upstream (the pre-redirector world) */
  allUpstreamUsd: number;
  savingsUsd: number;
  byOrigin: OriginLine[];
  byClient: ClientLine[];
}

const GB = 1e9;

function hostOf(url: string): string {
  try {
    return new URL(url).host + new URL(url).pathname.replace(/\/+$/, '');
  } catch {
    return url;
  }
}

/**
 * Estimates the cost of a traffic mix for one semantics. `target` provides the bucket map and upstream (a local,
 * sandbox or production description, or one built from a bucket map by `targetForBucketMap`).
 */
export function estimateCost(
  mix: TrafficMix,
  target: TargetDescription,
  semantics: Semantics,
  prices: Prices,
  prefixes: readonly PublishedPrefix[] = bundledPublishedRanges(),
): CostReport {
  const oracle = new RoutingOracle({ ...target, semantics, mirrorPlan: null }, { prefixes });
  const clientTotal = mix.clients.reduce((a, c) => a + c.share, 0);
  const imageTotal = mix.images.reduce((a, i) => a + i.share, 0);
  const bytesPerPull = mix.images.reduce((a, i) => a + i.bytes * (i.share / imageTotal), 0);
  const mirrored = mix.mirroredShare ?? 1;
  const origins = new Map<string, OriginLine>();
  const byClient: ClientLine[] = [];
  const add = (origin: OriginClass, host: string, gb: number) => {
    const key = `${origin}|${host}`;
    const line = origins.get(key) ?? { origin, host, gb: 0, usd: 0 };
    line.gb += gb;
    line.usd += gb * prices[origin];
    origins.set(key, line);
  };
  let allUpstreamUsd = 0;
  const upstreamHost = hostOf(target.upstream);
  for (const c of mix.clients) {
    const gb = (mix.pulls * (c.share / clientTotal) * bytesPerPull) / GB;
    const vantage = vantageFor(c, prefixes);
    const cls = oracle.classify(vantage);
    const upstreamClass: OriginClass = cls?.cloud === 'GCP' ? 'upstream-to-gcp' : 'upstream-to-internet';
    allUpstreamUsd += gb * prices[upstreamClass];
    const base = oracle.blobBase(vantage);
    const label = cls ? `${cls.cloud} ${cls.region}` : 'internet';
    if (base === null) {
      add(upstreamClass, upstreamHost, gb);
      byClient.push({
        name: c.name,
        classification: label,
        origin: upstreamClass,
        host: upstreamHost,
        gb,
        usd: gb * prices[upstreamClass],
      });
      continue;
    }
    const origin: OriginClass =
      base === target.bucketMap.default.replace(/\/+$/, '')
        ? 'default-host'
        : cls?.cloud === 'AWS' && base.includes(cls.region)
          ? 's3-same-region'
          : 's3-other-region';
    add(origin, hostOf(base), gb * mirrored);
    if (mirrored < 1) add(upstreamClass, upstreamHost, gb * (1 - mirrored));
    const usd = gb * mirrored * prices[origin] + gb * (1 - mirrored) * prices[upstreamClass];
    byClient.push({ name: c.name, classification: label, origin, host: hostOf(base), gb, usd });
  }
  const byOrigin = [...origins.values()].sort((a, b) => b.usd - a.usd || b.gb - a.gb || a.host.localeCompare(b.host));
  const totalGb = byOrigin.reduce((a, l) => a + l.gb, 0);
  const totalUsd = byOrigin.reduce((a, l) => a + l.usd, 0);
  return { semantics, totalGb, totalUsd, allUpstreamUsd, savingsUsd: allUpstreamUsd - totalUsd, byOrigin, byClient };
}

/** A client as an oracle vantage: an address is declared by its owner (the longest published prefix). */
function vantageFor(c: TrafficClient, prefixes: readonly PublishedPrefix[]): Vantage {
  if (c.ip !== undefined) {
    let owner;
    try {
      owner = classifyByScan(prefixes, c.ip, 'most-specific');
    } catch {
      throw new TrafficMixError(`clients: ${JSON.stringify(c.name)} has an invalid ip ${JSON.stringify(c.ip)}`);
    }
    return { name: c.name, ip: c.ip, cloud: owner?.cloud ?? null, region: owner?.region ?? null, url: null };
  }
  return {
    name: c.name,
    ip: '',
    cloud: c.cloud ?? null,
    region: c.region ?? null,
    url: null,
    tags: ['declared-without-ip'],
  };
}

/** A minimal target description around a bucket map, for cost estimates without a stack. */
export function targetForBucketMap(
  bucketMap: BucketMap,
  upstream = 'https://us-central1-docker.pkg.dev',
  upstreamPath = 'k8s-artifacts-prod/images',
): TargetDescription {
  return {
    name: 'cost-model',
    url: 'https://registry.k8s.io',
    ipMode: 'egress',
    semantics: 'most-specific',
    upstream,
    upstreamPath,
    signatureUpstream: null,
    infoUrl: 'https://github.com/kubernetes/registry.k8s.io',
    privacyUrl: 'https://www.linuxfoundation.org/privacy-policy/',
    bucketMap,
    s3: null,
    vantages: [],
    images: [],
    mirrorPlan: null,
  };
}

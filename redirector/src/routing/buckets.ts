/**
 * AWS region → bucket base URL, as data (BUCKET_MAP), validated at start-up.
 *
 * archeio compiles this map into a Go switch (kubernetes/registry.k8s.io:cmd/archeio/internal/app/buckets.go,
 * `awsRegionToHostURL`). The bundled fixtures/bucket-map.json reproduces it exactly
 * (docs/reference/archeio.md#bucket-map): 36 region keys, 32 distinct hosts, cn-* and ap-east-2 grouped onto ap-east-1,
 * me-south-1 onto me-central-1, and eu-west-2's non-standard bucket host. Everything not in the map (GLOBAL, us-gov-*,
 * eusc-*, non-AWS and unknown clients) goes to `default`, which DEFAULT_AWS_BASE_URL overrides, exactly as archeio's
 * `defaultURL` parameter does.
 *
 * Beyond archeio (like Quay's start-up rule validation): a region present in the range data but
 * missing here is an error at start-up, naming the regions, unless explicitly allowed. archeio only checks this in a
 * unit test (buckets_test.go), so new AWS regions silently route to the default until someone notices.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageRoot, type Cloud } from '../ranges/index.js';

export interface BucketMap {
  /** base URL for everything that has no region entry; no trailing slash */
  readonly default: string;
  /** AWS region → base URL; no trailing slash */
  readonly regions: Readonly<Record<string, string>>;
}

export type BucketMapErrorCode = 'BUCKET_MAP_INVALID' | 'BUCKET_MAP_INCOMPLETE';

export class BucketMapError extends Error {
  constructor(
    readonly code: BucketMapErrorCode,
    message: string,
    /** for BUCKET_MAP_INCOMPLETE: the regions without an entry */
    readonly regions: readonly string[] = [],
  ) {
    super(message);
    this.name = 'BucketMapError';
  }
}

/** The bundled map's path (fixtures/bucket-map.json at the package root, from the sources and from dist/ alike). */
export function bundledBucketMapPath(): string {
  return join(findPackageRoot(dirname(fileURLToPath(import.meta.url))), 'fixtures', 'bucket-map.json');
}

const REGION_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Validates and normalises a base URL: absolute http(s), no credentials, query or fragment; trailing `/` dropped. */
export function normalizeBaseUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BucketMapError('BUCKET_MAP_INVALID', `${what}: ${JSON.stringify(value)} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BucketMapError('BUCKET_MAP_INVALID', `${what}: ${JSON.stringify(value)} must be an http or https URL`);
  }
  if (
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    value.includes('?') ||
    value.includes('#')
  ) {
    throw new BucketMapError(
      'BUCKET_MAP_INVALID',
      `${what}: ${JSON.stringify(value)} must not carry credentials, a query or a fragment`,
    );
  }
  // Keep the operator's exact spelling (so Locations equal production's byte for byte), minus trailing slashes.
  return value.replace(/\/+$/, '');
}

/** Parses and validates a bucket map document. `source` names the file in error messages. */
export function parseBucketMap(text: string, source: string): BucketMap {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BucketMapError('BUCKET_MAP_INVALID', `BUCKET_MAP ${source}: not JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new BucketMapError(
      'BUCKET_MAP_INVALID',
      `BUCKET_MAP ${source}: expected an object {"default": URL, "regions": {region: URL}}`,
    );
  }
  const obj = doc as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== 'default' && key !== 'regions') {
      throw new BucketMapError(
        'BUCKET_MAP_INVALID',
        `BUCKET_MAP ${source}: unknown key ${JSON.stringify(key)} (allowed: default, regions)`,
      );
    }
  }
  if (typeof obj.default !== 'string') {
    throw new BucketMapError('BUCKET_MAP_INVALID', `BUCKET_MAP ${source}: "default" must be a URL string`);
  }
  const regionsIn = obj.regions;
  if (typeof regionsIn !== 'object' || regionsIn === null || Array.isArray(regionsIn)) {
    throw new BucketMapError('BUCKET_MAP_INVALID', `BUCKET_MAP ${source}: "regions" must be an object of region → URL`);
  }
  const regions: Record<string, string> = {};
  for (const [region, url] of Object.entries(regionsIn as Record<string, unknown>)) {
    if (!REGION_NAME.test(region)) {
      throw new BucketMapError(
        'BUCKET_MAP_INVALID',
        `BUCKET_MAP ${source}: ${JSON.stringify(region)} is not an AWS region name`,
      );
    }
    if (typeof url !== 'string') {
      throw new BucketMapError('BUCKET_MAP_INVALID', `BUCKET_MAP ${source}: regions.${region} must be a URL string`);
    }
    regions[region] = normalizeBaseUrl(url, `BUCKET_MAP ${source}: regions.${region}`);
  }
  return { default: normalizeBaseUrl(obj.default, `BUCKET_MAP ${source}: default`), regions };
}

/** Reads a bucket map file (the bundled one when `path` is empty). */
export function loadBucketMap(path: string): BucketMap {
  const file = path === '' ? bundledBucketMapPath() : path;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BucketMapError(
      'BUCKET_MAP_INVALID',
      `BUCKET_MAP ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parseBucketMap(text, file);
}

/** The map with its default replaced (DEFAULT_AWS_BASE_URL). */
export function withDefaultBase(map: BucketMap, base: string): BucketMap {
  return { default: normalizeBaseUrl(base, 'DEFAULT_AWS_BASE_URL'), regions: map.regions };
}

/**
 * Regions archeio deliberately sends to the default URL (docs/reference/archeio.md#bucket-map): the non-regional
 * GLOBAL, GovCloud and the European Sovereign Cloud. archeio's own test exempts exactly these (buckets_test.go).
 */
export function isExemptRegion(region: string): boolean {
  return region === 'GLOBAL' || region.startsWith('us-gov-') || region.startsWith('eusc-');
}

/** `*` allows every region to be unmapped; otherwise a list of region names. */
export type UnmappedAllowance = '*' | readonly string[];

/** AWS regions of the data that have no entry, are not exempt and are not allowed; sorted. Pure. */
export function unmappedRegions(map: BucketMap, awsRegions: readonly string[], allowed: UnmappedAllowance): string[] {
  if (allowed === '*') return [];
  const ok = new Set(allowed);
  return awsRegions.filter((r) => !isExemptRegion(r) && !ok.has(r) && !Object.hasOwn(map.regions, r)).sort();
}

/** Throws BUCKET_MAP_INCOMPLETE naming every AWS region of the data that has no bucket. */
export function assertBucketCoverage(map: BucketMap, awsRegions: readonly string[], allowed: UnmappedAllowance): void {
  const missing = unmappedRegions(map, awsRegions, allowed);
  if (missing.length > 0) {
    throw new BucketMapError(
      'BUCKET_MAP_INCOMPLETE',
      `BUCKET_MAP has no bucket for AWS region${missing.length === 1 ? '' : 's'} ${missing.join(', ')} found in the range data; add ${missing.length === 1 ? 'it' : 'them'} to the map or list ${missing.length === 1 ? 'it' : 'them'} in ALLOW_UNMAPPED_REGIONS`,
      missing,
    );
  }
}

/**
 * Answers "which base do blob requests from this client get checked against". Built once; `baseFor` is a Map
 * lookup on the hot path.
 */
export class BucketRouter {
  private readonly byRegion: Map<string, string>;

  constructor(
    readonly map: BucketMap,
    /**
     * archeio looks the region string up without checking the cloud (docs/reference/archeio.md#decision-list step 7).
     * The default mode only maps AWS regions, so a same-named region of another cloud could never borrow an AWS bucket.
     */
    private readonly ignoreCloud = false,
  ) {
    this.byRegion = new Map(Object.entries(map.regions));
  }

  /** The bucket base for a classified client (or the default for unknown clients). Never for GCP: see plan(). */
  baseFor(cloud: Cloud | null, region: string | null): string {
    if (region === null || (cloud !== 'AWS' && !this.ignoreCloud)) return this.map.default;
    return this.byRegion.get(region) ?? this.map.default;
  }

  /** Every distinct base, default first: the hosts a blob Location may point at. */
  bases(): string[] {
    return [...new Set([this.map.default, ...this.byRegion.values()])];
  }
}

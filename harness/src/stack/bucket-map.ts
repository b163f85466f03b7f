/**
 * The local stack's bucket map: production's AWS region → bucket grouping (docs/reference/archeio.md#bucket-map,
 * archeio's buckets.go @093d55a), with each bucket served path-style by s3rver through the faults front.
 *
 * This is the harness's own copy of the table (the harness never imports redirector/); the redirector is given the
 * resulting map through BUCKET_MAP, so both sides agree by construction and the routing suite checks the redirector
 * against it.
 */
import type { BucketMap } from '../target/target-description.js';

/** request region → the region whose bucket serves it (36 keys, 32 distinct buckets) */
export const PRODUCTION_BUCKET_REGIONS: Readonly<Record<string, string>> = {
  'af-south-1': 'af-south-1',
  'ap-east-1': 'ap-east-1',
  // aws-cn regions are not reachable from the public partition; production sends them to Hong Kong
  'cn-north-1': 'ap-east-1',
  'cn-northwest-1': 'ap-east-1',
  'ap-east-2': 'ap-east-1',
  'ap-northeast-1': 'ap-northeast-1',
  'ap-northeast-2': 'ap-northeast-2',
  'ap-northeast-3': 'ap-northeast-3',
  'ap-southeast-1': 'ap-southeast-1',
  'ap-southeast-2': 'ap-southeast-2',
  'ap-southeast-3': 'ap-southeast-3',
  'ap-southeast-4': 'ap-southeast-4',
  'ap-southeast-5': 'ap-southeast-5',
  'ap-southeast-6': 'ap-southeast-6',
  'ap-southeast-7': 'ap-southeast-7',
  'ap-south-1': 'ap-south-1',
  'ap-south-2': 'ap-south-2',
  'ca-central-1': 'ca-central-1',
  'ca-west-1': 'ca-west-1',
  'eu-central-1': 'eu-central-1',
  'eu-central-2': 'eu-central-2',
  'eu-north-1': 'eu-north-1',
  'eu-south-1': 'eu-south-1',
  'eu-south-2': 'eu-south-2',
  'eu-west-1': 'eu-west-1',
  'eu-west-2': 'eu-west-2',
  'eu-west-3': 'eu-west-3',
  'il-central-1': 'il-central-1',
  'me-central-1': 'me-central-1',
  // production's me-south-1 bucket became unreachable (archeio 8195341)
  'me-south-1': 'me-central-1',
  'mx-central-1': 'mx-central-1',
  'sa-east-1': 'sa-east-1',
  'us-east-1': 'us-east-1',
  'us-east-2': 'us-east-2',
  'us-west-1': 'us-west-1',
  'us-west-2': 'us-west-2',
};

/** The bucket the default base points at. Production's default is a CDN (cdn.registry.k8s.io); locally it is a bucket. */
export const DEFAULT_BUCKET = 'prod-registry-k8s-io-default';

/** The key used for the default base in mirror plans and listings. */
export const DEFAULT_BUCKET_KEY = 'default';

/** Production's bucket name for a bucket region; eu-west-2's was recreated under another name (archeio 6bb9278). */
export function bucketNameFor(bucketRegion: string): string {
  if (bucketRegion === DEFAULT_BUCKET_KEY) return DEFAULT_BUCKET;
  if (bucketRegion === 'eu-west-2') return '767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2';
  return `prod-registry-k8s-io-${bucketRegion}`;
}

export interface LocalBuckets {
  bucketMap: BucketMap;
  /** bucket key (a bucket region, or "default") → bucket name */
  names: Record<string, string>;
  /** bucket key → base URL (`<front>/<bucket>`) */
  bases: Record<string, string>;
}

/** The bucket map for a stack whose buckets are reached path-style at `frontUrl` (no trailing slash). */
export function localBuckets(
  frontUrl: string,
  regions: Readonly<Record<string, string>> = PRODUCTION_BUCKET_REGIONS,
): LocalBuckets {
  const keys = [DEFAULT_BUCKET_KEY, ...new Set(Object.values(regions))].sort();
  const names: Record<string, string> = {};
  const bases: Record<string, string> = {};
  for (const key of keys) {
    names[key] = bucketNameFor(key);
    bases[key] = `${frontUrl}/${names[key]}`;
  }
  const bucketMap: BucketMap = { default: bases[DEFAULT_BUCKET_KEY]!, regions: {} };
  for (const [region, bucketRegion] of Object.entries(regions)) bucketMap.regions[region] = bases[bucketRegion]!;
  return { bucketMap, names, bases };
}

/**
 * The parts a configuration names, built one way for every consumer: the serving redirector (redirector.ts) and
 * `registry-canary explain` (which must answer exactly as serving does). Pure functions of the Config, apart from
 * reading the bucket-map file.
 */
import type { Config } from '../config.js';
import { BUNDLED_RANGE_SOURCES, type RangeSources } from '../ranges/index.js';
import {
  BucketRouter,
  buildRoutingTable,
  loadBucketMap,
  withDefaultBase,
  type BucketMap,
  type RoutingTable,
} from '../routing/index.js';

/** AWS_IP_RANGES, GCP_IP_RANGES and AZURE_IP_RANGES, or the bundled snapshots for those not set. */
export function configuredRangeSources(config: Config): RangeSources {
  return {
    aws: config.awsRanges || BUNDLED_RANGE_SOURCES.aws,
    gcp: config.gcpRanges || BUNDLED_RANGE_SOURCES.gcp,
    azure: config.azureRanges || BUNDLED_RANGE_SOURCES.azure,
  };
}

/** BUCKET_MAP (or the bundled production map), with DEFAULT_AWS_BASE_URL in place of its default when set. */
export function configuredBucketMap(config: Config): BucketMap {
  const map = loadBucketMap(config.bucketMap);
  return config.defaultAwsBaseUrl === null ? map : withDefaultBase(map, config.defaultAwsBaseUrl);
}

/** The routing table for a bucket map (the configured one, or a mutant's variant of it). */
export function configuredRoutingTable(config: Config, bucketMap: BucketMap): RoutingTable {
  return buildRoutingTable({
    upstreamEndpoint: config.upstreamEndpoint,
    upstreamPath: config.upstreamPath,
    signatureEndpoint: config.signatureEndpoint,
    infoUrl: config.infoUrl,
    privacyUrl: config.privacyUrl,
    preserveQuery: config.preserveQuery,
    buckets: new BucketRouter(bucketMap),
  });
}

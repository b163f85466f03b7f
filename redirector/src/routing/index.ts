export * from './decision.js';
export {
  BucketMapError,
  BucketRouter,
  assertBucketCoverage,
  bundledBucketMapPath,
  isExemptRegion,
  loadBucketMap,
  normalizeBaseUrl,
  parseBucketMap,
  unmappedRegions,
  withDefaultBase,
} from './buckets.js';
export type { BucketMap, BucketMapErrorCode, UnmappedAllowance } from './buckets.js';
export { classifyPath, isValidDigest, isValidName, normalizeQuery, percentDecode, splitTarget } from './paths.js';
export type { PathRoute, RequestTarget } from './paths.js';
export { BLOB_ROUTE_MEMO_MAX, UNKNOWN_CLIENT, blobBaseFor, createRouter, plan } from './plan.js';
export { BoundedMemo } from './bounded-memo.js';
export { SlotMemo } from './slot-memo.js';
export type { BlobRoute, ClientFacts, RequestFacts, Route, Router } from './plan.js';
export { createArcheioRouter } from './plan-archeio.js';
export { allowedLocationPrefixes, buildRoutingTable, normalizeUpstreamPath } from './routing-table.js';
export type { RoutingTable, RoutingTableInput } from './routing-table.js';
export * from './routing-cases.js';

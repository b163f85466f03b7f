/**
 * The local stack's public surface (docs/local-stack.md): start it, read its target description, flip its faults.
 */
export {
  startStack,
  stackSpec,
  type Engine,
  type StackOptions,
  type StackSpec,
  type StackTimings,
  type StartedStack,
  type StoppedStack,
  type UpstreamChoice,
  type UpstreamInfo,
  type UpstreamKind,
} from './stack.js';
export { StackError, type StackErrorCode } from './stack-error.js';
export type { RedirectorService, RegistryService, Started } from './stack-service.js';
export {
  FaultError,
  type Fault,
  type FaultTarget,
  type FrontName,
  type RequestQuery,
  type RequestRecord,
} from './fault-proxy.js';
export type { FaultControl } from './fault-control.js';
export { edgeRequestHeaders, type EdgePort } from './edge.js';
export { DEFAULT_BUCKET, PRODUCTION_BUCKET_REGIONS, bucketNameFor, localBuckets } from './bucket-map.js';
export {
  BUNDLED_VANTAGES_FILE,
  checkVantages,
  readVantagePlan,
  type VantagePlan,
  type VantageSpec,
} from './vantages.js';
export { BUNDLED_MIRROR_PLAN_FILE, readMirrorPlanSpec, resolveMirrorPlan, type MirrorPlanSpec } from './mirror-plan.js';
export { Wait, systemClock, type Clock, type WaitStrategy } from './wait.js';
export { descendantProcesses, isAlive } from './process-tree.js';
export { blobKey, S3RVER_CREDENTIALS } from './s3-bucket-server.js';
export {
  bucketsOf,
  resolveBucket,
  withExtraContent,
  type ExtraContent,
  type ExtraContentOptions,
  type ResolvedBucket,
} from './extra-content.js';

export { BlobProbe, classifyStatus } from './blob-probe.js';
export type {
  BlobProbeOptions,
  CacheOptions,
  HeadEvent,
  HeadFetcher,
  ProbeOutcome,
  ProbeResult,
} from './blob-probe.js';
export { CircuitBreaker } from './circuit-breaker.js';
export type { BreakerState } from './circuit-breaker.js';
export { systemClock } from './clock.js';
export { ManualClock } from './manual-clock.js';
export type { Clock } from './clock.js';
export { createHeadFetcher } from './head-fetcher.js';
export type { UndiciHeadFetcher } from './head-fetcher.js';

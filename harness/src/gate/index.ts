/** The promotion gate's public surface: fingerprints, their diff, the verdict, the reports, the loopback twin. */
export {
  FINGERPRINT_HEADERS,
  collectFingerprint,
  type BehaviourFingerprint,
  type CollectOptions,
  type ObservedDigest,
  type ObservedFirstHop,
} from './behaviour-fingerprint.js';
export { commonRefs, gateProbes, type FingerprintProbe, type ProbeSide } from './fingerprint-probes.js';
export {
  declaredDifferences,
  describeHop,
  diffFingerprints,
  type BehaviourDifference,
  type DeclaredDifference,
  type DiffOptions,
  type FieldChange,
  type FingerprintDiff,
} from './fingerprint-diff.js';
export {
  decideGate,
  redChecks,
  suiteRegressions,
  type GateDecision,
  type GateSide,
  type GateVerdict,
  type RedCheck,
  type SideSuites,
} from './gate-verdict.js';
export {
  gateHtml,
  gateJson,
  gateJunitXml,
  gateMarkdown,
  unmatchedAccepts,
  writeGateReports,
  type GateReport,
  type WrittenGateReports,
} from './gate-report.js';
export { GateUsageError, gateVantages, runGate, type GateSuite, type RunGateOptions } from './run-gate.js';
export {
  bucketNameOf,
  isLoopbackHost,
  locationShape,
  type LocationShape,
  type ShapeOptions,
} from './location-shape.js';
export {
  LoopbackTwinError,
  startLoopbackTwin,
  twinDescription,
  type LoopbackTwinOptions,
  type StartedLoopbackTwin,
} from './loopback-twin.js';
export { PathPrefixProxy, stripRepositoryPrefix } from './path-prefix-proxy.js';

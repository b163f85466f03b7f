/**
 * The harness's public surface: what suites, the CLI and CI scripts use (a directory's
 * index.ts is its public surface). Suites import from here, never from redirector/.
 */

// target descriptions
export {
  parseTargetDescription,
  TargetDescriptionError,
  type BucketMap,
  type Cloud,
  type ImageRef,
  type IpMode,
  type MirrorPlan,
  type Semantics,
  type TargetDescription,
  type Vantage,
} from './target/target-description.js';

// checks and results
export {
  CheckFailure,
  NotApplicable,
  STATUS_ORDER,
  rollUp,
  type Check,
  type CheckContext,
  type CheckResult,
  type FailureClass,
  type Hop,
  type Status,
} from './results/check.js';
export { findKnownIssue, globMatches, knownIssuesOf, type KnownIssue } from './results/known-issue.js';
export { redactTarget } from './results/redact-target.js';
export {
  FAILURE_CLASSES,
  countResults,
  decideVerdict,
  isRed,
  rollUpAll,
  type Preflight,
  type PreflightVantage,
  type RunCounts,
  type RunReport,
  type Verdict,
} from './results/run-report.js';
export { routingEvidenceOf, type RoutingEvidence } from './results/routing-evidence.js';

// the routing oracle
export {
  REQUEST_KINDS,
  OracleError,
  RoutingOracle,
  SYNTHETIC_ABSENT_DIGEST,
  blobObjectUrl,
  findShadowedPrefixes,
  loadMirrorPlan,
  locationMatches,
  primaryImage,
  routingOracleFor,
  splitRef,
  type BlobPresenceProbe,
  type ExpectedFirstHop,
  type ExpectedReason,
  type KnownBlob,
  type LocationMatchOptions,
  type OracleRequest,
  type RequestKind,
  type RoutingOracleOptions,
  type RoutingProbe,
  type ShadowedPrefix,
} from './oracle/routing-oracle.js';
export {
  classifyByScan,
  readPublishedRanges,
  type OracleClassification,
  type PublishedPrefix,
} from './oracle/published-ranges.js';

// running checks
export {
  DEFAULT_CHECK_TIMEOUT_MS,
  DEFAULT_CONCURRENCY,
  runCheck,
  runChecks,
  type RunCheckOptions,
  type RunChecksOptions,
} from './run/run-checks.js';
export {
  CheckTimeoutError,
  Inconclusive,
  RunAbortedError,
  classifyOutcome,
  transportClassOf,
  type Outcome,
} from './run/classify-outcome.js';
export {
  DEFAULT_LB_IP,
  clientForRoute,
  egressVantageName,
  vantageRoute,
  type RouteOptions,
  type VantageRoute,
} from './run/vantage-route.js';
export { judgeFirstHop, locationMatchOptions, type JudgeInput } from './run/first-hop-judge.js';
export {
  imageCatalogFor,
  knownBlobsOf,
  readImageCatalog,
  type CatalogBlob,
  type CatalogManifest,
  type ImageCatalog,
} from './run/image-catalog.js';
export { targetOracle } from './run/target-oracle.js';
export { preflight } from './run/preflight.js';
export { createProgress, silentProgress, type ProgressSink } from './run/progress.js';
export {
  DEFAULT_IP_ECHO_URL,
  describeVantage,
  resolveEgressVantage,
  selectVantages,
  vantageCoverage,
  VantageSelectionError,
  type EgressOptions,
} from './run/vantage-selection.js';

// reports
export { formatHop, formatTrace } from './report/hop-trace.js';
export { htmlReport } from './report/html-report.js';
export { junitXml } from './report/junit-xml.js';
export { destinationOf, routingMap, type Destination, type RoutingMap } from './report/routing-map.js';
export { terminalSummary, type SummaryOptions } from './report/terminal-summary.js';
export { packageVersion } from './version.js';
export { defaultReportDir, resultsJson, writeReports, type WrittenReports } from './report/write-reports.js';
export {
  MetricsPushError,
  exportRunMetrics,
  pushMetrics,
  pushgatewayUrl,
  runLabels,
  runMetricsRegistry,
  runMetricsText,
  writeMetricsTextfile,
  type MetricsExport,
  type MetricsLabels,
} from './report/prometheus-metrics.js';

// external programs (harness/src/clients)
export {
  OCI_CONFORMANCE_GROUPS,
  OCI_CONFORMANCE_ROOT,
  ConformanceEndpointError,
  ConformanceReportError,
  conformanceEndpoint,
  conformanceEnv,
  parseConformanceJunit,
  runConformanceProgram,
  type ConformanceEndpoint,
  type GroupRun,
  type OciConformanceGroup,
  type ProgramRun,
  type ProgramTestCase,
  type ReadOnlyInputs,
} from './clients/oci-conformance-program.js';

// the OCI client (harness/src/oci)
export {
  OciClient,
  createOciClient,
  type FirstHopResult,
  type OciClientOptions,
  type ProbeResult,
  type RangeResult,
} from './oci/oci-client.js';
export type { TagList } from './oci/oci-listings.js';
export { OciError, failureClassOf, isOciError, type OciErrorCode } from './oci/oci-error.js';
export type { OciHop } from './oci/hop.js';
export {
  pullImage,
  type PullOptions,
  type PullResult,
  type PulledBlob,
  type PulledManifest,
} from './oci/pull-image.js';
export {
  AnonymousTokenCache,
  RegistryAuthError,
  bearerChallengeOf,
  parseTokenResponse,
  parseWwwAuthenticate,
  tokenRequestUrl,
  type AuthChallenge,
  type BearerChallenge,
} from './oci/registry-auth.js';

// OCI content: media types, digests, descriptors, byte ranges
export { MANIFEST_ACCEPT, MediaType, essenceOf } from './oci/media-types.js';
export { digestOf, referrersTagFor } from './oci/digest.js';
export { isImageIndexJson, isImageManifestJson, type Descriptor } from './oci/descriptor.js';
export { parseContentRange, rangeHeaderValue, type ByteRangeRequest } from './oci/byte-range.js';

// building images: OCI layouts, tar archives, deterministic bytes
export { OciLayoutWriter } from './images/oci-layout-writer.js';
export { buildTar } from './images/tar-archive.js';
export { storedGzip } from './images/stored-gzip.js';
export { keystreamBytes } from './images/keystream.js';
export { fixtureDigestsFile } from './images/fixture-digests.js';

// real clients (skopeo, containerd, crane, docker, chromium) and the tools they run as
export {
  isCi,
  locateTool,
  optionalTool,
  requireTool,
  runTool,
  toolOutputTail,
  type ToolRun,
} from './clients/external-tool.js';
export { clientReference } from './clients/client-reference.js';
export { skopeoCopyToDirLayout, skopeoCopyToOciLayout, skopeoInspectRaw, type SkopeoCopy } from './clients/skopeo.js';
export { startContainerd } from './clients/containerd-daemon.js';
export { ctrContentFetch, ctrFetchObject, ctrImagePull } from './clients/ctr.js';
export { dockerDaemonProblem, dockerPull } from './clients/docker-cli.js';
export { launchChromium } from './browser/launch-chromium.js';

// the project checkout: its root and bundled files, wherever the code runs from (source or dist/)
export { fromPackageRoot, packageRoot } from './package-root.js';
export { projectRangeFiles } from './run/project-paths.js';

// cost by origin
export {
  DEFAULT_PRICES,
  TrafficMixError,
  estimateCost,
  parseTrafficMix,
  targetForBucketMap,
  type CostReport,
  type Prices,
} from './cost/cost-model.js';

// the promotion gate
export {
  GateUsageError,
  gateJson,
  gateMarkdown,
  locationShape,
  runGate,
  startLoopbackTwin,
  unmatchedAccepts,
  writeGateReports,
  type GateReport,
  type StartedLoopbackTwin,
} from './gate/index.js';

// replaying pulls on the local stack
export {
  ReplayInputError,
  parseDecisionLog,
  pullsFrom,
  replayText,
  runReplay,
  startReplayWorlds,
  type ReplayItem,
  type ReplayResult,
} from './replay/index.js';

// real clients and the Go programs the harness builds (harness/src/clients)
export {
  GO_PROGRAMS,
  GoProgramError,
  ensureGoProgram,
  goCommandName,
  goProgramCacheDir,
  goProgramPath,
  prepareGoPrograms,
  requireGoProgram,
  type GoProgram,
  type GoProgramName,
  type InstallOptions,
} from './clients/go-programs.js';
export { verifyLayoutBlobs } from './clients/layout-blobs.js';
export {
  byDigest,
  craneDigest,
  cranePullToOciLayout,
  craneRefusedRedirectHosts,
  craneValidateRemote,
  isGuardedAddress,
  type CranePull,
  type CraneResult,
} from './clients/crane.js';
export {
  regctlCopyToOciLayout,
  regctlHostFlags,
  regctlImageDigest,
  regctlSession,
  type RegctlCopy,
  type RegctlDigest,
  type RegctlSession,
} from './clients/regctl.js';

// the local stack (harness/src/stack)
export {
  startStack,
  stackSpec,
  type Engine,
  type StackOptions,
  type StartedStack,
  type StoppedStack,
} from './stack/stack.js';
export { StackError, type StackErrorCode } from './stack/stack-error.js';
export { resolveBucket, withExtraContent, type ExtraContent } from './stack/extra-content.js';
export type { Fault, FaultTarget } from './stack/fault-proxy.js';
export type { FaultControl } from './stack/fault-control.js';
export { listBucketKeys, s3rverClient } from './stack/s3-bucket-server.js';
export { DOCKER_REGISTRY_BIN } from './stack/docker-registry-process.js';
export { ggcrAvailable, goOnPath } from './stack/ggcr-upstream.js';
export { descendantProcesses, isAlive } from './stack/process-tree.js';

// redirector processes: one beside a stack, or a whole world's
export { distEntry } from './stack/dist-entry.js';
export { redirectorNodeFlags } from './stack/redirector-node-flags.js';
export type { StartedRedirector } from './stack/redirector-process.js';
export { startWorldRedirector } from './stack/world-redirector.js';

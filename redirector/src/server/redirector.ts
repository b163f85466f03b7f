/**
 * Assembling a redirector from its configuration: range data → classifier (and refresher), bucket map (validated
 * against the data), routing table → router, blob probe, metrics, logger, mutant wrappers → the public and admin
 * handlers. No sockets: start-redirector.ts puts these on listeners, tests and benchmarks call them in memory.
 */
import type { DestinationStream, Logger } from 'pino';
import { BlobProbe, createHeadFetcher, systemClock, type Clock, type HeadFetcher } from '../blobs/index.js';
import { MUTANTS, type Config } from '../config.js';
import { formatClientIpRule } from '../net/index.js';
import {
  IpClassifier,
  RangeRefresher,
  awsRegionsIn,
  loadRangeData,
  type RangeData,
  type ReadRangeText,
  type RefreshOutcome,
} from '../ranges/index.js';
import {
  assertBucketCoverage,
  createArcheioRouter,
  createRouter,
  unmappedRegions,
  type Router,
} from '../routing/index.js';
import { configuredBucketMap, configuredRangeSources, configuredRoutingTable } from './configured-parts.js';
import { createAdminHandler, type AdminState } from './admin-handler.js';
import { createLogger, decisionLogger, defaultLogDestination } from './decision-log.js';
import { createMetrics, type RedirectorMetrics } from './metrics.js';
import { createMutation } from './mutants.js';
import type { Refusal } from './refusal.js';
import { createRefusalLog } from './refusal-log.js';
import { createReplyRenderer, type Reply } from './reply.js';
import {
  createRequestHandler,
  type BlobProber,
  type Classify,
  type HttpRequest,
  type RequestHandler,
} from './request-handler.js';

/** Effects and preloaded inputs; every field has a production default. */
export interface RedirectorDeps {
  /** the HEAD sender; default: undici with a keep-alive Agent */
  fetcher?: HeadFetcher;
  clock?: Clock;
  /** where log lines go; default: stdout through the batching LogSink (log-sink.ts) */
  logDestination?: DestinationStream;
  /** range data already parsed (tests reuse one parse); default: read AWS/GCP/AZURE_IP_RANGES or the bundled files */
  rangeData?: RangeData;
  /** how a refresh reads its sources; default: files, or undici for URLs */
  readRangeText?: ReadRangeText;
  /** the readiness /readyz reports; default: a new one, ready (the entry point passes its own to turn it off early) */
  state?: AdminState;
}

export interface Redirector {
  readonly config: Config;
  /** the registry-facing handler */
  readonly handler: RequestHandler;
  /** the admin listener's handler */
  readonly admin: (req: HttpRequest) => Promise<Reply>;
  readonly router: Router;
  readonly probe: BlobProbe;
  readonly metrics: RedirectorMetrics;
  readonly logger: Logger;
  readonly state: AdminState;
  /** a request the public listener refused: counted, and sampled in the log (refusal-log.ts) */
  refused(r: Refusal): void;
  /** the classifier in force */
  classifier(): IpClassifier;
  /** runs one range refresh now (null when refresh is off) */
  refreshRanges(): Promise<RefreshOutcome> | null;
  /** writes the `"msg":"listening"` line (pino's shape, info level) whatever the log level */
  announce(fields: Record<string, unknown>): void;
  /** starts the periodic range refresh, if configured */
  startBackground(): void;
  /** stops background work and releases the HEAD agent; flushes the log */
  dispose(): Promise<void>;
}

export function assembleRedirector(config: Config, deps: RedirectorDeps = {}): Redirector {
  const destination = deps.logDestination ?? defaultLogDestination();
  const logger = createLogger(config.logLevel, destination);
  const clock = deps.clock ?? systemClock;

  // ---- range data and classifier ----
  const files = configuredRangeSources(config);
  const data = deps.rangeData ?? loadRangeData(files);
  const initial = IpClassifier.build(data, config.routingSemantics);

  // ---- buckets: validated against the AWS regions of the data ----
  let bucketMap = configuredBucketMap(config);
  assertBucketCoverage(bucketMap, awsRegionsIn(data), config.allowUnmappedRegions);
  const correctMap = bucketMap;
  const mutated = config.mutant === null ? null : createMutation(config.mutant, correctMap);
  if (mutated?.bucketMap) bucketMap = mutated.bucketMap(bucketMap);

  const table = configuredRoutingTable(config, bucketMap);
  const router = config.protocolCompat === 'archeio' ? createArcheioRouter(table) : createRouter(table);

  // ---- refresh ----
  let current = initial;
  // the classifier function in force: assigned below, and again on every swap
  let classify: Classify;
  let metrics: RedirectorMetrics | undefined;
  const refresher =
    config.rangesRefreshIntervalS > 0
      ? new RangeRefresher({
          sources: {
            aws: config.awsRangesUrl || files.aws,
            gcp: config.gcpRangesUrl || files.gcp,
            azure: config.azureRangesUrl || files.azure,
          },
          semantics: config.routingSemantics,
          initial,
          intervalMs: config.rangesRefreshIntervalS * 1000,
          maxShrink: config.rangesMaxShrink,
          ...(deps.readRangeText ? { readText: deps.readRangeText } : {}),
          onSwap(next) {
            current = next;
            classify = classifierOf(next);
            metrics?.rangeRefresh('swap');
            logger.info({ versions: next.data.versions }, 'range data swapped');
            const missing = unmappedRegions(correctMap, awsRegionsIn(next.data), config.allowUnmappedRegions);
            // at run time a new region cannot stop the server: its clients use the default base until the map grows
            if (missing.length > 0)
              logger.warn(
                { regions: missing },
                'range data has AWS regions without a bucket; their clients use the default base',
              );
          },
          onReject(reason) {
            metrics?.rangeRefresh('reject');
            logger.warn({ reason }, 'range refresh rejected; the last good table keeps serving');
          },
        })
      : null;

  // ---- blob probe ----
  const undiciFetcher = deps.fetcher === undefined ? createHeadFetcher({ timeoutMs: config.blobCheckTimeoutMs }) : null;
  const probe = new BlobProbe({
    fetcher: deps.fetcher ?? undiciFetcher!.fetch,
    clock,
    timeoutMs: config.blobCheckTimeoutMs,
    positive: { ttlMs: config.positiveTtlS * 1000, max: config.positiveMax },
    negative: { ttlMs: config.negativeTtlS * 1000, max: config.negativeMax },
    breaker: { threshold: config.breakerThreshold, cooldownMs: config.breakerCooldownMs },
    revalidateMs: config.revalidateMs,
    onHead(e) {
      metrics?.head(e);
      logger.debug(
        { bucket: e.base, url: e.url, outcome: e.outcome, status: e.status, ms: e.ms, error: e.error },
        'blob HEAD',
      );
    },
    onBreakerChange(base, state) {
      metrics?.breakerChange(base, state);
      logger.warn({ bucket: base, state }, `bucket breaker ${state}`);
    },
  });

  metrics = createMetrics({
    probeStats: () => probe.stats(),
    breakerStates: () => probe.breakerStates(),
    rangeData: () => current.data,
    info: {
      semantics: config.routingSemantics,
      protocolCompat: config.protocolCompat,
      clientIpRule: formatClientIpRule(config.clientIpRule),
    },
    mutant: config.mutant,
  });
  const m = metrics;

  // ---- handlers ----
  // one function per classifier: a swap gives the handler a new one, which is how its client memo knows to forget
  const classifierOf = (c: IpClassifier): Classify => {
    const own: Classify = (ip) => c.classifyIp(ip);
    return mutated?.classify ? mutated.classify(own) : own;
  };
  classify = classifierOf(current);
  const prober: BlobProber = mutated?.probe ? mutated.probe(probe) : probe;
  const log = decisionLogger(config.logLevel, destination);
  const unmapV4 = config.routingSemantics === 'most-specific';
  let handler = createRequestHandler({
    router,
    classify: () => classify,
    clientIpRule: config.clientIpRule,
    unmapV4,
    probe: prober,
    renderer: createReplyRenderer(config.protocolCompat === 'archeio' ? 'archeio' : 'default'),
    onDecision(d) {
      log(d);
      m.decision(d);
    },
  });
  if (mutated?.request || mutated?.reply) handler = wrapHandler(handler, mutated.request, mutated.reply);
  if (mutated)
    logger.warn(
      { mutant: mutated.name, effect: MUTANTS[mutated.name] },
      'MUTANT ACTIVE: this redirector is deliberately broken (REDIRECTOR_MUTANT); never serve real traffic with it',
    );

  const refusalLog = createRefusalLog({ clock, write: (fields, msg) => logger.info(fields, msg) });

  const state: AdminState = deps.state ?? { ready: true };
  const admin = createAdminHandler({
    metrics: m,
    explain: { router, classify: () => classify, unmapV4, probe: prober, semantics: config.routingSemantics },
    state,
    mutant: config.mutant,
    protocolCompat: config.protocolCompat,
    rangeVersions: () => current.data.versions,
  });

  return {
    config,
    handler,
    admin,
    router,
    probe,
    metrics: m,
    logger,
    state,
    refused(r) {
      m.refusal(r.reason);
      refusalLog.log(r);
    },
    classifier: () => current,
    refreshRanges: () => refresher?.refreshOnce() ?? null,
    announce(fields) {
      destination.write(JSON.stringify({ level: 30, time: Date.now(), ...fields, msg: 'listening' }) + '\n');
    },
    startBackground() {
      refresher?.start();
      // off the start-up path: load undici and prom-client now that the listeners are up
      undiciFetcher?.preload();
      m.attach().catch((err: unknown) => logger.error({ err }, 'metrics unavailable'));
    },
    async dispose() {
      refresher?.stop();
      refusalLog.flush();
      await undiciFetcher?.close();
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    },
  };
}

/** Applies a mutant's request/reply wrappers around the correct handler (outside its code path). */
function wrapHandler(
  inner: RequestHandler,
  request?: (r: HttpRequest) => HttpRequest,
  reply?: (r: Reply, req: HttpRequest) => Reply,
): RequestHandler {
  return (req) => {
    const facts = request ? request(req) : req;
    const out = inner(facts);
    if (!reply) return out;
    return out instanceof Promise ? out.then((r) => reply(r, req)) : reply(out, req);
  };
}

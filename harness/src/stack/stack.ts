/**
 * The local stack: registry.k8s.io's world on one machine. `startStack(options)` → StartedStack (AsyncDisposable) →
 * `stop()`.
 *
 *   client ──► edge (one port per vantage, stamps X-Forwarded-For) ──► redirector (child process or container)
 *                                                                        │ 307
 *              ┌─────────────────────────────────────────────────────────┴───────────────┐
 *              ▼                                                                         ▼
 *   faults front "buckets" ──► s3rver (one bucket per bucket-map base)     faults front "upstream" ──► registry
 *                                                                           faults front "signature" ─► registry
 *
 * Everything binds 127.0.0.1. Every service starts through one shape (stack-service.ts: `start…(options)` →
 * `Started<Service>`) and its stop() joins the teardown the moment it exists (Teardown), so a failed start, stop()
 * and a signal all leave no process and no temp dir behind, undone newest first. docs/local-stack.md describes the
 * parts, ports and the fault control API; docs/target-description.md the document `stack.target` is.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureFixtureImages } from '../images/fixture-cache.js';
import type { FixtureSet } from '../images/fixture-images.js';
import { readPublishedRanges } from '../oracle/published-ranges.js';
import { parseTargetDescription, type TargetDescription, type Vantage } from '../target/target-description.js';
import { localBuckets, PRODUCTION_BUCKET_REGIONS, type LocalBuckets } from './bucket-map.js';
import { startContainerServices, type ContainerServices } from './container-engine.js';
import { startEdge, type Edge, type EdgePort } from './edge.js';
import { LocalFaultControl, startFaultControlServer, type FaultControl } from './fault-control.js';
import { FaultBoard, startFaultProxy, type FaultProxy, type FrontName } from './fault-proxy.js';
import { startInfoPages, type InfoPages } from './info-pages.js';
import { ManagedProcess, type ProcessInfo } from './managed-process.js';
import { readMirrorPlanSpec, resolveMirrorPlan, type MirrorPlanSpec, type ResolvedMirrorPlan } from './mirror-plan.js';
import { OWNER_FILE, ownerTag, STACK_OWNER_ENV, STACK_TEMP_PREFIX, sweepOrphans } from './orphan-sweeper.js';
import { startRedirectorProcess, upstreamPathSetting } from './redirector-process.js';
import { startS3BucketServer, type S3BucketServer } from './s3-bucket-server.js';
import {
  seedBuckets,
  seedSnapshotsOf,
  startSeededRegistry,
  type SeedContext,
  type SeededRegistry,
} from './stack-seeding.js';
import { StackError } from './stack-error.js';
import type { RedirectorService, Started } from './stack-service.js';
import { stackSpec, type StackOptions, type StackSpec, type UpstreamKind } from './stack-spec.js';
import { Teardown, type TeardownFailure } from './teardown.js';
import { checkVantages, readVantagePlan, type VantagePlan } from './vantages.js';
import { Wait, systemClock, type Clock } from './wait.js';

export { stackSpec } from './stack-spec.js';
export type { Engine, StackOptions, StackSpec, UpstreamChoice, UpstreamKind } from './stack-spec.js';

export interface UpstreamInfo {
  kind: UpstreamKind;
  /** where the registry itself listens (seeding goes here, bypassing the faults front) */
  directUrl: string;
  /** the faults front in front of it: what the redirector and the description use */
  url: string;
  /** repositories it holds */
  repos: string[];
}

export interface StackTimings {
  /** fixture set ready (includes a first-time large-layer build) */
  fixturesMs: number;
  /** upstream registries seeded */
  upstreamSeededMs: number;
  /** buckets seeded */
  bucketsSeededMs: number;
  /** from startStack() to a /v2/ answer through an edge port, minus the fixture build */
  readyMs: number;
  totalMs: number;
}

export interface StoppedStack {
  durationMs: number;
  /** teardown steps that failed (empty when everything was removed) */
  failures: TeardownFailure[];
}

export interface StartedStack extends AsyncDisposable {
  readonly spec: StackSpec;
  /** the target description of this stack, validated */
  readonly target: TargetDescription;
  readonly faults: FaultControl;
  readonly upstreams: { registry: UpstreamInfo; signature: UpstreamInfo | null };
  readonly redirector: { url: string; adminUrl: string };
  readonly buckets: {
    /** s3rver itself (SDK access with S3RVER/S3RVER credentials) */
    s3rverUrl: string;
    /** bucket key (bucket region or "default") → bucket name */
    names: Record<string, string>;
    /** bucket key → digests the resolved mirror plan put there */
    contents: Record<string, string[]>;
  };
  readonly edge: { ports: EdgePort[] };
  readonly processes: ProcessInfo[];
  /** the stack's temp dir (removed by stop) */
  readonly tempDir: string;
  readonly fixtures: FixtureSet;
  readonly timings: StackTimings;
  /** how the storage got its content: the real way this time, or copied from a seed snapshot of an earlier start */
  readonly seeded: { registries: 'pushed' | 'snapshot' | 'served-in-place'; buckets: 'uploaded' | 'snapshot' };
  /** Tears everything down. Idempotent: later calls return the first call's result. */
  stop(): Promise<StoppedStack>;
}

/** What every step of a start shares: the spec, the clock and log, and the undo list every service joins. */
interface StartContext {
  spec: StackSpec;
  options: StackOptions;
  clock: Clock;
  log: (message: string) => void;
  echo: ((name: string, line: string) => void) | undefined;
  signal: AbortSignal | undefined;
  teardown: Teardown;
  /** the processes the stack runs, in the order they started */
  processes: ProcessInfo[];
  /** registers a started service's stop() as a teardown step the moment it exists, and lists its process */
  own<S>(name: string, started: Started<S>): Started<S>;
  /** throws STACK_ABORTED once the caller's signal has fired */
  checkAbort(): void;
}

function startContext(spec: StackSpec, options: StackOptions): StartContext {
  const teardown = new Teardown();
  const processes: ProcessInfo[] = [];
  const signal = options.signal;
  return {
    spec,
    options,
    clock: options.clock ?? systemClock,
    log: options.log ?? (() => {}),
    echo: options.processOutput,
    signal,
    teardown,
    processes,
    own(name, started) {
      teardown.add(name, () => started.stop());
      // a service run as a local process names it (`process`); containers and in-process servers have none
      const process = (started as { process?: unknown }).process;
      if (process instanceof ManagedProcess) processes.push(process.info);
      return started;
    },
    checkAbort() {
      if (signal?.aborted) throw new StackError('STACK_ABORTED', 'stack start-up was aborted');
    },
  };
}

/** The data the stack is built from, checked before anything starts. */
interface StackData {
  vantagePlan: VantagePlan;
  vantages: Vantage[];
  planSpec: MirrorPlanSpec;
}

/** The stack's temp dir (removed last) and the owner tag every child process carries (orphan-sweeper.ts). */
interface StackDir {
  tempDir: string;
  childEnv: Record<string, string>;
}

/** What runs before the upstreams: fixtures, s3rver, the info pages and, for the container engine, its runtime. */
interface BaseServices {
  fixtures: FixtureSet;
  s3: Started<S3BucketServer>;
  pages: Started<InfoPages>;
  containers: Started<ContainerServices> | null;
  fixturesMs: number;
  /** when the fixtures were ready, and when the other services were: the fixture build counts only beyond these */
  fixturesDoneAt: number;
  othersDoneAt: number;
}

interface SeededStorage {
  registry: SeededRegistry;
  signatureRegistry: SeededRegistry | null;
  signatureRepos: string[];
  /** bucket key → bucket name */
  bucketNames: Record<string, string>;
  bucketsRestored: boolean;
  upstreamSeededMs: number;
  bucketsSeededMs: number;
}

interface FaultFronts {
  control: LocalFaultControl;
  controlUrl: string;
  buckets: Started<FaultProxy>;
  upstream: Started<FaultProxy>;
  signature: Started<FaultProxy> | null;
}

/** Everything a start made, step by step. */
interface StackParts {
  dir: StackDir;
  data: StackData;
  base: BaseServices;
  storage: SeededStorage;
  faults: FaultFronts;
  buckets: LocalBuckets;
  /** the mirror plan resolved against the buckets front's URL */
  plan: ResolvedMirrorPlan;
  redirector: RedirectorService;
  edge: Edge;
}

/** 1. Data first: a vantage the range data disagrees with, or a broken plan, fails before anything starts. */
function checkStackData(ctx: StartContext): StackData {
  const { spec } = ctx;
  const prefixes = readPublishedRanges(spec.rangeFiles);
  const vantagePlan = readVantagePlan(spec.vantagesFile);
  const vantages = checkVantages(vantagePlan, prefixes, spec.semantics, Object.keys(PRODUCTION_BUCKET_REGIONS));
  const planSpec = readMirrorPlanSpec(spec.mirrorPlanFile);
  ctx.log(`vantages: ${vantages.length} checked against the range data (${spec.semantics})`);
  return { vantagePlan, vantages, planSpec };
}

/** 2. The stack's temp dir, after sweeping what dead stacks left behind; it is the last thing teardown removes. */
async function makeStackDir(ctx: StartContext): Promise<StackDir> {
  const { spec } = ctx;
  await sweepOrphans(spec.tmpRoot);
  const tag = await ownerTag();
  await mkdir(spec.tmpRoot, { recursive: true });
  const tempDir = await mkdtemp(join(spec.tmpRoot, STACK_TEMP_PREFIX));
  ctx.teardown.add('temp dir', () => rm(tempDir, { recursive: true, force: true }));
  await writeFile(join(tempDir, OWNER_FILE), `${tag}\n`);
  return { tempDir, childEnv: { [STACK_OWNER_ENV]: tag } };
}

/** 3. Independent pieces in parallel: fixtures, s3rver, info pages, and (for the container engine) its runtime. */
async function startBaseServices(ctx: StartContext, dir: StackDir): Promise<BaseServices> {
  const { spec, clock, log, echo, options } = ctx;
  const fixturesStarted = clock.now();
  let fixturesMs = 0;
  let fixturesDoneAt = fixturesStarted;
  const fixturesP = (async () => {
    const f =
      typeof options.fixtures === 'function'
        ? await options.fixtures()
        : (options.fixtures ?? (await ensureFixtureImages({ bigLayerMiB: spec.bigLayerMiB })));
    fixturesDoneAt = clock.now();
    fixturesMs = fixturesDoneAt - fixturesStarted;
    log(`fixtures: ${f.images.length} tags, ${f.blobs.length} blobs (${Math.round(fixturesMs)} ms)`);
    return f;
  })();
  const s3P = (async () => {
    await mkdir(join(dir.tempDir, 's3'), { recursive: true });
    const s3Options = { dir: join(dir.tempDir, 's3'), clock, timeoutMs: spec.readyTimeoutMs, echo, env: dir.childEnv };
    return ctx.own('s3rver', await startS3BucketServer(s3Options));
  })();
  const pagesP = (async () => ctx.own('info pages', await startInfoPages()))();
  const containersP = (async () => {
    if (spec.engine !== 'container') return null;
    const containers = await startContainerServices({
      dir: join(dir.tempDir, 'containers'),
      log,
      clock,
      echo,
      env: dir.childEnv,
      timeoutMs: spec.readyTimeoutMs,
      dockerRegistryBin: spec.dockerRegistryBin,
      ...(spec.redirectorContainerfile ? { redirectorContainerfile: spec.redirectorContainerfile } : {}),
    });
    return ctx.own('container engine', containers);
  })();
  let othersDoneAt = fixturesStarted;
  const othersP = Promise.all([s3P, pagesP, containersP]).finally(() => (othersDoneAt = clock.now()));
  const settled = await Promise.allSettled([fixturesP, othersP]);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  const fixtures = await fixturesP;
  const [s3, pages, containers] = await othersP;
  return { fixtures, s3, pages, containers, fixturesMs, fixturesDoneAt, othersDoneAt };
}

/** 4. Upstream registries and buckets, seeded at the same time (they share nothing). */
async function seedStorage(
  ctx: StartContext,
  dir: StackDir,
  base: BaseServices,
  data: StackData,
): Promise<SeededStorage> {
  const { spec, clock, log } = ctx;
  const { fixtures } = base;
  const seed: SeedContext = {
    spec,
    fixtures,
    tempDir: dir.tempDir,
    snapshots: seedSnapshotsOf(spec),
    containers: base.containers,
    clock,
    echo: ctx.echo,
    childEnv: dir.childEnv,
    log,
    own: (name, started) => ctx.own(name, started),
  };
  const signatureRepos = [...new Set(fixtures.images.filter((i) => i.kind.includes('signature')).map((i) => i.repo))];
  const placeholder = localBuckets('http://unused');
  const bucketNames = placeholder.names;
  const byKey = resolveMirrorPlan(data.planSpec, fixtures.blobs, placeholder.bases).byKey;
  const seedStarted = clock.now();
  let upstreamSeededMs = 0;
  let bucketsSeededMs = 0;
  const registriesP = Promise.all([
    startSeededRegistry(seed, 'upstream-registry', fixtures.repos),
    spec.signatureUpstream ? startSeededRegistry(seed, 'signature-registry', signatureRepos) : Promise.resolve(null),
  ]).finally(() => (upstreamSeededMs = clock.now() - seedStarted));
  const bucketsP = seedBuckets(seed, base.s3, bucketNames, byKey).finally(
    () => (bucketsSeededMs = clock.now() - seedStarted),
  );
  const seeded = await Promise.allSettled([registriesP, bucketsP]);
  for (const r of seeded) if (r.status === 'rejected') throw r.reason;
  const [registry, signatureRegistry] = await registriesP;
  const bucketsRestored = await bucketsP;
  const objectCount = Object.values(byKey).reduce((n, d) => n + d.length, 0);
  const inContainer = spec.engine === 'container' && spec.upstream === 'docker-registry' ? ' (container)' : '';
  const how = registry.restored ? 'restored from the seed snapshot' : 'pushed';
  const repoCount = fixtures.repos.length;
  log(
    `upstream: ${spec.upstream}${inContainer}, ${repoCount} repositories ${how} (${Math.round(upstreamSeededMs)} ms)`,
  );
  const bucketsHow = bucketsRestored ? 'restored from the seed snapshot' : 'uploaded';
  const bucketCount = Object.keys(bucketNames).length;
  log(`buckets: ${bucketCount} buckets, ${objectCount} objects ${bucketsHow} (${Math.round(bucketsSeededMs)} ms)`);
  return {
    registry,
    signatureRegistry,
    signatureRepos,
    bucketNames,
    bucketsRestored,
    upstreamSeededMs,
    bucketsSeededMs,
  };
}

/** 5. Faults fronts (buckets, upstream, signature) and their control endpoint. */
async function startFaultFronts(ctx: StartContext, s3: S3BucketServer, storage: SeededStorage): Promise<FaultFronts> {
  const { registry, signatureRegistry } = storage;
  const fronts = new Set<FrontName>(['buckets', 'upstream', ...(signatureRegistry ? (['signature'] as const) : [])]);
  const board = new FaultBoard(new Set(Object.values(storage.bucketNames)), fronts);
  const proxies: FaultProxy[] = [];
  const startFront = async (front: FrontName, backend: URL) => {
    const p = ctx.own(`faults front ${front}`, await startFaultProxy({ front, backend, board }));
    proxies.push(p);
    return p;
  };
  const [buckets, upstream, signature] = await Promise.all([
    startFront('buckets', new URL(s3.endpoint)),
    startFront('upstream', new URL(registry.url)),
    signatureRegistry ? startFront('signature', new URL(signatureRegistry.url)) : Promise.resolve(null),
  ]);
  const control = new LocalFaultControl(board, proxies);
  const controlServer = ctx.own('fault control endpoint', await startFaultControlServer(control));
  return { control, controlUrl: controlServer.url, buckets, upstream, signature };
}

/** 6. The redirector, configured with all of the above: a child process, or a container for the container engine. */
async function startStackRedirector(
  ctx: StartContext,
  dir: StackDir,
  base: BaseServices,
  faults: FaultFronts,
  buckets: LocalBuckets,
): Promise<Started<RedirectorService>> {
  const { spec } = ctx;
  const bucketMapFile = join(dir.tempDir, 'bucket-map.json');
  await writeFile(bucketMapFile, `${JSON.stringify(buckets.bucketMap, null, 2)}\n`);
  const env: Record<string, string> = {
    ...dir.childEnv,
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_PORT: '0',
    UPSTREAM_REGISTRY_ENDPOINT: faults.upstream.url,
    UPSTREAM_REGISTRY_PATH: upstreamPathSetting(''),
    ...(faults.signature ? { SIGNATURE_UPSTREAM_ENDPOINT: faults.signature.url } : {}),
    DEFAULT_AWS_BASE_URL: buckets.bucketMap.default,
    INFO_URL: base.pages.infoUrl,
    PRIVACY_URL: base.pages.privacyUrl,
    ROUTING_SEMANTICS: spec.semantics,
    BUCKET_MAP: bucketMapFile,
    AWS_IP_RANGES: spec.rangeFiles.aws,
    GCP_IP_RANGES: spec.rangeFiles.gcp,
    AZURE_IP_RANGES: spec.rangeFiles.azure,
    LOG_LEVEL: 'info',
    ...spec.redirectorEnv,
  };
  const files = [bucketMapFile, spec.rangeFiles.aws, spec.rangeFiles.gcp, spec.rangeFiles.azure];
  const entry = spec.redirectorEntry ? { entry: spec.redirectorEntry } : {};
  const processOptions = { env, clock: ctx.clock, timeoutMs: spec.readyTimeoutMs, echo: ctx.echo, ...entry };
  const started =
    spec.engine === 'container'
      ? await base.containers!.startRedirector({ env, files })
      : await startRedirectorProcess(processOptions);
  const redirector = ctx.own<RedirectorService>('redirector', started);
  ctx.log(`redirector: ${redirector.url} (admin ${redirector.adminUrl})`);
  return redirector;
}

/** 7. The edge: one port per vantage; each vantage's url becomes its edge port. */
async function startVantageEdge(ctx: StartContext, redirector: RedirectorService, data: StackData): Promise<Edge> {
  const ports = data.vantages.map((v) => ({ name: v.name, clientIp: v.ip }));
  const edge = ctx.own('edge', await startEdge({ backend: redirector.url, lbIp: data.vantagePlan.lbIp, ports }));
  for (const v of data.vantages) v.url = edge.urlFor(v.name);
  return edge;
}

/** 8. Ready when a ping makes the whole trip through an edge port. */
async function waitForWholeTrip(ctx: StartContext, data: StackData): Promise<number> {
  const wait = Wait.forHttp(`${data.vantages[0]!.url}/v2/`, { timeoutMs: ctx.spec.readyTimeoutMs });
  await wait.waitUntilReady({ clock: ctx.clock, component: 'stack (edge → redirector)', signal: ctx.signal });
  return ctx.clock.now();
}

export async function startStack(options: StackOptions = {}): Promise<StartedStack> {
  const spec = stackSpec(options);
  const ctx = startContext(spec, options);
  const t0 = ctx.clock.now();
  try {
    const data = checkStackData(ctx);
    const dir = await makeStackDir(ctx);
    const base = await startBaseServices(ctx, dir);
    ctx.checkAbort();
    const storage = await seedStorage(ctx, dir, base, data);
    ctx.checkAbort();
    const faults = await startFaultFronts(ctx, base.s3, storage);
    // the bucket map and the resolved plan, now that the buckets front has its URL
    const buckets = localBuckets(faults.buckets.url);
    const plan = resolveMirrorPlan(data.planSpec, base.fixtures.blobs, buckets.bases);
    const redirector = await startStackRedirector(ctx, dir, base, faults, buckets);
    ctx.checkAbort();
    const edge = await startVantageEdge(ctx, redirector, data);
    const readyAt = await waitForWholeTrip(ctx, data);
    if (base.containers) ctx.processes.push(...base.containers.processes());
    const timings = stackTimings(t0, readyAt, base, storage);
    ctx.log(`ready in ${Math.round(timings.readyMs)} ms (${Math.round(timings.totalMs)} ms including fixtures)`);
    const parts: StackParts = { dir, data, base, storage, faults, buckets, plan, redirector, edge };
    return startedStack(ctx, parts, describeStack(ctx, parts), timings);
  } catch (err) {
    await ctx.teardown.run();
    throw err;
  }
}

function stackTimings(t0: number, readyAt: number, base: BaseServices, storage: SeededStorage): StackTimings {
  const totalMs = readyAt - t0;
  return {
    fixturesMs: base.fixturesMs,
    upstreamSeededMs: storage.upstreamSeededMs,
    bucketsSeededMs: storage.bucketsSeededMs,
    // the fixture build counts only for the time nothing else was running beside it
    readyMs: totalMs - Math.max(0, base.fixturesDoneAt - base.othersDoneAt),
    totalMs,
  };
}

/** The stack's target description (docs/target-description.md), validated. */
function describeStack(ctx: StartContext, parts: StackParts): TargetDescription {
  const { spec } = ctx;
  const { base, faults, buckets, data } = parts;
  const { fixtures } = base;
  return parseTargetDescription(
    {
      name: 'local',
      url: parts.redirector.url,
      ipMode: spec.ipMode,
      semantics: spec.semantics,
      upstream: faults.upstream.url,
      upstreamPath: '',
      signatureUpstream: faults.signature?.url ?? null,
      infoUrl: base.pages.infoUrl,
      privacyUrl: base.pages.privacyUrl,
      bucketMap: buckets.bucketMap,
      s3: { endpoint: faults.buckets.url, buckets: Object.values(buckets.names).sort() },
      vantages: data.vantages,
      images: fixtures.images.map((i) => ({ ref: i.ref, digest: i.digest, kind: [...i.kind] })),
      mirrorPlan: parts.plan.plan,
      lbIp: data.vantagePlan.lbIp,
      // extra fields (allowed by the contract)
      referrers: fixtures.referrers.map(({ repo, subject, digest, artifactType }) => ({
        repo,
        subject,
        digest,
        artifactType,
      })),
      faultsUrl: faults.controlUrl,
      adminUrl: parts.redirector.adminUrl,
      stack: {
        engine: spec.engine,
        upstream: spec.upstream,
        tempDir: parts.dir.tempDir,
        processes: ctx.processes.map((p) => ({ name: p.name, pid: p.pid })),
        s3Credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      },
    },
    'local stack',
  );
}

/** The running stack handed to the caller: what it is made of, and stop(), which runs the teardown once. */
function startedStack(
  ctx: StartContext,
  parts: StackParts,
  target: TargetDescription,
  timings: StackTimings,
): StartedStack {
  const { spec, clock } = ctx;
  const { base, storage, faults } = parts;
  const upstreamInfo = (reg: SeededRegistry, front: FaultProxy, repos: string[]): UpstreamInfo => ({
    kind: spec.upstream,
    directUrl: reg.url,
    url: front.url,
    repos: [...repos],
  });
  let stopped: Promise<StoppedStack> | null = null;
  const stop = (): Promise<StoppedStack> => {
    stopped ??= (async () => {
      const started = clock.now();
      const failures = await ctx.teardown.run();
      return { durationMs: clock.now() - started, failures };
    })();
    return stopped;
  };
  const restored = storage.registry.restored ? 'snapshot' : 'pushed';
  const registries = spec.upstream === 'embedded' ? 'served-in-place' : restored;
  return {
    spec,
    target,
    faults: faults.control,
    upstreams: {
      registry: upstreamInfo(storage.registry, faults.upstream, base.fixtures.repos),
      signature:
        storage.signatureRegistry && faults.signature
          ? upstreamInfo(storage.signatureRegistry, faults.signature, storage.signatureRepos)
          : null,
    },
    redirector: { url: parts.redirector.url, adminUrl: parts.redirector.adminUrl },
    buckets: { s3rverUrl: base.s3.endpoint, names: parts.buckets.names, contents: parts.plan.byKey },
    edge: { ports: parts.edge.ports },
    processes: ctx.processes,
    tempDir: parts.dir.tempDir,
    fixtures: base.fixtures,
    timings,
    seeded: { registries, buckets: storage.bucketsRestored ? 'snapshot' : 'uploaded' },
    stop,
    async [Symbol.asyncDispose]() {
      const { failures } = await stop();
      if (failures.length > 0) {
        throw new AggregateError(
          failures.map((f) => f.error),
          `stack teardown: ${failures.map((f) => f.step).join(', ')} failed`,
        );
      }
    },
  };
}

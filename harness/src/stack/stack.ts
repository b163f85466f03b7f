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
 * Everything binds 127.0.0.1. Every component registers its undo step the moment it exists (Teardown), so a failed
 * start, stop() and a signal all leave no process and no temp dir behind. docs/local-stack.md describes the parts,
 * ports and the fault control API; docs/target-description.md the document `stack.target` is.
 */
import { existsSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { ensureFixtureImages, findRepoRoot } from '../images/fixture-cache.js';
import type { FixtureSet } from '../images/fixture-images.js';
import { pushLayout } from '../oci/push.js';
import { BUNDLED_RANGE_FILES, readPublishedRanges, type RangeFiles } from '../oracle/published-ranges.js';
import { bundledFixture } from './bundled-fixture.js';
import { parseTargetDescription, type IpMode, type Semantics, type TargetDescription, type Vantage } from '../target/target-description.js';
import { localBuckets, PRODUCTION_BUCKET_REGIONS } from './bucket-map.js';
import { DOCKER_REGISTRY_BIN, startDockerRegistry } from './docker-registry-process.js';
import { Edge, type EdgePort } from './edge.js';
import { FaultControlServer, LocalFaultControl, type FaultControl } from './fault-control.js';
import { FaultBoard, FaultProxy, type FrontName } from './fault-proxy.js';
import { InfoPages } from './info-pages.js';
import type { ManagedProcess, ProcessInfo } from './managed-process.js';
import { readMirrorPlanSpec, resolveMirrorPlan, BUNDLED_MIRROR_PLAN_FILE } from './mirror-plan.js';
import { OWNER_FILE, ownerTag, STACK_OWNER_ENV, STACK_TEMP_PREFIX, sweepOrphans } from './orphan-sweeper.js';
import { startRedirectorProcess, upstreamPathSetting } from './redirector-process.js';
import { S3BucketServer, S3RVER_VERSION } from './s3-bucket-server.js';
import { SeedSnapshots, snapshotKey } from './seed-snapshots.js';
import { StackError } from './stack-error.js';
import { Teardown, type TeardownFailure } from './teardown.js';
import { BUNDLED_VANTAGES_FILE, checkVantages, readVantagePlan } from './vantages.js';
import { Wait, systemClock, type Clock } from './wait.js';
import { startEmbeddedUpstream } from './embedded-upstream.js';
import { startContainerServices, type ContainerServices } from './container-engine.js';
import { ggcrAvailable, startGgcrUpstream } from './ggcr-upstream.js';

export type Engine = 'process' | 'container';
export type UpstreamChoice = 'auto' | 'docker-registry' | 'embedded' | 'ggcr';
export type UpstreamKind = 'docker-registry' | 'embedded' | 'ggcr';

export interface StackOptions {
  /** `process` (default): every component is a local process; `container`: upstream registry and redirector run as containers */
  engine?: Engine;
  /** ROUTING_SEMANTICS for the redirector and the description (default most-specific) */
  semantics?: Semantics;
  /** how the harness should reach the redirector: `xff` (default; direct, with X-Forwarded-For) or `edge` (vantage ports) */
  ipMode?: Extract<IpMode, 'xff' | 'edge'>;
  /**
   * `auto` (default): with the process engine, go-containerregistry's registry (`ggcr`: referrers API and tag
   * pagination, as production's upstream has) when Go is there to build it; else Debian's docker-registry when
   * installed; else the embedded registry
   */
  upstream?: UpstreamChoice;
  /** also run a second registry as SIGNATURE_UPSTREAM_ENDPOINT, holding the repositories with signature tags (default true) */
  signatureUpstream?: boolean;
  /** size of the fixture set's large layer (default 64 MiB) */
  bigLayerMiB?: number;
  /** extra redirector environment, applied last (REDIRECTOR_MUTANT, LOG_LEVEL, BLOB_CHECK_TIMEOUT_MS, ...) */
  redirectorEnv?: Record<string, string>;
  /** the fixture set to serve, or a way to get it (default: ensureFixtureImages({ bigLayerMiB })) */
  fixtures?: FixtureSet | (() => Promise<FixtureSet>);
  vantagesFile?: string;
  mirrorPlanFile?: string;
  /** IP-range publications for the vantage check and the redirector (default: the bundled snapshots) */
  rangeFiles?: RangeFiles;
  /** parent of the stack's temp dir (default os.tmpdir()) */
  tmpRoot?: string;
  /** path of docker-registry (default /usr/bin/docker-registry) */
  dockerRegistryBin?: string;
  /** the redirector's compiled entry (default dist/redirector/src/main.js): any build honouring its env contract */
  redirectorEntry?: string;
  /**
   * reuse snapshots of seeded registry storage and buckets (default true). The first start with a given fixture
   * set and plan seeds the real way (push API, S3 PutObject) and saves the snapshot; false always seeds afresh.
   */
  seedCache?: boolean;
  /** where seed snapshots live (default `<repo>/.cache/stack-seed`) */
  seedCacheDir?: string;
  /** container engine: the redirector's Containerfile (default `<repo>/redirector/Containerfile`) */
  redirectorContainerfile?: string;
  /** progress messages (the CLI writes them to stderr) */
  log?: (message: string) => void;
  /** every line the child processes print */
  processOutput?: (name: string, line: string) => void;
  /** deadline for each component to become ready (default 30 s) */
  readyTimeoutMs?: number;
  /** aborts start-up; everything started so far is torn down */
  signal?: AbortSignal;
  clock?: Clock;
}

/** StackOptions with every default filled in and checked: what `startStack` will build. */
export interface StackSpec {
  engine: Engine;
  semantics: Semantics;
  ipMode: 'xff' | 'edge';
  upstream: UpstreamKind;
  signatureUpstream: boolean;
  bigLayerMiB: number;
  redirectorEnv: Record<string, string>;
  vantagesFile: string;
  mirrorPlanFile: string;
  rangeFiles: RangeFiles;
  tmpRoot: string;
  dockerRegistryBin: string;
  redirectorEntry: string | null;
  seedCache: boolean;
  seedCacheDir: string;
  redirectorContainerfile: string | null;
  readyTimeoutMs: number;
}

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

const SEMANTICS: readonly Semantics[] = ['most-specific', 'archeio'];

function optionError(message: string): never {
  throw new StackError('STACK_OPTION_INVALID', message);
}

/** Validates options and fills in defaults. Throws StackError STACK_OPTION_INVALID with a precise message. */
export function stackSpec(options: StackOptions = {}): StackSpec {
  const engine = options.engine ?? 'process';
  if (engine !== 'process' && engine !== 'container') optionError(`engine must be "process" or "container", not ${JSON.stringify(engine)}`);
  const semantics = options.semantics ?? 'most-specific';
  if (!SEMANTICS.includes(semantics)) optionError(`semantics must be "most-specific" or "archeio", not ${JSON.stringify(semantics)}`);
  const ipMode = options.ipMode ?? 'xff';
  if (ipMode !== 'xff' && ipMode !== 'edge') optionError(`ipMode must be "xff" or "edge", not ${JSON.stringify(ipMode)}`);
  const bigLayerMiB = options.bigLayerMiB ?? 64;
  if (!Number.isInteger(bigLayerMiB) || bigLayerMiB < 1 || bigLayerMiB > 4096) optionError(`bigLayerMiB must be a whole number from 1 to 4096, not ${JSON.stringify(bigLayerMiB)}`);
  const dockerRegistryBin = options.dockerRegistryBin ?? DOCKER_REGISTRY_BIN;
  const choice = options.upstream ?? 'auto';
  if (!['auto', 'docker-registry', 'embedded', 'ggcr'].includes(choice)) {
    optionError(`upstream must be "auto", "ggcr", "docker-registry" or "embedded", not ${JSON.stringify(choice)}`);
  }
  const upstream: UpstreamKind =
    choice !== 'auto'
      ? choice
      : engine === 'process' && ggcrAvailable()
        ? 'ggcr'
        : existsSync(dockerRegistryBin)
          ? 'docker-registry'
          : 'embedded';
  if (upstream === 'ggcr' && !ggcrAvailable()) {
    throw new StackError(
      'STACK_TOOL_MISSING',
      'upstream "ggcr" needs Go (https://go.dev/dl/) to build harness/go/upstream-registry, or use --upstream docker-registry or embedded',
    );
  }
  if (upstream === 'docker-registry' && !existsSync(dockerRegistryBin)) {
    throw new StackError('STACK_TOOL_MISSING', `upstream "docker-registry" needs ${dockerRegistryBin} (apt-get install docker-registry), or use --upstream embedded`);
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  if (!(readyTimeoutMs > 0)) optionError('readyTimeoutMs must be positive');
  for (const [k, v] of Object.entries(options.redirectorEnv ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== 'string') optionError(`redirectorEnv: ${JSON.stringify(k)} must be an environment variable name with a string value`);
  }
  return {
    engine,
    semantics,
    ipMode,
    upstream,
    signatureUpstream: options.signatureUpstream ?? true,
    bigLayerMiB,
    redirectorEnv: { ...(options.redirectorEnv ?? {}) },
    vantagesFile: options.vantagesFile ?? BUNDLED_VANTAGES_FILE,
    mirrorPlanFile: options.mirrorPlanFile ?? BUNDLED_MIRROR_PLAN_FILE,
    rangeFiles: options.rangeFiles ?? bundledRangeFiles(),
    tmpRoot: options.tmpRoot ?? tmpdir(),
    dockerRegistryBin,
    redirectorEntry: options.redirectorEntry ?? null,
    seedCache: options.seedCache ?? true,
    seedCacheDir: options.seedCacheDir ?? join(findRepoRoot(), '.cache', 'stack-seed'),
    redirectorContainerfile: options.redirectorContainerfile ?? null,
    readyTimeoutMs,
  };
}

/** A running upstream registry, whatever runs it. */
interface RegistryService {
  url: string;
  process?: ManagedProcess;
  processes?: ProcessInfo[];
}

/** The bundled range snapshots, found from source or from dist/ (published-ranges.ts resolves them from source only). */
function bundledRangeFiles(): RangeFiles {
  if (existsSync(BUNDLED_RANGE_FILES.aws)) return BUNDLED_RANGE_FILES;
  const raw = (name: string) => bundledFixture(`ip-ranges/raw/${name}`);
  return { aws: raw('aws-ip-ranges.json'), gcp: raw('gcp-cloud.json'), azure: raw('azure-service-tags.json') };
}

/** What identifies a docker-registry build, for the seed snapshot key (its storage format could change). */
function registryIdentity(bin: string): string {
  try {
    const st = statSync(bin);
    return `${bin}:${st.size}:${Math.round(st.mtimeMs)}`;
  } catch {
    return bin;
  }
}

function blobPath(fixtures: FixtureSet, digest: string): { file: string; size: number } {
  const blob = fixtures.blobs.find((b) => b.digest === digest);
  if (!blob) throw new StackError('STACK_SEED_FAILED', `mirror plan names ${digest}, which no fixture blob has`);
  const [alg, hex] = digest.split(':') as [string, string];
  return { file: join(fixtures.root, blob.repo, 'blobs', alg, hex), size: blob.size };
}

export async function startStack(options: StackOptions = {}): Promise<StartedStack> {
  const spec = stackSpec(options);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  const echo = options.processOutput;
  const signal = options.signal;
  const t0 = clock.now();
  const teardown = new Teardown();
  const processes: ProcessInfo[] = [];
  const track = (p: ManagedProcess) => {
    processes.push(p.info);
  };
  const checkAbort = () => {
    if (signal?.aborted) throw new StackError('STACK_ABORTED', 'stack start-up was aborted');
  };

  try {
    // 1. Data first: a vantage the range data disagrees with, or a broken plan, fails before anything starts.
    const prefixes = readPublishedRanges(spec.rangeFiles);
    const vantagePlan = readVantagePlan(spec.vantagesFile);
    const vantages: Vantage[] = checkVantages(vantagePlan, prefixes, spec.semantics, Object.keys(PRODUCTION_BUCKET_REGIONS));
    const planSpec = readMirrorPlanSpec(spec.mirrorPlanFile);
    log(`vantages: ${vantages.length} checked against the range data (${spec.semantics})`);

    await sweepOrphans(spec.tmpRoot);
    const tag = await ownerTag();
    await mkdir(spec.tmpRoot, { recursive: true });
    const tempDir = await mkdtemp(join(spec.tmpRoot, STACK_TEMP_PREFIX));
    teardown.add('temp dir', () => rm(tempDir, { recursive: true, force: true }));
    await writeFile(join(tempDir, OWNER_FILE), `${tag}\n`);
    const childEnv = { [STACK_OWNER_ENV]: tag };

    // 2. Independent pieces in parallel: fixtures, s3rver, info pages, and (for the container engine) its runtime.
    const fixturesStarted = clock.now();
    let fixturesMs = 0;
    let fixturesDoneAt = fixturesStarted;
    const fixturesP = (async () => {
      const f = typeof options.fixtures === 'function' ? await options.fixtures() : (options.fixtures ?? (await ensureFixtureImages({ bigLayerMiB: spec.bigLayerMiB })));
      fixturesDoneAt = clock.now();
      fixturesMs = fixturesDoneAt - fixturesStarted;
      log(`fixtures: ${f.images.length} tags, ${f.blobs.length} blobs (${Math.round(fixturesMs)} ms)`);
      return f;
    })();
    const s3P = (async () => {
      await mkdir(join(tempDir, 's3'), { recursive: true });
      const s3 = await S3BucketServer.start({ dir: join(tempDir, 's3'), clock, timeoutMs: spec.readyTimeoutMs, echo, env: childEnv });
      teardown.add('s3rver', () => s3.stop());
      track(s3.process);
      return s3;
    })();
    const pagesP = (async () => {
      const pages = await new InfoPages().start();
      teardown.add('info pages', () => pages.stop());
      return pages;
    })();
    let containers: ContainerServices | null = null;
    const containersP = (async () => {
      if (spec.engine !== 'container') return null;
      containers = await startContainerServices({
        dir: join(tempDir, 'containers'),
        log,
        clock,
        echo,
        env: childEnv,
        timeoutMs: spec.readyTimeoutMs,
        dockerRegistryBin: spec.dockerRegistryBin,
        ...(spec.redirectorContainerfile ? { redirectorContainerfile: spec.redirectorContainerfile } : {}),
      });
      teardown.add('container engine', () => containers!.stop());
      return containers;
    })();
    let othersDoneAt = fixturesStarted;
    const othersP = Promise.all([s3P, pagesP, containersP]).finally(() => (othersDoneAt = clock.now()));
    const settled = await Promise.allSettled([fixturesP, othersP]);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    const fixtures = await fixturesP;
    const [s3, pages] = await othersP;
    checkAbort();

    // 3. Upstream registries and buckets, seeded at the same time (they share nothing). Seeding the real way is the
    // slow part of a start, so its result is kept as a snapshot and reused while nothing that decides it changes.
    const snapshots = spec.seedCache ? new SeedSnapshots(spec.seedCacheDir) : null;
    const signatureRepos = [...new Set(fixtures.images.filter((i) => i.kind.includes('signature')).map((i) => i.repo))];
    const startRegistry = async (name: string, repos: readonly string[]): Promise<RegistryService & { restored: boolean }> => {
      const dir = join(tempDir, name);
      await mkdir(dir, { recursive: true });
      if (spec.upstream === 'embedded') {
        // the embedded registry serves layouts in place: all of them from the fixture root, or a copy of just the
        // repositories this registry holds (the signature upstream's are small; symlinks are not followed)
        let root = fixtures.root;
        if (repos.length !== fixtures.repos.length) {
          root = join(dir, 'root');
          for (const repo of repos) await cp(join(fixtures.root, repo), join(root, repo), { recursive: true });
        }
        const reg = await startEmbeddedUpstream({ root, name, echo, env: childEnv, clock, timeoutMs: spec.readyTimeoutMs });
        teardown.add(name, () => reg.stop());
        if (reg.process) track(reg.process);
        return { ...reg, restored: false };
      }
      if (spec.upstream === 'ggcr') {
        const reg = await startGgcrUpstream({
          dir,
          name,
          fixturesRoot: fixtures.root,
          repos,
          contentKey: {
            repos: [...repos].sort(),
            blobs: fixtures.blobs.filter((b) => repos.includes(b.repo)).map((b) => b.digest),
          },
          snapshots,
          env: childEnv,
          clock,
          timeoutMs: spec.readyTimeoutMs,
          ...(echo ? { echo } : {}),
          log,
        });
        teardown.add(name, () => reg.stop());
        track(reg.process);
        return { ...reg, restored: false };
      }
      const key = snapshotKey(`${name}`, {
        format: 1,
        registry: spec.engine === 'container' ? 'container' : registryIdentity(spec.dockerRegistryBin),
        repos: [...repos].sort(),
        images: fixtures.images.filter((i) => repos.includes(i.repo)).map((i) => [i.ref, i.digest]),
        manifests: fixtures.manifests.filter((m) => repos.includes(m.repo)).map((m) => m.digest),
        blobs: fixtures.blobs.filter((b) => repos.includes(b.repo)).map((b) => b.digest),
      });
      const restored = snapshots ? await snapshots.restore(key, join(dir, 'data')) : false;
      const reg =
        spec.engine === 'container'
          ? await containers!.startRegistry({ name, dir })
          : await startDockerRegistry({ dir, name, bin: spec.dockerRegistryBin, clock, timeoutMs: spec.readyTimeoutMs, echo, env: childEnv });
      teardown.add(name, () => reg.stop());
      if (reg.process) track(reg.process);
      if (!restored) {
        const limit = pLimit(2);
        await Promise.all(repos.map((repo) => limit(() => pushLayout(reg.url, repo, join(fixtures.root, repo))))).catch((err: unknown) => {
          throw new StackError('STACK_SEED_FAILED', `${name}: pushing the fixture layouts failed: ${(err as Error).message}`, { cause: err });
        });
        await snapshots?.save(key, join(dir, 'data'));
      }
      return { ...reg, restored };
    };
    const names = localBuckets('http://unused').names;
    const byKey = resolveMirrorPlan(planSpec, fixtures.blobs, localBuckets('http://unused').bases).byKey;
    const seedBuckets = async (): Promise<boolean> => {
      const key = snapshotKey('s3', { format: 1, s3rver: S3RVER_VERSION, buckets: Object.entries(names).sort(), byKey });
      if (snapshots && (await snapshots.restore(key, join(tempDir, 's3')))) return true;
      await s3.createBuckets(Object.values(names));
      const uploads = pLimit(16);
      await Promise.all(
        Object.entries(byKey).flatMap(([bucketKey, digests]) =>
          digests.map((digest) =>
            uploads(() => {
              const { file, size } = blobPath(fixtures, digest);
              return s3.putBlob(names[bucketKey]!, digest, file, size);
            }),
          ),
        ),
      );
      await snapshots?.save(key, join(tempDir, 's3'));
      return false;
    };
    const seedStarted = clock.now();
    let upstreamSeededMs = 0;
    let bucketsSeededMs = 0;
    const registriesP = Promise.all([
      startRegistry('upstream-registry', fixtures.repos),
      spec.signatureUpstream ? startRegistry('signature-registry', signatureRepos) : Promise.resolve(null),
    ]).finally(() => (upstreamSeededMs = clock.now() - seedStarted));
    const bucketsP = seedBuckets().finally(() => (bucketsSeededMs = clock.now() - seedStarted));
    const seeded = await Promise.allSettled([registriesP, bucketsP]);
    for (const r of seeded) if (r.status === 'rejected') throw r.reason;
    const [registry, signatureRegistry] = await registriesP;
    const bucketsRestored = await bucketsP;
    const objectCount = Object.values(byKey).reduce((n, d) => n + d.length, 0);
    log(
      `upstream: ${spec.upstream}${spec.engine === 'container' && spec.upstream === 'docker-registry' ? ' (container)' : ''}, ${fixtures.repos.length} repositories ${registry.restored ? 'restored from the seed snapshot' : 'pushed'} (${Math.round(upstreamSeededMs)} ms)`,
    );
    log(`buckets: ${Object.keys(names).length} buckets, ${objectCount} objects ${bucketsRestored ? 'restored from the seed snapshot' : 'uploaded'} (${Math.round(bucketsSeededMs)} ms)`);
    checkAbort();

    // 4. Faults fronts (buckets, upstream, signature) and their control endpoint.
    const s3rverUrl = new URL(s3.endpoint);
    const fronts = new Set<FrontName>(['buckets', 'upstream', ...(signatureRegistry ? (['signature'] as const) : [])]);
    const proxies: FaultProxy[] = [];
    const startFront = async (front: FrontName, backend: URL, board: FaultBoard) => {
      const p = await new FaultProxy({ front, backend, board }).start();
      teardown.add(`faults front ${front}`, () => p.stop());
      proxies.push(p);
      return p;
    };
    const board = new FaultBoard(new Set(Object.values(names)), fronts);
    const [bucketsFront, upstreamFront, signatureFront] = await Promise.all([
      startFront('buckets', s3rverUrl, board),
      startFront('upstream', new URL(registry.url), board),
      signatureRegistry ? startFront('signature', new URL(signatureRegistry.url), board) : Promise.resolve(null),
    ]);
    const control = new LocalFaultControl(board, proxies);
    const controlServer = await new FaultControlServer(control).start();
    teardown.add('fault control endpoint', () => controlServer.stop());

    // 5. The bucket map and the resolved plan, now that the buckets front has its URL.
    const buckets = localBuckets(bucketsFront.url);
    const resolved = resolveMirrorPlan(planSpec, fixtures.blobs, buckets.bases);

    // 6. The redirector, configured with all of the above.
    const bucketMapFile = join(tempDir, 'bucket-map.json');
    await writeFile(bucketMapFile, `${JSON.stringify(buckets.bucketMap, null, 2)}\n`);
    const redirectorEnv: Record<string, string> = {
      ...childEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_PORT: '0',
      UPSTREAM_REGISTRY_ENDPOINT: upstreamFront.url,
      UPSTREAM_REGISTRY_PATH: upstreamPathSetting(''),
      ...(signatureFront ? { SIGNATURE_UPSTREAM_ENDPOINT: signatureFront.url } : {}),
      DEFAULT_AWS_BASE_URL: buckets.bucketMap.default,
      INFO_URL: pages.infoUrl,
      PRIVACY_URL: pages.privacyUrl,
      ROUTING_SEMANTICS: spec.semantics,
      BUCKET_MAP: bucketMapFile,
      AWS_IP_RANGES: spec.rangeFiles.aws,
      GCP_IP_RANGES: spec.rangeFiles.gcp,
      AZURE_IP_RANGES: spec.rangeFiles.azure,
      LOG_LEVEL: 'info',
      ...spec.redirectorEnv,
    };
    const redirector =
      spec.engine === 'container'
        ? await containers!.startRedirector({ env: redirectorEnv, files: [bucketMapFile, spec.rangeFiles.aws, spec.rangeFiles.gcp, spec.rangeFiles.azure] })
        : await startRedirectorProcess({ env: redirectorEnv, clock, timeoutMs: spec.readyTimeoutMs, echo, ...(spec.redirectorEntry ? { entry: spec.redirectorEntry } : {}) });
    teardown.add('redirector', () => redirector.stop());
    if (redirector.process) track(redirector.process);
    log(`redirector: ${redirector.url} (admin ${redirector.adminUrl})`);
    checkAbort();

    // 7. The edge: one port per vantage.
    const edge = await new Edge({ backend: redirector.url, lbIp: vantagePlan.lbIp, ports: vantages.map((v) => ({ name: v.name, clientIp: v.ip })) }).start();
    teardown.add('edge', () => edge.stop());
    for (const v of vantages) v.url = edge.urlFor(v.name);

    // 8. Ready when a ping makes the whole trip through an edge port.
    await Wait.forHttp(`${vantages[0]!.url}/v2/`, { timeoutMs: spec.readyTimeoutMs }).waitUntilReady({ clock, component: 'stack (edge → redirector)', signal });
    const readyAt = clock.now();

    const upstreamInfo = (kind: UpstreamKind, reg: RegistryService, front: FaultProxy, repos: string[]): UpstreamInfo => ({ kind, directUrl: reg.url, url: front.url, repos: [...repos] });
    if (containers) processes.push(...(containers as ContainerServices).processes());
    const target = parseTargetDescription(
      {
        name: 'local',
        url: redirector.url,
        ipMode: spec.ipMode,
        semantics: spec.semantics,
        upstream: upstreamFront.url,
        upstreamPath: '',
        signatureUpstream: signatureFront?.url ?? null,
        infoUrl: pages.infoUrl,
        privacyUrl: pages.privacyUrl,
        bucketMap: buckets.bucketMap,
        s3: { endpoint: bucketsFront.url, buckets: Object.values(buckets.names).sort() },
        vantages,
        images: fixtures.images.map((i) => ({ ref: i.ref, digest: i.digest, kind: [...i.kind] })),
        mirrorPlan: resolved.plan,
        lbIp: vantagePlan.lbIp,
        // extra fields (allowed by the contract)
        referrers: fixtures.referrers.map((r) => ({ repo: r.repo, subject: r.subject, digest: r.digest, artifactType: r.artifactType })),
        faultsUrl: controlServer.url,
        adminUrl: redirector.adminUrl,
        stack: {
          engine: spec.engine,
          upstream: spec.upstream,
          tempDir,
          processes: processes.map((p) => ({ name: p.name, pid: p.pid })),
          s3Credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        },
      },
      'local stack',
    );

    const totalMs = readyAt - t0;
    const timings: StackTimings = {
      fixturesMs,
      upstreamSeededMs,
      bucketsSeededMs,
      // the fixture build counts only for the time nothing else was running beside it
      readyMs: totalMs - Math.max(0, fixturesDoneAt - othersDoneAt),
      totalMs,
    };
    log(`ready in ${Math.round(timings.readyMs)} ms (${Math.round(timings.totalMs)} ms including fixtures)`);

    let stopped: Promise<StoppedStack> | null = null;
    const stop = (): Promise<StoppedStack> => {
      stopped ??= (async () => {
        const started = clock.now();
        const failures = await teardown.run();
        return { durationMs: clock.now() - started, failures };
      })();
      return stopped;
    };
    return {
      spec,
      target,
      faults: control,
      upstreams: {
        registry: upstreamInfo(spec.upstream, registry, upstreamFront, fixtures.repos),
        signature: signatureRegistry && signatureFront ? upstreamInfo(spec.upstream, signatureRegistry, signatureFront, signatureRepos) : null,
      },
      redirector: { url: redirector.url, adminUrl: redirector.adminUrl },
      buckets: { s3rverUrl: s3.endpoint, names: buckets.names, contents: resolved.byKey },
      edge: { ports: edge.ports },
      processes,
      tempDir,
      fixtures,
      timings,
      seeded: { registries: spec.upstream === 'embedded' ? 'served-in-place' : registry.restored ? 'snapshot' : 'pushed', buckets: bucketsRestored ? 'snapshot' : 'uploaded' },
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
  } catch (err) {
    await teardown.run();
    throw err;
  }
}

/**
 * What a local stack is made of: the options `startStack` takes, and `stackSpec(options)`, which checks them and
 * fills in every default (docs/local-stack.md, "Programmatic API").
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoRoot } from '../images/fixture-cache.js';
import type { FixtureSet } from '../images/fixture-images.js';
import { BUNDLED_RANGE_FILES, type RangeFiles } from '../oracle/published-ranges.js';
import type { IpMode, Semantics } from '../target/target-description.js';
import { bundledFixture } from './bundled-fixture.js';
import { DOCKER_REGISTRY_BIN } from './docker-registry-process.js';
import { ggcrAvailable } from './ggcr-upstream.js';
import { BUNDLED_MIRROR_PLAN_FILE } from './mirror-plan.js';
import { StackError } from './stack-error.js';
import { BUNDLED_VANTAGES_FILE } from './vantages.js';
import type { Clock } from './wait.js';

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

const SEMANTICS: readonly Semantics[] = ['most-specific', 'archeio'];

function optionError(message: string): never {
  throw new StackError('STACK_OPTION_INVALID', message);
}

/** Validates options and fills in defaults. Throws StackError STACK_OPTION_INVALID with a precise message. */
export function stackSpec(options: StackOptions = {}): StackSpec {
  const engine = options.engine ?? 'process';
  if (engine !== 'process' && engine !== 'container')
    optionError(`engine must be "process" or "container", not ${JSON.stringify(engine)}`);
  const semantics = options.semantics ?? 'most-specific';
  if (!SEMANTICS.includes(semantics))
    optionError(`semantics must be "most-specific" or "archeio", not ${JSON.stringify(semantics)}`);
  const ipMode = options.ipMode ?? 'xff';
  if (ipMode !== 'xff' && ipMode !== 'edge')
    optionError(`ipMode must be "xff" or "edge", not ${JSON.stringify(ipMode)}`);
  const bigLayerMiB = options.bigLayerMiB ?? 64;
  if (!Number.isInteger(bigLayerMiB) || bigLayerMiB < 1 || bigLayerMiB > 4096)
    optionError(`bigLayerMiB must be a whole number from 1 to 4096, not ${JSON.stringify(bigLayerMiB)}`);
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
    throw new StackError(
      'STACK_TOOL_MISSING',
      `upstream "docker-registry" needs ${dockerRegistryBin} (apt-get install docker-registry), or use --upstream embedded`,
    );
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  if (!(readyTimeoutMs > 0)) optionError('readyTimeoutMs must be positive');
  for (const [k, v] of Object.entries(options.redirectorEnv ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== 'string')
      optionError(`redirectorEnv: ${JSON.stringify(k)} must be an environment variable name with a string value`);
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

/** The bundled range snapshots, found from source or from dist/ (published-ranges.ts resolves them from source only). */
function bundledRangeFiles(): RangeFiles {
  if (existsSync(BUNDLED_RANGE_FILES.aws)) return BUNDLED_RANGE_FILES;
  const raw = (name: string) => bundledFixture(`ip-ranges/raw/${name}`);
  return { aws: raw('aws-ip-ranges.json'), gcp: raw('gcp-cloud.json'), azure: raw('azure-service-tags.json') };
}

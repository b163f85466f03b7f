/**
 * Go programs the harness and the tests run (crane, regctl, the OCI conformance program, actionlint, kustomize,
 * kubectl-validate; crane also serves `crane registry serve`): each pinned to one version, built from the Go module
 * proxy with `go install` into a cache outside the work tree, once per version, and reused.
 *
 * Layout of the cache (`REGISTRY_CANARY_GO_CACHE`, default `$XDG_CACHE_HOME/registry-canary/go`, else
 * `~/.cache/registry-canary/go`): `bin/<name>@<version>/<command>`. A version is installed into a temporary
 * directory beside its final one and renamed into place, so a build that is interrupted never leaves a binary that
 * looks installed.
 *
 * The rule for a missing program is the one for every external client (docs/suites.md): on a machine without Go a
 * check that needs one is not applicable, with the reason; under `CI=true` it fails, because CI installs them all
 * (`.ci/run` runs `scripts/install-go-programs.js`).
 */
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CheckFailure, NotApplicable } from '../results/check.js';
import { isCi, locateTool, runTool, toolOutputTail, type ToolRun } from './external-tool.js';

export interface GoProgram {
  /** the name the harness and reports use */
  name: string;
  /** the package `go install` builds */
  pkg: string;
  /** the pinned version: a tag or a pseudo-version the module proxy serves */
  version: string;
  /** the command's file name: the last element of `pkg`, or the one before a major-version suffix (`/v5`) */
  command: string;
  /** what the project uses it for, for reports and `--help` */
  purpose: string;
}

/** The file name `go install` gives the command built from `pkg` (it drops a major-version suffix such as `/v5`). */
export function goCommandName(pkg: string): string {
  const parts = pkg.split('/').filter(Boolean);
  const last = parts.at(-1) ?? '';
  return /^v[0-9]+$/.test(last) && parts.length > 1 ? parts.at(-2)! : last;
}

function program(name: string, pkg: string, version: string, purpose: string): GoProgram {
  return { name, pkg, version, command: goCommandName(pkg), purpose };
}

/** Every Go program the project runs, at the version it is pinned to. */
export const GO_PROGRAMS = {
  crane: program(
    'crane',
    'github.com/google/go-containerregistry/cmd/crane',
    'v0.22.1',
    'a real OCI client in the clients suite; `crane registry serve` is the referrers-capable upstream',
  ),
  regctl: program(
    'regctl',
    'github.com/regclient/regclient/cmd/regctl',
    'v0.11.7',
    'a real OCI client in the clients suite',
  ),
  conformance: program(
    'conformance',
    'github.com/opencontainers/distribution-spec/conformance',
    'v0.0.0-20260831232431-97274622c111',
    'the official OCI distribution-spec conformance program',
  ),
  actionlint: program(
    'actionlint',
    'github.com/rhysd/actionlint/cmd/actionlint',
    'v1.7.12',
    'validates .github/workflows (with shellcheck on every run: script when shellcheck is installed)',
  ),
  kustomize: program(
    'kustomize',
    'sigs.k8s.io/kustomize/kustomize/v5',
    'v5.8.1',
    'renders deploy/ and its overlays, so the manifests validated are the ones `kubectl apply -k` sends',
  ),
  kubectlValidate: program(
    'kubectl-validate',
    'sigs.k8s.io/kubectl-validate',
    'v0.0.4',
    'validates the manifests in deploy/ against the Kubernetes API schemas it embeds (1.23-1.30), offline',
  ),
} as const satisfies Record<string, GoProgram>;

export type GoProgramName = keyof typeof GO_PROGRAMS;

export function goProgramCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGISTRY_CANARY_GO_CACHE) return env.REGISTRY_CANARY_GO_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'registry-canary', 'go');
}

/** Where `program` lives once installed (whether or not it is). */
export function goProgramPath(program: GoProgram, env: NodeJS.ProcessEnv = process.env): string {
  return join(goProgramCacheDir(env), 'bin', `${program.name}@${program.version}`, program.command);
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export class GoProgramError extends Error {
  constructor(
    message: string,
    readonly reason: 'no-go' | 'install-failed',
  ) {
    super(message);
    this.name = 'GoProgramError';
  }
}

export interface InstallOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * milliseconds for one `go install` (default 30 minutes: kubectl-validate, which compiles much of the Kubernetes
   * API server, took 14 minutes from cold caches on two loaded cores)
   */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A Go binary built into the cache: `run(go, staging)` runs the go command so that it writes the binary into the
 * staging directory under the target's file name.
 */
export interface CacheBuild {
  /** the binary's final path, `<cache>/bin/<name>@<version>/<command>` */
  target: string;
  /** what is built, for messages: `crane (github.com/…/crane@v0.22.1)` */
  what: string;
  /** the go command line, for messages: `go install …@v0.22.1` */
  command: string;
  run(go: string, staging: string): Promise<ToolRun>;
}

/** Builds are shared within a process, so concurrent callers wanting the same binary build it once. */
const pending = new Map<string, Promise<string>>();

/**
 * The path of `build.target`, building it first when the cache lacks it. The build writes into a staging directory
 * beside the final one, renamed into place, so an interrupted build never leaves a binary that looks installed, and
 * a process that loses the race to another keeps the other's copy. Throws GoProgramError when Go is missing or the
 * build fails (with the tail of go's output).
 */
export async function buildIntoCache(build: CacheBuild, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (await executable(build.target)) return build.target;
  let running = pending.get(build.target);
  if (!running) {
    running = buildOnce(build, env).finally(() => pending.delete(build.target));
    pending.set(build.target, running);
  }
  return running;
}

async function buildOnce(build: CacheBuild, env: NodeJS.ProcessEnv): Promise<string> {
  const { target } = build;
  const go = await locateTool('go', env);
  if (go === null) {
    throw new GoProgramError(`Go is not installed (no go on PATH), so ${build.what} cannot be built`, 'no-go');
  }
  const file = basename(target);
  const finalDir = dirname(target);
  const binRoot = dirname(finalDir);
  await mkdir(binRoot, { recursive: true });
  const staging = await mkdtemp(join(binRoot, `.${file}-`));
  try {
    const run = await build.run(go, staging);
    if (run.exitCode !== 0) {
      const how = run.exitCode === null ? 'was killed (timeout or abort)' : `failed (exit ${run.exitCode})`;
      throw new GoProgramError(`${build.command} ${how}:\n${toolOutputTail(run, 12)}`, 'install-failed');
    }
    const built = await readdir(staging);
    if (!built.includes(file) || !(await executable(join(staging, file)))) {
      const wrote = built.length > 0 ? built.join(', ') : 'nothing';
      throw new GoProgramError(`${build.command} succeeded but wrote ${wrote}, not ${file}`, 'install-failed');
    }
    // another process may have finished the same version meanwhile: keep its copy
    if (!(await executable(target))) {
      await rm(finalDir, { recursive: true, force: true });
      try {
        await rename(staging, finalDir);
      } catch (err) {
        // lost the race to a process that renamed its own build into place after the check above
        if (!(await executable(target))) throw err;
      }
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  if (!(await executable(target))) {
    throw new GoProgramError(`${build.command} succeeded but ${target} is not there`, 'install-failed');
  }
  return target;
}

/**
 * The path of `program`, installing it with `go install` first when the cache lacks it. Throws GoProgramError
 * when Go is missing or the build fails (the error carries the tail of go's output).
 */
export async function ensureGoProgram(program: GoProgram, opts: InstallOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const spec = `${program.pkg}@${program.version}`;
  return buildIntoCache(
    {
      target: goProgramPath(program, env),
      what: `${program.name} (${spec})`,
      command: `go install ${spec}`,
      run: (go, staging) =>
        runTool(go, ['install', spec], {
          env: { ...env, GOBIN: staging, GOFLAGS: env.GOFLAGS ?? '', GO111MODULE: 'on' },
          timeoutMs: opts.timeoutMs ?? 30 * 60_000,
          signal: opts.signal,
        }),
    },
    env,
  );
}

/**
 * For a check: the program's path, installing it on first use. Without Go the check is not applicable (and under
 * `CI=true` fails); a failed build is a harness failure either way.
 */
export async function requireGoProgram(program: GoProgram, opts: InstallOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  try {
    return await ensureGoProgram(program, opts);
  } catch (err) {
    if (!(err instanceof GoProgramError)) throw err;
    if (err.reason === 'no-go') {
      if (isCi(env)) throw new CheckFailure('harness', `${err.message}; Go is required when CI=true`);
      throw new NotApplicable(`${err.message} (install Go to enable this check; with CI=true it fails instead)`);
    }
    throw new CheckFailure('harness', err.message);
  }
}

/**
 * Builds, before a run's checks start, the programs its suites need and the cache lacks, so that no check spends its
 * deadline on a first `go install`. Without Go nothing is built (the checks then say why). A failed build is
 * reported through `log`, not thrown: the checks that need the program report it as theirs.
 */
export async function prepareGoPrograms(
  names: readonly GoProgramName[],
  log: (message: string) => void,
  opts: InstallOptions = {},
): Promise<void> {
  const env = opts.env ?? process.env;
  if ((await locateTool('go', env)) === null) return;
  for (const name of new Set(names)) {
    const program: GoProgram = GO_PROGRAMS[name];
    if (await executable(goProgramPath(program, env))) continue;
    const started = Date.now();
    log(`building ${program.name} ${program.version} with go install (first use; later runs reuse it)`);
    try {
      await ensureGoProgram(program, opts);
      log(`built ${program.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      log(`${program.name} could not be built: ${(err as Error).message}`);
    }
  }
}

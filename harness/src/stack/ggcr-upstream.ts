/**
 * The referrers-capable, paginating upstream: go-containerregistry's registry (pkg/registry, the one `crane registry
 * serve` runs) in a small command of this project, harness/go/upstream-registry, which switches its referrers API
 * on and answers the four things the library leaves out (the command's comment and docs/local-stack.md list them).
 * Production's upstream, Artifact Registry, has the referrers API and tag pagination; Debian's docker-registry 2.8
 * has neither.
 *
 * The command is built from the checked-in module with `go build` into the Go program cache (go-programs.ts's
 * `goProgramCacheDir`, `bin/upstream-registry@<hash of its sources>/`), once per source version, like the pinned
 * programs. Blobs live on disk (kept as a seed snapshot between starts), manifests in memory: every start pushes
 * the fixture layouts (blobs already there are skipped by push.ts's HEAD), so a restored start only PUTs manifests.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { GoProgramError, buildIntoCache, goProgramCacheDir } from '../clients/go-programs.js';
import { runTool } from '../clients/external-tool.js';
import { pushLayout } from '../oci/push.js';
import { fromPackageRoot } from '../package-root.js';
import { ManagedProcess, findExecutable } from './managed-process.js';
import type { SeedSnapshots } from './seed-snapshots.js';
import { snapshotKey } from './seed-snapshots.js';
import { StackError } from './stack-error.js';
import { registryListening } from './registry-listening.js';
import type { Clock } from './wait.js';

export const GGCR_SOURCE_DIR = fromPackageRoot('harness', 'go', 'upstream-registry');
const SOURCE_FILES = ['main.go', 'go.mod', 'go.sum'];
const COMMAND = 'upstream-registry';

/** Whether `go` is on PATH (synchronously: the stack's `auto` choice is made while validating options). */
export function goOnPath(env: NodeJS.ProcessEnv = process.env): boolean {
  return findExecutable('go', env) !== null;
}

/** A hash of the command's sources: a changed main.go or go.sum builds a new binary. */
export function ggcrSourceHash(sourceDir = GGCR_SOURCE_DIR): string {
  // the package's own sources do not change while it runs: read and hash them once
  if (sourceDir === GGCR_SOURCE_DIR && ownSourceHash !== undefined) return ownSourceHash;
  const h = createHash('sha256');
  for (const f of SOURCE_FILES) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(sourceDir, f)));
  }
  const hash = h.digest('hex').slice(0, 16);
  if (sourceDir === GGCR_SOURCE_DIR) ownSourceHash = hash;
  return hash;
}
let ownSourceHash: string | undefined;

export function ggcrBinaryPath(env: NodeJS.ProcessEnv = process.env, sourceDir = GGCR_SOURCE_DIR): string {
  return join(goProgramCacheDir(env), 'bin', `${COMMAND}@${ggcrSourceHash(sourceDir)}`, COMMAND);
}

/** Whether the `ggcr` upstream can be had: its binary is built already, or Go is there to build it. */
export function ggcrAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!existsSync(join(GGCR_SOURCE_DIR, 'main.go'))) return false;
  return goOnPath(env) || existsSync(ggcrBinaryPath(env));
}

/** The command's path, built first (`go build`, through the Go program cache) when the cache lacks this source version. */
export async function ensureGgcrBinary(
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; log?: (m: string) => void } = {},
): Promise<string> {
  const env = opts.env ?? process.env;
  try {
    return await buildIntoCache(
      {
        target: ggcrBinaryPath(env),
        what: `the ggcr upstream (${GGCR_SOURCE_DIR})`,
        command: `go build of ${GGCR_SOURCE_DIR}`,
        run: (go, staging) => {
          opts.log?.(
            `building ${COMMAND} (go build, once per source version; the first build fetches go-containerregistry)`,
          );
          return runTool(go, ['build', '-trimpath', '-o', join(staging, COMMAND), '.'], {
            cwd: GGCR_SOURCE_DIR,
            env: { ...env, GOFLAGS: '-mod=readonly', GO111MODULE: 'on' },
            timeoutMs: opts.timeoutMs ?? 10 * 60_000,
          });
        },
      },
      env,
    );
  } catch (err) {
    if (!(err instanceof GoProgramError)) throw err;
    const message =
      err.reason === 'no-go'
        ? `upstream "ggcr" needs Go to build ${GGCR_SOURCE_DIR} (or use --upstream docker-registry or embedded)`
        : err.message;
    throw new StackError('STACK_TOOL_MISSING', message, { cause: err });
  }
}

export interface GgcrUpstreamOptions {
  /** a directory of its own (blobs go to `<dir>/data`) */
  dir: string;
  /** name in the process list */
  name: string;
  /** what to push: `<fixturesRoot>/<repo>` is an OCI layout for each repo */
  fixturesRoot: string;
  repos: readonly string[];
  /** what identifies the pushed content, for the blob snapshot's key */
  contentKey: unknown;
  snapshots: SeedSnapshots | null;
  env?: Record<string, string>;
  clock?: Clock;
  timeoutMs?: number;
  echo?: (name: string, line: string) => void;
  log?: (m: string) => void;
}

export interface StartedGgcrUpstream {
  url: string;
  process: ManagedProcess;
  /** blobs came from a seed snapshot (manifests are pushed at every start) */
  blobsRestored: boolean;
  stop(): Promise<void>;
}

export async function startGgcrUpstream(opts: GgcrUpstreamOptions): Promise<StartedGgcrUpstream> {
  const bin = await ensureGgcrBinary({ log: opts.log });
  const data = join(opts.dir, 'data');
  const key = snapshotKey(opts.name, {
    format: 1,
    registry: `${COMMAND}@${ggcrSourceHash()}`,
    content: opts.contentKey,
  });
  const blobsRestored = opts.snapshots ? await opts.snapshots.restore(key, data) : false;
  await mkdir(data, { recursive: true });
  const proc = await ManagedProcess.start({
    name: opts.name,
    command: bin,
    args: ['--address', '127.0.0.1:0', '--disk', data],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    echo: opts.echo,
  });
  try {
    const url = await registryListening(proc, { name: opts.name, clock: opts.clock, timeoutMs: opts.timeoutMs });
    const limit = pLimit(2);
    await Promise.all(
      opts.repos.map((repo) => limit(() => pushLayout(url, repo, join(opts.fixturesRoot, repo)))),
    ).catch((err: unknown) => {
      throw new StackError(
        'STACK_SEED_FAILED',
        `${opts.name}: pushing the fixture layouts failed: ${(err as Error).message}`,
        { cause: err },
      );
    });
    if (!blobsRestored) await opts.snapshots?.save(key, data);
    return { url, process: proc, blobsRestored, stop: async () => void (await proc.stop(3_000)) };
  } catch (err) {
    await proc.stop(1_000);
    throw err;
  }
}

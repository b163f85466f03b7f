/**
 * The local stack's storage and how it gets its content: the upstream registries (started, then given the fixture
 * layouts through the push API, or serving them in place) and the buckets (the objects the mirror plan puts in each).
 * Seeding the real way is the slow part of a start, so its result is kept as a seed snapshot and reused while nothing
 * that decides it changes (seed-snapshots.ts, docs/local-stack.md "Seed snapshots").
 */
import { statSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { FixtureSet } from '../images/fixture-images.js';
import { pushLayout } from '../oci/push.js';
import type { ContainerServices } from './container-engine.js';
import { startDockerRegistry } from './docker-registry-process.js';
import { startEmbeddedUpstream } from './embedded-upstream.js';
import { startGgcrUpstream } from './ggcr-upstream.js';
import { S3RVER_VERSION, type S3BucketServer } from './s3-bucket-server.js';
import { SeedSnapshots, snapshotKey } from './seed-snapshots.js';
import { StackError } from './stack-error.js';
import type { RegistryService, Started } from './stack-service.js';
import type { StackSpec } from './stack-spec.js';
import type { Clock } from './wait.js';

/** What seeding needs of the stack being started. */
export interface SeedContext {
  spec: StackSpec;
  fixtures: FixtureSet;
  tempDir: string;
  /** the seed snapshots, or null when the spec says to seed afresh */
  snapshots: SeedSnapshots | null;
  /** the container engine, when the spec's engine is `container` */
  containers: Started<ContainerServices> | null;
  clock: Clock;
  echo: ((name: string, line: string) => void) | undefined;
  /** environment every child process gets (the stack's owner tag) */
  childEnv: Record<string, string>;
  /** progress messages (building the ggcr upstream the first time takes a while) */
  log: (message: string) => void;
  /** registers a started service's stop() with the stack's teardown the moment it exists */
  own<S>(name: string, started: Started<S>): Started<S>;
}

/** A started upstream registry, and whether its storage came from a seed snapshot. */
export type SeededRegistry = Started<RegistryService> & { restored: boolean };

/** The seed snapshots of the spec, or null when it seeds afresh every time. */
export function seedSnapshotsOf(spec: StackSpec): SeedSnapshots | null {
  return spec.seedCache ? new SeedSnapshots(spec.seedCacheDir) : null;
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

/**
 * Starts the upstream registry `name` holding `repos`: the embedded registry serving the layouts in place, or
 * docker-registry (a process, or a container for the container engine) seeded through the push API or restored
 * from its seed snapshot.
 */
export async function startSeededRegistry(
  ctx: SeedContext,
  name: string,
  repos: readonly string[],
): Promise<SeededRegistry> {
  const { spec, fixtures, snapshots } = ctx;
  const dir = join(ctx.tempDir, name);
  await mkdir(dir, { recursive: true });
  if (spec.upstream === 'embedded') {
    // the embedded registry serves layouts in place: all of them from the fixture root, or a copy of just the
    // repositories this registry holds (the signature upstream's are small; symlinks are not followed)
    let root = fixtures.root;
    if (repos.length !== fixtures.repos.length) {
      root = join(dir, 'root');
      for (const repo of repos) await cp(join(fixtures.root, repo), join(root, repo), { recursive: true });
    }
    const options = { root, name, echo: ctx.echo, env: ctx.childEnv, clock: ctx.clock, timeoutMs: spec.readyTimeoutMs };
    const reg = ctx.own(name, await startEmbeddedUpstream(options));
    return { ...reg, restored: false };
  }
  if (spec.upstream === 'ggcr') {
    // blobs come from a seed snapshot when one matches; manifests are pushed at every start
    const started = await startGgcrUpstream({
      dir,
      name,
      fixturesRoot: fixtures.root,
      repos,
      contentKey: {
        repos: [...repos].sort(),
        blobs: fixtures.blobs.filter((b) => repos.includes(b.repo)).map((b) => b.digest),
      },
      snapshots,
      env: ctx.childEnv,
      clock: ctx.clock,
      timeoutMs: spec.readyTimeoutMs,
      ...(ctx.echo ? { echo: ctx.echo } : {}),
      log: ctx.log,
    });
    const reg = ctx.own<RegistryService>(name, started);
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
  const processOptions = { dir, name, bin: spec.dockerRegistryBin, clock: ctx.clock, timeoutMs: spec.readyTimeoutMs };
  const started =
    spec.engine === 'container'
      ? await ctx.containers!.startRegistry({ name, dir })
      : await startDockerRegistry({ ...processOptions, echo: ctx.echo, env: ctx.childEnv });
  const reg = ctx.own<RegistryService>(name, started);
  if (!restored) {
    const limit = pLimit(2);
    await Promise.all(repos.map((repo) => limit(() => pushLayout(reg.url, repo, join(fixtures.root, repo))))).catch(
      (err: unknown) => {
        throw new StackError(
          'STACK_SEED_FAILED',
          `${name}: pushing the fixture layouts failed: ${(err as Error).message}`,
          { cause: err },
        );
      },
    );
    await snapshots?.save(key, join(dir, 'data'));
  }
  return { ...reg, restored };
}

/**
 * Creates the buckets `names` (bucket key → bucket name) in s3rver and uploads the digests `byKey` puts in each, or
 * restores them from their seed snapshot. Resolves to whether the snapshot was used.
 */
export async function seedBuckets(
  ctx: SeedContext,
  s3: S3BucketServer,
  names: Record<string, string>,
  byKey: Record<string, string[]>,
): Promise<boolean> {
  const { snapshots, fixtures } = ctx;
  const s3Dir = join(ctx.tempDir, 's3');
  const key = snapshotKey('s3', { format: 1, s3rver: S3RVER_VERSION, buckets: Object.entries(names).sort(), byKey });
  if (snapshots && (await snapshots.restore(key, s3Dir))) return true;
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
  await snapshots?.save(key, s3Dir);
  return false;
}

/**
 * Reuses generated fixture images across runs: `<repo root>/.cache/fixture-images/<key>/` (`.cache` is gitignored),
 * keyed by the generator version and the big layer's size. A directory counts only when complete: it is built
 * under a temporary name and renamed into place, and `fixture-set.json` is written last. Concurrent builders (two
 * test workers) race harmlessly: the loser discards its copy.
 */
import { packageRoot } from '../package-root.js';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  buildFixtureImages,
  DEFAULT_BIG_LAYER_MIB,
  FIXTURE_GENERATOR_VERSION,
  FIXTURE_SET_FILE,
  type FixtureSet,
} from './fixture-images.js';

export interface EnsureFixtureOptions {
  bigLayerMiB?: number;
  /** parent of the keyed directories; default `<repo root>/.cache/fixture-images` */
  cacheDir?: string;
}

/** The directory holding this package's package.json (works from harness/src and from dist/harness/src). */
/** The checkout's root (kept as a name for existing callers; package-root.ts finds it). */
export function findRepoRoot(): string {
  return packageRoot();
}

export function fixtureCacheKey(bigLayerMiB: number): string {
  return `v${FIXTURE_GENERATOR_VERSION}-big${bigLayerMiB}mib`;
}

/**
 * The image refs the generator makes today, from the pinned record (fixtures/images/digests.json; refs do not depend
 * on the big layer's size), or null when the record cannot be read.
 */
async function pinnedRefs(): Promise<string[] | null> {
  try {
    const record = JSON.parse(
      await readFile(path.join(findRepoRoot(), 'fixtures', 'images', 'digests.json'), 'utf8'),
    ) as { images: { ref: string }[] };
    return record.images.map((i) => i.ref).sort();
  } catch {
    return null;
  }
}

/**
 * A cached set if it lists the images the generator makes today (a set cached before an image was added to the
 * generator is stale, even under the same generator version) and every blob and manifest it lists is on disk with
 * the right size, else null.
 */
export async function loadFixtureSet(dir: string): Promise<FixtureSet | null> {
  let set: FixtureSet;
  try {
    set = JSON.parse(await readFile(path.join(dir, FIXTURE_SET_FILE), 'utf8')) as FixtureSet;
  } catch {
    return null;
  }
  if (set.generatorVersion !== FIXTURE_GENERATOR_VERSION) return null;
  const refs = await pinnedRefs();
  if (refs !== null && JSON.stringify(set.images.map((i) => i.ref).sort()) !== JSON.stringify(refs)) return null;
  for (const item of [...set.blobs, ...set.manifests]) {
    const [alg, hex] = item.digest.split(':') as [string, string];
    try {
      if ((await stat(path.join(dir, item.repo, 'blobs', alg, hex))).size !== item.size) return null;
    } catch {
      return null;
    }
  }
  return { ...set, root: dir };
}

export async function ensureFixtureImages(options: EnsureFixtureOptions = {}): Promise<FixtureSet> {
  const bigLayerMiB = options.bigLayerMiB ?? DEFAULT_BIG_LAYER_MIB;
  const cacheDir = options.cacheDir ?? path.join(findRepoRoot(), '.cache', 'fixture-images');
  const dir = path.join(cacheDir, fixtureCacheKey(bigLayerMiB));
  const cached = await loadFixtureSet(dir);
  if (cached !== null) return cached;
  await rm(dir, { recursive: true, force: true }); // incomplete or stale
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await buildFixtureImages(tmp, { bigLayerMiB });
    try {
      await rename(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      // another builder won the race; use its copy
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const set = await loadFixtureSet(dir);
  if (set === null) throw new Error(`fixture images in ${dir} are incomplete after building`);
  return set;
}

/**
 * Snapshots of seeded storage (s3rver's data directory, docker-registry's filesystem storage), so only the first
 * start with a given fixture set and mirror plan pays for seeding.
 *
 * Why: s3rver spends about 4 ms of CPU per PUT, and the mirror plan is ~800 objects; on a busy 2-core machine that
 * alone can take most of the 10 s start-up budget. The first start seeds the real way (the distribution push API,
 * @aws-sdk/client-s3 PutObject) and then saves the resulting storage here; later starts copy it back before the
 * server reads it. The key covers everything that decides the content (fixture digests, the resolved plan, bucket
 * names, the server and its version), so a changed plan or fixture set is seeded afresh. Copies, not hard links:
 * a test that overwrites an object must not change the snapshot.
 *
 * Layout: `<cacheRoot>/<key>/` with a `complete` marker written last; built under a temporary name and renamed.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const COMPLETE = '.complete';
/** snapshots kept per kind; older ones are removed when a new one is saved (each may hold the large layer) */
const KEEP_PER_KIND = 4;

/**
 * Copies the contents of `from` into `to` (created if missing). coreutils `cp -a` rather than fs.cp: about twice as
 * fast on the ~2,000 small files of a bucket snapshot, which is the point of having snapshots.
 */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  await run('cp', ['-a', '--', `${from}/.`, `${to}/`]);
}

export function snapshotKey(kind: string, material: unknown): string {
  return `${kind}-${createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 24)}`;
}

export class SeedSnapshots {
  constructor(readonly cacheRoot: string) {}

  /** Copies the snapshot into `intoDir` (which must not exist yet); false when there is no complete snapshot. */
  async restore(key: string, intoDir: string): Promise<boolean> {
    const dir = join(this.cacheRoot, key);
    try {
      await stat(join(dir, COMPLETE));
    } catch {
      return false;
    }
    await copyTree(dir, intoDir);
    await rm(join(intoDir, COMPLETE), { force: true });
    return true;
  }

  /** Saves `fromDir` as the snapshot for `key`. Best effort: a failure only costs the next start its speed-up. */
  async save(key: string, fromDir: string): Promise<void> {
    const dir = join(this.cacheRoot, key);
    await mkdir(this.cacheRoot, { recursive: true }).catch(() => {});
    const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await copyTree(fromDir, tmp);
      await writeFile(join(tmp, COMPLETE), `${new Date().toISOString()}\n`);
      await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
        // another stack saved the same snapshot first: theirs is as good as ours
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
      await this.prune(key.slice(0, key.lastIndexOf('-')));
    } catch {
      // ignored: see above
    } finally {
      await rm(tmp, { recursive: true, force: true }).catch(() => {});
    }
  }

  private async prune(kind: string): Promise<void> {
    const entries = await readdir(this.cacheRoot).catch(() => [] as string[]);
    const snapshots: { name: string; mtime: number }[] = [];
    for (const name of entries) {
      if (name.includes('.tmp-') || name.slice(0, name.lastIndexOf('-')) !== kind) continue;
      try {
        snapshots.push({ name, mtime: (await stat(join(this.cacheRoot, name, COMPLETE))).mtimeMs });
      } catch {
        // incomplete: a concurrent save, leave it alone
      }
    }
    snapshots.sort((a, b) => b.mtime - a.mtime);
    for (const old of snapshots.slice(KEEP_PER_KIND))
      await rm(join(this.cacheRoot, old.name), { recursive: true, force: true });
  }
}

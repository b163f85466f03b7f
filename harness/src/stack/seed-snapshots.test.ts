import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeedSnapshots, snapshotKey } from './seed-snapshots.js';

describe('SeedSnapshots', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seed-snap-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keys change with any part of the material', () => {
    expect(snapshotKey('s3', { a: 1 })).toBe(snapshotKey('s3', { a: 1 }));
    expect(snapshotKey('s3', { a: 1 })).not.toBe(snapshotKey('s3', { a: 2 }));
    expect(snapshotKey('s3', { a: 1 })).toMatch(/^s3-[0-9a-f]{24}$/);
  });

  it('restores nothing until a snapshot is saved, then copies it (not links it)', async () => {
    const snaps = new SeedSnapshots(join(dir, 'cache'));
    const key = snapshotKey('s3', { v: 1 });
    expect(await snaps.restore(key, join(dir, 'a'))).toBe(false);
    expect(existsSync(join(dir, 'a'))).toBe(false);
    await mkdir(join(dir, 'src', 'bucket'), { recursive: true });
    await writeFile(join(dir, 'src', 'bucket', 'obj'), 'bytes');
    await snaps.save(key, join(dir, 'src'));
    expect(await snaps.restore(key, join(dir, 'b'))).toBe(true);
    expect(await readFile(join(dir, 'b', 'bucket', 'obj'), 'utf8')).toBe('bytes');
    expect(await readdir(join(dir, 'b'))).toEqual(['bucket']);
    // overwriting the restored copy leaves the snapshot alone
    await writeFile(join(dir, 'b', 'bucket', 'obj'), 'changed');
    expect(await snaps.restore(key, join(dir, 'c'))).toBe(true);
    expect(await readFile(join(dir, 'c', 'bucket', 'obj'), 'utf8')).toBe('bytes');
  });

  it('keeps the four newest snapshots of each kind', async () => {
    const snaps = new SeedSnapshots(join(dir, 'cache'));
    await mkdir(join(dir, 'src'));
    for (let i = 0; i < 6; i++) {
      const key = snapshotKey('s3', { i });
      await snaps.save(key, join(dir, 'src'));
      // distinct mtimes, oldest first
      const when = new Date(Date.now() - (10 - i) * 1000);
      await utimes(join(dir, 'cache', key, '.complete'), when, when);
    }
    await snaps.save(snapshotKey('upstream-registry', { i: 0 }), join(dir, 'src'));
    const left = await readdir(join(dir, 'cache'));
    expect(left.filter((n) => n.startsWith('s3-'))).toHaveLength(4);
    expect(left).toContain(snapshotKey('s3', { i: 5 }));
    expect(left).not.toContain(snapshotKey('s3', { i: 1 }));
    expect(left.filter((n) => n.startsWith('upstream-registry-'))).toHaveLength(1);
  });

  it('a failed save is silent', async () => {
    const snaps = new SeedSnapshots(join(dir, 'cache'));
    await expect(snaps.save('s3-x', join(dir, 'does-not-exist'))).resolves.toBeUndefined();
    expect(await snaps.restore('s3-x', join(dir, 'out'))).toBe(false);
  });
});

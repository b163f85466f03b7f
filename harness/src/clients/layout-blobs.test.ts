import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyLayoutBlobs } from './layout-blobs.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function layout(blobs: { algorithm: 'sha256' | 'sha512'; bytes: string; name?: string }[]): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'rc-layout-blobs-'));
  for (const b of blobs) {
    const name = b.name ?? createHash(b.algorithm).update(b.bytes).digest('hex');
    await mkdir(join(dir, 'blobs', b.algorithm), { recursive: true });
    await writeFile(join(dir, 'blobs', b.algorithm, name), b.bytes);
  }
  return dir;
}

describe('verifyLayoutBlobs', () => {
  it('hashes sha256 and sha512 blobs and finds them all consistent', async () => {
    const root = await layout([
      { algorithm: 'sha256', bytes: 'config' },
      { algorithm: 'sha256', bytes: 'layer' },
      { algorithm: 'sha512', bytes: 'sha512 layer' },
    ]);
    expect(await verifyLayoutBlobs(root)).toEqual({ blobs: 3, mismatched: [] });
  });

  it('names a blob whose bytes do not match its name', async () => {
    const wrong = createHash('sha256').update('what the manifest promised').digest('hex');
    const root = await layout([
      { algorithm: 'sha256', bytes: 'good' },
      { algorithm: 'sha256', bytes: 'corrupted bytes', name: wrong },
    ]);
    const { blobs, mismatched } = await verifyLayoutBlobs(root);
    expect(blobs).toBe(2);
    expect(mismatched).toHaveLength(1);
    const actual = createHash('sha256').update('corrupted bytes').digest('hex');
    expect(mismatched[0]).toContain(`sha256:${wrong}: got sha256:${actual}`);
  });

  it('refuses an algorithm it cannot verify rather than skipping it', async () => {
    const root = await layout([{ algorithm: 'sha256', bytes: 'x' }]);
    await mkdir(join(root, 'blobs', 'md5'));
    expect((await verifyLayoutBlobs(root)).mismatched).toEqual(['md5: an algorithm this check cannot verify']);
  });
});

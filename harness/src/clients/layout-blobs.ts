/**
 * The blobs of an OCI image layout a real client wrote (regctl, crane), re-hashed and compared with the names they
 * are stored under (`blobs/<algorithm>/<encoded>`, image-spec image-layout.md), so a client's pull is checked by
 * something other than the client itself.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

async function hashFile(path: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Hashes every blob of an OCI layout and names those whose bytes do not match their file name. */
export async function verifyLayoutBlobs(layoutDir: string): Promise<{ blobs: number; mismatched: string[] }> {
  let blobs = 0;
  const mismatched: string[] = [];
  const root = join(layoutDir, 'blobs');
  for (const algorithm of await readdir(root)) {
    if (algorithm !== 'sha256' && algorithm !== 'sha512') {
      mismatched.push(`${algorithm}: an algorithm this check cannot verify`);
      continue;
    }
    for (const encoded of await readdir(join(root, algorithm))) {
      blobs += 1;
      const actual = await hashFile(join(root, algorithm, encoded), algorithm);
      if (actual !== encoded) mismatched.push(`${algorithm}:${encoded}: got ${algorithm}:${actual}`);
    }
  }
  return { blobs, mismatched };
}

/**
 * Deterministic incompressible bytes, fast: the AES-256-CTR keystream (encrypting zeros) under a key derived from a
 * seed string. About 1 GB/s here, so a 256 MiB layer costs a fraction of a second, and the same seed gives the same
 * bytes on every machine (the cipher is fully specified; NIST SP 800-38A §6.5).
 */
import { createCipheriv, createHash } from 'node:crypto';

export const KEYSTREAM_CHUNK = 1024 * 1024;

/** Yields `size` bytes in chunks of at most `chunkSize`. */
export function* keystream(seed: string, size: number, chunkSize = KEYSTREAM_CHUNK): Generator<Buffer> {
  const key = createHash('sha256').update(`registry-canary keystream\0${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(Math.min(chunkSize, Math.max(size, 1)));
  let left = size;
  while (left > 0) {
    const n = Math.min(left, zeros.length);
    yield cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
    left -= n;
  }
}

export function keystreamBytes(seed: string, size: number): Buffer {
  return Buffer.concat([...keystream(seed, size)], size);
}

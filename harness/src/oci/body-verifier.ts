/**
 * Verifies a body while it streams: hashes every chunk with the algorithm the expected digest names (sha256 or
 * sha512, docs/reference/oci-distribution.md#grammar) and counts bytes against the expected size. Nothing is buffered
 * unless the caller asks for the bytes (manifests, capped); a large layer goes to a sink or is discarded chunk by
 * chunk.
 *
 * Clients SHOULD verify bodies against the requested digest (spec "Pulling manifests", "Pulling blobs"); neither
 * official suite does in read-only mode (docs/reference/oci-distribution.md#official-conformance-suites), so this is where
 * integrity is decided.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { computableAlgorithm, createDigestHash, type DigestAlgorithm } from './digest.js';
import { OciError } from './oci-error.js';

export interface VerifyExpectation {
  /** expected digest; its algorithm selects the hash. Without it the body is hashed with `algorithm` (default sha256). */
  digest?: string;
  /** expected byte count; exceeding it stops the read at once */
  size?: number;
  algorithm?: DigestAlgorithm;
}

export interface VerifyOptions {
  /** receives every chunk (with backpressure) and is ended when the body ends */
  sink?: Writable;
  /** keep the bytes and return them; the read fails with SIZE_MISMATCH past `collectLimit` */
  collect?: boolean;
  collectLimit?: number;
  /** called per chunk with the running byte count (progress) */
  onProgress?: (bytes: number) => void;
}

export interface VerifiedBody {
  /** digest computed over the bytes received */
  digest: string;
  size: number;
  /** true when an expected digest was given and matched (a mismatch throws instead) */
  verified: boolean;
  bytes?: Buffer;
}

type Source = AsyncIterable<Uint8Array> & { destroy?: (err?: Error) => unknown };

export async function verifyBody(
  source: Source,
  expected: VerifyExpectation = {},
  options: VerifyOptions = {},
): Promise<VerifiedBody> {
  const algorithm =
    expected.digest !== undefined ? computableAlgorithm(expected.digest) : (expected.algorithm ?? 'sha256');
  const hash = createDigestHash(algorithm);
  const chunks: Buffer[] = [];
  const collectLimit = options.collectLimit ?? Number.POSITIVE_INFINITY;
  const sink = options.sink;
  let size = 0;
  try {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (expected.size !== undefined && size > expected.size) {
        throw new OciError('SIZE_MISMATCH', `body is longer than the expected ${expected.size} bytes`, {
          details: { expectedSize: expected.size, receivedAtLeast: size },
        });
      }
      if (options.collect === true) {
        if (size > collectLimit) {
          throw new OciError('SIZE_MISMATCH', `body exceeds the ${collectLimit}-byte limit`, {
            details: { limit: collectLimit },
          });
        }
        chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
      hash.update(chunk);
      if (sink !== undefined && !sink.write(chunk)) await once(sink, 'drain');
      options.onProgress?.(size);
    }
  } catch (e) {
    source.destroy?.();
    sink?.destroy();
    throw e;
  }
  if (sink !== undefined) {
    sink.end();
    if (!sink.writableFinished) await once(sink, 'finish');
  }
  const digest = `${algorithm}:${hash.digest('hex')}`;
  if (expected.size !== undefined && size !== expected.size) {
    throw new OciError('SIZE_MISMATCH', `body has ${size} bytes, expected ${expected.size}`, {
      details: { expectedSize: expected.size, size, digest },
    });
  }
  if (expected.digest !== undefined && digest !== expected.digest) {
    throw new OciError('DIGEST_MISMATCH', `body digest ${digest} does not match the expected ${expected.digest}`, {
      details: { expected: expected.digest, actual: digest, size },
    });
  }
  return {
    digest,
    size,
    verified: expected.digest !== undefined,
    ...(options.collect === true ? { bytes: Buffer.concat(chunks, size) } : {}),
  };
}

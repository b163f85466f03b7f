/**
 * Digests per image-spec descriptor.md (docs/reference/oci-distribution.md#grammar): `algorithm ":" encoded`, with the
 * registered algorithms' encodings pinned to lower-case hex of a fixed length. sha256 and sha512 are computed; blake3
 * is well-formed but not computable here (UNSUPPORTED_DIGEST), other algorithms pass the grammar as the spec asks.
 */
import { createHash, type Hash } from 'node:crypto';
import { OciError } from './oci-error.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  algorithm: string;
  encoded: string;
}

const DIGEST_GRAMMAR = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
/** registered algorithms: their encoded form MUST be lower-case hex of this length */
const REGISTERED: Record<string, number> = { sha256: 64, sha512: 128, blake3: 64 };

/** Parses without throwing: null when `value` is not a digest the spec allows. */
export function tryParseDigest(value: string): ParsedDigest | null {
  const m = DIGEST_GRAMMAR.exec(value);
  if (m === null) return null;
  const algorithm = m[1]!;
  const encoded = m[2]!;
  const len = REGISTERED[algorithm];
  if (len !== undefined && !new RegExp(`^[a-f0-9]{${len}}$`).test(encoded)) return null;
  return { algorithm, encoded };
}

export function parseDigest(value: string): ParsedDigest {
  const d = tryParseDigest(value);
  if (d === null) throw new OciError('BAD_DIGEST', `not a valid OCI digest: ${JSON.stringify(value)}`);
  return d;
}

export function isDigest(value: string): boolean {
  return tryParseDigest(value) !== null;
}

/** The algorithm to hash with, or UNSUPPORTED_DIGEST. */
export function computableAlgorithm(digest: string): DigestAlgorithm {
  const { algorithm } = parseDigest(digest);
  if (algorithm === 'sha256' || algorithm === 'sha512') return algorithm;
  throw new OciError('UNSUPPORTED_DIGEST', `cannot compute ${algorithm} digests (${digest})`);
}

export function createDigestHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * The referrers tag schema (distribution-spec "Referrers Tag Schema"; docs/reference/oci-distribution.md#grammar):
 * algorithm truncated to 32 characters, encoded to 64, every character illegal in a tag replaced by `-`.
 */
export function referrersTagFor(digest: string): string {
  const { algorithm, encoded } = parseDigest(digest);
  return `${algorithm.slice(0, 32)}-${encoded.slice(0, 64)}`.replace(/[^a-zA-Z0-9._-]/g, '-');
}

/** cosign's signature tag for an image digest: `sha256-<hex>.sig`. */
export function cosignSignatureTagFor(digest: string): string {
  return `${referrersTagFor(digest)}.sig`;
}

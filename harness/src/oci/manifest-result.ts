/** What asking for a manifest takes and gives: the options of a GET or HEAD, and its answer, hop by hop. */
import type { OciHop } from './hop.js';

export interface ManifestOptions {
  /** Accept types; default every manifest type the client knows (media-types.ts MANIFEST_ACCEPT) */
  accept?: readonly string[];
  /** send each Accept type as its own header line instead of one comma-joined line */
  acceptAsSeparateLines?: boolean;
  headers?: Record<string, string>;
  /** also require this digest/size (e.g. from the target's image list when pulling by tag) */
  expected?: { digest?: string; size?: number };
  /** verify a Docker-Content-Digest the final hop sends against the body/requested digest; default true */
  checkDigestHeader?: boolean;
}

export interface ManifestHead {
  hops: OciHop[];
  status: number;
  contentType?: string;
  mediaType?: string;
  size?: number;
  dockerContentDigest?: string;
}

export interface ManifestResult extends ManifestHead {
  /** computed digest of the body (the requested digest's algorithm, else sha256) */
  digest: string;
  size: number;
  bytes: Buffer;
  json: Record<string, unknown>;
  /** the `mediaType` field of the body, when present */
  bodyMediaType?: string;
}

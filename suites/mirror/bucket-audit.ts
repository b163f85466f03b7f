/**
 * The audit of one bucket base: for every blob of every image, does `<base>/containers/images/<digest>` exist (HEAD)
 * and, for a sample, are its bytes the blob (GET, hashed as it streams)? This is the layout production's mirror tool
 * writes (geranos; docs/reference/archeio.md#url-construction) and the object the redirector's existence check HEADs
 * (rule 6).
 *
 * Object storage answers a missing key with 404, or with 403 when the bucket does not grant anonymous listing (S3's
 * rule); both mean "absent" to the redirector, which treats any non-200 as a miss. 5xx, timeouts and connection
 * errors mean the audit could not tell.
 */
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import {
  createOciClient,
  type OciClient,
  isOciError,
  blobObjectUrl,
  type CatalogBlob,
  type OciHop,
} from '../../harness/src/index.js';

export type BlobState = 'present' | 'absent' | 'corrupted' | 'unknown';

export interface AuditedBlob {
  digest: string;
  repository: string;
  size?: number;
  url: string;
  state: BlobState;
  /** HEAD status (0: no answer) */
  headStatus: number;
  /** whether the bytes were fetched and hashed */
  sampled: boolean;
  /** why it is corrupted or unknown */
  reason?: string;
  hops: OciHop[];
}

export interface BucketAudit {
  base: string;
  blobs: AuditedBlob[];
  present: number;
  total: number;
}

export interface AuditOptions {
  /** blobs at most this big are always fetched and hashed (default 256 KiB) */
  alwaysSampleBytes?: number;
  /** how many larger present blobs are also fetched (default 2), chosen by a hash of base and digest */
  largerSamples?: number;
  concurrency?: number;
  signal?: AbortSignal;
}

/** A stable pseudo-random order per bucket, so different buckets sample different large blobs. */
function sampleRank(base: string, digest: string): string {
  return createHash('sha256').update(`${base}\n${digest}`).digest('hex');
}

async function head(client: OciClient, url: string, blob: CatalogBlob): Promise<AuditedBlob> {
  const base: Omit<AuditedBlob, 'state' | 'headStatus' | 'hops'> = {
    digest: blob.digest,
    repository: blob.repository,
    ...(blob.size !== undefined ? { size: blob.size } : {}),
    url,
    sampled: false,
  };
  try {
    const r = await client.rawProbe('HEAD', new URL(url).pathname, { follow: false, maxBody: 0 });
    if (r.status === 200) {
      const cl = r.headers['content-length'];
      if (cl !== undefined && blob.size !== undefined && Number(cl) !== blob.size) {
        return {
          ...base,
          state: 'corrupted',
          headStatus: 200,
          reason: `Content-Length ${cl}, the blob has ${blob.size} bytes`,
          hops: r.hops,
        };
      }
      return { ...base, state: 'present', headStatus: 200, hops: r.hops };
    }
    if (r.status === 404 || r.status === 403) return { ...base, state: 'absent', headStatus: r.status, hops: r.hops };
    return { ...base, state: 'unknown', headStatus: r.status, reason: `HEAD answered ${r.status}`, hops: r.hops };
  } catch (err) {
    return {
      ...base,
      state: 'unknown',
      headStatus: 0,
      reason: (err as Error).message,
      hops: isOciError(err) ? err.hops : [],
    };
  }
}

async function verifyBytes(client: OciClient, audited: AuditedBlob): Promise<AuditedBlob> {
  try {
    const ex = await client.exchange('GET', new URL(audited.url).pathname, { follow: false });
    if (ex.status !== 200) {
      for await (const _ of ex.body) void _;
      return {
        ...audited,
        sampled: true,
        state: ex.status >= 500 ? 'unknown' : 'corrupted',
        reason: `HEAD said 200, GET answered ${ex.status}`,
        hops: ex.hops,
      };
    }
    const [algorithm] = audited.digest.split(':');
    const hash = createHash(algorithm === 'sha512' ? 'sha512' : 'sha256');
    let size = 0;
    for await (const chunk of ex.body) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).byteLength;
    }
    const digest = `${algorithm}:${hash.digest('hex')}`;
    if (digest !== audited.digest || (audited.size !== undefined && size !== audited.size)) {
      return {
        ...audited,
        sampled: true,
        state: 'corrupted',
        reason: `GET returned ${size} bytes hashing to ${digest}`,
        hops: ex.hops,
      };
    }
    return { ...audited, sampled: true, hops: ex.hops };
  } catch (err) {
    return {
      ...audited,
      sampled: true,
      state: 'unknown',
      reason: `GET failed: ${(err as Error).message}`,
      hops: isOciError(err) ? err.hops : audited.hops,
    };
  }
}

export async function auditBucket(
  base: string,
  blobs: readonly CatalogBlob[],
  options: AuditOptions = {},
): Promise<BucketAudit> {
  const client = createOciClient({
    baseUrl: base,
    headersTimeoutMs: 15_000,
    bodyTimeoutMs: 30_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const limit = pLimit(options.concurrency ?? 8);
  const headed = await Promise.all(blobs.map((b) => limit(() => head(client, blobObjectUrl(base, b.digest), b))));
  const small = options.alwaysSampleBytes ?? 256 * 1024;
  const present = headed.filter((a) => a.state === 'present');
  const chosen = new Set([
    ...present.filter((a) => (a.size ?? Number.POSITIVE_INFINITY) <= small).map((a) => a.digest),
    ...present
      .filter((a) => (a.size ?? Number.POSITIVE_INFINITY) > small)
      .sort((a, b) => sampleRank(base, a.digest).localeCompare(sampleRank(base, b.digest)))
      .slice(0, options.largerSamples ?? 2)
      .map((a) => a.digest),
  ]);
  const audited = await Promise.all(
    headed.map((a) => limit(() => (chosen.has(a.digest) ? verifyBytes(client, a) : Promise.resolve(a)))),
  );
  return { base, blobs: audited, present: audited.filter((a) => a.state === 'present').length, total: audited.length };
}

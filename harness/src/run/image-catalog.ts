/**
 * The image catalog: what the target's images are made of (manifests and blobs, with sizes and repositories), read
 * straight from the upstream registry, never through the redirector under test. Routing checks use it to pick real
 * blob digests (one the vantage's bucket holds, one it lacks, one no bucket holds); the integrity suite knows the
 * same content independently through its pulls.
 *
 * A remote target may list `knownBlobs: [{repository, digest, size}]` (e.g. pause:3.1's config, present in every
 * production bucket: docs/reference/incidents.md#images-and-digests); they are used when the upstream cannot be
 * walked (e.g. it wants a token this client does not fetch).
 */
import { isImageIndexJson, isImageManifestJson } from '../oci/descriptor.js';
import { createOciClient, type OciClient } from '../oci/oci-client.js';
import { isOciError } from '../oci/oci-error.js';
import type { KnownBlob } from '../oracle/routing-oracle.js';
import { splitRef } from '../oracle/routing-oracle.js';
import type { TargetDescription } from '../target/target-description.js';

export interface CatalogManifest {
  repository: string;
  digest: string;
  mediaType?: string;
  platform?: string;
}

export interface CatalogBlob extends KnownBlob {
  mediaType?: string;
  kind: 'config' | 'layer';
}

export interface ImageCatalog {
  manifests: CatalogManifest[];
  blobs: CatalogBlob[];
  /** images that could not be walked, with the reason (the catalog is then partial) */
  problems: string[];
  /** the same images, structured: the ref and, when the upstream answered, the HTTP status of the failing request */
  unreadable: { ref: string; status?: number; message: string }[];
}

export function knownBlobsOf(target: TargetDescription): CatalogBlob[] {
  const raw = target.knownBlobs;
  if (!Array.isArray(raw)) return [];
  return raw
    .filter(
      (b): b is Record<string, unknown> =>
        typeof b === 'object' &&
        b !== null &&
        typeof (b as KnownBlob).digest === 'string' &&
        typeof (b as KnownBlob).repository === 'string',
    )
    .map((b) => ({
      repository: b.repository as string,
      digest: b.digest as string,
      ...(typeof b.size === 'number' ? { size: b.size } : {}),
      kind: (b.kind === 'config' ? 'config' : 'layer') as 'config' | 'layer',
    }));
}

/** Walks every image of the target at the upstream (index → manifests → config and layers), bodies verified. */
export async function readImageCatalog(
  target: TargetDescription,
  options: { signal?: AbortSignal; client?: OciClient } = {},
): Promise<ImageCatalog> {
  const client =
    options.client ??
    createOciClient({
      baseUrl: target.upstream,
      ...(options.signal ? { signal: options.signal } : {}),
      headersTimeoutMs: 15_000,
      bodyTimeoutMs: 15_000,
    });
  const prefix = target.upstreamPath.replace(/^\/+|\/+$/g, '');
  const manifests: CatalogManifest[] = [];
  const blobs = new Map<string, CatalogBlob>();
  const seen = new Set<string>();
  const problems: string[] = [];
  const unreadable: ImageCatalog['unreadable'] = [];
  for (const b of knownBlobsOf(target)) blobs.set(b.digest, b);

  const walk = async (repository: string, reference: string, depth: number): Promise<void> => {
    const key = `${repository}@${reference}`;
    if (seen.has(key) || depth > 4) return;
    seen.add(key);
    const m = await client.getManifest(prefix ? `${prefix}/${repository}` : repository, reference);
    manifests.push({ repository, digest: m.digest, ...(m.mediaType ? { mediaType: m.mediaType } : {}) });
    if (isImageIndexJson(m.json)) {
      for (const child of m.json.manifests) await walk(repository, child.digest, depth + 1);
    } else if (isImageManifestJson(m.json)) {
      const entries: [typeof m.json.config, 'config' | 'layer'][] = [
        [m.json.config, 'config'],
        ...m.json.layers.map((l) => [l, 'layer'] as [typeof l, 'layer']),
      ];
      for (const [d, kind] of entries) {
        if (!blobs.has(d.digest))
          blobs.set(d.digest, { repository, digest: d.digest, size: d.size, mediaType: d.mediaType, kind });
      }
    }
  };

  for (const image of target.images) {
    const { repository } = splitRef(image.ref);
    try {
      await walk(repository, image.digest, 0);
    } catch (err) {
      const message = (err as Error).message;
      problems.push(`${image.ref}: ${message}`);
      unreadable.push({
        ref: image.ref,
        ...(isOciError(err) && err.status !== undefined ? { status: err.status } : {}),
        message,
      });
    }
  }
  return { manifests, blobs: [...blobs.values()], problems, unreadable };
}

const catalogs = new WeakMap<TargetDescription, Promise<ImageCatalog>>();

/** One catalog per target object per process. */
export function imageCatalogFor(target: TargetDescription): Promise<ImageCatalog> {
  let p = catalogs.get(target);
  if (!p) {
    p = readImageCatalog(target);
    catalogs.set(target, p);
  }
  return p;
}

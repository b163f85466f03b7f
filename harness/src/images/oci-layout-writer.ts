/**
 * Writes one OCI image layout (image-spec image-layout.md): `oci-layout`, `index.json` and content-addressed
 * `blobs/<alg>/<encoded>`. One layout per repository; `index.json` lists each tagged manifest with the annotation
 * `org.opencontainers.image.ref.name` = tag (what skopeo's `oci:DIR:TAG` and the embedded registry read), and
 * untagged manifests (referrers) without it.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Descriptor } from '../oci/descriptor.js';
import { MediaType } from '../oci/media-types.js';
import { canonicalJsonBytes } from './canonical-json.js';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export type BlobAlgorithm = 'sha256' | 'sha512';

export interface LayoutEntry {
  descriptor: Descriptor;
  tag?: string;
}

export class OciLayoutWriter {
  private readonly entries: LayoutEntry[] = [];

  constructor(readonly dir: string) {}

  blobPath(digest: string): string {
    const [alg, hex] = digest.split(':') as [string, string];
    return path.join(this.dir, 'blobs', alg, hex);
  }

  /** Stores bytes (once) and returns their descriptor. */
  async putBlob(
    bytes: Buffer,
    mediaType: string,
    algorithm: BlobAlgorithm = 'sha256',
    extra: Partial<Descriptor> = {},
  ): Promise<Descriptor> {
    const digest = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
    const file = this.blobPath(digest);
    if (!(await exists(file, bytes.length))) {
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    }
    return { mediaType, digest, size: bytes.length, ...extra };
  }

  /** Stores canonical JSON (sorted keys, no whitespace). */
  async putJson(value: unknown, mediaType: string, extra: Partial<Descriptor> = {}): Promise<Descriptor> {
    return this.putBlob(canonicalJsonBytes(value), mediaType, 'sha256', extra);
  }

  /** Streams chunks to disk while hashing them (large layers are never held in memory). */
  async putStream(chunks: Iterable<Buffer>, mediaType: string): Promise<Descriptor> {
    await mkdir(path.join(this.dir, 'blobs', 'sha256'), { recursive: true });
    const tmp = path.join(this.dir, 'blobs', 'sha256', `.upload-${process.pid}-${Date.now()}`);
    const hash = createHash('sha256');
    const out = createWriteStream(tmp, { highWaterMark: 4 * 1024 * 1024 });
    let size = 0;
    for (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const digest = `sha256:${hash.digest('hex')}`;
    await rename(tmp, this.blobPath(digest));
    return { mediaType, digest, size };
  }

  /** Adds a manifest to index.json (several tags of one manifest give several entries). */
  addManifest(descriptor: Descriptor, tag?: string): void {
    this.entries.push({ descriptor, ...(tag !== undefined ? { tag } : {}) });
  }

  async finish(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const manifests = this.entries.map(({ descriptor, tag }) =>
      tag === undefined
        ? descriptor
        : { ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME_ANNOTATION]: tag } },
    );
    await writeFile(path.join(this.dir, 'oci-layout'), canonicalJsonBytes({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      path.join(this.dir, 'index.json'),
      canonicalJsonBytes({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }),
    );
  }
}

async function exists(file: string, size: number): Promise<boolean> {
  try {
    return (await stat(file)).size === size;
  } catch {
    return false;
  }
}

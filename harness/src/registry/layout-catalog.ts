/**
 * What the embedded registry serves: every OCI image layout under a root directory, read once at start. A directory
 * holding an `oci-layout` file is a repository named by its path under the root (`e2e-test-images/busybox`).
 * Tags come from index.json's `org.opencontainers.image.ref.name` annotations (image-spec image-layout.md); the
 * manifests are everything reachable from index.json (indexes are walked), and a blob belongs to a repository when
 * its layout's `blobs/<alg>/<encoded>` holds it (spec "Pulling blobs": "not found in *this repository*" → 404).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isImageIndexJson, isImageManifestJson, type Descriptor, type Platform } from '../oci/descriptor.js';
import { tryParseDigest } from '../oci/digest.js';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** distribution-spec "Pulling manifests" (the name grammar) */
export const NAME_GRAMMAR = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const TAG_GRAMMAR = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export interface CatalogManifest {
  digest: string;
  mediaType: string;
  size: number;
  file: string;
  /** manifest artifactType, else (image manifests) the config media type: the referrers API's rule (spec "Listing Referrers") */
  artifactType?: string;
  subject?: string;
  annotations?: Record<string, string>;
  /** index children with their platforms (Docker list → linux/amd64 rewrite, as distribution does) */
  children?: { digest: string; platform?: Platform }[];
}

export interface CatalogRepo {
  name: string;
  dir: string;
  /** tag → manifest digest */
  tags: Map<string, string>;
  manifests: Map<string, CatalogManifest>;
}

export interface LayoutCatalog {
  root: string;
  repos: Map<string, CatalogRepo>;
  /** layouts that were skipped, with the reason (bad name, unreadable index.json, missing manifests) */
  skipped: { dir: string; reason: string }[];
}

export function blobFilePath(repo: CatalogRepo, digest: string): string | null {
  const d = tryParseDigest(digest);
  if (d === null) return null;
  return path.join(repo.dir, 'blobs', d.algorithm, d.encoded);
}

async function findLayouts(root: string, rel = ''): Promise<string[]> {
  const dir = path.join(root, rel);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  const isLayout = entries.some((e) => e.isFile() && e.name === 'oci-layout');
  if (isLayout) found.push(rel);
  for (const e of entries) {
    // a layout's own blobs/ is content; elsewhere `blobs` is an ordinary name component (`a/blobs/b` is valid)
    if (!e.isDirectory() || (isLayout && e.name === 'blobs') || e.name.startsWith('.')) continue;
    found.push(...(await findLayouts(root, rel === '' ? e.name : `${rel}/${e.name}`)));
  }
  return found;
}

async function loadRepo(name: string, dir: string): Promise<CatalogRepo> {
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as unknown;
  if (!isImageIndexJson(index)) throw new Error('index.json has no manifests[]');
  const repo: CatalogRepo = { name, dir, tags: new Map(), manifests: new Map() };
  const visit = async (d: Descriptor): Promise<void> => {
    if (repo.manifests.has(d.digest)) return;
    const file = blobFilePath(repo, d.digest);
    if (file === null) throw new Error(`bad digest ${d.digest}`);
    const bytes = await readFile(file);
    const json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    const mediaType = typeof json.mediaType === 'string' ? json.mediaType : d.mediaType;
    const m: CatalogManifest = { digest: d.digest, mediaType, size: bytes.length, file };
    if (typeof json.artifactType === 'string') m.artifactType = json.artifactType;
    else if (isImageManifestJson(json) && typeof json.config.mediaType === 'string')
      m.artifactType = json.config.mediaType;
    const subject = json.subject as Descriptor | undefined;
    if (subject !== undefined && typeof subject.digest === 'string') m.subject = subject.digest;
    if (typeof json.annotations === 'object' && json.annotations !== null)
      m.annotations = json.annotations as Record<string, string>;
    repo.manifests.set(d.digest, m);
    if (isImageIndexJson(json)) {
      m.children = json.manifests.map((c) => ({
        digest: c.digest,
        ...(c.platform !== undefined ? { platform: c.platform } : {}),
      }));
      for (const c of json.manifests) await visit(c);
    }
  };
  for (const d of index.manifests) {
    await visit(d);
    const tag = d.annotations?.[REF_NAME_ANNOTATION];
    if (tag !== undefined && TAG_GRAMMAR.test(tag)) repo.tags.set(tag, d.digest);
  }
  return repo;
}

export async function loadLayoutCatalog(root: string): Promise<LayoutCatalog> {
  const abs = path.resolve(root);
  await stat(abs); // a missing root is an error, not an empty registry
  const catalog: LayoutCatalog = { root: abs, repos: new Map(), skipped: [] };
  for (const rel of await findLayouts(abs)) {
    const dir = path.join(abs, rel);
    if (!NAME_GRAMMAR.test(rel)) {
      catalog.skipped.push({
        dir,
        reason: `"${rel}" is not a valid repository name (distribution-spec "Pulling manifests")`,
      });
      continue;
    }
    try {
      catalog.repos.set(rel, await loadRepo(rel, dir));
    } catch (e) {
      catalog.skipped.push({ dir, reason: (e as Error).message });
    }
  }
  return catalog;
}

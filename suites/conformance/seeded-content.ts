/**
 * Pre-seeded content, the read-only stand-in for what the official suites push
 * (docs/reference/oci-distribution.md#g1-pull-checks "pre-seeded mode",
 * docs/reference/oci-distribution.md#g2-pull-path-checks `OCI_RO_DATA_*`). Nothing assumes the built-in fixtures: every
 * image the target lists is fetched once by digest through the redirector, and the checks pick what they need from what
 * is actually there, by `kind` label first and by the manifests' own media types otherwise. A needed kind that is
 * absent makes the check not applicable, with the reason.
 *
 * Unlike the official suites in read-only mode, the sizes and media types here are *known* (read from the
 * manifests), so checks can compare Content-Length and Content-Type, not just statuses.
 */
import {
  isImageIndexJson,
  isImageManifestJson,
  type Descriptor,
  MediaType,
  NotApplicable,
  type OciClient,
  type ImageRef,
  type TargetDescription,
} from '../../harness/src/index.js';

export interface SeededBlob {
  repo: string;
  digest: string;
  size: number;
  mediaType: string;
  /** the image ref it was found under */
  image: string;
}

export interface SeededImage {
  image: ImageRef;
  repo: string;
  tag: string;
  /** the manifest's media type (its `mediaType` field, else the Content-Type it was served with) */
  mediaType: string;
  size: number;
  json: Record<string, unknown>;
  subject?: Descriptor;
  artifactType?: string;
  /** child manifests of an index */
  children: Descriptor[];
  /** configs and layers of the image (of every platform, for an index) */
  blobs: SeededBlob[];
}

/** A manifest whose `subject` is another seeded manifest, as its own bytes say (the ground truth for referrers). */
export interface SeededReferrer {
  repo: string;
  subject: string;
  digest: string;
  mediaType: string;
  size: number;
  /** what a referrers listing must show: the manifest's artifactType, else its config mediaType (spec "Listing Referrers") */
  artifactType?: string;
  /** the image ref that revealed it: the referrer's own tag, or the subject's tag-schema index */
  foundVia: string;
}

export interface SeededContent {
  target: TargetDescription;
  images: SeededImage[];
  referrers: SeededReferrer[];
}

const COSIGN_TAG = /^sha256-[a-f0-9]{64}\.(sig|att|sbom)$/;
/** The referrers tag schema for a sha256 subject (docs/reference/oci-distribution.md#grammar): `sha256-<64 hex>`. */
const REFERRERS_TAG = /^sha256-([a-f0-9]{64})$/;
const RUNNABLE_CONFIGS: readonly string[] = [MediaType.OciConfig, MediaType.DockerConfig];

/** `<repository>:<tag>` → parts (the tag is after the last colon that follows the last slash). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  if (colon <= 0 || ref.lastIndexOf('/') > colon) throw new Error(`image ref "${ref}" is not <repository>:<tag>`);
  return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

function hasKind(image: ImageRef, ...kinds: string[]): boolean {
  return (image.kind ?? []).some((k) => kinds.includes(k));
}

type ManifestCache = Map<string, Promise<Awaited<ReturnType<OciClient['getManifest']>>>>;

function fetchManifest(client: OciClient, cache: ManifestCache, repo: string, digest: string) {
  const key = `${repo}@${digest}`;
  let p = cache.get(key);
  if (p === undefined) {
    p = client.getManifest(repo, digest);
    cache.set(key, p);
  }
  return p;
}

async function describe(client: OciClient, cache: ManifestCache, image: ImageRef): Promise<SeededImage> {
  const { repo, tag } = splitRef(image.ref);
  const m = await fetchManifest(client, cache, repo, image.digest);
  const json = m.json;
  const mediaType = (typeof json.mediaType === 'string' ? json.mediaType : m.mediaType) ?? 'application/octet-stream';
  const seeded: SeededImage = { image, repo, tag, mediaType, size: m.size, json, children: [], blobs: [] };
  const subject = json.subject as Descriptor | undefined;
  if (subject !== undefined && typeof subject.digest === 'string') seeded.subject = subject;
  if (typeof json.artifactType === 'string') seeded.artifactType = json.artifactType;
  const addBlobs = (manifest: Record<string, unknown>) => {
    if (!isImageManifestJson(manifest)) return;
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!seeded.blobs.some((b) => b.digest === d.digest)) {
        seeded.blobs.push({ repo, digest: d.digest, size: d.size, mediaType: d.mediaType, image: image.ref });
      }
    }
  };
  if (isImageIndexJson(json)) {
    seeded.children = json.manifests;
    for (const child of json.manifests) {
      const c = await fetchManifest(client, cache, repo, child.digest);
      if (isImageIndexJson(c.json)) continue; // nested indexes: their blobs are not needed for conformance
      addBlobs(c.json);
    }
  } else {
    addBlobs(json);
  }
  return seeded;
}

function referrerOf(
  s: { repo: string; json: Record<string, unknown>; mediaType: string; size: number },
  digest: string,
  foundVia: string,
): SeededReferrer | null {
  const subject = (s.json.subject as Descriptor | undefined)?.digest;
  if (typeof subject !== 'string') return null;
  const artifactType =
    typeof s.json.artifactType === 'string'
      ? s.json.artifactType
      : (s.json.config as Descriptor | undefined)?.mediaType;
  return {
    repo: s.repo,
    subject,
    digest,
    mediaType: s.mediaType,
    size: s.size,
    ...(artifactType !== undefined ? { artifactType } : {}),
    foundVia,
  };
}

/**
 * Fetches every listed image by digest (sequentially: two shared cores; each digest once). Referrers are found
 * from their own tags and from the subjects' tag-schema indexes (referrers are usually untagged), each confirmed by
 * reading the referrer manifest's `subject`.
 */
export async function discoverSeededContent(target: TargetDescription, client: OciClient): Promise<SeededContent> {
  const cache: ManifestCache = new Map();
  const images: SeededImage[] = [];
  for (const image of target.images) images.push(await describe(client, cache, image));
  const referrers: SeededReferrer[] = [];
  const add = (r: SeededReferrer | null) => {
    if (r !== null && !referrers.some((x) => x.repo === r.repo && x.digest === r.digest)) referrers.push(r);
  };
  for (const s of images) add(referrerOf(s, s.image.digest, s.image.ref));
  for (const s of images) {
    if (!(hasKind(s.image, 'referrers-fallback-tag') || REFERRERS_TAG.test(s.tag)) || !isImageIndexJson(s.json))
      continue;
    for (const child of s.children) {
      const m = await fetchManifest(client, cache, s.repo, child.digest);
      const mediaType = (typeof m.json.mediaType === 'string' ? m.json.mediaType : m.mediaType) ?? child.mediaType;
      add(referrerOf({ repo: s.repo, json: m.json, mediaType, size: m.size }, child.digest, s.image.ref));
    }
  }
  return { target, images, referrers };
}

export function noImages(content: SeededContent): NotApplicable {
  return new NotApplicable(`target "${content.target.name}" lists no images`);
}

/** A runnable image's manifest (not an artifact, no subject, not a signature, not a tag-schema index). */
function isPlainImage(s: SeededImage): boolean {
  if (
    s.subject !== undefined ||
    s.artifactType !== undefined ||
    hasKind(s.image, 'signature', 'referrer', 'referrers-fallback-tag') ||
    COSIGN_TAG.test(s.tag) ||
    REFERRERS_TAG.test(s.tag)
  ) {
    return false;
  }
  const config = (s.json.config as Descriptor | undefined)?.mediaType;
  return config === undefined || RUNNABLE_CONFIGS.includes(config);
}

/**
 * The tag + OCI image manifest the official suites' pull workflow needs (`OCI_TAG_NAME` pointing at
 * `OCI_MANIFEST_DIGEST`, docs/reference/oci-distribution.md#g1-pull-checks). Prefers images labelled as single-platform
 * OCI manifests.
 */
export function ociImageManifest(content: SeededContent): SeededImage {
  const score = (s: SeededImage) =>
    (hasKind(s.image, 'conformance') ? 4 : 0) +
    (hasKind(s.image, 'oci-manifest') ? 2 : 0) +
    (hasKind(s.image, 'single-platform') ? 1 : 0);
  const candidates = content.images.filter((s) => s.mediaType === MediaType.OciManifest && isPlainImage(s));
  // best label first; among equals the smallest image (a large-layer image is no use for header checks)
  const chosen = [...candidates].sort((a, b) => score(b) - score(a) || totalSize(a) - totalSize(b))[0];
  if (chosen === undefined) {
    throw new NotApplicable(
      `target "${content.target.name}" lists no tag pointing at a plain OCI image manifest (${MediaType.OciManifest})`,
    );
  }
  return chosen;
}

function totalSize(s: SeededImage): number {
  return s.blobs.reduce((n, b) => n + b.size, 0);
}

/** The config blob of the OCI image manifest (G1 uses `configs[0]` as the existing blob). */
export function configBlob(content: SeededContent): SeededBlob {
  const image = ociImageManifest(content);
  const config = image.json.config as Descriptor;
  return image.blobs.find((b) => b.digest === config.digest)!;
}

/** Every distinct (repo, blob). */
export function allBlobs(content: SeededContent): SeededBlob[] {
  const seen = new Set<string>();
  const out: SeededBlob[] = [];
  for (const s of content.images) {
    for (const b of s.blobs) {
      const key = `${b.repo}@${b.digest}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(b);
      }
    }
  }
  return out;
}

/**
 * Blobs of at least `min` bytes, smallest first (G2's range vectors use a 2048-byte blob; a bigger one works with
 * offsets computed from its size, a smaller one cannot exercise them).
 */
export function blobsAtLeast(content: SeededContent, min: number): SeededBlob[] {
  return allBlobs(content)
    .filter((b) => b.size >= min && /^sha(256|512):/.test(b.digest))
    .sort((a, b) => a.size - b.size);
}

/** The repository with the most listed tags (tag-list pagination needs at least two). */
export function mostTaggedRepo(content: SeededContent): { repo: string; tags: string[] } {
  const byRepo = new Map<string, string[]>();
  for (const s of content.images) byRepo.set(s.repo, [...(byRepo.get(s.repo) ?? []), s.tag]);
  const best = [...byRepo.entries()].sort((a, b) => b[1].length - a[1].length)[0];
  if (best === undefined) throw noImages(content);
  return { repo: best[0], tags: best[1] };
}

/** The seeded referrers, or not applicable when there are none. */
export function seededReferrers(content: SeededContent): SeededReferrer[] {
  if (content.referrers.length === 0) {
    throw new NotApplicable(
      `target "${content.target.name}" seeds no referrer (no tagged manifest with a subject and no sha256-<hex> tag-schema index listing one)`,
    );
  }
  return content.referrers;
}

/** Cosign-style signature tags (`sha256-<hex>.sig`), by label or tag shape. */
export function signatureImages(content: SeededContent): SeededImage[] {
  return content.images.filter((s) => hasKind(s.image, 'signature') || COSIGN_TAG.test(s.tag));
}

/**
 * Manifest and blob media types on the pull path (image-spec media-types.md; docs/reference/oci-distribution.md#manifests)
 * and the Accept lists the client sends. Go clients and the reference registry parse every Accept line split on ",";
 * one comma-joined line is what crane sends and what distribution reads (docs/reference/oci-distribution.md#manifests).
 */
export const MediaType = {
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  /** the withdrawn OCI 1.1-rc artifact manifest; still sent in Accept lists so registries that kept it can answer */
  OciArtifactManifest: 'application/vnd.oci.artifact.manifest.v1+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** schema1 is not generated or pulled; listed so a registry answering with it is recognised and reported */
  DockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** Types that list other manifests (walked by pullImage). */
export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];
/** Types that reference a config and layers. */
export const IMAGE_MANIFEST_MEDIA_TYPES: readonly string[] = [MediaType.OciManifest, MediaType.DockerManifest];

/** Everything the client can pull, most specific first. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
  MediaType.OciArtifactManifest,
];

export function acceptHeader(types: readonly string[] = MANIFEST_ACCEPT): string {
  return types.join(', ');
}

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && INDEX_MEDIA_TYPES.includes(mediaType);
}

export function isImageManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && IMAGE_MANIFEST_MEDIA_TYPES.includes(mediaType);
}

/** `type/subtype` of a Content-Type value, lower-cased, parameters dropped (the spec says registries SHOULD NOT add any). */
export function essenceOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  return essence === '' ? undefined : essence;
}

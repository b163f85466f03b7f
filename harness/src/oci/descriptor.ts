/**
 * The JSON shapes the client reads and the generator writes (image-spec descriptor.md, manifest.md,
 * image-index.md; the Docker schema2 types share them field for field).
 */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
  data?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** `os/architecture[/variant]`, the form `--platform` flags use. */
export function platformString(p: Platform | undefined): string | undefined {
  if (p === undefined) return undefined;
  return [p.os, p.architecture, p.variant].filter((s) => s !== undefined && s !== '').join('/');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A structurally valid descriptor (the fields a pull depends on), or a reason it is not. */
export function descriptorProblem(v: unknown): string | null {
  if (!isObject(v)) return 'descriptor is not an object';
  if (typeof v.mediaType !== 'string') return 'descriptor.mediaType is not a string';
  if (typeof v.digest !== 'string') return 'descriptor.digest is not a string';
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0)
    return 'descriptor.size is not a non-negative integer';
  return null;
}

export function isImageIndexJson(v: unknown): v is ImageIndex {
  return isObject(v) && Array.isArray(v.manifests);
}

export function isImageManifestJson(v: unknown): v is ImageManifest {
  return isObject(v) && isObject(v.config) && Array.isArray(v.layers);
}

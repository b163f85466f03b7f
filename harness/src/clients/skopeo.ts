/**
 * skopeo as a real client: `skopeo inspect --raw` and `skopeo copy` from a vantage's edge.
 *
 * skopeo (containers/image) GETs `/v2/`, then the manifest by tag, then each blob, following the redirector's 307s
 * and verifying every blob digest itself. It tries TLS first even with `--tls-verify=false` and falls back to plain
 * HTTP. `--insecure-policy` because the signature policy is not what is under test; `--preserve-digests` so that a
 * copy that would have to rewrite a manifest (e.g. a Docker manifest list into an OCI layout) fails loudly rather
 * than reporting a different digest.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClientReference } from './client-reference.js';
import { runTool, type ToolRun, type ToolRunOptions } from './external-tool.js';

export interface SkopeoInspection {
  run: ToolRun;
  /** sha256 of the raw manifest bytes skopeo printed, or null when the command failed */
  digest: string | null;
  mediaType: string | null;
}

export interface SkopeoCopy {
  run: ToolRun;
  /** digest of the top-level manifest or index skopeo wrote into the OCI layout, or null when it failed */
  digest: string | null;
  /** whether that manifest's bytes in the layout hash to the digest index.json gives for them */
  layoutConsistent: boolean;
}

function tlsFlag(ref: ClientReference, name: '--tls-verify' | '--src-tls-verify'): string[] {
  return ref.plainHttp ? [`${name}=false`] : [];
}

export async function skopeoInspectRaw(
  bin: string,
  ref: ClientReference,
  opts: ToolRunOptions = {},
): Promise<SkopeoInspection> {
  const run = await runTool(
    bin,
    ['--insecure-policy', 'inspect', '--raw', ...tlsFlag(ref, '--tls-verify'), `docker://${ref.text}`],
    opts,
  );
  if (run.exitCode !== 0) return { run, digest: null, mediaType: null };
  // `inspect --raw` writes the manifest bytes as received (no trailing newline), so its hash is the digest.
  const raw = Buffer.from(run.stdout, 'utf8');
  let mediaType: string | null = null;
  try {
    const parsed = JSON.parse(run.stdout) as { mediaType?: unknown };
    mediaType = typeof parsed.mediaType === 'string' ? parsed.mediaType : null;
  } catch {
    mediaType = null;
  }
  return { run, digest: `sha256:${createHash('sha256').update(raw).digest('hex')}`, mediaType };
}

interface OciLayoutIndex {
  manifests?: { digest?: string; annotations?: Record<string, string> }[];
}

/**
 * Copies every platform of `ref` into an OCI layout at `layoutDir` (which must not be shared), tagged `tag`, and
 * reads back the digest the layout records for that tag.
 */
export async function skopeoCopyToOciLayout(
  bin: string,
  ref: ClientReference,
  layoutDir: string,
  opts: ToolRunOptions & { tag?: string } = {},
): Promise<SkopeoCopy> {
  const tag = opts.tag ?? 'pulled';
  const run = await copyAll(bin, ref, `oci:${layoutDir}:${tag}`, opts);
  if (run.exitCode !== 0) return { run, digest: null, layoutConsistent: false };
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as OciLayoutIndex;
  const entry = index.manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  const digest = entry?.digest ?? null;
  let layoutConsistent = false;
  if (digest) {
    const [algorithm, encoded] = digest.split(':');
    try {
      const bytes = await readFile(join(layoutDir, 'blobs', algorithm, encoded));
      layoutConsistent = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` === digest;
    } catch {
      layoutConsistent = false;
    }
  }
  return { run, digest, layoutConsistent };
}

/** `skopeo copy --all --preserve-digests` of `ref` to `destination`, without retries (a retry would hide a fault). */
function copyAll(bin: string, ref: ClientReference, destination: string, opts: ToolRunOptions) {
  return runTool(
    bin,
    [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--all',
      '--preserve-digests',
      '--retry-times=0',
      ...tlsFlag(ref, '--src-tls-verify'),
      `docker://${ref.text}`,
      destination,
    ],
    opts,
  );
}

/**
 * Copies every platform of `ref` into a `dir:` layout, which stores manifests byte for byte whatever their type
 * (an OCI layout cannot hold a Docker manifest list without rewriting it). The top-level manifest is `manifest.json`.
 */
export async function skopeoCopyToDirLayout(
  bin: string,
  ref: ClientReference,
  dir: string,
  opts: ToolRunOptions = {},
): Promise<SkopeoCopy> {
  const run = await copyAll(bin, ref, `dir:${dir}`, opts);
  if (run.exitCode !== 0) return { run, digest: null, layoutConsistent: false };
  const bytes = await readFile(join(dir, 'manifest.json'));
  // The dir: layout names no digest for the top level; the manifest bytes are the digest's only witness.
  return { run, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, layoutConsistent: true };
}

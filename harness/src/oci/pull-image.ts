/**
 * A full pull, the way a container runtime does it (docs/reference/oci-distribution.md#clients-through-redirects): the
 * reference's manifest, then for an index every platform manifest it lists (nested indexes too), then every config and
 * layer blob. Every body is verified against its descriptor's digest and size while it streams; nothing large is
 * buffered.
 *
 * The result keeps each blob's hop trace, so the integrity suite can assert the FIRST hop of every blob against the
 * routing oracle: a pull that succeeds by the wrong route is still a failure.
 */
import type { Writable } from 'node:stream';
import pLimit from 'p-limit';
import {
  descriptorProblem,
  isImageIndexJson,
  isImageManifestJson,
  platformString,
  type Descriptor,
  type Platform,
} from './descriptor.js';
import type { OciHop } from './hop.js';
import { isImageManifestMediaType, isIndexMediaType } from './media-types.js';
import type { OciClient, ManifestResult } from './oci-client.js';
import { OciError } from './oci-error.js';

export interface BlobPullContext {
  repo: string;
  descriptor: Descriptor;
  kind: 'config' | 'layer';
  platform?: string;
  manifest: string;
}

export interface PullOptions {
  /** what the reference must resolve to (e.g. from the target's image list) */
  expected?: { digest?: string; size?: number };
  /** platforms (`os/arch[/variant]`) to pull from an index, or a predicate; default all */
  platforms?: string[] | ((platform: Platform | undefined, descriptor: Descriptor) => boolean);
  /** blobs in flight at once; default 4 */
  concurrency?: number;
  /** where a blob's verified bytes go; default discarded */
  sink?: (blob: BlobPullContext) => Writable | undefined;
  /** stop at the first failure (default), or pull everything and report each failure */
  failFast?: boolean;
  /**
   * require the manifest's final-hop Content-Type to equal its body `mediaType` and the parent descriptor's
   * (containerd and ggcr take the type from Content-Type;
   * docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 1). Default true.
   */
  strictContentType?: boolean;
  accept?: readonly string[];
  headers?: Record<string, string>;
  /** nesting allowed for index → index; default 4 */
  maxDepth?: number;
}

export interface PulledManifest {
  digest: string;
  size: number;
  mediaType: string;
  contentType?: string;
  platform?: string;
  /** digest of the index that listed it (absent for the root) */
  parent?: string;
  hops: OciHop[];
}

export interface PulledBlob {
  digest: string;
  size: number;
  mediaType: string;
  kind: 'config' | 'layer';
  platform?: string;
  /** manifests that reference this blob (it is fetched once) */
  manifests: string[];
  hops: OciHop[];
  durationMs: number;
  ok: boolean;
  error?: OciError;
}

export interface PullResult {
  repo: string;
  reference: string;
  digest: string;
  mediaType: string;
  manifests: PulledManifest[];
  blobs: PulledBlob[];
  /** blob bytes verified */
  bytes: number;
  durationMs: number;
  errors: OciError[];
  ok: boolean;
}

function platformFilter(opt: PullOptions['platforms']): (p: Platform | undefined, d: Descriptor) => boolean {
  if (opt === undefined) return () => true;
  if (typeof opt === 'function') return opt;
  const wanted = new Set(opt);
  return (p) => {
    const s = platformString(p);
    return s !== undefined && wanted.has(s);
  };
}

export async function pullImage(
  client: OciClient,
  repo: string,
  reference: string,
  opts: PullOptions = {},
): Promise<PullResult> {
  const started = performance.now();
  const failFast = opts.failFast ?? true;
  const strict = opts.strictContentType ?? true;
  const maxDepth = opts.maxDepth ?? 4;
  const wantPlatform = platformFilter(opts.platforms);
  const manifests: PulledManifest[] = [];
  const blobs = new Map<string, PulledBlob & { descriptor: Descriptor }>();
  const errors: OciError[] = [];

  const fail = (e: unknown): void => {
    const err = e instanceof OciError ? e : new OciError('BAD_RESPONSE', String(e), { cause: e });
    if (failFast) throw err;
    errors.push(err);
  };

  const checkManifest = (m: ManifestResult, ref: string, parent?: Descriptor): string => {
    const bodyType = m.bodyMediaType;
    const descType = parent?.mediaType;
    const mediaType = bodyType ?? descType ?? m.mediaType;
    if (mediaType === undefined)
      throw new OciError('BAD_MANIFEST', `${repo}@${ref}: no mediaType in body, descriptor or Content-Type`, {
        hops: m.hops,
      });
    if (strict) {
      if (m.mediaType !== mediaType) {
        throw new OciError(
          'BAD_MANIFEST',
          `${repo}@${ref}: Content-Type ${JSON.stringify(m.contentType)} but the manifest is ${mediaType}`,
          {
            hops: m.hops,
            details: { contentType: m.contentType, mediaType },
          },
        );
      }
      if (descType !== undefined && bodyType !== undefined && descType !== bodyType) {
        throw new OciError('BAD_MANIFEST', `${repo}@${ref}: descriptor says ${descType}, body says ${bodyType}`, {
          hops: m.hops,
        });
      }
    }
    return mediaType;
  };

  const addBlobs = (m: ManifestResult, platform: string | undefined): void => {
    if (!isImageManifestJson(m.json))
      throw new OciError('BAD_MANIFEST', `${repo}@${m.digest} has no config/layers`, { hops: m.hops });
    const entries: [Descriptor, 'config' | 'layer'][] = [
      [m.json.config, 'config'],
      ...m.json.layers.map((l): [Descriptor, 'layer'] => [l, 'layer']),
    ];
    for (const [d, kind] of entries) {
      const problem = descriptorProblem(d);
      if (problem !== null)
        throw new OciError('BAD_MANIFEST', `${repo}@${m.digest}: ${kind} ${problem}`, { hops: m.hops });
      const known = blobs.get(d.digest);
      if (known !== undefined) {
        if (!known.manifests.includes(m.digest)) known.manifests.push(m.digest);
        continue;
      }
      blobs.set(d.digest, {
        descriptor: d,
        digest: d.digest,
        size: d.size,
        mediaType: d.mediaType,
        kind,
        ...(platform !== undefined ? { platform } : {}),
        manifests: [m.digest],
        hops: [],
        durationMs: 0,
        ok: false,
      });
    }
  };

  const visit = async (
    ref: string,
    parent: Descriptor | undefined,
    parentDigest: string | undefined,
    depth: number,
  ): Promise<ManifestResult | undefined> => {
    let m: ManifestResult;
    try {
      m = await client.getManifest(repo, ref, {
        ...(opts.accept ? { accept: opts.accept } : {}),
        ...(opts.headers ? { headers: opts.headers } : {}),
        ...(parent !== undefined
          ? { expected: { size: parent.size } }
          : opts.expected
            ? { expected: opts.expected }
            : {}),
      });
    } catch (e) {
      fail(e);
      return undefined;
    }
    let mediaType: string;
    try {
      mediaType = checkManifest(m, ref, parent);
    } catch (e) {
      fail(e);
      return undefined;
    }
    const platform = platformString(parent?.platform);
    manifests.push({
      digest: m.digest,
      size: m.size,
      mediaType,
      ...(m.contentType !== undefined ? { contentType: m.contentType } : {}),
      ...(platform !== undefined ? { platform } : {}),
      ...(parentDigest !== undefined ? { parent: parentDigest } : {}),
      hops: m.hops,
    });
    try {
      if (isIndexMediaType(mediaType) || (!isImageManifestMediaType(mediaType) && isImageIndexJson(m.json))) {
        if (!isImageIndexJson(m.json))
          throw new OciError('BAD_MANIFEST', `${repo}@${m.digest}: index without manifests[]`, { hops: m.hops });
        if (depth >= maxDepth)
          throw new OciError('BAD_MANIFEST', `${repo}@${m.digest}: indexes nested deeper than ${maxDepth}`, {
            hops: m.hops,
          });
        for (const child of m.json.manifests) {
          const problem = descriptorProblem(child);
          if (problem !== null) throw new OciError('BAD_MANIFEST', `${repo}@${m.digest}: ${problem}`, { hops: m.hops });
          if (!wantPlatform(child.platform, child)) continue;
          await visit(child.digest, child, m.digest, depth + 1);
        }
      } else {
        addBlobs(m, platform);
      }
    } catch (e) {
      fail(e);
    }
    return m;
  };

  const root = await visit(reference, undefined, undefined, 0);
  if (root === undefined) {
    // failFast=false and the root failed: nothing else to walk
    return {
      repo,
      reference,
      digest: opts.expected?.digest ?? '',
      mediaType: '',
      manifests,
      blobs: [],
      bytes: 0,
      durationMs: performance.now() - started,
      errors,
      ok: false,
    };
  }

  const limit = pLimit(opts.concurrency ?? 4);
  const abort = { failed: undefined as OciError | undefined };
  await Promise.all(
    [...blobs.values()].map((b) =>
      limit(async () => {
        if (abort.failed !== undefined) return;
        const t0 = performance.now();
        const sink = opts.sink?.({
          repo,
          descriptor: b.descriptor,
          kind: b.kind,
          ...(b.platform !== undefined ? { platform: b.platform } : {}),
          manifest: b.manifests[0]!,
        });
        try {
          const r = await client.getBlob(repo, b.digest, {
            expectedSize: b.size,
            ...(sink ? { sink } : {}),
            ...(opts.headers ? { headers: opts.headers } : {}),
          });
          b.hops = r.hops;
          b.ok = true;
        } catch (e) {
          const err = e instanceof OciError ? e : new OciError('BAD_RESPONSE', String(e), { cause: e });
          b.hops = err.hops;
          b.error = err;
          if (failFast) abort.failed ??= err;
          else errors.push(err);
        } finally {
          b.durationMs = performance.now() - t0;
        }
      }),
    ),
  );
  if (abort.failed !== undefined) throw abort.failed;

  const pulled = [...blobs.values()].map(({ descriptor: _d, ...b }) => b);
  return {
    repo,
    reference,
    digest: root.digest,
    mediaType: manifests[0]!.mediaType,
    manifests,
    blobs: pulled,
    bytes: pulled.filter((b) => b.ok).reduce((n, b) => n + b.size, 0),
    durationMs: performance.now() - started,
    errors,
    ok: errors.length === 0,
  };
}

/**
 * Extra content beyond the built-in fixtures ("seeding extra content must be possible with
 * standard tools ... nothing assumes that only the built-in fixtures exist"; docs/local-stack.md "Seeding extra
 * content").
 *
 * Content is seeded with standard tools: `skopeo copy` into the description's `upstream`, S3 PutObject into the
 * buckets at `containers/images/<digest>`. What has to change afterwards is the description, because the suites read
 * only it: the image goes into `images`, and every blob put into a bucket goes into the mirror plan under that
 * bucket's base, since the plan is ground truth for the mirror suite (a blob a bucket holds that the plan leaves out
 * is a stale plan, a harness error) and for the routing oracle (a bucket hit the plan does not know is a route the
 * oracle calls wrong). `withExtraContent` makes exactly that change, without touching anything else.
 */
import { loadMirrorPlan } from '../oracle/routing-oracle.js';
import {
  parseTargetDescription,
  TargetDescriptionError,
  type ImageRef,
  type MirrorPlan,
  type TargetDescription,
} from '../target/target-description.js';

/** The bucket key of the default base, as in mirror plans and `StartedStack.buckets`. */
const DEFAULT_KEY = 'default';
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

const trimSlash = (s: string) => s.replace(/\/+$/, '');

export interface ResolvedBucket {
  /** the base URL exactly as the bucket map spells it (what mirror plans are keyed by) */
  base: string;
  /** the S3 bucket name: the first path segment of a path-style base, else the first label of its host */
  name: string;
  /** the bucket-map entries that use this base: `default` and/or AWS regions */
  keys: string[];
}

function nameOf(base: string): string {
  const u = new URL(base);
  const segment = u.pathname.split('/').find((s) => s !== '');
  return segment ?? u.hostname.split('.')[0]!;
}

/** Every distinct bucket base of the description's bucket map, with its name and the keys that use it. */
export function bucketsOf(target: TargetDescription): ResolvedBucket[] {
  const byBase = new Map<string, ResolvedBucket>();
  const add = (base: string, key: string) => {
    const k = trimSlash(base);
    let entry = byBase.get(k);
    if (!entry) {
      entry = { base, name: nameOf(base), keys: [] };
      byBase.set(k, entry);
    }
    entry.keys.push(key);
  };
  add(target.bucketMap.default, DEFAULT_KEY);
  for (const [region, base] of Object.entries(target.bucketMap.regions)) add(base, region);
  return [...byBase.values()];
}

/**
 * A bucket of the description, named any of the ways a user would: `default`, an AWS region of the bucket map
 * (`cn-north-1` gives ap-east-1's bucket, as the redirector would), a bucket name (`prod-registry-k8s-io-us-east-1`)
 * or a base URL. Throws TargetDescriptionError listing what exists when nothing matches.
 */
export function resolveBucket(target: TargetDescription, bucket: string): ResolvedBucket {
  const all = bucketsOf(target);
  const found =
    all.find((b) => b.keys.includes(bucket)) ??
    all.find((b) => b.name === bucket) ??
    all.find((b) => trimSlash(b.base) === trimSlash(bucket));
  if (!found) {
    const names = all.map((b) => b.name).sort();
    throw new TargetDescriptionError(
      `"${bucket}" is no bucket of target "${target.name}": use "default", a region of its bucket map, or one of ${names.join(', ')}`,
    );
  }
  return found;
}

export interface ExtraContent {
  /**
   * images to list (refs as seen through the redirector, `<repository>:<tag>`). An image whose ref the description
   * already lists replaces that entry: the tag now points at the new digest.
   */
  images?: readonly ImageRef[];
  /**
   * bucket → the blob digests now in it (configs and layers; manifests never go to buckets). A bucket is named as
   * `resolveBucket` accepts. Added to the mirror plan under the bucket's base; a target whose mirror plan is null
   * learns presence by HEAD, so nothing is added for it.
   */
  buckets?: Readonly<Record<string, readonly string[]>>;
}

export interface ExtraContentOptions {
  /** directory a relative `mirrorPlan` path is resolved against (default: the working directory) */
  baseDir?: string;
}

/**
 * A copy of the description with extra images listed and extra blobs added to the mirror plan. A plan given as a
 * file path is read and inlined (the file is left alone). The result is validated with parseTargetDescription.
 */
export function withExtraContent(
  target: TargetDescription,
  extra: ExtraContent,
  options: ExtraContentOptions = {},
): TargetDescription {
  const out = structuredClone(target) as TargetDescription;
  for (const [i, image] of (extra.images ?? []).entries()) {
    if (
      typeof image.ref !== 'string' ||
      !image.ref.includes(':') ||
      image.ref.lastIndexOf('/') > image.ref.lastIndexOf(':')
    ) {
      throw new TargetDescriptionError(
        `extra images[${i}].ref must be "<repository>:<tag>", not ${JSON.stringify(image.ref)}`,
      );
    }
    if (typeof image.digest !== 'string' || !DIGEST.test(image.digest))
      throw new TargetDescriptionError(
        `extra images[${i}].digest must be an OCI digest, not ${JSON.stringify(image.digest)}`,
      );
    const entry: ImageRef = { ref: image.ref, digest: image.digest, ...(image.kind ? { kind: [...image.kind] } : {}) };
    const at = out.images.findIndex((x) => x.ref === image.ref);
    if (at >= 0) out.images[at] = entry;
    else out.images.push(entry);
  }
  const additions = Object.entries(extra.buckets ?? {});
  if (additions.length > 0 && out.mirrorPlan !== null) {
    const plan: MirrorPlan = structuredClone(loadMirrorPlan(out.mirrorPlan, options.baseDir)!);
    for (const [bucket, digests] of additions) {
      const bad = digests.find((d) => typeof d !== 'string' || !DIGEST.test(d));
      if (bad !== undefined)
        throw new TargetDescriptionError(`extra buckets["${bucket}"]: ${JSON.stringify(bad)} is not an OCI digest`);
      const { base } = resolveBucket(out, bucket);
      const key = Object.keys(plan.buckets).find((b) => trimSlash(b) === trimSlash(base)) ?? base;
      plan.buckets[key] = [...new Set([...(plan.buckets[key] ?? []), ...digests])].sort();
    }
    out.mirrorPlan = plan;
  }
  return parseTargetDescription(out, `${target.name} with extra content`);
}

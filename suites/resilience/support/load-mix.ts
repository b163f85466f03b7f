/**
 * The mixed load of the load and shutdown checks: what pullers from every vantage send (manifests by tag and by
 * digest, blobs their bucket holds and blobs it lacks, tag lists, the /v2/ ping), each request with the exact answer
 * it must get, so the load generator can judge every response and not only count statuses.
 *
 * Expected answers follow docs/request-handling.md and the mirror plan (ground truth for bucket contents); they are
 * written here independently of the redirector's code.
 */
import type { BucketMap, TargetDescription, Vantage } from '../../../harness/src/index.js';
import { fakeBucketHolds } from './fake-bucket.js';
import { bucketBaseOf, digestsIn, repoOf, xffFor } from './world.js';

export interface MixRequest {
  kind: 'manifest-tag' | 'manifest-digest' | 'blob-in-bucket' | 'blob-absent' | 'tag-list' | 'ping' | 'blob-distinct';
  path: string;
  xff: string;
  status: number;
  /** the exact Location, or null for a non-redirect */
  location: string | null;
}

/** Blob requests of a vantage are checked against the base its region maps to in `bucketMap`. */
function baseIn(target: TargetDescription, bucketMap: BucketMap, v: Vantage): string | null {
  const worldBase = bucketBaseOf(target, v);
  if (worldBase === null) return null;
  if (v.cloud === 'AWS' && v.region !== null && bucketMap.regions[v.region] !== undefined)
    return bucketMap.regions[v.region]!;
  return bucketMap.default;
}

/**
 * Every request kind from every vantage, weighted: per vantage 4 manifest-by-tag, 2 manifest-by-digest, 4 blobs
 * in the bucket, 1 blob the bucket lacks, 1 tag list, 1 ping. Vantages whose blob base is not a world bucket (the
 * fake bucket) get no fixed blob requests: their blobs are the distinct-digest stream.
 */
export function mixFor(target: TargetDescription, bucketMap: BucketMap): MixRequest[] {
  const out: MixRequest[] = [];
  const images = target.images.filter((i) => !i.kind?.some((k) => k === 'signature' || k === 'referrer'));
  const up = (path: string) => `${target.upstream}${path}`;
  const allDigests = [
    ...new Set(
      Object.values(
        typeof target.mirrorPlan === 'object' && target.mirrorPlan !== null ? target.mirrorPlan.buckets : {},
      ).flat(),
    ),
  ];
  target.vantages.forEach((v, n) => {
    const xff = xffFor(target, v);
    const img = images[n % images.length]!;
    const repo = repoOf(img.ref);
    const tag = img.ref.slice(repo.length + 1);
    for (let i = 0; i < 4; i++)
      out.push({
        kind: 'manifest-tag',
        path: `/v2/${repo}/manifests/${tag}`,
        xff,
        status: 307,
        location: up(`/v2/${repo}/manifests/${tag}`),
      });
    for (let i = 0; i < 2; i++)
      out.push({
        kind: 'manifest-digest',
        path: `/v2/${repo}/manifests/${img.digest}`,
        xff,
        status: 307,
        location: up(`/v2/${repo}/manifests/${img.digest}`),
      });
    out.push({
      kind: 'tag-list',
      path: `/v2/${repo}/tags/list?n=2`,
      xff,
      status: 307,
      location: up(`/v2/${repo}/tags/list?n=2`),
    });
    out.push({ kind: 'ping', path: '/v2/', xff, status: 200, location: null });
    const base = baseIn(target, bucketMap, v);
    const worldBase = bucketBaseOf(target, v);
    if (base !== null && base !== worldBase && base !== bucketMap.default) return; // a stand-in bucket: distinct stream only
    const held = worldBase === null ? [] : digestsIn(target, worldBase);
    const blobUrl = (d: string) => `/v2/${repo}/blobs/${d}`;
    const present = held.length > 0 ? held : allDigests;
    for (let i = 0; i < 4; i++) {
      const d = present[(n + i * 5) % present.length]!;
      out.push({
        kind: 'blob-in-bucket',
        path: blobUrl(d),
        xff,
        status: 307,
        location: base === null || held.length === 0 ? up(blobUrl(d)) : `${base}/containers/images/${d}`,
      });
    }
    const lacking = allDigests.filter((d) => !held.includes(d));
    if (lacking.length > 0 && base !== null) {
      const d = lacking[n % lacking.length]!;
      out.push({ kind: 'blob-absent', path: blobUrl(d), xff, status: 307, location: up(blobUrl(d)) });
    }
  });
  return shuffle(out, 0x5eed);
}

/** A blob request for the n-th distinct digest from `v`, whose base is the fake bucket. */
export function distinctBlob(target: TargetDescription, v: Vantage, fakeBase: string, n: number): MixRequest {
  // the counter goes at the end: the fake bucket decides presence by the last hex digit
  const d = `sha256:${'d'.repeat(48)}${n.toString(16).padStart(16, '0')}`;
  const path = `/v2/pause/blobs/${d}`;
  return {
    kind: 'blob-distinct',
    path,
    xff: xffFor(target, v),
    status: 307,
    location: fakeBucketHolds(d) ? `${fakeBase}/containers/images/${d}` : `${target.upstream}${path}`,
  };
}

/** Deterministic Fisher-Yates (mulberry32), so a run's mix is reproducible. */
function shuffle<T>(items: T[], seed: number): T[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

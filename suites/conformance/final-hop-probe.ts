/**
 * The same blob seen through several routes ends on different final hops: a bucket (object storage) or the
 * upstream registry. Checks whose answer depends on the final hop (Range, HEAD/GET parity, Docker-Content-Digest)
 * judge each distinct final origin once, and say which one failed.
 */
import type { OciHop, OciClient, Hop } from '../../harness/src/index.js';
import { conformanceFailure } from './conformance-expect.js';
import type { ConformanceRoute } from './conformance-routes.js';
import type { SeededBlob } from './seeded-content.js';

export interface FinalHopTarget {
  route: ConformanceRoute;
  client: OciClient;
  /** origin of the final hop a HEAD of the blob ended on */
  finalOrigin: string;
  /** the final hop is a registry (`/v2/...`), not object storage */
  registry: boolean;
  label: string;
}

/** Whether a hop's URL is a registry API path (as opposed to a bucket object or any other storage URL). */
export function isRegistryHop(hop: Hop): boolean {
  try {
    return new URL(hop.url).pathname.startsWith('/v2/');
  } catch {
    return false;
  }
}

/**
 * One entry per distinct final-hop origin of `blob` across `routes` (the first route to reach an origin wins).
 * Routes whose HEAD fails are skipped here; the checks that use the conformance route report that failure.
 */
export async function finalHopTargets(
  routes: readonly ConformanceRoute[],
  blob: SeededBlob,
  signal?: AbortSignal,
): Promise<FinalHopTarget[]> {
  const out: FinalHopTarget[] = [];
  for (const route of routes) {
    const client = route.client(signal);
    let hops: OciHop[];
    try {
      hops = (await client.rawProbe('HEAD', `/v2/${blob.repo}/blobs/${blob.digest}`, { follow: true })).hops;
    } catch {
      continue;
    }
    const last = hops[hops.length - 1];
    if (last === undefined || last.status !== 200) continue;
    const finalOrigin = new URL(last.url).origin;
    if (out.some((t) => t.finalOrigin === finalOrigin)) continue;
    const registry = isRegistryHop(last);
    out.push({
      route,
      client,
      finalOrigin,
      registry,
      label: `${registry ? 'registry' : 'storage'} ${finalOrigin} (via ${route.label})`,
    });
  }
  return out;
}

/**
 * Runs `visit` for each of `blobs` on every distinct final hop it ends on across `routes` (blob by blob, targets in
 * `finalHopTargets` order). `visit` returns the hops it made and the problems it found; it may also throw, for a
 * failure that must stop the check at once. Throws a conformance failure listing every problem, with the hops of
 * every visit, when any was found; otherwise returns those hops, for evidence.
 */
export async function sweepFinalHops(
  routes: readonly ConformanceRoute[],
  blobs: readonly SeededBlob[],
  visit: (blob: SeededBlob, target: FinalHopTarget) => Promise<{ hops: readonly Hop[]; problems: readonly string[] }>,
): Promise<Hop[]> {
  const problems: string[] = [];
  const hops: Hop[] = [];
  for (const blob of blobs) {
    for (const target of await finalHopTargets(routes, blob)) {
      const r = await visit(blob, target);
      hops.push(...r.hops);
      problems.push(...r.problems);
    }
  }
  if (problems.length > 0) throw conformanceFailure(problems.join('; '), hops);
  return hops;
}

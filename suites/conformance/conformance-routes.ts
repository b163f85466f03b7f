/**
 * Where the conformance suite speaks from. The official suites talk to one URL and judge the final hop; ours does
 * the same through the redirector, from one *conformance vantage*:
 *
 * - in egress mode, the harness's own declared vantage (the only one it can be);
 * - otherwise a plain-internet vantage when the target has one (the default-bucket route, what most of the world
 *   takes), else the first vantage the IP mode can speak from;
 * - with no usable vantage at all, the target URL with no X-Forwarded-For (the redirector then sees the harness).
 *
 * Rules whose answer depends on the final hop (Range, HEAD/GET parity, Docker-Content-Digest on blobs) are also
 * exercised from extra routes, a GCP vantage (blobs go upstream) and an AWS vantage with a regional bucket (blobs
 * go to that bucket), so both kinds of final hop are judged
 * (docs/reference/oci-distribution.md#what-breaks-through-a-redirector items 2 and 4).
 */
import {
  NotApplicable,
  createOciClient,
  clientForRoute,
  egressVantageName,
  vantageRoute,
  type VantageRoute,
  type OciClient,
  type TargetDescription,
  type Vantage,
} from '../../harness/src/index.js';

export interface ConformanceRoute {
  /** `direct`, or the vantage name */
  label: string;
  vantage?: Vantage;
  client(signal?: AbortSignal): OciClient;
}

const CLIENT_OPTIONS = {
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  userAgent: 'registry-canary-conformance/0.1',
};

function routeFor(target: TargetDescription, vantage: Vantage): VantageRoute | null {
  try {
    return vantageRoute(target, vantage);
  } catch (err) {
    if (err instanceof NotApplicable) return null;
    throw err;
  }
}

function asRoute(route: VantageRoute): ConformanceRoute {
  return {
    label: route.vantage.name,
    vantage: route.vantage,
    client: (signal) => clientForRoute(route, { ...CLIENT_OPTIONS, ...(signal ? { signal } : {}) }),
  };
}

function directRoute(target: TargetDescription): ConformanceRoute {
  return {
    label: 'direct',
    client: (signal) => createOciClient({ ...CLIENT_OPTIONS, baseUrl: target.url, ...(signal ? { signal } : {}) }),
  };
}

/** The route every conformance check uses. */
export function conformanceRoute(target: TargetDescription): ConformanceRoute {
  const egress = egressVantageName(target);
  const ordered =
    target.ipMode === 'egress'
      ? target.vantages.filter((v) => v.name === egress)
      : [
          ...target.vantages.filter((v) => v.cloud === null && !v.ip.includes(':')),
          ...target.vantages.filter((v) => v.cloud === null),
          ...target.vantages,
        ];
  for (const v of ordered) {
    const r = routeFor(target, v);
    if (r !== null) return asRoute(r);
  }
  return directRoute(target);
}

/**
 * The conformance route plus, when the IP mode allows, one GCP route and one AWS route whose region has a bucket:
 * distinct final hops for the same blob.
 */
export function finalHopRoutes(target: TargetDescription): ConformanceRoute[] {
  const routes = [conformanceRoute(target)];
  const pick = (pred: (v: Vantage) => boolean) => {
    for (const v of target.vantages.filter(pred)) {
      if (routes.some((r) => r.label === v.name)) continue;
      const r = routeFor(target, v);
      if (r !== null) {
        routes.push(asRoute(r));
        return;
      }
    }
  };
  pick((v) => v.cloud === 'GCP' && !v.ip.includes(':'));
  pick(
    (v) =>
      v.cloud === 'AWS' &&
      v.region !== null &&
      target.bucketMap.regions[v.region] !== undefined &&
      !v.ip.includes(':') &&
      !(v.tags ?? []).some((t) => t.startsWith('shadowed')),
  );
  return routes;
}

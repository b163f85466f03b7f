/**
 * Which vantages the real clients pull through: one AWS, one GCP and one plain-internet vantage, each reachable
 * without headers (real clients cannot set X-Forwarded-For, so they need an edge port whose load balancer
 * stamps the simulated client address, or, in egress mode, the harness's own declared vantage; vantage-route.ts
 * `headerless`). The three classes take the three different routes of the redirector (regional bucket, upstream,
 * default bucket).
 */
import { NotApplicable, vantageRoute, type TargetDescription, type Vantage } from '../../harness/src/index.js';

export type VantageClass = 'aws' | 'gcp' | 'internet';
export const VANTAGE_CLASSES: readonly VantageClass[] = ['aws', 'gcp', 'internet'];

/** A vantage a header-less client can speak from, and the base URL it uses there. */
export interface ClientEndpoint {
  vantage: Vantage;
  baseUrl: string;
}

export interface ClientVantage {
  vantageClass: VantageClass;
  /** null when the target has no vantage of this class a header-less client can use */
  endpoint: ClientEndpoint | null;
  /** why there is none (for the not-applicable reason) */
  reason?: string;
}

function classOf(v: Vantage): VantageClass | null {
  if (v.cloud === 'AWS') return 'aws';
  if (v.cloud === 'GCP') return 'gcp';
  if (v.cloud === null) return 'internet';
  return null;
}

/** Tags that mark a vantage as a corner case rather than the ordinary route of its class. */
const CORNER_CASE_TAGS = ['shadowed-by-global', 'ipv6', 'grouped-bucket', 'govcloud', 'default-route'];

/**
 * Prefers, within a class, an ordinary vantage (no corner-case tag: shadowed prefixes, IPv6, grouped buckets ...)
 * and, for AWS, one whose region has its own bucket, so the pull exercises the regional-bucket route; ties keep
 * the target's order. (The plain-internet class is a default-route by nature, so that tag only counts for clouds.)
 */
function preference(target: TargetDescription, v: Vantage): number {
  let score = 0;
  const corner = (v.tags ?? []).filter(
    (t) => CORNER_CASE_TAGS.includes(t) && !(t === 'default-route' && v.cloud === null),
  );
  if (corner.length === 0) score += 2;
  if (v.cloud === 'AWS' && v.region !== null && target.bucketMap.regions[v.region] !== undefined) score += 1;
  if (!v.ip.includes(':')) score += 1;
  return score;
}

export function clientVantages(target: TargetDescription): ClientVantage[] {
  const usable: ClientEndpoint[] = [];
  const refusals = new Map<string, string>();
  for (const v of target.vantages) {
    try {
      usable.push({ vantage: v, baseUrl: vantageRoute(target, v, { headerless: true }).baseUrl });
    } catch (err) {
      if (!(err instanceof NotApplicable)) throw err;
      refusals.set(v.name, err.reason);
    }
  }
  return VANTAGE_CLASSES.map((vantageClass) => {
    const candidates = usable.filter((e) => classOf(e.vantage) === vantageClass);
    if (candidates.length === 0) {
      const declared = target.vantages.find((v) => classOf(v) === vantageClass);
      return {
        vantageClass,
        endpoint: null,
        reason: declared
          ? `real clients cannot speak from any ${vantageClass} vantage of target "${target.name}": ${refusals.get(declared.name) ?? 'no header-less route'}`
          : `target "${target.name}" declares no ${vantageClass} vantage`,
      };
    }
    const best = [...candidates].sort((a, b) => preference(target, b.vantage) - preference(target, a.vantage))[0]!;
    return { vantageClass, endpoint: best };
  });
}

/**
 * The behaviour fingerprint of one environment, from one set of vantages (docs/reference/incidents.md#deployment
 * P1: "Behaviour fingerprint per environment: bucket map, default host, sig routing, referrers"):
 *
 * - the first hop of every probe (fingerprint-probes.ts): status, destination and path shape (location-shape.ts),
 *   the headers that matter;
 * - the digest each common image reference resolves to, following the redirects (with the anonymous token flow);
 * - the hosts a client is sent to (the hostname set users must allow, N6).
 *
 * The same probes are sent to both environments, so two fingerprints compare probe by probe (fingerprint-diff.ts).
 */
import pLimit from 'p-limit';
import { OciError } from '../oci/oci-error.js';
import { splitRef } from '../oracle/routing-oracle.js';
import { NotApplicable } from '../results/check.js';
import { clientForRoute, vantageRoute } from '../run/vantage-route.js';
import type { Semantics, TargetDescription, Vantage } from '../target/target-description.js';
import type { FingerprintProbe } from './fingerprint-probes.js';
import { isLoopbackHost, locationShape, type LocationShape } from './location-shape.js';

/** Response headers whose value is behaviour (not noise like Date, Server, Via, Content-Length). */
export const FINGERPRINT_HEADERS = ['cache-control', 'docker-distribution-api-version', 'allow'] as const;

export interface ObservedFirstHop {
  /** 0: no answer */
  status: number;
  shape?: LocationShape;
  /** FINGERPRINT_HEADERS present, plus `content-type` of direct answers and whether a challenge was sent */
  headers: Record<string, string>;
  /** transport failure or not applicable */
  error?: string;
  /** the raw Location, for the report */
  location?: string;
}

export interface ObservedDigest {
  digest?: string;
  error?: string;
}

export interface BehaviourFingerprint {
  schema: 'registry-canary/fingerprint/v1';
  target: string;
  url: string;
  semantics: Semantics;
  defaultBase: string;
  vantages: Pick<Vantage, 'name' | 'ip' | 'cloud' | 'region'>[];
  firstHops: Record<string, ObservedFirstHop>;
  digests: Record<string, ObservedDigest>;
  /** hosts redirects sent clients to, loopback excluded, sorted */
  hosts: string[];
  durationMs: number;
}

export interface CollectOptions {
  concurrency?: number;
  signal?: AbortSignal;
  /** image references whose digests are compared (default: none) */
  refs?: readonly string[];
  /** per-request deadline (default 15 s) */
  timeoutMs?: number;
}

function pickHeaders(status: number, headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of FINGERPRINT_HEADERS) if (headers[h] !== undefined) out[h] = headers[h]!;
  if ((status < 300 || status >= 400) && headers['content-type'] !== undefined)
    out['content-type'] = headers['content-type']!.split(';')[0]!.trim().toLowerCase();
  if (headers['www-authenticate'] !== undefined) out['www-authenticate'] = '(challenge)';
  return out;
}

/** Sends every probe to the target from its vantage and reads the digests of `refs`; never throws for the target's faults. */
export async function collectFingerprint(
  target: TargetDescription,
  probes: readonly FingerprintProbe[],
  vantages: readonly Vantage[],
  options: CollectOptions = {},
): Promise<BehaviourFingerprint> {
  const started = performance.now();
  const limit = pLimit(Math.max(1, options.concurrency ?? 8));
  const timeoutMs = options.timeoutMs ?? 15_000;
  const byName = new Map(vantages.map((v) => [v.name, v]));
  const signalFor = () =>
    AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]);
  const clientFor = (v: Vantage) =>
    clientForRoute(vantageRoute(target, v), {
      signal: signalFor(),
      headersTimeoutMs: timeoutMs,
      bodyTimeoutMs: timeoutMs,
    });

  const firstHops: Record<string, ObservedFirstHop> = {};
  await Promise.all(
    probes.map((p) =>
      limit(async () => {
        const v = byName.get(p.vantage ?? vantages[0]?.name ?? '');
        if (!v) {
          firstHops[p.id] = { status: 0, headers: {}, error: `no vantage ${p.vantage}` };
          return;
        }
        try {
          const r = await clientFor(v).firstHop(p.method, p.path);
          const obs: ObservedFirstHop = { status: r.status, headers: pickHeaders(r.status, r.headers) };
          if (r.location !== undefined) {
            obs.location = r.location;
            obs.shape = locationShape(target, r.location, r.hop.url, { signature: p.signature === true });
          }
          firstHops[p.id] = obs;
        } catch (err) {
          firstHops[p.id] = {
            status: 0,
            headers: {},
            error: err instanceof NotApplicable ? `not applicable: ${err.reason}` : (err as Error).message,
          };
        }
      }),
    ),
  );

  const digests: Record<string, ObservedDigest> = {};
  const from = vantages[0];
  if (from) {
    await Promise.all(
      (options.refs ?? []).map((ref) =>
        limit(async () => {
          const { repository, tag } = splitRef(ref);
          try {
            const client = clientFor(from);
            const head = await client.headManifest(repository, tag);
            digests[ref] = { digest: head.dockerContentDigest ?? (await client.getManifest(repository, tag)).digest };
          } catch (err) {
            digests[ref] = {
              error:
                err instanceof OciError
                  ? `${err.code}${err.status ? ` ${err.status}` : ''}: ${err.message}`
                  : (err as Error).message,
            };
          }
        }),
      ),
    );
  }

  const hosts = new Set<string>();
  for (const o of Object.values(firstHops))
    if (o.shape && o.shape.host !== '' && !isLoopbackHost(o.shape.host)) hosts.add(o.shape.host.toLowerCase());
  const sortKeys = <T>(r: Record<string, T>) =>
    Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    schema: 'registry-canary/fingerprint/v1',
    target: target.name,
    url: target.url,
    semantics: target.semantics,
    defaultBase: target.bucketMap.default,
    vantages: vantages.map((v) => ({ name: v.name, ip: v.ip, cloud: v.cloud, region: v.region })),
    firstHops: sortKeys(firstHops),
    digests: sortKeys(digests),
    hosts: [...hosts].sort(),
    durationMs: performance.now() - started,
  };
}

/**
 * Before any check: `GET /v2/` through every usable vantage. If it fails from all of them the target is unreachable
 * (exit 2), and no check is run to produce a pile of look-alike failures. A 200 from at least one vantage is enough
 * to go on: per-vantage trouble then shows up in that vantage's checks.
 */
import { NotApplicable } from '../results/check.js';
import type { Preflight, PreflightVantage } from '../results/run-report.js';
import type { TargetDescription, Vantage } from '../target/target-description.js';
import { OciError } from '../oci/oci-error.js';
import { clientForRoute, vantageRoute, type VantageRoute } from './vantage-route.js';

export interface PreflightOptions {
  signal?: AbortSignal;
  /** per-request deadline; default 10 s */
  timeoutMs?: number;
}

export async function preflight(
  target: TargetDescription,
  vantages: readonly Vantage[],
  options: PreflightOptions = {},
): Promise<Preflight> {
  const routes: VantageRoute[] = [];
  for (const v of vantages) {
    try {
      routes.push(vantageRoute(target, v));
    } catch (err) {
      if (!(err instanceof NotApplicable)) throw err;
    }
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const ping = async (label: string, baseUrl: string, headers: Record<string, string>): Promise<PreflightVantage> => {
    const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
    const client = clientForRoute(
      {
        vantage: { name: label, ip: '', cloud: null, region: null, url: null },
        mode: target.ipMode,
        baseUrl,
        headers,
        headerless: false,
      },
      { signal: AbortSignal.any(signals), headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs },
    );
    try {
      const r = await client.ping();
      // 401 is still an answer from a registry: reachable (the conformance suite judges the challenge)
      const ok = r.status === 200 || r.status === 401;
      return {
        vantage: label,
        ok,
        status: r.status,
        hops: r.hops,
        ...(ok ? {} : { message: `GET /v2/ answered ${r.status}` }),
      };
    } catch (err) {
      const hops = err instanceof OciError ? err.hops : [];
      return { vantage: label, ok: false, message: (err as Error).message, hops };
    }
  };
  // No usable vantage (egress without a declared one): the harness's own address still tells reachable from not.
  const results =
    routes.length > 0
      ? await Promise.all(routes.map((r) => ping(r.vantage.name, r.baseUrl, r.headers)))
      : [await ping('(harness address)', target.url, {})];
  return { reachable: results.some((r) => r.ok), vantages: results };
}

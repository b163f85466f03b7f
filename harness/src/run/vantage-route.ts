/**
 * How a check speaks *from* a vantage, under the target's IP mode:
 *
 * - `xff`: to the redirector URL, with `X-Forwarded-For: <vantage ip>,<lb ip>`, the header Google's load balancer
 *   writes (`<client>,<lb>`; archeio reads the second-to-last entry, docs/reference/archeio.md#client-ip). The header
 *   is origin-bound: it never follows a redirect to a bucket or the upstream.
 * - `edge`: to the vantage's edge URL, with no header; the edge stamps the vantage address itself.
 * - `egress`: to the target URL from the harness's own address, which is one declared vantage
 *   (`target.egressVantage`, set by `--vantage`); the harness cannot pose as any other.
 *
 * A check that needs a URL it can hand to a client that cannot set headers (skopeo, ctr, a browser) asks for a
 * `headerless` route: the edge URL in xff/edge mode, the target URL in egress mode. A vantage without one makes the
 * check not applicable, with the reason (never failed, never hidden).
 */
import { NotApplicable } from '../results/check.js';
import type { IpMode, TargetDescription, Vantage } from '../target/target-description.js';
import { createOciClient, type OciClient, type OciClientOptions } from '../oci/oci-client.js';

export interface VantageRoute {
  vantage: Vantage;
  mode: IpMode;
  /** where requests go: the redirector, or the vantage's edge */
  baseUrl: string;
  /** headers that place the request at the vantage (X-Forwarded-For in xff mode; spoofed entries otherwise) */
  headers: Record<string, string>;
  /** true when `baseUrl` needs no headers to speak as the vantage (an edge port, or the egress address) */
  headerless: boolean;
}

export interface RouteOptions {
  /** a URL a header-less client can use is required (real clients, browsers) */
  headerless?: boolean;
  /**
   * client-supplied X-Forwarded-For entries placed in front of whatever the load balancer writes (anti-spoofing
   * checks: they must not change the route,
   * docs/reference/incidents.md#routing-and-client-ip R10)
   */
  spoofedXff?: readonly string[];
}

/** Default address of the load balancer entry when a target in xff mode does not name one (archeio's test recipe). */
export const DEFAULT_LB_IP = '0.0.0.0';

export function egressVantageName(target: TargetDescription): string | undefined {
  return typeof target.egressVantage === 'string' ? target.egressVantage : undefined;
}

export function vantageRoute(target: TargetDescription, vantage: Vantage, options: RouteOptions = {}): VantageRoute {
  const spoofed = options.spoofedXff ?? [];
  const spoofHeader: Record<string, string> = spoofed.length > 0 ? { 'x-forwarded-for': spoofed.join(',') } : {};
  switch (target.ipMode) {
    case 'xff': {
      if (options.headerless) {
        if (vantage.url === null) {
          throw new NotApplicable(
            `needs an edge port that stamps ${vantage.name}'s address (a client that cannot set X-Forwarded-For), and ${vantage.name} has none`,
          );
        }
        return { vantage, mode: 'xff', baseUrl: vantage.url, headers: spoofHeader, headerless: true };
      }
      const lb = target.lbIp ?? DEFAULT_LB_IP;
      const xff = [...spoofed, vantage.ip, lb].join(',');
      return { vantage, mode: 'xff', baseUrl: target.url, headers: { 'x-forwarded-for': xff }, headerless: false };
    }
    case 'edge': {
      if (vantage.url === null)
        throw new NotApplicable(`target "${target.name}" is in edge mode and vantage ${vantage.name} has no edge URL`);
      return { vantage, mode: 'edge', baseUrl: vantage.url, headers: spoofHeader, headerless: true };
    }
    case 'egress': {
      const egress = egressVantageName(target);
      if (egress === undefined) {
        throw new NotApplicable(
          `target "${target.name}" is reached from the harness's own address, and no egress vantage was declared (use --vantage NAME, cloud:region or auto)`,
        );
      }
      if (vantage.name !== egress) {
        throw new NotApplicable(
          `egress mode: the harness speaks from ${egress} and cannot pose as ${vantage.name} (run it from that vantage)`,
        );
      }
      return { vantage, mode: 'egress', baseUrl: target.url, headers: spoofHeader, headerless: true };
    }
  }
}

/**
 * An OCI client placed at a route. X-Forwarded-For is origin-bound: redirect targets never see it (a bucket or the
 * upstream has no business with the client's address, and a real GCLB header is not forwarded either).
 */
export function clientForRoute(
  route: VantageRoute,
  options: Omit<OciClientOptions, 'baseUrl' | 'headers'> = {},
): OciClient {
  return createOciClient({
    ...options,
    baseUrl: route.baseUrl,
    headers: route.headers,
    originBoundHeaders: ['x-forwarded-for', ...(options.originBoundHeaders ?? [])],
  });
}

/**
 * `--vantage` (egress vantage detection):
 *
 * - On a target whose vantages can be posed as (xff, edge), it narrows the run to the vantages named: a name
 *   (`aws-us-east-1`), a place (`aws:us-east-1`, `gcp:us-central1`), a whole class (`aws`, `gcp`, `azure`,
 *   `internet`), comma-separated.
 * - On an egress target (the harness speaks from its own address) it declares where the harness is: a vantage
 *   name of the target, a place (`aws:eu-west-1`, `internet`), or `auto`, which asks an IP echo service for the
 *   harness's public address and classifies it with the oracle's brute-force scan. The declared vantage becomes
 *   `target.egressVantage`; every check from another vantage is then not applicable, with that reason.
 */
import { request } from 'undici';
import { closestName } from './closest-name.js';
import { isIP } from 'node:net';
import { classifyByScan, readPublishedRanges, type PublishedPrefix } from '../oracle/published-ranges.js';
import type { Cloud, TargetDescription, Vantage } from '../target/target-description.js';
import { projectRangeFiles } from './project-paths.js';

export class VantageSelectionError extends Error {
  readonly code = 'VANTAGE_SELECTION_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'VantageSelectionError';
  }
}

const CLOUD_NAMES: Record<string, Cloud | null> = { aws: 'AWS', gcp: 'GCP', azure: 'Azure', internet: null };

/** The default echo service (plain-text address); a target may name another as `ipEchoUrl`. */
export const DEFAULT_IP_ECHO_URL = 'https://checkip.amazonaws.com';

interface Place {
  cloud: Cloud | null;
  region?: string;
}

function parsePlace(term: string): Place | undefined {
  const [c, region] = term.split(':');
  const cloud = CLOUD_NAMES[(c ?? '').toLowerCase()];
  if (cloud === undefined) return undefined;
  if (cloud === null && region) return undefined;
  return region ? { cloud, region } : { cloud };
}

const placeMatches = (v: Vantage, p: Place) => v.cloud === p.cloud && (p.region === undefined || v.region === p.region);

/** Narrows a posable target's vantages. Throws VantageSelectionError naming what matched nothing. */
export function selectVantages(target: TargetDescription, spec: string): TargetDescription {
  const terms = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (terms.length === 0) throw new VantageSelectionError('--vantage needs at least one name or place');
  const chosen = new Map<string, Vantage>();
  for (const term of terms) {
    if (term === 'auto')
      throw new VantageSelectionError(
        `--vantage auto detects the harness's own address; it applies to egress targets only, and "${target.name}" is in ${target.ipMode} mode`,
      );
    const byName = target.vantages.find((v) => v.name === term);
    const place = byName ? undefined : parsePlace(term);
    const matches = byName ? [byName] : place ? target.vantages.filter((v) => placeMatches(v, place)) : [];
    if (matches.length === 0) {
      const names = target.vantages.map((v) => v.name);
      const placeOf = (v: Vantage) => (v.cloud === null ? 'internet' : `${v.cloud.toLowerCase()}:${v.region}`);
      const places = [...new Set(target.vantages.map(placeOf))];
      const near = closestName(term, [...names, ...places]);
      throw new VantageSelectionError(
        `--vantage ${term} matches no vantage of "${target.name}"${near ? ` (did you mean ${near}?)` : ''}; ` +
          `its ${names.length} vantages: ${names.join(', ')}; or cloud[:region] with cloud aws, gcp, azure, internet`,
      );
    }
    for (const m of matches) chosen.set(m.name, m);
  }
  return { ...target, vantages: target.vantages.filter((v) => chosen.has(v.name)) };
}

export interface EgressOptions {
  /** GET a URL and return its body text (default: undici, 10 s) */
  fetchText?: (url: string) => Promise<string>;
  prefixes?: readonly PublishedPrefix[];
  /** the echo service `auto` asks (`--ip-echo`); overrides the target's `ipEchoUrl` and the default */
  ipEchoUrl?: string;
}

async function defaultFetchText(url: string): Promise<string> {
  const res = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
  return text;
}

/** Declares the egress vantage of an egress target (see the module comment). */
export async function resolveEgressVantage(
  target: TargetDescription,
  spec: string,
  options: EgressOptions = {},
): Promise<TargetDescription> {
  const declare = (v: Vantage): TargetDescription => ({
    ...target,
    vantages: target.vantages.some((x) => x.name === v.name) ? target.vantages : [...target.vantages, v],
    egressVantage: v.name,
  });
  const term = spec.trim();
  const named = target.vantages.find((v) => v.name === term);
  if (named) return declare(named);
  if (term === 'auto') {
    const echo = options.ipEchoUrl ?? (typeof target.ipEchoUrl === 'string' ? target.ipEchoUrl : DEFAULT_IP_ECHO_URL);
    let ip: string;
    try {
      ip = (await (options.fetchText ?? defaultFetchText)(echo)).trim();
    } catch (err) {
      throw new VantageSelectionError(
        `--vantage auto: cannot learn this machine's public address from ${echo}: ${(err as Error).message}; declare it instead (e.g. --vantage aws:us-east-1 or --vantage internet)`,
      );
    }
    if (isIP(ip) === 0)
      throw new VantageSelectionError(
        `--vantage auto: ${echo} answered ${JSON.stringify(ip.slice(0, 60))}, not an IP address`,
      );
    // The declaration is what the publications say of the address (longest prefix: its owner). Under archeio's
    // shortest-prefix rule a regional AWS address inside a GLOBAL prefix is GLOBAL instead
    // (docs/reference/archeio.md#ip-classification): tagged, so the routing suite's shadowed-prefix check runs from it.
    const prefixes = options.prefixes ?? readPublishedRanges(projectRangeFiles());
    const c = classifyByScan(prefixes, ip, 'most-specific');
    const a = classifyByScan(prefixes, ip, 'archeio');
    const shadowed = c !== null && a !== null && (c.cloud !== a.cloud || c.region !== a.region);
    const tags = [
      'egress',
      'detected',
      ...(isIP(ip) === 6 ? ['ipv6'] : []),
      ...(shadowed ? ['shadowed-by-global'] : []),
      ...placeTags(c?.cloud ?? null, c?.region ?? null),
    ];
    return declare({ name: 'egress-auto', ip, cloud: c?.cloud ?? null, region: c?.region ?? null, url: null, tags });
  }
  const place = parsePlace(term);
  if (!place)
    throw new VantageSelectionError(
      `--vantage ${term}: not a vantage of "${target.name}", "auto", or cloud[:region] (cloud aws, gcp, azure, internet)`,
    );
  const existing = target.vantages.find(
    (v) => placeMatches(v, place) && (place.region !== undefined || place.cloud === null),
  );
  if (existing) return declare(existing);
  if (place.cloud !== null && place.region === undefined)
    throw new VantageSelectionError(
      `--vantage ${term}: name the region too (e.g. ${term}:us-east-1): routing depends on it`,
    );
  return declare({
    name: `egress-${term.replace(':', '-')}`,
    ip: '',
    cloud: place.cloud,
    region: place.region ?? null,
    url: null,
    tags: ['egress', 'declared-without-ip'],
  });
}

/** The vantage tags (docs/target-description.md) a place implies. */
function placeTags(cloud: Cloud | null, region: string | null): string[] {
  if (cloud === null) return ['internet', 'default-route'];
  if (cloud === 'GCP') return ['gcp'];
  if (cloud === 'Azure' || region === 'GLOBAL' || region?.startsWith('us-gov-') || region?.startsWith('eusc-'))
    return ['default-route', ...(region?.startsWith('us-gov-') ? ['govcloud'] : [])];
  return ['aws-region'];
}

/** One line of what a vantage is, for the run's opening statement. */
export function describeVantage(v: Vantage): string {
  const where = v.cloud === null ? 'plain internet' : `${v.cloud} ${v.region ?? '?'}`;
  const how = v.tags?.includes('detected')
    ? 'detected'
    : v.tags?.includes('declared-without-ip')
      ? 'declared, no address'
      : 'declared';
  return `${v.name} (${v.ip || 'no address'}: ${where}, ${how}${v.tags?.includes('shadowed-by-global') ? '; GLOBAL under archeio semantics' : ''})`;
}

/**
 * What the run's vantage(s) cannot cover, and why, before anything runs ("the run states which checks its
 * vantage cannot cover and why"). In egress mode the harness is one client: checks bound to other vantages cannot
 * be exercised from here and will be not applicable; their vantages' places are listed so an operator knows where
 * else to run the canary. Other reasons (a check needing an edge URL, a blob kind the bucket cannot supply) are only
 * known once a check runs; the summary groups those by reason.
 */
export function vantageCoverage(
  target: TargetDescription,
  checks: readonly { id: string; vantage?: Vantage }[],
): string[] {
  const lines: string[] = [];
  if (target.ipMode !== 'egress') {
    lines.push(`${target.ipMode} mode: the harness poses as each of ${target.vantages.length} vantages`);
    return lines;
  }
  const egress =
    typeof target.egressVantage === 'string' ? target.vantages.find((v) => v.name === target.egressVantage) : undefined;
  if (!egress) {
    lines.push(
      'egress mode without a declared vantage: every check bound to a vantage is not applicable (use --vantage)',
    );
    return lines;
  }
  const mine = checks.filter((c) => c.vantage?.name === egress.name).length;
  const others = new Map<string, number>();
  for (const c of checks)
    if (c.vantage && c.vantage.name !== egress.name) others.set(c.vantage.name, (others.get(c.vantage.name) ?? 0) + 1);
  lines.push(
    `speaking from ${describeVantage(egress)}: ${mine} checks from this vantage, ${checks.length - mine - [...others.values()].reduce((a, b) => a + b, 0)} without a vantage`,
  );
  if (egress.cloud === 'GCP')
    lines.push(
      '  a GCP client is always sent to the upstream for blobs: bucket routing and bucket content are not exercised from here',
    );
  if (egress.tags?.includes('declared-without-ip'))
    lines.push(
      '  declared without an address: the range data cannot confirm the place, and checks that need the address (shadowed prefixes) cannot run',
    );
  if (others.size > 0) {
    const total = [...others.values()].reduce((a, b) => a + b, 0);
    const places = target.vantages
      .filter((v) => others.has(v.name))
      .map((v) => `${v.name} (${v.cloud ?? 'internet'}${v.region ? ` ${v.region}` : ''})`);
    lines.push(
      `  not covered: ${total} checks bound to ${others.size} other vantages, because egress mode cannot pose as another client; run the canary from: ${places.join(', ')}`,
    );
  }
  return lines;
}

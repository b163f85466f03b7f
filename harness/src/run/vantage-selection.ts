/**
 * `--vantage` (issue 4, issue 5 "egress vantage detection"):
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
  const terms = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (terms.length === 0) throw new VantageSelectionError('--vantage needs at least one name or place');
  const chosen = new Map<string, Vantage>();
  for (const term of terms) {
    if (term === 'auto') throw new VantageSelectionError(`--vantage auto detects the harness's own address; it applies to egress targets only, and "${target.name}" is in ${target.ipMode} mode`);
    const byName = target.vantages.find((v) => v.name === term);
    const place = byName ? undefined : parsePlace(term);
    const matches = byName ? [byName] : place ? target.vantages.filter((v) => placeMatches(v, place)) : [];
    if (matches.length === 0) {
      const names = target.vantages.map((v) => v.name);
      throw new VantageSelectionError(`--vantage ${term} matches no vantage of "${target.name}" (names: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''}; or cloud[:region] with cloud aws, gcp, azure, internet)`);
    }
    for (const m of matches) chosen.set(m.name, m);
  }
  return { ...target, vantages: target.vantages.filter((v) => chosen.has(v.name)) };
}

export interface EgressOptions {
  /** GET a URL and return its body text (default: undici, 10 s) */
  fetchText?: (url: string) => Promise<string>;
  prefixes?: readonly PublishedPrefix[];
}

async function defaultFetchText(url: string): Promise<string> {
  const res = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
  return text;
}

/** Declares the egress vantage of an egress target (see the module comment). */
export async function resolveEgressVantage(target: TargetDescription, spec: string, options: EgressOptions = {}): Promise<TargetDescription> {
  const declare = (v: Vantage): TargetDescription => ({
    ...target,
    vantages: target.vantages.some((x) => x.name === v.name) ? target.vantages : [...target.vantages, v],
    egressVantage: v.name,
  });
  const term = spec.trim();
  const named = target.vantages.find((v) => v.name === term);
  if (named) return declare(named);
  if (term === 'auto') {
    const echo = typeof target.ipEchoUrl === 'string' ? target.ipEchoUrl : DEFAULT_IP_ECHO_URL;
    let ip: string;
    try {
      ip = (await (options.fetchText ?? defaultFetchText)(echo)).trim();
    } catch (err) {
      throw new VantageSelectionError(`--vantage auto: cannot learn this machine's public address from ${echo}: ${(err as Error).message}; declare it instead (e.g. --vantage aws:us-east-1 or --vantage internet)`);
    }
    if (isIP(ip) === 0) throw new VantageSelectionError(`--vantage auto: ${echo} answered ${JSON.stringify(ip.slice(0, 60))}, not an IP address`);
    // The declaration is what the publications say of the address (longest prefix: its owner).
    const c = classifyByScan(options.prefixes ?? readPublishedRanges(projectRangeFiles()), ip, 'most-specific');
    return declare({ name: 'egress-auto', ip, cloud: c?.cloud ?? null, region: c?.region ?? null, url: null, tags: ['egress', 'detected'] });
  }
  const place = parsePlace(term);
  if (!place) throw new VantageSelectionError(`--vantage ${term}: not a vantage of "${target.name}", "auto", or cloud[:region] (cloud aws, gcp, azure, internet)`);
  const existing = target.vantages.find((v) => placeMatches(v, place) && (place.region !== undefined || place.cloud === null));
  if (existing) return declare(existing);
  if (place.cloud !== null && place.region === undefined) throw new VantageSelectionError(`--vantage ${term}: name the region too (e.g. ${term}:us-east-1): routing depends on it`);
  return declare({
    name: `egress-${term.replace(':', '-')}`,
    ip: '',
    cloud: place.cloud,
    region: place.region ?? null,
    url: null,
    tags: ['egress', 'declared-without-ip'],
  });
}

/**
 * The clouds' IP-range publications, read the slow and obvious way, for the routing oracle.
 *
 * This module deliberately shares no code with redirector/src (the system under test): it parses the raw
 * publications itself and classifies by scanning every prefix. It is the harness's ground truth, so it favours
 * being evidently right over being fast.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Cloud, Semantics } from '../target/target-description.js';
import { fromPackageRoot } from '../package-root.js';

export interface PublishedPrefix {
  cloud: Cloud;
  region: string;
  prefix: string;
  family: 4 | 6;
  /** network address as a 32- or 128-bit integer */
  network: bigint;
  length: number;
}

export interface RangeFiles {
  aws: string;
  gcp: string;
  azure: string;
}

/** The snapshots bundled with the project (copied from the clouds' publications; see fixtures/ip-ranges/raw). */
export const BUNDLED_RANGE_FILES: RangeFiles = {
  aws: fromPackageRoot('fixtures', 'ip-ranges', 'raw', 'aws-ip-ranges.json'),
  gcp: fromPackageRoot('fixtures', 'ip-ranges', 'raw', 'gcp-cloud.json'),
  azure: fromPackageRoot('fixtures', 'ip-ranges', 'raw', 'azure-service-tags.json'),
};

/** Address → integer. Accepts dotted IPv4 and any RFC 4291 IPv6 text form (zone ids are not addresses: rejected). */
export function addressToBigInt(address: string): { family: 4 | 6; value: bigint } {
  const kind = isIP(address);
  if (kind === 4) {
    const v = address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    return { family: 4, value: v };
  }
  if (kind === 6 && !address.includes('%')) {
    let text = address;
    // an embedded dotted quad in the last 32 bits (e.g. ::ffff:1.2.3.4)
    const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (dotted) {
      const v4 = addressToBigInt(dotted[1]!).value;
      text = text.slice(0, -dotted[1]!.length) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
    }
    const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
    const headGroups = head ? head.split(':') : [];
    const tailGroups = tail ? tail.split(':') : [];
    const missing = 8 - headGroups.length - tailGroups.length;
    const groups = tail === undefined ? headGroups : [...headGroups, ...Array(missing).fill('0'), ...tailGroups];
    const v = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
    return { family: 6, value: v };
  }
  throw new Error(`not an IP address: ${JSON.stringify(address)}`);
}

export function bigIntToAddress(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':');
}

function toPrefix(cloud: Cloud, region: string, cidr: string): PublishedPrefix {
  const [addr, len] = cidr.split('/');
  const { family, value } = addressToBigInt(addr!);
  const length = Number(len);
  const bits = family === 4 ? 32 : 128;
  const hostBits = BigInt(bits - length);
  const network = (value >> hostBits) << hostBits;
  return { cloud, region, prefix: cidr, family, network, length };
}

let bundled: readonly PublishedPrefix[] | undefined;

/** The bundled snapshots, read once per process (they never change while it runs). */
export function bundledPublishedRanges(): readonly PublishedPrefix[] {
  bundled ??= readPublishedRanges();
  return bundled;
}

/** Reads the three publications as published (AWS ip-ranges.json, GCP cloud.json, Azure Service Tags). */
export function readPublishedRanges(files: RangeFiles = BUNDLED_RANGE_FILES): PublishedPrefix[] {
  const out: PublishedPrefix[] = [];
  const seen = new Set<string>();
  const add = (cloud: Cloud, region: string, cidr: string) => {
    const key = `${cloud}|${region}|${cidr}`;
    if (seen.has(key)) return; // AWS lists one entry per service
    seen.add(key);
    out.push(toPrefix(cloud, region, cidr));
  };
  const aws = JSON.parse(readFileSync(files.aws, 'utf8'));
  for (const p of aws.prefixes) add('AWS', p.region, p.ip_prefix);
  for (const p of aws.ipv6_prefixes) add('AWS', p.region, p.ipv6_prefix);
  const gcp = JSON.parse(readFileSync(files.gcp, 'utf8'));
  for (const p of gcp.prefixes) add('GCP', p.scope, p.ipv4Prefix ?? p.ipv6Prefix);
  const azure = JSON.parse(readFileSync(files.azure, 'utf8'));
  for (const v of azure.values) {
    if (!String(v.name).startsWith('AzureCloud.') || !v.properties?.region) continue;
    for (const cidr of v.properties.addressPrefixes) add('Azure', v.properties.region, cidr);
  }
  return out;
}

export interface OracleClassification {
  cloud: Cloud;
  region: string;
  prefix: string;
}

/**
 * Classifies an address by scanning every published prefix.
 * - most-specific: the longest containing prefix wins; IPv4-mapped IPv6 (::ffff:a.b.c.d) is unmapped first.
 * - archeio: the shortest containing prefix wins (production's trie returns the first match from the root), and
 *   IPv4-mapped addresses are looked up as IPv6, so they match nothing published.
 */
export function classifyByScan(
  prefixes: readonly PublishedPrefix[],
  address: string,
  semantics: Semantics,
): OracleClassification | null {
  let { family, value } = addressToBigInt(address);
  if (semantics === 'most-specific' && family === 6 && value >> 32n === 0xffffn) {
    family = 4;
    value = value & 0xffffffffn;
  }
  const bits = family === 4 ? 32 : 128;
  let best: PublishedPrefix | null = null;
  for (const p of prefixes) {
    if (p.family !== family) continue;
    const hostBits = BigInt(bits - p.length);
    if ((value >> hostBits) << hostBits !== p.network) continue;
    if (best === null || (semantics === 'most-specific' ? p.length > best.length : p.length < best.length)) best = p;
  }
  return best && { cloud: best.cloud, region: best.region, prefix: best.prefix };
}

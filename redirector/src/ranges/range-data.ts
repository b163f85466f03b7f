/**
 * The range data: every prefix the three clouds publish, with its owner, plus what identifies each publication's
 * version. This is the input to IpClassifier and what a refresh replaces.
 */

export type Cloud = 'AWS' | 'GCP' | 'Azure';

/** The clouds in precedence order (used to break ties when two clouds publish the very same prefix). */
export const CLOUDS: readonly Cloud[] = ['AWS', 'GCP', 'Azure'];

export interface RangeEntry {
  /** canonical CIDR text (formatIpPrefix): masked network, RFC 5952 for IPv6 */
  prefix: string;
  cloud: Cloud;
  /** AWS `region`, GCP `scope`, Azure `properties.region`; AWS uses `GLOBAL` and GCP `global` for non-regional */
  region: string;
}

/** One publication, parsed (parseAwsRanges, parseGcpRanges, parseAzureRanges). */
export interface ParsedPublication {
  entries: RangeEntry[];
  /** human-readable version */
  version: string;
  /** grows with every new publication of that cloud */
  order: number;
}

/** Human-readable version of each publication (AWS createDate, GCP creationTime, Azure changeNumber). */
export interface RangeVersions {
  aws: string;
  gcp: string;
  azure: string;
}

export interface RangeData {
  /** AWS entries, then GCP, then Azure; each deduplicated per (region, prefix) */
  entries: RangeEntry[];
  versions: RangeVersions;
  /** Numbers that only grow from one publication to the next (AWS/GCP syncToken, Azure changeNumber). */
  order: { aws: number; gcp: number; azure: number };
}

/** Where each publication is read from: a file path, or an http(s) URL for refresh. */
export interface RangeSources {
  aws: string;
  gcp: string;
  azure: string;
}

/** The lower-case key RangeData uses for a cloud. */
export type CloudKey = keyof RangeSources;

export function cloudKey(cloud: Cloud): CloudKey {
  return cloud === 'AWS' ? 'aws' : cloud === 'GCP' ? 'gcp' : 'azure';
}

/** Sorted distinct AWS regions in the data (GLOBAL and GovCloud included); the bucket map is checked against these. */
export function awsRegionsIn(data: RangeData): string[] {
  const regions = new Set<string>();
  for (const e of data.entries) if (e.cloud === 'AWS') regions.add(e.region);
  return [...regions].sort();
}

/** Prefix counts per cloud and family, e.g. for an `ipdata_prefixes{cloud,family}` gauge. */
export function countPrefixes(data: RangeData): Record<Cloud, { v4: number; v6: number }> {
  const counts: Record<Cloud, { v4: number; v6: number }> = {
    AWS: { v4: 0, v6: 0 },
    GCP: { v4: 0, v6: 0 },
    Azure: { v4: 0, v6: 0 },
  };
  for (const e of data.entries) {
    if (e.prefix.includes(':')) counts[e.cloud].v6++;
    else counts[e.cloud].v4++;
  }
  return counts;
}

/** True for the non-regional scopes: AWS `GLOBAL`, GCP `global`. */
export function isGlobalRegion(region: string): boolean {
  return region.toLowerCase() === 'global';
}

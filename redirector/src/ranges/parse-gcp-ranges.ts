/**
 * Google Cloud `cloud.json` (https://www.gstatic.com/ipranges/cloud.json; described at
 * https://cloud.google.com/compute/docs/faq#find_ip_range).
 *
 * As in archeio's ranges2go parse_gcp.go@093d55a, each entry's `scope` is its region (`global` included) and
 * `service` is ignored. An entry must carry exactly one of `ipv4Prefix` / `ipv6Prefix` (archeio errors on neither).
 */
import { PublicationReader } from './publication-reader.js';
import type { ParsedPublication } from './range-data.js';

export function parseGcpRanges(json: unknown, source: string): ParsedPublication {
  const r: PublicationReader = new PublicationReader('GCP', source);
  const root = r.object(json);
  // syncToken is the publication time in Unix milliseconds; creationTime the same as an ISO date without a zone.
  const syncToken = r.digits(root['syncToken'], 'syncToken');
  const creationTime = root['creationTime'];
  let created: number | undefined;
  if (creationTime !== undefined) {
    const ms =
      typeof creationTime === 'string'
        ? Date.parse(/Z$|[+-]\d\d:\d\d$/.test(creationTime) ? creationTime : `${creationTime}Z`)
        : NaN;
    if (Number.isNaN(ms))
      return r.fail(`expected an ISO 8601 date, got ${JSON.stringify(creationTime)}`, 'creationTime');
    created = ms;
  }
  const order = syncToken ?? created;
  if (order === undefined)
    return r.fail('neither syncToken nor creationTime is present, so versions cannot be ordered');
  const list = r.array(root['prefixes'], 'prefixes');
  for (let i = 0; i < list.length; i++) {
    const o = r.object(list[i], 'prefixes', i);
    const scope = r.string(o['scope'], 'prefixes', i, 'scope');
    const v4 = o['ipv4Prefix'];
    const v6 = o['ipv6Prefix'];
    if ((v4 === undefined) === (v6 === undefined))
      r.fail('expected exactly one of ipv4Prefix and ipv6Prefix', 'prefixes', i);
    if (v4 !== undefined) r.add(v4, 4, scope, 'prefixes', i, 'ipv4Prefix');
    else r.add(v6, 6, scope, 'prefixes', i, 'ipv6Prefix');
  }
  return { entries: r.entries(), version: typeof creationTime === 'string' ? creationTime : String(order), order };
}

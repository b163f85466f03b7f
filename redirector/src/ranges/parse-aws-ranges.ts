/**
 * AWS `ip-ranges.json` (https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-syntax.html).
 *
 * Like archeio's ranges2go parse_aws.go@093d55a, every `service` is included (AMAZON, EC2, S3, CLOUDFRONT, ...), v4
 * and v6, keyed by `region`, and each (region, prefix) is kept once (the file lists a prefix once per service).
 * `network_border_group` is ignored. Unlike archeio's codegen, no region is excluded here: an unreleased region in
 * the data (me-west-1, sa-west-1, us-south-1 in the bundled snapshot) is classified as published, and it is the
 * bucket map's job to say where its clients go.
 */
import { PublicationReader } from './publication-reader.js';
import type { ParsedPublication } from './range-data.js';

const CREATE_DATE = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$/;

export function parseAwsRanges(json: unknown, source: string): ParsedPublication {
  const r: PublicationReader = new PublicationReader('AWS', source);
  const root = r.object(json);
  // syncToken is the publication time in Unix seconds; createDate the same time as YYYY-MM-DD-hh-mm-ss (UTC).
  const syncToken = r.digits(root['syncToken'], 'syncToken');
  let created: number | undefined;
  const createDate = root['createDate'];
  if (createDate !== undefined) {
    const m = typeof createDate === 'string' ? CREATE_DATE.exec(createDate) : null;
    if (m === null) return r.fail(`expected YYYY-MM-DD-hh-mm-ss, got ${JSON.stringify(createDate)}`, 'createDate');
    created = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
  }
  const order = syncToken ?? created;
  if (order === undefined) return r.fail('neither syncToken nor createDate is present, so versions cannot be ordered');
  const v4 = r.array(root['prefixes'], 'prefixes');
  for (let i = 0; i < v4.length; i++) {
    const o = r.object(v4[i], 'prefixes', i);
    r.add(o['ip_prefix'], 4, r.string(o['region'], 'prefixes', i, 'region'), 'prefixes', i, 'ip_prefix');
  }
  const v6 = r.array(root['ipv6_prefixes'], 'ipv6_prefixes');
  for (let i = 0; i < v6.length; i++) {
    const o = r.object(v6[i], 'ipv6_prefixes', i);
    r.add(o['ipv6_prefix'], 6, r.string(o['region'], 'ipv6_prefixes', i, 'region'), 'ipv6_prefixes', i, 'ipv6_prefix');
  }
  return { entries: r.entries(), version: typeof createDate === 'string' ? createDate : String(order), order };
}

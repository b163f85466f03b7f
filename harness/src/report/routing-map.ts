/**
 * The routing map: vantage × request kind → where the first hop went, named in the target's own terms (the bucket
 * of a region, the default bucket, the upstream, ...) rather than as raw URLs. The HTML report draws it as a grid;
 * a wrong cell is the fastest way to see a routing fault ("production sent every AWS client back to GCP").
 */
import type { CheckResult, Status } from '../results/check.js';
import type { RunReport } from '../results/run-report.js';
import { routingEvidenceOf, type RoutingEvidence } from '../results/routing-evidence.js';
import type { TargetDescription } from '../target/target-description.js';

export type DestinationKind =
  | 'regional-bucket'
  | 'default-bucket'
  | 'upstream'
  | 'signature-upstream'
  | 'info'
  | 'privacy'
  | 'answer'
  | 'other'
  | 'none';

export interface Destination {
  kind: DestinationKind;
  /** short text for a grid cell, e.g. "bucket eu-west-3", "upstream", "404" */
  label: string;
}

const sameBase = (url: string, base: string) => {
  const b = base.replace(/\/+$/, '');
  return url === b || url.startsWith(`${b}/`);
};

/** Names the destination of a first hop in the target's terms. */
export function destinationOf(
  target: TargetDescription,
  status: number | undefined,
  location: string | undefined,
): Destination {
  if (status === undefined) return { kind: 'none', label: 'no answer' };
  if (location === undefined || status < 300 || status >= 400) return { kind: 'answer', label: String(status) };
  const prefix = status === 307 ? '' : `${status} `;
  const d = (kind: DestinationKind, label: string): Destination => ({ kind, label: `${prefix}${label}` });
  if (
    target.signatureUpstream &&
    sameBase(location, target.signatureUpstream) &&
    target.signatureUpstream !== target.upstream
  )
    return d('signature-upstream', 'signature upstream');
  if (sameBase(location, target.upstream)) return d('upstream', 'upstream');
  const regions = Object.entries(target.bucketMap.regions).filter(([, base]) => sameBase(location, base));
  if (regions.length > 0) {
    // Several regions can share one bucket (cn-* → ap-east-1): name the bucket's own region when it is one of them.
    const own = regions.find(([r, base]) => base.includes(r)) ?? regions[0]!;
    return d('regional-bucket', `bucket ${own[0]}`);
  }
  if (sameBase(location, target.bucketMap.default)) return d('default-bucket', 'default bucket');
  if (location === target.infoUrl) return d('info', 'info page');
  if (location === target.privacyUrl) return d('privacy', 'privacy page');
  try {
    return d('other', new URL(location).host);
  } catch {
    return d('other', location.slice(0, 40));
  }
}

export interface RoutingMapCell {
  result: CheckResult;
  evidence?: RoutingEvidence;
  expected?: Destination;
  actual?: Destination;
}

export interface RoutingMap {
  vantages: string[];
  kinds: string[];
  /** key: `${vantage}\u0000${kind}` */
  cells: Map<string, RoutingMapCell>;
}

export const cellKey = (vantage: string, kind: string) => `${vantage}\u0000${kind}`;

const KIND_ORDER = [
  'manifest-by-tag',
  'manifest-by-digest',
  'tag-list',
  'signature-tag',
  'blob-in-bucket',
  'blob-absent-from-bucket',
  'blob-upstream-only',
  'anti-spoofing',
  'shadowed-prefix',
  'root',
  'privacy',
  'unknown-path',
];

/** Builds the map from results that carry routing evidence, plus routing-suite results that never got that far. */
export function routingMap(report: Pick<RunReport, 'target' | 'results'>): RoutingMap {
  const cells = new Map<string, RoutingMapCell>();
  const vantages: string[] = [];
  const kinds = new Set<string>();
  for (const result of report.results) {
    const evidence = routingEvidenceOf(result);
    let vantage = evidence?.vantage;
    let kind = evidence?.kind;
    if (!evidence) {
      const m = /^routing\/([^@]+)@(.+)$/.exec(result.id);
      if (!m) continue;
      [kind, vantage] = [m[1]!, m[2]!];
    }
    if (!vantages.includes(vantage!)) vantages.push(vantage!);
    kinds.add(kind!);
    const cell: RoutingMapCell = { result };
    if (evidence) {
      cell.evidence = evidence;
      cell.expected = destinationOf(report.target, evidence.expected.status, evidence.expected.location);
      if (evidence.actual) cell.actual = destinationOf(report.target, evidence.actual.status, evidence.actual.location);
    }
    cells.set(cellKey(vantage!, kind!), cell);
  }
  const ordered = [
    ...KIND_ORDER.filter((k) => kinds.has(k)),
    ...[...kinds].filter((k) => !KIND_ORDER.includes(k)).sort(),
  ];
  return { vantages, kinds: ordered, cells };
}

/** Status of a cell for colouring: the result's status. */
export function cellStatus(cell: RoutingMapCell | undefined): Status | 'missing' {
  return cell ? cell.result.status : 'missing';
}

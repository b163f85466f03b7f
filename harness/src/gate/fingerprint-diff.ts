/**
 * Two behaviour fingerprints compared probe by probe (pure). What it reports:
 *
 * - **behavioural differences**: a probe whose first hop differs in status, destination, path shape, query or a header
 *   that matters, or an image reference that resolves to another digest (docs/reference/incidents.md#deployment
 *   P1: "the promotion report lists sandbox-vs-prod behavioural differences"). These block a promotion unless accepted;
 * - **declared differences**: what the two descriptions say differs (semantics, default base, upstream, signature
 *   upstream, bucket map). Environments differ in their inputs by design (the same Terraform module with different
 *   inputs: docs/reference/incidents.md#sandbox-and-production): listed, never blocking by themselves;
 * - **hostnames**: hosts clients are sent to on one side only. A new hostname breaks allowlisting users
 *   (docs/reference/incidents.md#edge-and-network N6, R6): a warning in the report, not a failure.
 */
import { globMatches } from '../results/known-issue.js';
import type { TargetDescription } from '../target/target-description.js';
import type { BehaviourFingerprint, ObservedFirstHop } from './behaviour-fingerprint.js';
import type { FingerprintProbe } from './fingerprint-probes.js';
import { bucketNameOf, isLoopbackHost } from './location-shape.js';

export interface FieldChange {
  field: string;
  candidate: string;
  baseline: string;
}

export interface BehaviourDifference {
  /** the probe id (`blob:<digest>@<vantage>`, `tag-list@<vantage>`, `ping`) or `digest:<ref>` */
  id: string;
  kind: string;
  vantage: string | null;
  request?: { method: string; path: string };
  changes: FieldChange[];
  candidate: string;
  baseline: string;
  /** matched an `--accept` pattern: reported, not blocking */
  accepted?: string;
  note?: string;
}

export interface DeclaredDifference {
  field: string;
  candidate: string;
  baseline: string;
}

export interface FingerprintDiff {
  compared: number;
  differences: BehaviourDifference[];
  declared: DeclaredDifference[];
  hostnames: { candidateOnly: string[]; baselineOnly: string[] };
}

/** One line for a first hop: `307 bucket:prod-registry-k8s-io-ap-south-1 /containers/images/sha256:…`. */
export function describeHop(o: ObservedFirstHop | undefined): string {
  if (!o) return '(not probed)';
  if (o.status === 0) return `no answer${o.error ? ` (${o.error})` : ''}`;
  const parts = [String(o.status)];
  if (o.shape) parts.push(o.shape.destination, `${o.shape.path}${o.shape.query ? `?${o.shape.query}` : ''}`);
  const headers = Object.entries(o.headers).map(([k, v]) => `${k}: ${v}`);
  if (headers.length > 0) parts.push(`[${headers.join('; ')}]`);
  return parts.join(' ');
}

function hopFields(o: ObservedFirstHop | undefined): Record<string, string> {
  if (!o) return { answer: '(not probed)' };
  if (o.status === 0) return { answer: 'no answer' };
  const f: Record<string, string> = {
    status: String(o.status),
    destination: o.shape?.destination ?? '(none)',
    path: o.shape?.path ?? '(none)',
    query: o.shape?.query ?? '',
  };
  for (const [k, v] of Object.entries(o.headers)) f[`header ${k}`] = v;
  return f;
}

function changesBetween(c: Record<string, string>, b: Record<string, string>): FieldChange[] {
  const keys = [...new Set([...Object.keys(c), ...Object.keys(b)])].sort();
  return keys
    .filter((k) => c[k] !== b[k])
    .map((k) => ({ field: k, candidate: c[k] ?? '(absent)', baseline: b[k] ?? '(absent)' }));
}

/** What the two descriptions declare differently (never blocking by itself). */
export function declaredDifferences(candidate: TargetDescription, baseline: TargetDescription): DeclaredDifference[] {
  const out: DeclaredDifference[] = [];
  // two local stacks differ only in their ports: a loopback host:port is not configuration
  const comparable = (v: string | null | undefined) => {
    if (v === null || v === undefined) return '';
    try {
      const u = new URL(v);
      return isLoopbackHost(u.host) ? `${u.protocol}//loopback${u.pathname.replace(/\/+$/, '')}` : v;
    } catch {
      return v;
    }
  };
  const cmp = (field: string, c: string | null | undefined, b: string | null | undefined) => {
    if (comparable(c) !== comparable(b)) out.push({ field, candidate: c ?? '(none)', baseline: b ?? '(none)' });
  };
  cmp('semantics', candidate.semantics, baseline.semantics);
  cmp('default blob base', candidate.bucketMap.default, baseline.bucketMap.default);
  cmp('upstream', candidate.upstream, baseline.upstream);
  cmp('upstream path', candidate.upstreamPath, baseline.upstreamPath);
  cmp('signature upstream', candidate.signatureUpstream, baseline.signatureUpstream);
  const regions = [
    ...new Set([...Object.keys(candidate.bucketMap.regions), ...Object.keys(baseline.bucketMap.regions)]),
  ].sort();
  for (const r of regions) {
    const c = candidate.bucketMap.regions[r];
    const b = baseline.bucketMap.regions[r];
    cmp(
      `bucket for ${r}`,
      c === undefined ? undefined : bucketNameOf(c),
      b === undefined ? undefined : bucketNameOf(b),
    );
  }
  return out;
}

export interface DiffOptions {
  /** glob patterns over difference ids that are expected (e.g. a deliberate change being promoted) */
  accept?: readonly string[];
}

export function diffFingerprints(
  probes: readonly FingerprintProbe[],
  candidate: BehaviourFingerprint,
  baseline: BehaviourFingerprint,
  targets: { candidate: TargetDescription; baseline: TargetDescription },
  options: DiffOptions = {},
): FingerprintDiff {
  const differences: BehaviourDifference[] = [];
  const accept = (id: string) => options.accept?.find((g) => globMatches(g, id));
  let compared = 0;
  for (const p of probes) {
    const c = candidate.firstHops[p.id];
    const b = baseline.firstHops[p.id];
    // a probe neither side could make from this vantage (not applicable on both) compares nothing
    if (c?.error?.startsWith('not applicable') && b?.error?.startsWith('not applicable')) continue;
    compared++;
    const changes = changesBetween(hopFields(c), hopFields(b));
    if (changes.length === 0) continue;
    const accepted = accept(p.id);
    differences.push({
      id: p.id,
      kind: p.kind,
      vantage: p.vantage,
      request: { method: p.method, path: p.path },
      changes,
      candidate: describeHop(c),
      baseline: describeHop(b),
      ...(accepted ? { accepted } : {}),
      ...(p.note ? { note: p.note } : {}),
    });
  }
  for (const ref of [...new Set([...Object.keys(candidate.digests), ...Object.keys(baseline.digests)])].sort()) {
    compared++;
    const c = candidate.digests[ref];
    const b = baseline.digests[ref];
    const text = (d: typeof c) => d?.digest ?? (d?.error ? `error: ${d.error}` : '(not read)');
    if (c?.digest !== undefined && c.digest === b?.digest) continue;
    // neither side could read it: no behaviour to compare (the integrity suite, when run, says why)
    if (c?.digest === undefined && b?.digest === undefined) continue;
    const id = `digest:${ref}`;
    const accepted = accept(id);
    differences.push({
      id,
      kind: 'digest',
      vantage: candidate.vantages[0]?.name ?? null,
      changes: [{ field: 'digest', candidate: c?.digest ?? '(none)', baseline: b?.digest ?? '(none)' }],
      candidate: text(c),
      baseline: text(b),
      ...(accepted ? { accepted } : {}),
    });
  }
  const cHosts = new Set(candidate.hosts);
  const bHosts = new Set(baseline.hosts);
  return {
    compared,
    differences,
    declared: declaredDifferences(targets.candidate, targets.baseline),
    hostnames: {
      candidateOnly: candidate.hosts.filter((h) => !bHosts.has(h)),
      baselineOnly: baseline.hosts.filter((h) => !cHosts.has(h)),
    },
  };
}

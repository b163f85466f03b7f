/**
 * The requests of a gate fingerprint: the same list is sent to both environments, so each probe's id must mean the
 * same request on both sides. A focused set rather than the suites' hundreds of checks (the suites can still run
 * beside it, `gate --suite`):
 *
 * - per vantage: manifest by tag and by digest, the tag list with `n`/`last` (archeio drops them,
 *   kubernetes/registry.k8s.io#326), the cosign signature tag and the signature manifest by digest (S1/S2), the
 *   referrers API (S3), and blobs chosen by each side's routing oracle (one its bucket holds, one it lacks, one no
 *   bucket holds) — the union of both sides', so a blob that routes differently on either side is asked of both;
 * - once (they do not depend on the client): `/v2/`, `/v2/_catalog`, `POST /v2/`, `/`, `/privacy`, `/v1/_ping`,
 *   a dot-segment path.
 */
import { REQUEST_KINDS, primaryImage, splitRef, type RoutingOracle } from '../oracle/routing-oracle.js';
import type { TargetDescription, Vantage } from '../target/target-description.js';

export interface FingerprintProbe {
  /** stable across environments: `<kind>@<vantage>`, `blob:<digest>@<vantage>`, or `<kind>` for client-independent ones */
  id: string;
  kind: string;
  /** null: client-independent, sent from the first vantage */
  vantage: string | null;
  method: string;
  /** raw path (sent byte for byte) */
  path: string;
  /** a cosign signature request: the canonical signature upstream is told apart from the upstream */
  signature?: boolean;
  /** why the request was chosen */
  note?: string;
}

export interface ProbeSide {
  label: string;
  target: TargetDescription;
  oracle: RoutingOracle;
}

const BLOB_KINDS = REQUEST_KINDS.filter((k) => k.startsWith('blob-'));

/** Image refs listed by both targets, in the first target's order (their digests are compared). */
export function commonRefs(a: TargetDescription, b: TargetDescription): string[] {
  const other = new Set(b.images.map((i) => i.ref));
  return a.images.map((i) => i.ref).filter((r) => other.has(r));
}

/** The primary image both sides know, else the first side's. */
function sharedPrimary(sides: readonly ProbeSide[]) {
  const first = sides[0]!.target;
  const shared = new Set(commonRefs(first, sides[sides.length - 1]!.target));
  return (
    first.images.find((i) => shared.has(i.ref) && !i.kind?.some((k) => k === 'signature' || k === 'referrer')) ??
    primaryImage(first)
  );
}

function signatureImage(sides: readonly ProbeSide[]) {
  for (const s of sides) {
    const sig = s.target.images.find(
      (i) => i.kind?.includes('signature') || /:sha256-[a-f0-9]{64}\.(sig|att)$/.test(i.ref),
    );
    if (sig) return sig;
  }
  return undefined;
}

/** Builds the probe list for the gate's vantages (sorted by id). */
export async function gateProbes(
  sides: readonly ProbeSide[],
  vantages: readonly Vantage[],
): Promise<FingerprintProbe[]> {
  const probes = new Map<string, FingerprintProbe>();
  const add = (p: FingerprintProbe) => {
    const prior = probes.get(p.id);
    if (prior) {
      if (p.note && !prior.note?.includes(p.note)) prior.note = prior.note ? `${prior.note}; ${p.note}` : p.note;
      return;
    }
    probes.set(p.id, p);
  };
  const once = (kind: string, method: string, path: string) => add({ id: kind, kind, vantage: null, method, path });
  once('ping', 'GET', '/v2/');
  once('catalog', 'GET', '/v2/_catalog');
  once('method-not-allowed', 'POST', '/v2/');
  once('root', 'GET', '/');
  once('privacy', 'GET', '/privacy');
  once('unknown-path', 'GET', '/v1/_ping');

  const image = sharedPrimary(sides);
  const main = image ? splitRef(image.ref) : null;
  if (main) once('dot-segments', 'GET', `/v2/${main.repository}/manifests/../../../x`);
  const sig = signatureImage(sides);
  for (const v of vantages) {
    const at = (kind: string, method: string, path: string, extra: Partial<FingerprintProbe> = {}) =>
      add({ id: `${kind}@${v.name}`, kind, vantage: v.name, method, path, ...extra });
    if (main && image) {
      at('manifest-by-tag', 'GET', `/v2/${main.repository}/manifests/${main.tag}`);
      at('manifest-by-digest', 'GET', `/v2/${main.repository}/manifests/${image.digest}`);
      at('tag-list', 'GET', `/v2/${main.repository}/tags/list?n=2&last=${encodeURIComponent(main.tag)}`);
      at('referrers', 'GET', `/v2/${main.repository}/referrers/${image.digest}`);
    }
    if (sig) {
      const s = splitRef(sig.ref);
      at('signature-tag', 'GET', `/v2/${s.repository}/manifests/${s.tag}`, { signature: true });
      at('signature-by-digest', 'GET', `/v2/${s.repository}/manifests/${sig.digest}`, {
        note: 'the signature manifest by digest (docs/reference/incidents.md#signatures-and-referrers S2)',
      });
    }
    for (const side of sides) {
      for (const kind of BLOB_KINDS) {
        let probe;
        try {
          probe = await side.oracle.probeFor(kind, v);
        } catch {
          probe = null; // a side whose description contradicts the data: its suites say so; the fingerprint goes on
        }
        if (!probe?.digest) continue;
        add({
          id: `blob:${probe.digest}@${v.name}`,
          kind: 'blob',
          vantage: v.name,
          method: 'GET',
          path: probe.path,
          note: `${kind} for ${side.label}`,
        });
      }
    }
  }
  return [...probes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Raw-path probes (docs/reference/oci-distribution.md#edge-cases E13): paths that fetch() would normalise before sending,
 * sent byte for byte, to see what the redirector does with dot segments, encoded slashes, doubled slashes, case and odd
 * characters. Whatever it answers, it must never answer 5xx and never emit a Location outside the configured prefixes
 * (redirector rule 4; archeio's path.Join escapes them, docs/reference/archeio.md#url-construction, quirk Q2).
 */
import { isOciError, CheckFailure, type Check, type Hop, type FirstHopResult } from '../../harness/src/index.js';
import { conformanceFailure, ociErrorBodyProblem } from './conformance-expect.js';
import type { ConformanceKit } from './conformance-kit.js';
import { allowedLocationPrefixes, locationEscape } from './location-prefixes.js';
import { ociImageManifest } from './seeded-content.js';

interface PathProbe {
  path: string;
  /** the path has a `.` or `..` segment, decoded or percent-encoded (redirector rule 4: 400) */
  dotSegments: boolean;
}

/** The probes, built on a real repository, tag and blob so a lenient router would find something to redirect to. */
export function pathProbes(repo: string, tag: string, blob: string): PathProbe[] {
  const dot = (path: string): PathProbe => ({ path, dotSegments: true });
  const odd = (path: string): PathProbe => ({ path, dotSegments: false });
  return [
    dot(`/v2/../v2/${repo}/manifests/${tag}`),
    dot(`/v2/%2e%2e/%2e%2e/other/repo/manifests/${tag}`),
    dot(`/v2/%2E%2E/%2E%2E/%2E%2E/x`),
    dot(`/v2/${repo}/../../../v2/other/r/manifests/${tag}`),
    dot(`/v2/../../../x`),
    dot(`/v2/./${repo}/manifests/${tag}`),
    dot(`/v2/${repo}/%2e/manifests/${tag}`),
    dot(`/v2/${repo}/../other/blobs/${blob}`),
    dot(`/v2/${repo}/%2e%2e/%2e%2e/%2e%2e/x/blobs/${blob}`),
    odd(`/v2/..%2F..%2Fother/manifests/${tag}`),
    odd(`/v2/${repo}%2F..%2F..%2Fother/manifests/${tag}`),
    odd(`/v2/${repo}/blobs/..%2F..%2F${blob}`),
    odd(`//v2/${repo}/manifests/${tag}`),
    odd(`/v2//${repo}//manifests/${tag}`),
    odd(`/v2/${repo}/manifests/${tag}/`),
    odd(`/v2/${repo}/tags/list/`),
    odd(`/v2/_catalog/`),
    odd(`/v2foo/${repo}/manifests/${tag}`),
    odd(`/V2/${repo}/manifests/${tag}`),
    odd(`/v2/${repo}/Manifests/${tag}`),
    odd(`/v2/${repo};x=y/manifests/${tag}`),
    odd(`/v2/${repo}%00/manifests/${tag}`),
    odd(`/v2/${repo}\\..\\..\\x/manifests/${tag}`),
    odd(`/v2/${repo}/manifests/${tag}%0d%0aX-Injected:%201`),
    odd(`/v2/${repo}/manifests/${tag}?x=%0d%0aX-Injected:%201`),
  ];
}

export function pathProbeChecks(kit: ConformanceKit): Check[] {
  const probesFor = async (content: Awaited<ReturnType<ConformanceKit['content']>>) => {
    const m = ociImageManifest(content);
    return pathProbes(m.repo, m.tag, m.blobs[0]?.digest ?? m.image.digest);
  };
  return [
    kit.check(
      'path-probes-stay-in-prefix',
      'Raw dot-segment, encoded-slash and odd paths never produce a 5xx or a Location outside the configured upstream, bucket and info prefixes',
      'redirector rule 4 ("every Location lies on one of the configured hosts and prefixes"); docs/reference/oci-distribution.md#edge-cases E13, E16 (no CR/LF in Location)',
      async ({ client, content, evidence }) => {
        const prefixes = allowedLocationPrefixes(kit.target);
        const problems: string[] = [];
        const hops: Hop[] = [];
        const unanswered: string[] = [];
        for (const probe of await probesFor(await content())) {
          let r: FirstHopResult;
          try {
            r = await client.firstHop('GET', probe.path);
          } catch (err) {
            // one probe that hangs or resets must not hide what the others show
            if (!isOciError(err)) throw err;
            hops.push(...err.hops);
            unanswered.push(`GET ${probe.path}: ${err.code}`);
            continue;
          }
          hops.push(r.hop);
          if (r.status >= 500) unanswered.push(`GET ${probe.path} → ${r.status}`);
          if (r.headers['x-injected'] !== undefined)
            problems.push(`GET ${probe.path}: a header was injected from the path`);
          if (r.location === undefined) continue;
          const escaped = locationEscape(r.location, r.hop.url, prefixes);
          if (escaped !== null) problems.push(`GET ${probe.path} → ${r.status}: ${escaped}`);
        }
        if (problems.length > 0)
          throw conformanceFailure(problems.join('; '), hops, { allowed: prefixes.map((p) => p.prefix), unanswered });
        if (unanswered.length > 0)
          throw new CheckFailure('availability', `probes without a usable answer: ${unanswered.join('; ')}`, hops);
        evidence(hops);
      },
    ),
    kit.check(
      'dot-segments-rejected',
      'Paths with `.` or `..` segments (decoded or %2e-encoded) are answered 400 with an OCI JSON error, not redirected',
      'redirector rule 4 ("a path with dot segments → 400 with an OCI JSON error body"); dist-spec "Error Codes"; archeio quirk Q2',
      async ({ client, content, evidence }) => {
        const problems: string[] = [];
        const hops: Hop[] = [];
        for (const probe of (await probesFor(await content())).filter((p) => p.dotSegments)) {
          const r = await client.firstHop('GET', probe.path);
          hops.push(r.hop);
          if (r.status >= 500) throw new CheckFailure('availability', `GET ${probe.path} → ${r.status}`, [r.hop]);
          if (r.status !== 400) {
            problems.push(`GET ${probe.path} → ${r.status}${r.location ? ` → ${r.location}` : ''}`);
            continue;
          }
          const problem = ociErrorBodyProblem(r.body, r.headers['content-type'], { requireJson: true });
          if (problem !== null) problems.push(`GET ${probe.path} → 400: ${problem}`);
        }
        if (problems.length > 0)
          throw conformanceFailure(`expected 400 with an OCI JSON error: ${problems.join('; ')}`, hops);
        evidence(hops);
      },
    ),
  ];
}

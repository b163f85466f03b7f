/**
 * The sweep the every-image manifest checks share: every seeded image's manifest, by tag and by digest, judged in
 * turn, with every problem reported at once (not just the first).
 */
import { MANIFEST_ACCEPT, type OciClient, type ProbeResult, type Hop } from '../../harness/src/index.js';
import { conformanceFailure, expectStatus, probe } from './conformance-expect.js';
import { noImages, type SeededContent, type SeededImage } from './seeded-content.js';

/**
 * Probes the manifest of every image in `content` by tag and by digest, following redirects, with the full manifest
 * Accept list: image by image, each of `methods` in turn, the tag before the digest. A final status other than 200
 * fails at once (`expectStatus`); otherwise `judge` returns the problems of that answer (`what` is
 * `<method> <repo>:<ref>`, the prefix of its messages; it may also throw to stop the sweep). Throws `noImages` when
 * there is no image, and a conformance failure listing every problem, with the hops of every probe, when any was found.
 */
export async function sweepManifestProbes(
  client: OciClient,
  content: SeededContent,
  methods: readonly string[],
  judge: (p: ProbeResult, image: SeededImage, what: string) => string[],
): Promise<void> {
  if (content.images.length === 0) throw noImages(content);
  const problems: string[] = [];
  const hops: Hop[] = [];
  for (const s of content.images) {
    for (const method of methods) {
      for (const ref of [s.tag, s.image.digest]) {
        const what = `${method} ${s.repo}:${ref}`;
        const p = await probe(client, method, `/v2/${s.repo}/manifests/${ref}`, { accept: MANIFEST_ACCEPT.join(', ') });
        hops.push(...p.hops);
        expectStatus(p, [200], what);
        problems.push(...judge(p, s, what));
      }
    }
  }
  if (problems.length > 0) throw conformanceFailure(problems.join('; '), hops);
}

/**
 * Runs `judge` on every image in `content`, by tag and then by digest, image by image, for checks that fetch through
 * the client's own calls; `judge` returns the problems it found (it may also throw to stop the sweep). Throws
 * `noImages` when there is no image, and a conformance failure listing every problem (without hops) when any was found.
 */
export async function sweepManifestRefs(
  content: SeededContent,
  judge: (image: SeededImage, ref: string) => Promise<string[]>,
): Promise<void> {
  if (content.images.length === 0) throw noImages(content);
  const problems: string[] = [];
  for (const s of content.images) {
    for (const ref of [s.tag, s.image.digest]) problems.push(...(await judge(s, ref)));
  }
  if (problems.length > 0) throw conformanceFailure(problems.join('; '));
}

/**
 * The pre-seeded content the official program pulls (`OCI_RO_DATA_*`), chosen from what the target lists and the
 * conformance suite's discovery found (suites/conformance/seeded-content.ts). The program takes one repository, so
 * the choice is the repository with seeded referrers (its referrers test needs a subject), then the one with the
 * most listed images; every tag, manifest (listed images, the children of listed indexes, the referrers) and blob
 * of that repository goes in.
 */
import type { ReadOnlyInputs } from '../../harness/src/index.js';
import type { SeededContent } from '../conformance/seeded-content.js';

/** Digests the program can parse (go-digest's registered algorithms). */
const PROGRAM_DIGEST = /^sha(256|384|512):[a-f0-9]+$/;

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

export function chooseRepository(content: SeededContent): string | null {
  const repos = unique(content.images.map((s) => s.repo));
  const score = (repo: string) => ({
    referrers: content.referrers.filter((r) => r.repo === repo).length,
    images: content.images.filter((s) => s.repo === repo).length,
  });
  const ranked = repos
    .map((repo, order) => ({ repo, order, ...score(repo) }))
    .sort((a, b) => Number(b.referrers > 0) - Number(a.referrers > 0) || b.images - a.images || a.order - b.order);
  return ranked[0]?.repo ?? null;
}

export function readOnlyInputs(content: SeededContent): ReadOnlyInputs | null {
  const repo = chooseRepository(content);
  if (repo === null) return null;
  const images = content.images.filter((s) => s.repo === repo);
  const referrers = content.referrers.filter((r) => r.repo === repo);
  const manifests = unique([
    ...images.map((s) => s.image.digest),
    ...images.flatMap((s) => s.children.map((c) => c.digest)),
    ...referrers.map((r) => r.digest),
  ]);
  const blobs = unique(images.flatMap((s) => s.blobs.map((b) => b.digest)));
  return {
    repo,
    tags: unique(images.map((s) => s.tag)),
    manifests: manifests.filter((d) => PROGRAM_DIGEST.test(d)),
    blobs: blobs.filter((d) => PROGRAM_DIGEST.test(d)),
    referrers: unique(referrers.map((r) => r.subject)).filter((d) => PROGRAM_DIGEST.test(d)),
  };
}

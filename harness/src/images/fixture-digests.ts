/**
 * The record of the default fixture set's digests, `fixtures/images/digests.json`. It is what "deterministic"
 * means in practice: a test regenerates the set and compares against this file, so any change to the generator's
 * output is a visible diff (and a FIXTURE_GENERATOR_VERSION bump), never a silent one.
 */
import path from 'node:path';
import { findRepoRoot } from './fixture-cache.js';
import type { FixtureSet } from './fixture-images.js';

export interface FixtureDigestRecord {
  generatorVersion: number;
  bigLayerMiB: number;
  images: { ref: string; digest: string; mediaType: string; size: number; kind: string[] }[];
  manifests: { repo: string; role: string; digest: string; mediaType: string; size: number }[];
  blobs: { repo: string; role: string; digest: string; mediaType: string; size: number }[];
  referrers: { repo: string; subject: string; digest: string; artifactType: string }[];
}

export function fixtureDigestsFile(): string {
  return path.join(findRepoRoot(), 'fixtures', 'images', 'digests.json');
}

export function digestRecordOf(set: FixtureSet): FixtureDigestRecord {
  return {
    generatorVersion: set.generatorVersion,
    bigLayerMiB: set.bigLayerMiB,
    images: set.images.map(({ ref, digest, mediaType, size, kind }) => ({ ref, digest, mediaType, size, kind })),
    manifests: set.manifests.map(({ repo, role, digest, mediaType, size }) => ({
      repo,
      role,
      digest,
      mediaType,
      size,
    })),
    blobs: set.blobs.map(({ repo, role, digest, mediaType, size }) => ({ repo, role, digest, mediaType, size })),
    referrers: set.referrers.map(({ repo, subject, digest, artifactType }) => ({
      repo,
      subject,
      digest,
      artifactType,
    })),
  };
}

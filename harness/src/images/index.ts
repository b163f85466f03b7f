/** Public surface of the fixture-image generator. */
export {
  buildFixtureImages,
  DEFAULT_BIG_LAYER_MIB,
  FIXED_CREATED,
  FIXTURE_GENERATOR_VERSION,
  FIXTURE_SET_FILE,
  SBOM_ARTIFACT_TYPE,
  SIGNATURE_ARTIFACT_TYPE,
  COSIGN_SIMPLESIGNING,
  type BuildFixtureOptions,
  type FixtureBlob,
  type FixtureImage,
  type FixtureManifest,
  type FixtureReferrer,
  type FixtureSet,
} from './fixture-images.js';
export {
  ensureFixtureImages,
  findRepoRoot,
  fixtureCacheKey,
  loadFixtureSet,
  type EnsureFixtureOptions,
} from './fixture-cache.js';
export { digestRecordOf, fixtureDigestsFile, type FixtureDigestRecord } from './fixture-digests.js';
export { OciLayoutWriter, REF_NAME_ANNOTATION } from './oci-layout-writer.js';
export { canonicalJson, canonicalJsonBytes } from './canonical-json.js';
export { keystream, keystreamBytes } from './keystream.js';
export { storedGzip } from './stored-gzip.js';
export { buildTar, tarHeader, type TarEntry } from './tar-archive.js';

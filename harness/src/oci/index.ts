/** Public surface of the OCI client. */
export {
  createOciClient,
  OciClient,
  type BlobHead,
  type BlobOptions,
  type BlobResult,
  type FirstHopResult,
  type ManifestHead,
  type ManifestOptions,
  type ManifestResult,
  type OciClientOptions,
  type ParityResult,
  type ParitySide,
  type PingResult,
  type ProbeOptions,
  type ProbeResult,
  type RangeOptions,
  type RangeResult,
} from './oci-client.js';
export type { Exchange, ExchangeOptions, HeaderInput, OciTransportOptions } from './oci-transport.js';
export type { ListTagsOptions, ReferrersOptions, ReferrersResult, TagList, TagPage } from './oci-listings.js';
export {
  pullImage,
  type BlobPullContext,
  type PulledBlob,
  type PulledManifest,
  type PullOptions,
  type PullResult,
} from './pull-image.js';
export { pushLayout, readLayoutGraph, type PushOptions, type PushResult } from './push.js';
export {
  AnonymousTokenCache,
  RegistryAuthError,
  bearerChallengeOf,
  parseTokenResponse,
  parseWwwAuthenticate,
  repositoryOfPath,
  tokenRequestUrl,
  type AnonymousToken,
  type AuthChallenge,
  type BearerChallenge,
} from './registry-auth.js';
export {
  OciError,
  OCI_ERROR_CODES,
  failureClassOf,
  isOciError,
  type OciErrorBodyEntry,
  type OciErrorCode,
} from './oci-error.js';
export { RECORDED_RESPONSE_HEADERS, type OciHop } from './hop.js';
export { verifyBody, type VerifiedBody, type VerifyExpectation, type VerifyOptions } from './body-verifier.js';
export {
  parseContentRange,
  rangeHeaderValue,
  resolveRange,
  type ByteRangeRequest,
  type ContentRange,
} from './byte-range.js';
export {
  computableAlgorithm,
  cosignSignatureTagFor,
  digestOf,
  isDigest,
  parseDigest,
  referrersTagFor,
  tryParseDigest,
  type DigestAlgorithm,
  type ParsedDigest,
} from './digest.js';
export { platformString, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from './descriptor.js';
export { acceptHeader, essenceOf, MANIFEST_ACCEPT, MediaType } from './media-types.js';
export { nextLink, parseLinkHeader } from './link-header.js';

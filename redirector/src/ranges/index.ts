/** The ranges package's public surface: cloud range publications, the classifier, validated refresh. */
export { CLOUDS, awsRegionsIn, cloudKey, countPrefixes, isGlobalRegion } from './range-data.js';
export type {
  Cloud,
  CloudKey,
  ParsedPublication,
  RangeData,
  RangeEntry,
  RangeSources,
  RangeVersions,
} from './range-data.js';
export { RangeDataError } from './range-data-error.js';
export { parseAwsRanges } from './parse-aws-ranges.js';
export { parseGcpRanges } from './parse-gcp-ranges.js';
export { parseAzureRanges } from './parse-azure-ranges.js';
export { loadRangeData, parseRangeJson, parseRangeText, parseRangeTexts } from './load-range-data.js';
export type { RangeTexts } from './load-range-data.js';
export { BUNDLED_RANGE_SOURCES, bundledRangeSources, findPackageRoot } from './bundled-range-sources.js';
export { IpClassifier, SEMANTICS } from './ip-classifier.js';
export type { Classification, LookupEngine, Semantics, Shadowing } from './ip-classifier.js';
export { RangeRefresher, RangeRefreshOptionsError, mergeRangeData, validateRefresh } from './range-refresh.js';
export type { RangeRefresherOptions, RefreshOutcome } from './range-refresh.js';
export { RangeFetchError, createRangeTextReader, isUrlSource } from './range-text-reader.js';
export type { RangeTextReaderOptions, ReadRangeText } from './range-text-reader.js';

/**
 * Reading the three publications into one RangeData. The synchronous loader is for start-up (the bundled snapshots
 * or the AWS_IP_RANGES / GCP_IP_RANGES / AZURE_IP_RANGES overrides); the refresher fetches texts itself and uses
 * parseRangeTexts.
 */
import { readFileSync } from 'node:fs';
import { jsonErrorLocation } from './json-error-location.js';
import { parseAwsRanges } from './parse-aws-ranges.js';
import { parseAzureRanges } from './parse-azure-ranges.js';
import { parseGcpRanges } from './parse-gcp-ranges.js';
import { RangeDataError } from './range-data-error.js';
import type { Cloud, CloudKey, ParsedPublication, RangeData, RangeSources } from './range-data.js';

/** The raw text of each publication. */
export type RangeTexts = Record<CloudKey, string>;

const PARSERS: Record<CloudKey, { cloud: Cloud; parse: (json: unknown, source: string) => ParsedPublication }> = {
  aws: { cloud: 'AWS', parse: parseAwsRanges },
  gcp: { cloud: 'GCP', parse: parseGcpRanges },
  azure: { cloud: 'Azure', parse: parseAzureRanges },
};

/** JSON.parse with errors that name the cloud, the source and the line and column. */
export function parseRangeJson(cloud: Cloud, text: string, source: string): unknown {
  // Microsoft's downloads may start with a byte-order mark, which JSON.parse refuses.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new RangeDataError(`${cloud} ranges ${source}: the file is empty`);
  try {
    return JSON.parse(body);
  } catch (err) {
    const at = jsonErrorLocation(body);
    const where =
      at === null
        ? ''
        : at.atEnd
          ? ` at line ${at.line} column ${at.column}, where the text ends (truncated?)`
          : ` at line ${at.line} column ${at.column}`;
    throw new RangeDataError(`${cloud} ranges ${source}: invalid JSON${where}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Parses one publication's text. */
export function parseRangeText(key: CloudKey, text: string, source: string): ParsedPublication {
  const { cloud, parse } = PARSERS[key];
  return parse(parseRangeJson(cloud, text, source), source);
}

/** Parses the three texts into RangeData; `sources` only label error messages. Throws RangeDataError. */
export function parseRangeTexts(texts: RangeTexts, sources: RangeSources): RangeData {
  const aws = parseRangeText('aws', texts.aws, sources.aws);
  const gcp = parseRangeText('gcp', texts.gcp, sources.gcp);
  const azure = parseRangeText('azure', texts.azure, sources.azure);
  return {
    entries: [...aws.entries, ...gcp.entries, ...azure.entries],
    versions: { aws: aws.version, gcp: gcp.version, azure: azure.version },
    order: { aws: aws.order, gcp: gcp.order, azure: azure.order },
  };
}

/** Reads (synchronously) and parses the three files. Throws RangeDataError. */
export function loadRangeData(sources: RangeSources): RangeData {
  const read = (key: CloudKey): string => {
    try {
      return readFileSync(sources[key], 'utf8');
    } catch (err) {
      throw new RangeDataError(
        `${PARSERS[key].cloud} ranges ${sources[key]}: cannot read the file: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
  return parseRangeTexts({ aws: read('aws'), gcp: read('gcp'), azure: read('azure') }, sources);
}

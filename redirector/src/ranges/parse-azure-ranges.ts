/**
 * Azure Service Tags (the weekly `ServiceTags_Public_<date>.json`, https://www.microsoft.com/download/details.aspx?id=56519).
 *
 * As in archeio's ranges2go parse_azure.go@093d55a, only the `AzureCloud.<region>` tags with a non-empty
 * `properties.region` are read: together they cover every regional Azure prefix, and the many service tags
 * (Storage.WestEurope, ...) only repeat subsets of them. `addressPrefixes` mixes IPv4 and IPv6. Tags that are not
 * regional AzureCloud tags are skipped without further checks. The version is the file's `changeNumber`, which may
 * be 0 (the bundled snapshot is reconstructed; see fixtures/ip-ranges/raw/PROVENANCE.md).
 */
import { PublicationReader } from './publication-reader.js';
import type { ParsedPublication } from './range-data.js';

export function parseAzureRanges(json: unknown, source: string): ParsedPublication {
  const r: PublicationReader = new PublicationReader('Azure', source);
  const root = r.object(json);
  const changeNumber = root['changeNumber'];
  if (typeof changeNumber !== 'number' || !Number.isSafeInteger(changeNumber) || changeNumber < 0) {
    return r.fail(`expected a whole number >= 0, got ${JSON.stringify(changeNumber) ?? 'nothing'}`, 'changeNumber');
  }
  const tags = r.array(root['values'], 'values');
  for (let i = 0; i < tags.length; i++) {
    const o = r.object(tags[i], 'values', i);
    const name = r.string(o['name'], 'values', i, 'name');
    if (!name.startsWith('AzureCloud.')) continue;
    const props = r.object(o['properties'], 'values', i, 'properties');
    if (props['region'] === '' || props['region'] === undefined) continue;
    const region = r.string(props['region'], 'values', i, 'properties.region');
    const prefixes = r.array(props['addressPrefixes'], 'values', i, 'properties.addressPrefixes');
    for (let j = 0; j < prefixes.length; j++)
      r.add(prefixes[j], 'any', region, 'values', i, 'properties.addressPrefixes', j);
  }
  return { entries: r.entries(), version: String(changeNumber), order: changeNumber };
}

/**
 * What the three publication parsers share: schema checks that name the offending field by its JSON path, and the
 * collection of entries (canonical prefix text, deduplicated per (region, prefix) as archeio's ranges2go does).
 *
 * A path is given in pieces, `(list, index, field, subIndex)` → `list[index].field[subIndex]`, and only turned into
 * text when a check fails: the AWS file alone has ~16k entries, and building their paths eagerly cost more than
 * parsing them.
 */
import { formatIpPrefix, parseIpPrefix } from '../net/ip-prefix.js';
import type { IpPrefix } from '../net/ip-prefix.js';
import { RangeDataError } from './range-data-error.js';
import type { Cloud, RangeEntry } from './range-data.js';

/**
 * The parsed form of each entry the parsers produce, so that building a classifier does not parse ~27k prefixes a
 * second time (IpClassifier.build parses entries made elsewhere). Entries are treated as immutable values.
 */
export const PARSED_PREFIXES = new WeakMap<RangeEntry, IpPrefix>();

/** `list[index].field[subIndex]`, leaving out the parts that are absent (index < 0, field '', subIndex < 0). */
function formatPath(list: string, index: number, field: string, subIndex: number): string {
  let path = list;
  if (index >= 0) path += `[${index}]`;
  if (field !== '') path += path === '' ? field : `.${field}`;
  if (subIndex >= 0) path += `[${subIndex}]`;
  return path;
}

export class PublicationReader {
  /** region → the prefix texts (as published, and canonical) already collected for it */
  private readonly seen = new Map<string, Set<string>>();
  private readonly collected: RangeEntry[] = [];

  constructor(
    readonly cloud: Cloud,
    /** the file path or URL, for messages */
    readonly source: string,
  ) {}

  /** Throws a RangeDataError naming the cloud, the source and the JSON path. */
  fail(message: string, list = '', index = -1, field = '', subIndex = -1): never {
    const path = formatPath(list, index, field, subIndex);
    throw new RangeDataError(`${this.cloud} ranges ${this.source}: ${path ? `${path}: ` : ''}${message}`);
  }

  object(value: unknown, list = '', index = -1, field = ''): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(`expected an object, got ${describe(value)}`, list, index, field);
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, list: string, index = -1, field = ''): unknown[] {
    if (!Array.isArray(value)) this.fail(`expected an array, got ${describe(value)}`, list, index, field);
    return value;
  }

  string(value: unknown, list: string, index = -1, field = '', subIndex = -1): string {
    if (typeof value !== 'string' || value === '') {
      this.fail(`expected a non-empty string, got ${describe(value)}`, list, index, field, subIndex);
    }
    return value;
  }

  /** A decimal string of digits (syncToken), as a number; undefined when absent. */
  digits(value: unknown, field: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !/^[0-9]{1,16}$/.test(value))
      this.fail(`expected a string of digits, got ${describe(value)}`, field);
    return Number(value);
  }

  /** Parses, canonicalises and records one prefix (`family` restricts the address family). */
  add(
    value: unknown,
    family: 4 | 6 | 'any',
    region: string,
    list: string,
    index: number,
    field: string,
    subIndex = -1,
  ): void {
    const text = this.string(value, list, index, field, subIndex);
    let seen = this.seen.get(region);
    if (seen === undefined) {
      seen = new Set();
      this.seen.set(region, seen);
    }
    // AWS lists a prefix once per service, so most repeats are textual and need no parsing.
    if (seen.has(text)) return;
    seen.add(text);
    const prefix = parseIpPrefix(text);
    if (prefix === null || (family !== 'any' && prefix.network.family !== family)) {
      const want = family === 'any' ? 'a CIDR' : `an IPv${family} CIDR`;
      this.fail(`expected ${want} prefix, got ${describe(text)}`, list, index, field, subIndex);
    }
    const canonical = formatIpPrefix(prefix);
    if (canonical !== text) {
      if (seen.has(canonical)) return;
      seen.add(canonical);
    }
    const entry: RangeEntry = { prefix: canonical, cloud: this.cloud, region };
    PARSED_PREFIXES.set(entry, prefix);
    this.collected.push(entry);
  }

  entries(): RangeEntry[] {
    return this.collected;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

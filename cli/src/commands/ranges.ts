/**
 * `registry-canary ranges`: the cloud range publications the redirector classifies clients with.
 *
 *   ranges audit  [--ranges DIR] [--against OLD_DIR_OR_FILES] [--bucket-map FILE] [--allow-unmapped LIST] [--json]
 *                 shadowed prefixes with both semantics' answers; AWS regions without a bucket; every published
 *                 prefix resolving to its owner through the redirector's classifier; drift against an older snapshot.
 *                 Exit 1 when it finds a problem (an unmapped region, a prefix not resolving to its owner), else 0.
 *   ranges update [--out DIR] [--aws-url URL] [--gcp-url URL] [--azure-url URL] [--max-shrink F] [--dry-run]
 *                 fetches the live publications, validates them with the redirector's refresh rules (parse, not
 *                 older, not empty, not shrunken by more than F) and writes the changed files. Never run in tests
 *                 against the internet. Exit 0 written or unchanged, 1 rejected, 2 a source could not be read.
 *
 * The CLI may import the redirector (docs/architecture.md); the harness may not.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../../redirector/src/config.js';
import {
  BUNDLED_RANGE_SOURCES,
  RangeDataError,
  createRangeTextReader,
  loadRangeData,
  parseRangeText,
  parseRangeTexts,
  validateRefresh,
  type CloudKey,
  type ParsedPublication,
  type RangeData,
  type RangeSources,
} from '../../../redirector/src/ranges/index.js';
import { auditRanges, rangeDrift, type RangeAudit } from '../../../redirector/src/ranges/range-audit.js';
import {
  BucketMapError,
  bundledBucketMapPath,
  isExemptRegion,
  loadBucketMap,
} from '../../../redirector/src/routing/index.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { CliIo } from '../cli-io.js';
import type { RegisterCommand } from '../cli-io.js';
import { BUCKET_MAP_HELP } from '../default-hosts.js';

const FILE_NAMES: Record<CloudKey, string> = {
  aws: 'aws-ip-ranges.json',
  gcp: 'gcp-cloud.json',
  azure: 'azure-service-tags.json',
};
const KEYS: readonly CloudKey[] = ['aws', 'gcp', 'azure'];

const usage = (message: string): never => {
  throw new CliError(message, ExitCode.usage);
};
/** A file the command line names that is missing, unreadable or not range data (exit 2, cli/src/exit-codes.ts). */
const badFile = (message: string): never => {
  throw new CliError(message, ExitCode.misconfigured);
};

const sourcesIn = (dir: string): RangeSources => ({
  aws: join(dir, FILE_NAMES.aws),
  gcp: join(dir, FILE_NAMES.gcp),
  azure: join(dir, FILE_NAMES.azure),
});

/** Which cloud a publication is, from its shape (AWS `prefixes[].ip_prefix`, GCP `ipv4Prefix`/`ipv6Prefix`, Azure `values`). */
export function publicationCloud(json: unknown): CloudKey | null {
  const o = json as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return null;
  if (Array.isArray(o.values)) return 'azure';
  const first = Array.isArray(o.prefixes) ? (o.prefixes[0] as Record<string, unknown> | undefined) : undefined;
  if (Array.isArray(o.ipv6_prefixes) || (first && 'ip_prefix' in first)) return 'aws';
  if (first && ('ipv4Prefix' in first || 'ipv6Prefix' in first)) return 'gcp';
  return null;
}

/**
 * `--against`: a directory holding the three files by their fixture names, or comma-separated files recognised by
 * shape. A cloud the older snapshot lacks is taken from the current data (no drift reported for it).
 */
export function loadSnapshot(spec: string, current: RangeData): { data: RangeData; missing: CloudKey[] } {
  const parsed: Partial<Record<CloudKey, ParsedPublication>> = {};
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      return badFile(
        `--against: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  const parse = (key: CloudKey, file: string, text: string) => {
    try {
      parsed[key] = parseRangeText(key, text, file);
    } catch (err) {
      if (err instanceof RangeDataError) badFile(`--against: ${err.message}`);
      throw err;
    }
  };
  if (existsSync(spec) && statSync(spec).isDirectory()) {
    for (const key of KEYS) {
      const file = join(spec, FILE_NAMES[key]);
      if (existsSync(file)) parse(key, file, read(file));
    }
  } else {
    for (const file of spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const text = read(file);
      let json: unknown;
      try {
        json = JSON.parse(text.replace(/^\uFEFF/, ''));
      } catch {
        badFile(`--against: ${file} is not JSON`);
      }
      const key = publicationCloud(json);
      if (key === null) badFile(`--against: ${file} is not an AWS, GCP or Azure range publication`);
      if (parsed[key!]) usage(`--against: two ${key} publications given`);
      parse(key!, file, text);
    }
  }
  const missing = KEYS.filter((k) => !parsed[k]);
  if (missing.length === 3)
    badFile(
      `--against ${spec}: no range publication found (a directory with ${Object.values(FILE_NAMES).join(', ')}, or such files)`,
    );
  const cloudOf = { aws: 'AWS', gcp: 'GCP', azure: 'Azure' } as const;
  const entries = KEYS.flatMap((k) =>
    parsed[k] ? parsed[k]!.entries : current.entries.filter((e) => e.cloud === cloudOf[k]),
  );
  return {
    data: {
      entries,
      versions: {
        aws: parsed.aws?.version ?? current.versions.aws,
        gcp: parsed.gcp?.version ?? current.versions.gcp,
        azure: parsed.azure?.version ?? current.versions.azure,
      },
      order: {
        aws: parsed.aws?.order ?? current.order.aws,
        gcp: parsed.gcp?.order ?? current.order.gcp,
        azure: parsed.azure?.order ?? current.order.azure,
      },
    },
    missing,
  };
}

const plural = (n: number, word: string) => `${n} ${n === 1 ? word : word.endsWith('x') ? `${word}es` : `${word}s`}`;

export function formatAudit(a: RangeAudit, limit = 20): string {
  const out: string[] = [];
  const c = a.counts;
  out.push(
    `range data: AWS ${a.versions.aws} (${c.AWS.v4} v4, ${c.AWS.v6} v6), GCP ${a.versions.gcp} (${c.GCP.v4} v4, ${c.GCP.v6} v6), Azure ${a.versions.azure} (${c.Azure.v4} v4, ${c.Azure.v6} v6)`,
  );
  const v4 = a.shadowed.filter((s) => s.family === 4).length;
  out.push(
    '',
    `shadowed prefixes: ${a.shadowed.length} (${v4} IPv4, ${a.shadowed.length - v4} IPv6) lie inside a larger prefix of another owner`,
  );
  const byRoute = new Map<string, number>();
  for (const s of a.shadowed)
    byRoute.set(
      `${s.route['most-specific']} → ${s.route.archeio}`,
      (byRoute.get(`${s.route['most-specific']} → ${s.route.archeio}`) ?? 0) + 1,
    );
  out.push('  most-specific → archeio, by route:');
  for (const [k, n] of [...byRoute].sort((x, y) => y[1] - x[1]).slice(0, limit))
    out.push(`    ${String(n).padStart(4)} × ${k}`);
  for (const s of a.shadowed.slice(0, limit)) {
    out.push(
      `  ${s.prefix.padEnd(22)} ${`${s.owner.cloud} ${s.owner.region}`.padEnd(22)} inside ${s.shadowedBy.prefix} (${s.shadowedBy.cloud} ${s.shadowedBy.region}): most-specific ${s.route['most-specific']}; archeio ${s.route.archeio}`,
    );
  }
  if (a.shadowed.length > limit) out.push(`  ... ${a.shadowed.length - limit} more (--json lists all)`);
  out.push('', `AWS regions without a bucket entry: ${a.unmapped.length === 0 ? 'none' : ''}`);
  for (const u of a.unmapped)
    out.push(
      `  ${u.region} (${plural(u.prefixes, 'prefix')}): ${u.allowed ? 'allowed (unreleased region, ALLOW_UNMAPPED_REGIONS)' : 'PROBLEM: its clients silently get the default base'}`,
    );
  const o = a.ownership;
  out.push(
    '',
    `ownership: ${o.prefixes} published prefixes, ${o.lookups} lookups through the redirector's classifier: ${o.mismatches.length === 0 ? 'every prefix resolves to its owner' : `${plural(o.mismatches.length, 'mismatch')}`}`,
  );
  for (const m of o.mismatches.slice(0, limit)) {
    out.push(
      `  ${m.address} in ${m.prefix} (${m.owner.cloud} ${m.owner.region}): expected ${m.expected.prefix} (${m.expected.owners.map((x) => `${x.cloud} ${x.region}`).join(' or ')}), got ${m.got ? `${m.got.prefix} (${m.got.cloud} ${m.got.region})` : 'no match'}`,
    );
  }
  if (o.mismatches.length > limit) out.push(`  ... ${o.mismatches.length - limit} more`);
  if (o.multiOwner.length > 0)
    out.push(`  published by several owners (precedence decides): ${o.multiOwner.map((m) => m.prefix).join(', ')}`);
  if (o.unobservable.length > 0)
    out.push(
      `  covered entirely by more specific prefixes (their own answer is never seen): ${o.unobservable.join(', ')}`,
    );
  if (a.drift) {
    const d = a.drift;
    out.push('', `drift from AWS ${d.from.aws} / GCP ${d.from.gcp} / Azure ${d.from.azure}:`);
    out.push(`  regions added: ${d.regionsAdded.map((r) => `${r.cloud} ${r.region}`).join(', ') || 'none'}`);
    out.push(`  regions removed: ${d.regionsRemoved.map((r) => `${r.cloud} ${r.region}`).join(', ') || 'none'}`);
    out.push(
      `  prefixes: ${d.prefixesAdded.length} added, ${d.prefixesRemoved.length} removed, ${d.prefixesMoved.length} moved to another region`,
    );
    for (const p of d.prefixesAdded.slice(0, limit)) out.push(`    + ${p.prefix} ${p.cloud} ${p.region}`);
    for (const p of d.prefixesRemoved.slice(0, limit)) out.push(`    - ${p.prefix} ${p.cloud} ${p.region}`);
    for (const p of d.prefixesMoved.slice(0, limit)) out.push(`    ~ ${p.prefix} ${p.cloud} ${p.from} → ${p.to}`);
  }
  out.push(
    '',
    a.problems.length === 0
      ? 'audit: no problem found'
      : `audit: ${plural(a.problems.length, 'problem')}:\n${a.problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  return `${out.join('\n')}\n`;
}

interface AuditOptions {
  ranges?: string;
  against?: string;
  bucketMap?: string;
  allowUnmapped?: string;
  json?: boolean;
}

function allowance(value: string | undefined): '*' | string[] {
  try {
    return loadConfig(value === undefined ? {} : { ALLOW_UNMAPPED_REGIONS: value }).allowUnmappedRegions;
  } catch (err) {
    return usage(`--allow-unmapped: ${(err as Error).message}`);
  }
}

export function rangesAudit(opts: AuditOptions, io: CliIo): number {
  const sources = opts.ranges ? sourcesIn(opts.ranges) : BUNDLED_RANGE_SOURCES;
  let data: RangeData;
  try {
    data = loadRangeData(sources);
  } catch (err) {
    if (err instanceof RangeDataError) throw new CliError(`--ranges: ${err.message}`, ExitCode.misconfigured);
    throw err;
  }
  let regions: string[];
  try {
    regions = Object.keys(loadBucketMap(opts.bucketMap ?? bundledBucketMapPath()).regions);
  } catch (err) {
    if (err instanceof BucketMapError) throw new CliError(`--bucket-map: ${err.message}`, ExitCode.misconfigured);
    throw err;
  }
  const previous = opts.against ? loadSnapshot(opts.against, data) : undefined;
  if (previous && previous.missing.length > 0)
    io.stderr.write(
      `ranges audit: --against has no ${previous.missing.join(', ')} publication; drift is reported for the others only\n`,
    );
  const audit = auditRanges({
    data,
    bucketRegions: regions,
    isExempt: isExemptRegion,
    allowedUnmapped: allowance(opts.allowUnmapped),
    ...(previous ? { previous: previous.data } : {}),
  });
  io.stdout.write(opts.json ? `${JSON.stringify(audit, null, 2)}\n` : formatAudit(audit));
  return audit.problems.length > 0 ? ExitCode.failed : ExitCode.ok;
}

interface UpdateOptions {
  out?: string;
  awsUrl?: string;
  gcpUrl?: string;
  azureUrl?: string;
  maxShrink?: string;
  timeout?: string;
  dryRun?: boolean;
}

/** Writes a file through a temporary name, so a reader never sees half of it. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

export async function rangesUpdate(opts: UpdateOptions, io: CliIo): Promise<number> {
  const defaults = loadConfig({});
  const out = opts.out ?? join(BUNDLED_RANGE_SOURCES.aws, '..');
  const maxShrink = opts.maxShrink === undefined ? defaults.rangesMaxShrink : Number(opts.maxShrink);
  if (!(maxShrink >= 0 && maxShrink <= 1))
    usage(`--max-shrink must be a fraction from 0 to 1, not ${JSON.stringify(opts.maxShrink)}`);
  const timeoutS = opts.timeout === undefined ? 60 : Number(opts.timeout);
  if (!(Number.isInteger(timeoutS) && timeoutS >= 1 && timeoutS <= 600))
    usage(`--timeout must be whole seconds from 1 to 600, not ${JSON.stringify(opts.timeout)}`);
  const urls: Record<CloudKey, string> = {
    aws: opts.awsUrl ?? defaults.awsRangesUrl,
    gcp: opts.gcpUrl ?? defaults.gcpRangesUrl,
    azure: opts.azureUrl ?? defaults.azureRangesUrl,
  };
  const say = (m: string) => io.stderr.write(`${m}\n`);
  const current = sourcesIn(out);
  const texts: Partial<Record<CloudKey, string>> = {};
  for (const key of KEYS) if (existsSync(current[key])) texts[key] = await readFile(current[key], 'utf8');
  const prevComplete = KEYS.every((k) => texts[k] !== undefined);
  let prev: RangeData | null = null;
  if (prevComplete) {
    try {
      prev = parseRangeTexts(texts as Record<CloudKey, string>, current);
    } catch (err) {
      say(
        `ranges update: the files in ${out} do not parse (${(err as Error).message}); validating the new data without them`,
      );
    }
  }
  const read = createRangeTextReader({ timeoutMs: timeoutS * 1000 });
  const fetched: Partial<Record<CloudKey, string>> = {};
  for (const key of KEYS) {
    if (urls[key] === '') {
      say(
        `ranges update: no ${key} URL (Azure's download link changes weekly: pass --azure-url); keeping ${current[key]}`,
      );
      continue;
    }
    say(`ranges update: fetching ${key} from ${urls[key]}`);
    try {
      fetched[key] = await read(urls[key], AbortSignal.timeout(timeoutS * 1000));
    } catch (err) {
      throw new CliError(`ranges update: ${(err as Error).message}`, ExitCode.unreachable);
    }
  }
  const merged = { ...texts, ...fetched };
  const missing = KEYS.filter((k) => merged[k] === undefined);
  if (missing.length > 0)
    return usage(`ranges update: no ${missing.join(', ')} publication in ${out} and no URL to fetch it from`);
  let next: RangeData;
  try {
    next = parseRangeTexts(merged as Record<CloudKey, string>, {
      aws: urls.aws || current.aws,
      gcp: urls.gcp || current.gcp,
      azure: urls.azure || current.azure,
    });
  } catch (err) {
    say(`ranges update: rejected: ${(err as Error).message}`);
    return ExitCode.failed;
  }
  if (prev) {
    const verdict = validateRefresh(prev, next, { maxShrink });
    if (!verdict.ok) {
      say(`ranges update: rejected: ${verdict.reason}`);
      return ExitCode.failed;
    }
    if (!verdict.changed) {
      say(
        `ranges update: unchanged (AWS ${next.versions.aws}, GCP ${next.versions.gcp}, Azure ${next.versions.azure}); nothing written`,
      );
      return ExitCode.ok;
    }
    const d = rangeDrift(prev, next);
    say(
      `ranges update: ${d.regionsAdded.length} regions added (${d.regionsAdded.map((r) => `${r.cloud} ${r.region}`).join(', ') || 'none'}), ${d.regionsRemoved.length} removed; ${d.prefixesAdded.length} prefixes added, ${d.prefixesRemoved.length} removed, ${d.prefixesMoved.length} moved`,
    );
  }
  const changed = KEYS.filter((k) => fetched[k] !== undefined && (!prev || next.order[k] > prev.order[k]));
  if (opts.dryRun) {
    say(`ranges update: would write ${changed.map((k) => current[k]).join(', ') || 'nothing'} (--dry-run)`);
    return ExitCode.ok;
  }
  await mkdir(out, { recursive: true });
  for (const k of changed) await writeAtomically(current[k], fetched[k]!);
  say(
    `ranges update: wrote ${changed.map((k) => current[k]).join(', ')} (AWS ${next.versions.aws}, GCP ${next.versions.gcp}, Azure ${next.versions.azure}); run \`registry-canary ranges audit --against <the old files>\` and update PROVENANCE.md`,
  );
  return ExitCode.ok;
}

export const registerRanges: RegisterCommand = (program: Command, io: CliIo, setExit: (code: number) => void) => {
  const ranges = program
    .command('ranges')
    .description('the cloud IP-range publications: audit them against the bucket map, update the bundled snapshots');
  ranges
    .command('audit')
    .description(
      'shadowed prefixes (both semantics), AWS regions without a bucket, every prefix resolving to its owner, drift against an older snapshot; exit 1 on a problem',
    )
    .option('--ranges <dir>', 'the snapshot to audit (default: the bundled fixtures/ip-ranges/raw)')
    .option('--against <dir-or-files>', 'an older snapshot: a directory, or comma-separated publication files')
    .option('--bucket-map <file>', BUCKET_MAP_HELP)
    .option(
      '--allow-unmapped <regions>',
      "AWS regions allowed to have no bucket (comma list, * or none; default: the redirector's ALLOW_UNMAPPED_REGIONS default)",
    )
    .option('--json', 'print the audit as JSON')
    .action((opts: AuditOptions) => {
      setExit(rangesAudit(opts, io));
    });
  ranges
    .command('update')
    .description(
      "fetch the live publications, validate them with the redirector's refresh rules and write them; exit 1 rejected, 2 unreachable",
    )
    .option('--out <dir>', 'where the publications live (default: fixtures/ip-ranges/raw)')
    .option('--aws-url <url>', 'AWS source (default https://ip-ranges.amazonaws.com/ip-ranges.json)')
    .option('--gcp-url <url>', 'GCP source (default https://www.gstatic.com/ipranges/cloud.json)')
    .option(
      '--azure-url <url>',
      'Azure Service Tags source (its URL changes weekly; without it the Azure file is kept)',
    )
    .option('--max-shrink <fraction>', 'largest fraction of prefixes a cloud may lose (default 0.1)')
    .option('--timeout <seconds>', 'deadline per download (default 60)')
    .option('--dry-run', 'validate and report, write nothing')
    .action(async (opts: UpdateOptions) => {
      setExit(await rangesUpdate(opts, io));
    });
};

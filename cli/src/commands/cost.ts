import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CliIo } from '../cli-io.js';
import { CliError, ExitCode } from '../exit-codes.js';
import {
  DEFAULT_PRICES,
  estimateCost,
  parseTrafficMix,
  targetForBucketMap,
  TrafficMixError,
  type CostReport,
  type Prices,
  fromPackageRoot,
  type BucketMap,
  type Semantics,
} from '../../../harness/src/index.js';
import { BUCKET_MAP_HELP, defaultHostNote } from '../default-hosts.js';

const BUNDLED_BUCKET_MAP = fromPackageRoot('fixtures', 'bucket-map.json');

function readData(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      ExitCode.misconfigured,
    );
  }
  try {
    return /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new CliError(
      `${what} ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message}`,
      ExitCode.misconfigured,
    );
  }
}

function parsePrices(value: unknown, file: string): Prices {
  const prices = { ...DEFAULT_PRICES };
  if (typeof value !== 'object' || value === null)
    throw new CliError(`prices ${file} must be an object of origin → USD per GB`, ExitCode.misconfigured);
  for (const [k, v] of Object.entries(value)) {
    if (!(k in prices))
      throw new CliError(
        `prices ${file}: unknown origin ${JSON.stringify(k)} (known: ${Object.keys(prices).join(', ')})`,
        ExitCode.misconfigured,
      );
    if (typeof v !== 'number' || !(v >= 0))
      throw new CliError(`prices ${file}: ${k} must be a non-negative number`, ExitCode.misconfigured);
    prices[k as keyof Prices] = v;
  }
  return prices;
}

const usd = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const gb = (n: number) => `${n.toLocaleString('en-US', { maximumFractionDigits: 1 })} GB`;

function formatReport(r: CostReport): string {
  const lines = [
    `semantics ${r.semantics}: ${gb(r.totalGb)}, ${usd(r.totalUsd)} (all-upstream ${usd(r.allUpstreamUsd)}, saves ${usd(r.savingsUsd)})`,
  ];
  for (const o of r.byOrigin)
    lines.push(`  ${o.origin.padEnd(22)} ${o.host.padEnd(72)} ${gb(o.gb).padStart(16)} ${usd(o.usd).padStart(14)}`);
  return lines.join('\n');
}

/**
 * The closing line comparing the two semantics. It names the clients whose route differs and says why only when the
 * routes do differ; when no client is routed differently it says the semantics cost the same.
 */
export function semanticsComparison(specific: CostReport, archeio: CostReport): string {
  // both reports list the mix's clients in the mix's order: pair them once
  const moved = specific.byClient
    .map((c, i) => ({ c, a: archeio.byClient[i] }))
    .filter(({ c, a }) => a !== undefined && (a.host !== c.host || a.origin !== c.origin));
  if (moved.length === 0) {
    return 'archeio and most-specific semantics route every client of this mix alike: the same cost under both.';
  }
  const d = archeio.totalUsd - specific.totalUsd;
  const names = moved.map(({ c, a }) => `${c.name} (${c.host} → ${a!.host})`);
  const amount = Math.abs(d) < 0.005 ? 'the same' : `${usd(Math.abs(d))} ${d > 0 ? 'more' : 'less'}`;
  return (
    `archeio semantics cost ${amount}${amount === 'the same' ? ' as' : ' than'} most-specific for this mix: ` +
    `${moved.length} client${moved.length === 1 ? '' : 's'} routed differently (most-specific → archeio): ` +
    `${names.join('; ')}.`
  );
}

export function registerCost(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('cost')
    .description(
      'Estimate bytes and dollars by origin (S3 per region, default host, upstream) for a traffic mix, under both IP semantics',
    )
    .requiredOption(
      '--traffic <file>',
      'traffic mix (YAML or JSON): pulls, clients with shares, images with bytes and shares',
    )
    .option(
      '--prices <file>',
      'USD per GB by origin class (YAML or JSON); unset classes keep the illustrative defaults',
    )
    .option('--bucket-map <file>', BUCKET_MAP_HELP, BUNDLED_BUCKET_MAP)
    .addOption(
      new Option('--semantics <which>', 'IP classification semantics to report')
        .choices(['both', 'most-specific', 'archeio'])
        .default('both'),
    )
    .option('--json', 'print one JSON document')
    .action((opts: { traffic: string; prices?: string; bucketMap: string; semantics: string; json?: boolean }) => {
      let mix;
      try {
        mix = parseTrafficMix(readData(opts.traffic, 'traffic file'), opts.traffic);
      } catch (err) {
        if (err instanceof TrafficMixError) throw new CliError(err.message, ExitCode.misconfigured);
        throw err;
      }
      const prices = opts.prices ? parsePrices(readData(opts.prices, 'prices file'), opts.prices) : DEFAULT_PRICES;
      const bucketMap = readData(opts.bucketMap, 'bucket map') as BucketMap;
      if (typeof bucketMap?.default !== 'string' || typeof bucketMap.regions !== 'object') {
        throw new CliError(
          `bucket map ${opts.bucketMap} must be {"default": url, "regions": {region: url}}`,
          ExitCode.misconfigured,
        );
      }
      const target = targetForBucketMap(bucketMap);
      const which: Semantics[] =
        opts.semantics === 'both' ? ['most-specific', 'archeio'] : [opts.semantics as Semantics];
      let reports: CostReport[];
      try {
        reports = which.map((s) => estimateCost(mix, target, s, prices));
      } catch (err) {
        if (err instanceof TrafficMixError) throw new CliError(err.message, ExitCode.misconfigured);
        throw err;
      }
      if (opts.json) {
        io.stdout.write(`${JSON.stringify({ prices, reports }, null, 2)}\n`);
      } else {
        io.stdout.write(`${reports.map(formatReport).join('\n\n')}\n`);
        if (reports.length === 2) io.stdout.write(`\n${semanticsComparison(reports[0]!, reports[1]!)}\n`);
        const note = defaultHostNote(bucketMap.default);
        if (note !== undefined) io.stdout.write(`Default host: ${note}.\n`);
      }
      setExit(ExitCode.ok);
    });
}

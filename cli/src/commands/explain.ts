/**
 * `registry-canary explain [IP ...]`: which cloud, region and published prefix an address belongs to, and which
 * base its blob requests are checked against (null: they go upstream). IPs come from the arguments, or from stdin
 * one per line (blank lines and `#` comments skipped).
 *
 * Both semantics are always computed. Text mode shows both, and the shadowing prefix, when they disagree (150 IPv4
 * and 97 IPv6 AWS regional prefixes sit inside AWS GLOBAL ones, docs/reference/archeio.md#ip-classification); `--json` prints one object per line
 * with ip, cloud, region, prefix, blobBase, and `other` (the other semantics' answer) when they disagree. An input may
 * also be `ip:port`, `[v6]`, `[v6]:port` (as in logs and URLs) or a CIDR (its first and last address are explained;
 * JSON lines then carry `input`). An invalid input gets an error line and exit 64; the others are still answered.
 *
 * The answer comes from the redirector's own classifier and router (blobBaseFor runs the serving planBlob), so
 * explain cannot disagree with serve.
 */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { formatIp, parseIpPrefix, prefixLast } from '../../../redirector/src/net/index.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { CliIo } from '../cli-io.js';
import type { RegisterCommand } from '../cli-io.js';
import { BUCKET_MAP_HELP, defaultHostNote } from '../default-hosts.js';
import { ConfigError, loadConfig } from '../../../redirector/src/config.js';
import { describeStartError } from '../../../redirector/src/main.js';
import { IpClassifier, loadRangeData, type Semantics } from '../../../redirector/src/ranges/index.js';
import { blobBaseFor, createRouter, type ClientFacts, type Router } from '../../../redirector/src/routing/index.js';
import {
  clientFactsFor,
  configuredBucketMap,
  configuredRangeSources,
  configuredRoutingTable,
  ExplainError,
} from '../../../redirector/src/server/index.js';

export interface IpAnswer {
  semantics: Semantics;
  cloud: ClientFacts['cloud'];
  region: string | null;
  prefix: string | null;
  blobBase: string | null;
}

export interface IpExplanation extends IpAnswer {
  ip: string;
  /** the other semantics' answer, only when it differs */
  other?: IpAnswer;
  /** the prefix that shadows `prefix` under archeio's shortest-prefix rule, when that is why they differ */
  shadowedBy?: string;
}

export interface Explainer {
  /** throws ExplainError for text that is not an IP address */
  explain(ip: string): IpExplanation;
}

/** Builds classifiers for both semantics over one parse of the data, and the serving router for blob bases. */
export function createExplainer(opts: { env: Record<string, string | undefined> }): Explainer {
  const config = loadConfig(opts.env);
  const data = loadRangeData(configuredRangeSources(config));
  const router: Router = createRouter(configuredRoutingTable(config, configuredBucketMap(config)));
  const chosen = config.routingSemantics;
  const otherSemantics: Semantics = chosen === 'archeio' ? 'most-specific' : 'archeio';
  const classifiers = {
    [chosen]: IpClassifier.build(data, chosen),
    [otherSemantics]: IpClassifier.build(data, otherSemantics),
  } as Record<Semantics, IpClassifier>;

  const answer = (ip: string, semantics: Semantics): IpAnswer => {
    const c = classifiers[semantics];
    const facts = clientFactsFor(ip, (a) => c.classifyIp(a), semantics === 'most-specific');
    return {
      semantics,
      cloud: facts.cloud,
      region: facts.region,
      prefix: facts.prefix,
      blobBase: blobBaseFor(router, facts),
    };
  };
  return {
    explain(ip) {
      const main = answer(ip, chosen);
      const other = answer(ip, otherSemantics);
      const out: IpExplanation = { ip, ...main };
      if (
        other.cloud !== main.cloud ||
        other.region !== main.region ||
        other.prefix !== main.prefix ||
        other.blobBase !== main.blobBase
      ) {
        out.other = other;
        const archeio = chosen === 'archeio' ? main : other;
        const specific = chosen === 'archeio' ? other : main;
        // shadowing: archeio's match is a shorter prefix that contains most-specific's
        if (archeio.prefix !== null && specific.prefix !== null && archeio.prefix !== specific.prefix)
          out.shadowedBy = archeio.prefix;
      }
      return out;
    },
  };
}

function describe(a: IpAnswer): string {
  const who = a.cloud === null ? 'unknown (no cloud publishes it)' : `${a.cloud} ${a.region} ${a.prefix}`;
  return `${who}; blobs → ${a.blobBase ?? 'upstream'}`;
}

/** The text-mode rendering of one explanation (one or two lines). */
export function formatExplanation(e: IpExplanation): string {
  if (e.other === undefined) return `${e.ip}  ${describe(e)}\n`;
  const pad = ' '.repeat(e.ip.length);
  const why =
    e.shadowedBy !== undefined
      ? `  (${e.semantics === 'archeio' ? e.other.prefix : e.prefix} is shadowed by ${e.shadowedBy} under archeio's shortest-prefix rule)`
      : '  (archeio does not unmap IPv4-mapped IPv6)';
  return `${e.ip}  ${e.semantics}: ${describe(e)}\n${pad}  ${e.other.semantics}: ${describe(e.other)}${why}\n`;
}

/**
 * What one input names: the addresses to explain. A plain address; `ip:port`, `[v6]` or `[v6]:port` as they appear in
 * logs and URLs (the port is dropped); a CIDR, whose first and last address are explained. Null: not an address.
 */
export function addressesOf(input: string): string[] | null {
  const port = (p: string | undefined) => p === undefined || (/^\d{1,5}$/.test(p) && Number(p) <= 65535);
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(input);
  if (bracketed) return isIP(bracketed[1]!) === 6 && port(bracketed[2]) ? [bracketed[1]!] : null;
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(input);
  if (v4port) return isIP(v4port[1]!) === 4 && port(v4port[2]) ? [v4port[1]!] : null;
  if (input.includes('/')) {
    const prefix = parseIpPrefix(input);
    if (prefix === null) return null;
    const first = formatIp(prefix.network);
    const last = formatIp(prefixLast(prefix));
    return first === last ? [first] : [first, last];
  }
  return isIP(input) !== 0 ? [input] : null;
}

async function readLines(stream: NodeJS.ReadableStream): Promise<string[]> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export const registerExplain: RegisterCommand = (program: Command, io: CliIo, setExit) => {
  program
    .command('explain')
    .description(
      'Show which cloud, region and prefix an IP belongs to, and where its blob requests go. IPs from the arguments, or stdin one per line.',
    )
    .argument(
      '[ip...]',
      'IPv4 or IPv6 addresses; also ip:port, [IPv6], [IPv6]:port, or a CIDR (first and last address)',
    )
    .option(
      '--json',
      'one JSON object per line: ip, cloud, region, prefix, blobBase (and other, when the two semantics disagree)',
    )
    .option('--aws-ranges <file>', 'AWS ip-ranges.json [env AWS_IP_RANGES; default: bundled]')
    .option('--gcp-ranges <file>', 'GCP cloud.json [env GCP_IP_RANGES; default: bundled]')
    .option('--azure-ranges <file>', 'Azure Service Tags JSON [env AZURE_IP_RANGES; default: bundled]')
    .option('--bucket-map <file>', `${BUCKET_MAP_HELP} [env BUCKET_MAP]`)
    .option('--default-aws-base-url <url>', "overrides the map's default [env DEFAULT_AWS_BASE_URL]")
    .option('--semantics <name>', 'most-specific or archeio [env ROUTING_SEMANTICS; default most-specific]')
    .action(async (ips: string[], opts: Record<string, string | boolean | undefined>) => {
      const env: Record<string, string | undefined> = { ...io.env };
      // settings given as flags: an invalid one is a usage error (64); one from the environment is configuration (2)
      const fromFlags = new Set<string>();
      const set = (name: string, v: unknown): void => {
        if (typeof v === 'string') {
          env[name] = v;
          fromFlags.add(name);
        }
      };
      set('AWS_IP_RANGES', opts.awsRanges);
      set('GCP_IP_RANGES', opts.gcpRanges);
      set('AZURE_IP_RANGES', opts.azureRanges);
      set('BUCKET_MAP', opts.bucketMap);
      set('DEFAULT_AWS_BASE_URL', opts.defaultAwsBaseUrl);
      set('ROUTING_SEMANTICS', opts.semantics);
      let explainer: Explainer;
      try {
        explainer = createExplainer({ env });
      } catch (err) {
        if (err instanceof ConfigError && fromFlags.has(err.setting))
          throw new CliError(
            `invalid option: ${err.message.replace(/^ROUTING_SEMANTICS/, '--semantics (ROUTING_SEMANTICS)')}`,
            ExitCode.usage,
          );
        if (err instanceof ConfigError)
          throw new CliError(`invalid configuration in the environment: ${err.message}`, ExitCode.unreachable);
        throw new CliError(describeStartError(err), ExitCode.unreachable);
      }
      const inputs = ips.length > 0 ? ips : await readLines(io.stdin);
      if (inputs.length === 0)
        throw new CliError('explain: give IP addresses as arguments or on stdin, one per line', ExitCode.usage);
      let failed = false;
      const notes = new Set<string>();
      const invalid = (input: string) => {
        // a usage error (64), but the other inputs are still answered
        failed = true;
        const message = `${JSON.stringify(input)} is not an IP address, ip:port, [IPv6]:port or CIDR`;
        if (opts.json) io.stdout.write(JSON.stringify({ ip: input, error: message }) + '\n');
        io.stderr.write(`registry-canary explain: ${message}\n`);
      };
      for (const input of inputs) {
        const addresses = addressesOf(input);
        if (addresses === null) {
          invalid(input);
          continue;
        }
        addresses.forEach((ip, i) => {
          let e: IpExplanation;
          try {
            e = explainer.explain(ip);
          } catch (err) {
            if (err instanceof ExplainError) return invalid(input);
            throw err;
          }
          for (const base of [e.blobBase, e.other?.blobBase]) {
            const note = defaultHostNote(base);
            if (note !== undefined) notes.add(note);
          }
          const labelled = ip === input ? e : { input, ...e };
          const which = addresses.length > 1 ? (i === 0 ? ' (first address)' : ' (last address)') : '';
          const label = ip === input ? '' : `${input}${which}: `;
          io.stdout.write(opts.json ? JSON.stringify(labelled) + '\n' : label + formatExplanation(e));
        });
      }
      // which default host an answer names, said once (stderr: stdout stays one answer per line)
      for (const n of notes) io.stderr.write(`registry-canary explain: note: ${n}\n`);
      setExit(failed ? ExitCode.usage : ExitCode.ok);
    });
};

/**
 * The redirector's configuration: ONE table (field, environment variable, default, meaning, parser), and a pure
 * `loadConfig(env)` over it. Only main.ts and the CLI read process.env; docs/configuration.md
 * is rendered from this table and a test keeps the two equal; `registry-canary serve` derives its flags from it.
 *
 * Names match archeio's where it has them (PORT, UPSTREAM_REGISTRY_ENDPOINT, UPSTREAM_REGISTRY_PATH,
 * SIGNATURE_UPSTREAM_ENDPOINT, DEFAULT_AWS_BASE_URL; docs/reference/archeio.md#server), so a deployment's environment
 * carries over. An empty value means "not set" and gives the default.
 */
import { parseClientIpRule, type ClientIpRule } from './net/index.js';
import type { Semantics } from './ranges/index.js';

/**
 * Deliberately broken behaviours for proving the harness catches them
 * (docs/testing.md#proving-the-harness-mutation-tests). Refused unless REDIRECTOR_ALLOW_MUTANTS=1; see
 * server/mutants.ts and docs/request-handling.md.
 */
export const MUTANTS = {
  'ignore-xff': 'uses the socket address and ignores X-Forwarded-For',
  'trust-leftmost-xff': 'trusts the leftmost (client-supplied, spoofable) X-Forwarded-For entry',
  'wrong-bucket': 'sends us-east-1 clients to the us-west-2 bucket',
  'no-existence-check': 'redirects blobs to the bucket without the HEAD check',
  'manifests-to-bucket': 'sends manifest requests to the default bucket',
  'gcp-to-s3': 'treats GCP clients as unknown, so their blobs go to the default bucket',
  'no-ipv6': 'never classifies an IPv6 client',
  'redirect-302': 'answers 302 instead of 307',
} as const;
export type MutantName = keyof typeof MUTANTS;

export interface Config {
  port: number;
  host: string;
  adminPort: number;
  adminHost: string;
  upstreamEndpoint: string;
  upstreamPath: string;
  signatureEndpoint: string | null;
  defaultAwsBaseUrl: string | null;
  infoUrl: string;
  privacyUrl: string;
  logLevel: LogLevel;
  routingSemantics: Semantics;
  protocolCompat: 'none' | 'archeio';
  clientIpRule: ClientIpRule;
  preserveQuery: boolean;
  bucketMap: string;
  allowUnmappedRegions: '*' | string[];
  awsRanges: string;
  gcpRanges: string;
  azureRanges: string;
  rangesRefreshIntervalS: number;
  awsRangesUrl: string;
  gcpRangesUrl: string;
  azureRangesUrl: string;
  rangesMaxShrink: number;
  blobCheckTimeoutMs: number;
  positiveTtlS: number;
  positiveMax: number;
  negativeTtlS: number;
  negativeMax: number;
  revalidateMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  httpListener: 'node' | 'strict';
  drainTimeoutMs: number;
  mutant: MutantName | null;
  allowMutants: boolean;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Invalid configuration. `setting` is the environment variable at fault. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

interface Setting<T> {
  env: string;
  default: string;
  doc: string;
  parse(raw: string, env: string): T;
}

// ---- parsers: each gets the raw text (the default when unset) and the variable's name for its message ----

const integer =
  (min: number, max: number) =>
  (raw: string, env: string): number => {
    if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new ConfigError(env, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    }
    return Number(raw);
  };
const fraction = (raw: string, env: string): number => {
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new ConfigError(env, `expected a fraction from 0 to 1, got ${JSON.stringify(raw)}`);
  return n;
};
const oneOf =
  <T extends string>(values: readonly T[]) =>
  (raw: string, env: string): T => {
    if (!(values as readonly string[]).includes(raw))
      throw new ConfigError(env, `expected one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
    return raw as T;
  };
const bool = (raw: string, env: string): boolean => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)?$/i.test(raw)) return false;
  throw new ConfigError(env, `expected true/false (or 1/0), got ${JSON.stringify(raw)}`);
};
const text = (raw: string): string => raw;
const httpUrl = (raw: string, env: string): string => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(env, `expected an absolute http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ConfigError(env, `expected an http or https URL, got ${JSON.stringify(raw)}`);
  return raw;
};
/** A base that paths are appended to: no query, fragment or credentials; trailing slashes dropped. */
const baseUrl = (raw: string, env: string): string => {
  httpUrl(raw, env);
  const u = new URL(raw);
  if (
    u.search !== '' ||
    u.hash !== '' ||
    raw.includes('?') ||
    raw.includes('#') ||
    u.username !== '' ||
    u.password !== ''
  ) {
    throw new ConfigError(env, `must not carry a query, fragment or credentials: ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/+$/, '');
};
const optional =
  <T>(parse: (raw: string, env: string) => T) =>
  (raw: string, env: string): T | null =>
    raw === '' ? null : parse(raw, env);
const repoPath = (raw: string, env: string): string => {
  const p = raw.replace(/^\/+|\/+$/g, '');
  if (p !== '' && !/^[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/.test(p)) {
    throw new ConfigError(env, `expected slash-separated path segments of [A-Za-z0-9._~-], got ${JSON.stringify(raw)}`);
  }
  if (p.split('/').some((s) => s === '.' || s === '..'))
    throw new ConfigError(env, `must not contain . or .. segments: ${JSON.stringify(raw)}`);
  return p;
};
const regionList = (raw: string, env: string): '*' | string[] => {
  if (raw.trim() === '*') return '*';
  if (raw.trim() === 'none') return [];
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const r of list)
    if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(r))
      throw new ConfigError(env, `${JSON.stringify(r)} is not an AWS region name`);
  return list;
};
const mutant = (raw: string, env: string): MutantName | null => {
  if (raw === '') return null;
  if (!Object.hasOwn(MUTANTS, raw))
    throw new ConfigError(env, `unknown mutant ${JSON.stringify(raw)}; known: ${Object.keys(MUTANTS).join(', ')}`);
  return raw as MutantName;
};
const clientIpRule = (raw: string, env: string): ClientIpRule => {
  try {
    return parseClientIpRule(raw);
  } catch (err) {
    throw new ConfigError(env, (err as Error).message);
  }
};

const PORT = integer(0, 65535);
const MS = integer(1, 3_600_000);

/** The table. Its order is the order of docs/configuration.md. */
export const SETTINGS: { readonly [K in keyof Config]: Setting<Config[K]> } = {
  port: {
    env: 'PORT',
    default: '8080',
    parse: PORT,
    doc: 'Port of the public (registry) listener; 0 picks a free port. Cloud Run sets it.',
  },
  host: {
    env: 'HOST',
    default: '127.0.0.1',
    parse: text,
    doc: 'Address of the public listener. Loopback by default so a developer run is never exposed; the Containerfile sets 0.0.0.0 as Cloud Run requires (archeio listens on all interfaces).',
  },
  adminPort: {
    env: 'ADMIN_PORT',
    default: '8081',
    parse: PORT,
    doc: 'Port of the admin listener (metrics, healthz, readyz, explain), kept off the public surface; 0 picks a free port.',
  },
  adminHost: { env: 'ADMIN_HOST', default: '127.0.0.1', parse: text, doc: 'Address of the admin listener.' },
  upstreamEndpoint: {
    env: 'UPSTREAM_REGISTRY_ENDPOINT',
    default: 'https://us-central1-docker.pkg.dev',
    parse: baseUrl,
    doc: 'Registry that manifests, tags, misses and GCP clients are sent to (archeio default).',
  },
  upstreamPath: {
    env: 'UPSTREAM_REGISTRY_PATH',
    default: 'k8s-artifacts-prod/images',
    parse: repoPath,
    doc: 'Repository prefix at the upstream. `/` means none (images at the upstream root); an empty value means the default, as every unset variable does.',
  },
  signatureEndpoint: {
    env: 'SIGNATURE_UPSTREAM_ENDPOINT',
    default: '',
    parse: optional(baseUrl),
    doc: 'When set, cosign `sha256-<hex>.sig`/`.att` manifest requests go here, on the same path as upstream.',
  },
  defaultAwsBaseUrl: {
    env: 'DEFAULT_AWS_BASE_URL',
    default: '',
    parse: optional(baseUrl),
    doc: "Overrides the bucket map's `default`: the base for clients with no regional bucket (internet, Azure, AWS GLOBAL/GovCloud). Production's deployment sets https://cdn.registry.k8s.io; unset, the bundled map's default is archeio's compiled-in https://d1be1w964nk82h.cloudfront.net.",
  },
  infoUrl: {
    env: 'INFO_URL',
    default: 'https://github.com/kubernetes/registry.k8s.io',
    parse: httpUrl,
    doc: 'Where `/` redirects.',
  },
  privacyUrl: {
    env: 'PRIVACY_URL',
    default: 'https://www.linuxfoundation.org/privacy-policy/',
    parse: httpUrl,
    doc: 'Where `/privacy` redirects.',
  },
  logLevel: {
    env: 'LOG_LEVEL',
    default: 'info',
    parse: oneOf(LOG_LEVELS),
    doc: 'pino level. Decision lines are `info`; `warn` or higher turns them off.',
  },
  routingSemantics: {
    env: 'ROUTING_SEMANTICS',
    default: 'most-specific',
    parse: oneOf<Semantics>(['most-specific', 'archeio']),
    doc: "`most-specific`: the longest matching prefix wins, IPv4-mapped IPv6 is unmapped. `archeio`: production's shortest-prefix match and no unmapping.",
  },
  protocolCompat: {
    env: 'PROTOCOL_COMPAT',
    default: 'none',
    parse: oneOf(['none', 'archeio'] as const),
    doc: "`archeio` reproduces production's protocol quirks (docs/reference/archeio.md#quirks Q1-Q9, Q12): query dropped, `path.Join` cleaning, `/v2foo`, `/privacy*`, 405 without Allow, plain-text errors, 400 on an unknown blob client. With ROUTING_SEMANTICS=archeio this is production's behaviour.",
  },
  clientIpRule: {
    env: 'CLIENT_IP_RULE',
    default: 'gclb',
    parse: clientIpRule,
    doc: '`gclb` (second-to-last X-Forwarded-For entry, else the socket), `socket`, or `xff-hops:N` (N trusted proxies append after the client).',
  },
  preserveQuery: {
    env: 'PRESERVE_QUERY',
    default: 'true',
    parse: bool,
    doc: 'Keep the query string on upstream and signature redirects (`n`, `last`, `artifactType`, `ns`). archeio drops it (kubernetes/registry.k8s.io#326).',
  },
  bucketMap: {
    env: 'BUCKET_MAP',
    default: '',
    parse: text,
    doc: 'JSON file `{"default": URL, "regions": {region: URL}}`; empty: the bundled production map (fixtures/bucket-map.json).',
  },
  allowUnmappedRegions: {
    env: 'ALLOW_UNMAPPED_REGIONS',
    default: 'me-west-1,sa-west-1,us-south-1',
    parse: regionList,
    doc: "AWS regions of the range data that may lack a bucket (comma list, `*` for all, `none`); others are a start-up error. Default: archeio's EXCLUDED_AWS_REGIONS (unreleased regions). GLOBAL, us-gov-* and eusc-* are always exempt.",
  },
  awsRanges: {
    env: 'AWS_IP_RANGES',
    default: '',
    parse: text,
    doc: 'AWS `ip-ranges.json` file; empty: the bundled snapshot.',
  },
  gcpRanges: {
    env: 'GCP_IP_RANGES',
    default: '',
    parse: text,
    doc: 'GCP `cloud.json` file; empty: the bundled snapshot.',
  },
  azureRanges: {
    env: 'AZURE_IP_RANGES',
    default: '',
    parse: text,
    doc: 'Azure Service Tags file; empty: the bundled snapshot.',
  },
  rangesRefreshIntervalS: {
    env: 'RANGES_REFRESH_INTERVAL_S',
    default: '0',
    parse: integer(0, 7 * 24 * 3600),
    doc: 'Refresh the range data from the URLs below every N seconds; 0 turns refresh off. A refresh must parse, be newer and not shrink suspiciously, or the last good table keeps serving.',
  },
  awsRangesUrl: {
    env: 'AWS_IP_RANGES_URL',
    default: 'https://ip-ranges.amazonaws.com/ip-ranges.json',
    parse: text,
    doc: 'Refresh source for AWS (URL or file).',
  },
  gcpRangesUrl: {
    env: 'GCP_IP_RANGES_URL',
    default: 'https://www.gstatic.com/ipranges/cloud.json',
    parse: text,
    doc: 'Refresh source for GCP (URL or file).',
  },
  azureRangesUrl: {
    env: 'AZURE_IP_RANGES_URL',
    default: '',
    parse: text,
    doc: "Refresh source for Azure (URL or file). Azure's download URL changes weekly, so there is no default: empty keeps re-reading AZURE_IP_RANGES.",
  },
  rangesMaxShrink: {
    env: 'RANGES_MAX_SHRINK',
    default: '0.1',
    parse: fraction,
    doc: 'Largest fraction of prefixes a refresh may lose per cloud before it is rejected.',
  },
  blobCheckTimeoutMs: {
    env: 'BLOB_CHECK_TIMEOUT_MS',
    default: '1500',
    parse: MS,
    doc: 'Deadline of the blob existence HEAD; past it the request goes upstream (archeio waits 5 s).',
  },
  positiveTtlS: {
    env: 'BLOB_CACHE_POSITIVE_TTL_S',
    default: '3600',
    parse: integer(0, 30 * 24 * 3600),
    doc: 'Lifetime of a "blob is in the bucket" answer; 0 disables the positive cache.',
  },
  positiveMax: {
    env: 'BLOB_CACHE_POSITIVE_MAX',
    default: '100000',
    parse: integer(0, 10_000_000),
    doc: 'Entries the positive cache holds (LRU).',
  },
  negativeTtlS: {
    env: 'BLOB_CACHE_NEGATIVE_TTL_S',
    default: '300',
    parse: integer(0, 30 * 24 * 3600),
    doc: 'Lifetime of a "blob is not in the bucket" answer (the mirror may fill it later); 0 disables the negative cache.',
  },
  negativeMax: {
    env: 'BLOB_CACHE_NEGATIVE_MAX',
    default: '50000',
    parse: integer(0, 10_000_000),
    doc: 'Entries the negative cache holds (LRU).',
  },
  revalidateMs: {
    env: 'BLOB_CACHE_REVALIDATE_MS',
    default: '10000',
    parse: integer(0, 3_600_000),
    doc: "While a bucket's blob answers come from the positive cache, one of them is re-checked by a background HEAD at most this often (the cached answer is served meanwhile), so a bucket that starts failing is noticed, and skipped, although no request needs a HEAD; 0 turns it off (a failing bucket then keeps receiving clients for up to BLOB_CACHE_POSITIVE_TTL_S).",
  },
  breakerThreshold: {
    env: 'BREAKER_FAILURE_THRESHOLD',
    default: '5',
    parse: integer(0, 1000),
    doc: "Consecutive HEAD failures (error, timeout, 5xx, 408, 429) that open a bucket's breaker; 0 disables the breaker.",
  },
  breakerCooldownMs: {
    env: 'BREAKER_COOLDOWN_MS',
    default: '30000',
    parse: MS,
    doc: 'How long an open breaker sends blob requests straight upstream before one trial HEAD.',
  },
  headersTimeoutMs: {
    env: 'HEADERS_TIMEOUT_MS',
    default: '2000',
    parse: MS,
    doc: 'Time a client has to send complete request headers (archeio ReadHeaderTimeout 2 s).',
  },
  requestTimeoutMs: {
    env: 'REQUEST_TIMEOUT_MS',
    default: '10000',
    parse: MS,
    doc: 'Time a client has to send the whole request (archeio ReadTimeout 10 s). The strict listener reads no bodies, so its header timeout bounds the whole request; this applies to HTTP_LISTENER=node.',
  },
  keepAliveTimeoutMs: {
    env: 'KEEPALIVE_TIMEOUT_MS',
    default: '5000',
    parse: MS,
    doc: 'Idle time before a keep-alive connection is closed.',
  },
  httpListener: {
    env: 'HTTP_LISTENER',
    default: 'strict',
    parse: oneOf(['node', 'strict'] as const),
    doc: 'The public listener. `strict`: request heads read on raw sockets by a strict, body-less HTTP/1.1 reader (a request announcing a body is answered, then its connection closed; docs/request-handling.md), about 1.3× the requests per CPU-second of `node`. `node`: node:http, the fallback. The admin listener is always node:http.',
  },
  drainTimeoutMs: {
    env: 'DRAIN_TIMEOUT_MS',
    default: '8000',
    parse: MS,
    doc: 'On SIGTERM/SIGINT: how long in-flight requests may finish before the process exits anyway (Cloud Run allows 10 s).',
  },
  mutant: {
    env: 'REDIRECTOR_MUTANT',
    default: '',
    parse: mutant,
    doc: `Deliberately broken behaviour for harness self-tests: ${Object.keys(MUTANTS).join(', ')}. Needs REDIRECTOR_ALLOW_MUTANTS=1.`,
  },
  allowMutants: {
    env: 'REDIRECTOR_ALLOW_MUTANTS',
    default: '',
    parse: bool,
    doc: 'Must be 1 for REDIRECTOR_MUTANT to be accepted.',
  },
};

/** The environment variables of the table, in order. */
export const SETTING_NAMES: readonly string[] = Object.values(SETTINGS).map((s) => s.env);

/**
 * Builds the configuration from an environment. Pure: unknown variables are ignored, an empty value means unset.
 * Throws ConfigError naming the first invalid setting.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [keyof Config, Setting<unknown>][]) {
    const given = env[s.env]?.trim() ?? '';
    out[key] = s.parse(given === '' ? s.default : given, s.env);
  }
  const config = out as unknown as Config;
  if (config.mutant !== null && !config.allowMutants) {
    throw new ConfigError(
      'REDIRECTOR_MUTANT',
      `mutant ${JSON.stringify(config.mutant)} is deliberately broken routing; set REDIRECTOR_ALLOW_MUTANTS=1 to really run it`,
    );
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new ConfigError(
      'HEADERS_TIMEOUT_MS',
      `${config.headersTimeoutMs} exceeds REQUEST_TIMEOUT_MS (${config.requestTimeoutMs}); the headers are part of the request`,
    );
  }
  return config;
}

/** docs/configuration.md's table, rendered from SETTINGS. */
export function configTableMarkdown(): string {
  const rows = Object.values(SETTINGS).map(
    (s) => `| \`${s.env}\` | ${s.default === '' ? '(unset)' : `\`${s.default}\``} | ${s.doc.replace(/\|/g, '\\|')} |`,
  );
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n') + '\n';
}

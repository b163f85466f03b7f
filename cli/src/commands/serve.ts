/**
 * `registry-canary serve`: starts the redirector in this process until SIGTERM/SIGINT, then drains and exits 0.
 *
 * Every setting of the redirector's config table is a flag named after its environment variable
 * (`UPSTREAM_REGISTRY_ENDPOINT` → `--upstream-registry-endpoint`), except those spelt as the other commands spell
 * them (SHARED_FLAG_NAMES: `--semantics`, `--aws-ranges`, ...; the variable-derived spelling is a hidden alias); a
 * flag beats the environment, the environment beats the default. Invalid configuration, unreadable data or a busy port exit 2 with the setting named.
 */
import { Option, type Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';
import type { CliIo } from '../cli-io.js';
import type { RegisterCommand } from '../cli-io.js';
import { ConfigError, SETTINGS, loadConfig } from '../../../redirector/src/config.js';
import { describeStartError, serveUntil, untilSignal, type Until } from '../../../redirector/src/main.js';
import { startRedirector, type StartedRedirector } from '../../../redirector/src/server/index.js';

/**
 * Settings whose flag is spelt as in the other commands (`explain`, `run`, `cost`, `replay`), not after the variable.
 * The variable-derived spelling still works as a hidden alias.
 */
export const SHARED_FLAG_NAMES: Readonly<Record<string, string>> = {
  ROUTING_SEMANTICS: 'semantics',
  AWS_IP_RANGES: 'aws-ranges',
  GCP_IP_RANGES: 'gcp-ranges',
  AZURE_IP_RANGES: 'azure-ranges',
};

/** The variable-derived spelling: `PORT` → `port`, `UPSTREAM_REGISTRY_ENDPOINT` → `upstream-registry-endpoint`. */
export function envFlagFor(env: string): string {
  return env.toLowerCase().replace(/_/g, '-');
}

/** The flag `serve --help` shows for a setting: the shared vocabulary where there is one, else the variable's name. */
export function flagFor(env: string): string {
  return SHARED_FLAG_NAMES[env] ?? envFlagFor(env);
}

/** commander's attribute name for a flag: kebab-case to camelCase. */
function attributeFor(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The environment serve runs with: flags over `env`. A flag and its alias given different values is a usage error. */
export function envWithFlags(
  env: NodeJS.ProcessEnv,
  opts: Record<string, unknown>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const s of Object.values(SETTINGS)) {
    const shown = opts[attributeFor(flagFor(s.env))];
    const alias = flagFor(s.env) === envFlagFor(s.env) ? undefined : opts[attributeFor(envFlagFor(s.env))];
    if (typeof shown === 'string' && typeof alias === 'string' && shown !== alias) {
      const both = `--${flagFor(s.env)} and --${envFlagFor(s.env)}`;
      throw new CliError(`${both} name the same setting (${s.env}); give one`, ExitCode.usage);
    }
    const v = shown ?? alias;
    if (typeof v === 'string') out[s.env] = v;
  }
  return out;
}

/**
 * Starts from `env` (flags already merged), waits for `until`, drains. Throws CliError for bad configuration or a
 * failed start. `onStarted` lets a caller (a test) see the running server.
 */
export async function runServe(
  env: Record<string, string | undefined>,
  io: CliIo,
  until: Until = untilSignal,
  onStarted?: (s: StartedRedirector) => void,
  /** settings given as flags: an invalid value there is a usage error (64), from the environment misconfiguration (2) */
  fromFlags: ReadonlySet<string> = new Set(),
): Promise<void> {
  // bin/registry-canary.js armed the signal latch before any module loaded, so a signal that came earlier is held
  // for `until`
  const failed = await serveUntil(
    (state) =>
      startRedirector(loadConfig(env), io.stdout === process.stdout ? { state } : { state, logDestination: io.stdout }),
    until,
    onStarted,
  );
  if (failed === null) return;
  const err = failed.startError;
  if (err instanceof ConfigError) {
    if (fromFlags.has(err.setting)) {
      throw new CliError(`--${flagFor(err.setting)}: ${err.message}`, ExitCode.usage);
    }
    throw new CliError(`invalid configuration: ${err.message}`, ExitCode.misconfigured);
  }
  throw new CliError(`cannot start the redirector: ${describeStartError(err)}`, ExitCode.unreachable);
}

export const registerServe: RegisterCommand = (program: Command, io: CliIo, setExit) => {
  const cmd = program
    .command('serve')
    .description(
      'Start the redirector (registry.k8s.io request handling). Prints one JSON log line per decision; the "listening" line carries url and adminUrl. Stops, draining, on SIGTERM/SIGINT. Every flag defaults to its environment variable.',
    );
  for (const s of Object.values(SETTINGS)) {
    cmd.option(
      `--${flagFor(s.env)} <value>`,
      `${s.doc} [env ${s.env}; default ${s.default === '' ? 'unset' : s.default}]`,
    );
    if (flagFor(s.env) !== envFlagFor(s.env)) cmd.addOption(new Option(`--${envFlagFor(s.env)} <value>`).hideHelp());
  }
  cmd.action(async (opts: Record<string, unknown>) => {
    const fromFlags = envWithFlags({}, opts);
    const given = new Set(
      Object.values(SETTINGS)
        .map((s) => s.env)
        .filter((e) => fromFlags[e] !== undefined),
    );
    await runServe(envWithFlags(io.env, opts), io, untilSignal, undefined, given);
    setExit(ExitCode.ok);
  });
};

/**
 * `registry-canary replay`: reproduce a routing bug locally (harness/src/replay). Starts the local stack
 * under the requested semantics (both by default: one world, one redirector per semantics), replays pulls from the
 * given client addresses in xff mode, or the requests of a decision log from their logged addresses, prints every
 * chain hop by hop and the requests whose first hop differs between the semantics.
 *
 *   registry-canary replay --ip 15.193.0.5 --image pause:3.10
 *   registry-canary replay --log decisions.jsonl --semantics archeio --protocol-compat archeio
 *
 * Exit: 0 replayed; 1 with --fail-on-difference when the semantics route a request differently; 2 the stack did not
 * start, or the --log file is missing or holds no decision line; 64 usage (an --image the local world lacks included).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  StackError,
  fixtureDigestsFile,
  type Engine,
  type Semantics,
  ReplayInputError,
  parseDecisionLog,
  pullsFrom,
  replayText,
  runReplay,
  startReplayWorlds,
  type ReplayItem,
} from '../../../harness/src/index.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { CliIo } from '../cli-io.js';
import type { RegisterCommand } from '../cli-io.js';

export interface ReplayCommandOptions {
  ip?: string[];
  image?: string[];
  log?: string;
  semantics?: string;
  protocolCompat?: string;
  engine?: string;
  concurrency?: string;
  brief?: boolean;
  json?: boolean;
  failOnDifference?: boolean;
}

const usage = (message: string): never => {
  throw new CliError(message, ExitCode.usage);
};

const SEMANTICS_CHOICES: Record<string, Semantics[]> = {
  both: ['most-specific', 'archeio'],
  'most-specific': ['most-specific'],
  archeio: ['archeio'],
};

export async function replayItems(opts: ReplayCommandOptions): Promise<{ items: ReplayItem[]; notes: string[] }> {
  const ips = opts.ip ?? [];
  const images = opts.image ?? [];
  const notes: string[] = [];
  let items: ReplayItem[] = [];
  if (ips.length > 0 || images.length > 0) {
    if (ips.length === 0) usage('--image needs at least one --ip to pull from');
    if (images.length === 0) usage('--ip needs at least one --image to pull');
    try {
      items = pullsFrom(ips, images);
    } catch (err) {
      if (err instanceof ReplayInputError) usage(err.message);
      throw err;
    }
  }
  if (opts.log !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.log, 'utf8');
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new CliError(`--log: cannot read ${opts.log}: ${why}`, ExitCode.misconfigured);
    }
    const parsed = parseDecisionLog(text);
    for (const [why, n] of Object.entries(parsed.skipped))
      notes.push(`--log: skipped ${n} line${n === 1 ? '' : 's'}: ${why}`);
    if (parsed.items.length === 0) {
      const format = 'JSON with "msg":"decision", as the redirector logs them';
      throw new CliError(`--log ${opts.log} has no decision lines (${format})`, ExitCode.misconfigured);
    }
    items = [...items, ...parsed.items];
  }
  if (items.length === 0) usage('give --ip and --image, or --log FILE');
  // an image the local world does not hold gets 404 under every semantics: that reproduces nothing, so say so
  const known = localWorldImages();
  const missing = unknownImages(items, known);
  if (missing.length > 0) {
    usage(
      `--image ${missing.join(', ')}: not in the local world, where every semantics answers 404 alike; ` +
        `its images: ${known.join(', ')}`,
    );
  }
  return { items, notes };
}

/** The images the local world holds: the fixture set, as recorded in fixtures/images/digests.json. */
export function localWorldImages(): string[] {
  const record = JSON.parse(readFileSync(fixtureDigestsFile(), 'utf8')) as { images: { ref: string }[] };
  return record.images.map((i) => i.ref);
}

/** The `--image` refs `known` lacks. */
export function unknownImages(items: readonly ReplayItem[], known: readonly string[]): string[] {
  const wanted = [...new Set(items.flatMap((i) => (i.kind === 'pull' ? [i.image] : [])))];
  return wanted.filter((w) => !known.includes(w));
}

export async function replayCommand(opts: ReplayCommandOptions, io: CliIo): Promise<number> {
  const semantics = SEMANTICS_CHOICES[opts.semantics ?? 'both'];
  if (!semantics)
    return usage(`--semantics must be both, most-specific or archeio, not ${JSON.stringify(opts.semantics)}`);
  if (opts.protocolCompat !== undefined && opts.protocolCompat !== 'none' && opts.protocolCompat !== 'archeio')
    usage(`--protocol-compat must be none or archeio, not ${JSON.stringify(opts.protocolCompat)}`);
  if (opts.engine !== undefined && opts.engine !== 'process' && opts.engine !== 'container')
    usage(`--engine must be process or container, not ${JSON.stringify(opts.engine)}`);
  if (
    opts.concurrency !== undefined &&
    (!/^\d+$/.test(opts.concurrency) || Number(opts.concurrency) < 1 || Number(opts.concurrency) > 64)
  )
    usage(`--concurrency must be a whole number from 1 to 64, not ${JSON.stringify(opts.concurrency)}`);
  const { items, notes } = await replayItems(opts);
  const say = (m: string) => io.stderr.write(`${m}\n`);
  for (const n of notes) say(n);
  say(
    `replay: ${items.length} item${items.length === 1 ? '' : 's'} under ${semantics.join(' and ')}; starting the local stack`,
  );
  const started = performance.now();
  let worlds;
  try {
    worlds = await startReplayWorlds({
      semantics,
      ...(opts.engine ? { engine: opts.engine as Engine } : {}),
      ...(opts.protocolCompat ? { redirectorEnv: { PROTOCOL_COMPAT: opts.protocolCompat } } : {}),
      log: (m) => say(`  stack: ${m}`),
    });
  } catch (err) {
    if (err instanceof StackError)
      throw new CliError(`the local stack did not start (${err.code}): ${err.message}`, ExitCode.unreachable);
    throw err;
  }
  try {
    const result = await runReplay(
      worlds.worlds,
      items,
      opts.concurrency !== undefined ? { concurrency: Number(opts.concurrency) } : {},
    );
    if (opts.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else io.stdout.write(replayText(result, { traces: opts.brief !== true }));
    say(`replay: done in ${((performance.now() - started) / 1000).toFixed(1)} s (stack start included)`);
    const differing = result.items.some((i) => i.differences.length > 0);
    return opts.failOnDifference && differing ? ExitCode.failed : ExitCode.ok;
  } finally {
    await worlds.stop();
  }
}

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
];

export const registerReplay: RegisterCommand = (program: Command, io: CliIo, setExit: (code: number) => void) => {
  program
    .command('replay')
    .description(
      'reproduce a routing bug: replay pulls from client IPs (or a decision log) against the local stack under both semantics, with hop-by-hop traces and where the semantics differ',
    )
    .option('--ip <address>', 'client address to pull from (repeatable or comma-separated)', collect)
    .option(
      '--image <ref>',
      'image to pull, <repository>:<tag> as seen through the redirector, one the local world holds (repeatable or comma-separated)',
      collect,
    )
    .option('--log <file>', "the redirector's JSON decision lines to replay from their logged client addresses")
    .option('--semantics <which>', 'both (default), most-specific or archeio')
    .option(
      '--protocol-compat <mode>',
      "none (default) or archeio: production's protocol quirks on every replayed redirector",
    )
    .option('--engine <engine>', 'local stack engine: process (default) or container')
    .option('--concurrency <n>', 'items replayed at once (default 4)')
    .option('--brief', 'first hops only, no full traces')
    .option('--json', 'print the replay as JSON')
    .option('--fail-on-difference', 'exit 1 when the semantics route any request differently')
    .action(async (opts: ReplayCommandOptions) => {
      setExit(await replayCommand(opts, io));
    });
};

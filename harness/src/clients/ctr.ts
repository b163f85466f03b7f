/**
 * containerd's `ctr` as a real client, against a daemon from containerd-daemon.ts.
 *
 * containerd resolves a tag with `HEAD manifests/<tag>` (following the 307), then GETs the manifest by digest and
 * the blobs; its content store checks every size and digest on commit, so a completed fetch is a verified one.
 * `--http-dump` makes ctr log each request and response; `ctrHttpHops` turns that log into hops for the report.
 */
import { createHash } from 'node:crypto';
import type { Hop } from '../results/check.js';
import type { ClientReference } from './client-reference.js';
import { runTool, type ToolRun, type ToolRunOptions } from './external-tool.js';

export interface CtrOptions extends ToolRunOptions {
  /** the daemon's gRPC socket */
  address: string;
}

export interface CtrFetch {
  run: ToolRun;
  /** the digest containerd recorded for the image (its target), or null when the command failed */
  digest: string | null;
  mediaType: string | null;
  /** hops parsed from `--http-dump` (best effort: concurrent blob fetches interleave in the log) */
  hops: Hop[];
}

function transportFlags(ref: ClientReference): string[] {
  return ref.plainHttp ? ['--plain-http'] : [];
}

/** `ctr content fetch --all-platforms`: every manifest, config and layer of every platform, into the content store. */
export async function ctrContentFetch(bin: string, ref: ClientReference, opts: CtrOptions): Promise<CtrFetch> {
  const run = await runTool(
    bin,
    ['--address', opts.address, 'content', 'fetch', ...transportFlags(ref), '--all-platforms', '--http-dump', ref.text],
    opts,
  );
  return finishFetch(bin, ref, run, opts);
}

/**
 * `ctr content fetch-object <ref>`: resolves the reference through the registry and prints the manifest it names,
 * without storing anything; the digest is the hash of those bytes. Used where the content store cannot take an
 * image's blobs (client-side limitations) but resolution can still be compared.
 */
export async function ctrFetchObject(bin: string, ref: ClientReference, opts: CtrOptions): Promise<CtrFetch> {
  const run = await runTool(
    bin,
    ['--address', opts.address, 'content', 'fetch-object', ...transportFlags(ref), '--http-dump', ref.text],
    opts,
  );
  const hops = ctrHttpHops(run.stderr);
  if (run.exitCode !== 0 || run.stdout === '') return { run, digest: null, mediaType: null, hops };
  let mediaType: string | null = null;
  try {
    const parsed = JSON.parse(run.stdout) as { mediaType?: unknown };
    mediaType = typeof parsed.mediaType === 'string' ? parsed.mediaType : null;
  } catch {
    mediaType = null;
  }
  return {
    run,
    digest: `sha256:${createHash('sha256').update(Buffer.from(run.stdout, 'utf8')).digest('hex')}`,
    mediaType,
    hops,
  };
}

/** `ctr image pull --snapshotter native`: fetch plus unpack into a snapshot, as a node would before running it. */
export async function ctrImagePull(
  bin: string,
  ref: ClientReference,
  opts: CtrOptions & { platform?: string },
): Promise<CtrFetch> {
  const platform = opts.platform ? ['--platform', opts.platform] : [];
  const run = await runTool(
    bin,
    [
      '--address',
      opts.address,
      'image',
      'pull',
      ...transportFlags(ref),
      '--snapshotter',
      'native',
      ...platform,
      '--http-dump',
      ref.text,
    ],
    opts,
  );
  return finishFetch(bin, ref, run, opts);
}

async function finishFetch(bin: string, ref: ClientReference, run: ToolRun, opts: CtrOptions): Promise<CtrFetch> {
  const hops = ctrHttpHops(run.stderr);
  if (run.exitCode !== 0) return { run, digest: null, mediaType: null, hops };
  const record = await ctrImageRecord(bin, ref.text, opts);
  return { run, digest: record?.digest ?? null, mediaType: record?.mediaType ?? null, hops };
}

/** The image record containerd keeps for `name`: `ctr images ls` columns REF TYPE DIGEST ... */
export async function ctrImageRecord(
  bin: string,
  name: string,
  opts: CtrOptions,
): Promise<{ digest: string; mediaType: string } | null> {
  const run = await runTool(bin, ['--address', opts.address, 'images', 'ls', `name==${name}`], opts);
  if (run.exitCode !== 0) return null;
  for (const line of run.stdout.split('\n').slice(1)) {
    const [refName, mediaType, digest] = line.trim().split(/\s+/);
    if (refName === name && digest) return { digest, mediaType };
  }
  return null;
}

const LOG_MESSAGE = /msg="((?:[^"\\]|\\.)*)"/;
const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/\d\.\d$/;
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})\b/;

/**
 * Parses ctr's `--http-dump` log (logrus lines: the request line and headers, then the status line and headers) into
 * hops. Requests and responses are paired in order, which is exact for the manifest resolution and may mis-pair
 * concurrent blob fetches; the hops are evidence for a report, not the basis of a verdict.
 */
export function ctrHttpHops(log: string): Hop[] {
  const hops: Hop[] = [];
  const pending: { method: string; path: string; host?: string }[] = [];
  let current: { method: string; path: string; host?: string } | null = null;
  let response: Hop | null = null;
  for (const line of log.split('\n')) {
    const m = LOG_MESSAGE.exec(line);
    if (!m) continue;
    const text = m[1].replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    const req = REQUEST_LINE.exec(text);
    if (req) {
      current = { method: req[1], path: req[2] };
      pending.push(current);
      response = null;
      continue;
    }
    const status = STATUS_LINE.exec(text);
    if (status) {
      const request = pending.shift();
      current = null;
      response = {
        method: request?.method ?? '?',
        url: request ? `http://${request.host ?? '?'}${request.path}` : '?',
        status: Number(status[1]),
        headers: {},
        startMs: 0,
        durationMs: 0,
      };
      hops.push(response);
      continue;
    }
    const colon = text.indexOf(': ');
    if (colon <= 0) continue;
    const name = text.slice(0, colon).toLowerCase();
    const value = text.slice(colon + 2);
    if (current && name === 'host') current.host = value;
    else if (response) {
      if (name === 'location') response.location = value;
      if (['location', 'content-type', 'content-length', 'docker-content-digest'].includes(name))
        response.headers[name] = value;
    }
  }
  return hops;
}

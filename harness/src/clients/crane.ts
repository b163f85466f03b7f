/**
 * crane (go-containerregistry) as a real client, built from the pinned version in go-programs.ts.
 *
 * `crane digest` resolves the tag (HEAD, falling back to GET when the answer lacks Docker-Content-Digest), and
 * `crane validate --remote <repo>@<digest>` pulls the manifest by that digest (crane checks its bytes hash to it) and
 * re-hashes every config and layer, recursing into every manifest of an index. `--insecure` allows plain HTTP.
 *
 * crane refuses to follow a redirect to a loopback, private, link-local or unspecified IP literal unless its host is
 * the host of the first request (`checkRedirectSSRF` in go-containerregistry's pkg/v1/remote/fetcher.go,
 * https://github.com/google/go-containerregistry/blob/v0.22.1/pkg/v1/remote/fetcher.go). A local target must
 * therefore name its edges, buckets and upstream with one host (the local stack uses 127.0.0.1 for all of them);
 * `craneRefusedRedirectHosts` says which destinations crane would refuse, so a check can say why instead of failing
 * on crane's message. The client's guard is never relaxed.
 */
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';
import type { ClientReference } from './client-reference.js';
import { runTool, type ToolRun, type ToolRunOptions } from './external-tool.js';
import { verifyLayoutBlobs } from './layout-blobs.js';
import { isDigest } from '../oci/digest.js';

export interface CraneResult {
  run: ToolRun;
  digest: string | null;
}

function insecure(ref: ClientReference): string[] {
  return ref.plainHttp ? ['--insecure'] : [];
}

export async function craneDigest(bin: string, ref: ClientReference, opts: ToolRunOptions = {}): Promise<CraneResult> {
  const run = await runTool(bin, ['digest', ...insecure(ref), ref.text], opts);
  const printed = run.stdout.trim();
  return { run, digest: run.exitCode === 0 && isDigest(printed) ? printed : null };
}

/** `crane validate --remote` of `ref` as given (by tag, or by digest: `byDigest` below). */
export async function craneValidateRemote(
  bin: string,
  ref: ClientReference,
  opts: ToolRunOptions = {},
): Promise<ToolRun> {
  // --remote takes the reference as its value: `--remote REF` (a separate word would be read as a subcommand)
  return runTool(bin, ['validate', ...insecure(ref), `--remote=${ref.text}`], opts);
}

export interface CranePull {
  run: ToolRun;
  /** the digest of the one top-level manifest the layout's index.json records, or null when the pull failed */
  digest: string | null;
  blobs: number;
  /** blobs whose bytes do not hash to their name, and a missing top-level manifest */
  mismatched: string[];
}

/**
 * `crane pull --format=oci` of `ref` into a new OCI layout at `layoutDir`: every platform of an index, every blob
 * (crane checks each against its digest while it reads), then every stored blob re-hashed here.
 */
export async function cranePullToOciLayout(
  bin: string,
  ref: ClientReference,
  layoutDir: string,
  opts: ToolRunOptions = {},
): Promise<CranePull> {
  const run = await runTool(bin, ['pull', ...insecure(ref), '--format=oci', ref.text, layoutDir], opts);
  if (run.exitCode !== 0) return { run, digest: null, blobs: 0, mismatched: [] };
  type LayoutIndex = { manifests?: { digest?: string }[] };
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as LayoutIndex;
  const digests = (index.manifests ?? []).map((m) => m.digest).filter((d): d is string => typeof d === 'string');
  const digest = digests.length === 1 ? digests[0]! : null;
  const { blobs, mismatched } = await verifyLayoutBlobs(layoutDir);
  if (digests.length !== 1) mismatched.push(`index.json lists ${digests.length} manifests, expected the one pulled`);
  else if (isDigest(digest!)) {
    const [algorithm, encoded] = digest!.split(':') as [string, string];
    const found = await readFile(join(layoutDir, 'blobs', algorithm, encoded)).then(
      () => true,
      () => false,
    );
    if (!found) mismatched.push(`${digest}: the pulled manifest is not in the layout`);
  }
  return { run, digest, blobs, mismatched };
}

/** The same repository at `digest`. */
export function byDigest(ref: ClientReference, digest: string): ClientReference {
  const { tag: _tag, ...rest } = ref;
  return { ...rest, digest, text: `${ref.authority}/${ref.repository}@${digest}` };
}

function ipv4Blocked(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  const privateRange = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  return a === 0 || a === 127 || privateRange || (a === 169 && b === 254);
}

/**
 * Whether `host` (a URL hostname: IPv6 in brackets) is an IP literal crane's redirect guard treats as internal:
 * loopback, private (RFC 1918, fc00::/7), link-local or unspecified, IPv4-mapped IPv6 included.
 */
export function isGuardedAddress(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(bare)) return ipv4Blocked(bare);
  if (!isIPv6(bare)) return false;
  const lower = bare.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return ipv4Blocked(mapped[1]!);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return ipv4Blocked(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  if (lower === '::' || lower === '::1') return true;
  const first = parseInt(lower.split(':')[0] || '0', 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}

/**
 * The redirect destinations (base URLs) crane would refuse when its first request goes to `origin`: those whose
 * host differs from the origin's and is a guarded address. Pure, so the rule is tested without crane.
 */
export function craneRefusedRedirectHosts(origin: string, destinations: readonly string[]): string[] {
  const from = new URL(origin).hostname;
  const refused = new Set<string>();
  for (const d of destinations) {
    const host = new URL(d).hostname;
    if (host !== from && isGuardedAddress(host)) refused.add(host);
  }
  return [...refused];
}

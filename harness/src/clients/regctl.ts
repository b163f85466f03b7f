/**
 * regctl (regclient) as a real client: `regctl image digest` resolves the tag (HEAD, GET when the answer carries no
 * Docker-Content-Digest), and `regctl image copy <ref> ocidir://<dir>:<tag>` pulls every manifest of the image, every
 * platform of an index, and every blob, into an OCI layout, storing manifests byte for byte. Each blob in that
 * layout is then hashed here and compared with the name it is stored under, so the pull is verified by two parties:
 * regclient while it reads, and this module afterwards.
 *
 * regctl reads its configuration from `~/.regctl/config.json` (or `$REGCTL_CONFIG`) and Docker's credentials from
 * `~/.docker/config.json`. Every run here gets a private HOME, REGCTL_CONFIG and DOCKER_CONFIG in a temporary
 * directory, so the user's configuration is neither read nor written; plain HTTP is declared per command with
 * `--host reg=<host:port>,tls=disabled`.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientReference } from './client-reference.js';
import { runTool, type ToolRun, type ToolRunOptions } from './external-tool.js';
import { verifyLayoutBlobs } from './layout-blobs.js';
import { isDigest } from '../oci/digest.js';

export interface RegctlDigest {
  run: ToolRun;
  digest: string | null;
}

export interface RegctlCopy {
  run: ToolRun;
  /** digest the layout's index.json records for the copied tag, or null when the copy failed */
  digest: string | null;
  /** blobs in the layout (manifests, configs, layers) */
  blobs: number;
  /** blobs whose bytes do not hash to the name they are stored under, as `<name>: got <digest>` */
  mismatched: string[];
}

/** A private configuration for regctl runs: call `close()` when done. */
export interface RegctlSession {
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function regctlSession(base: NodeJS.ProcessEnv = process.env): Promise<RegctlSession> {
  const home = await mkdtemp(join(tmpdir(), 'rc-regctl-'));
  const env: NodeJS.ProcessEnv = {
    ...base,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    REGCTL_CONFIG: join(home, 'regctl-config.json'),
    DOCKER_CONFIG: join(home, '.docker'),
  };
  return { env, close: () => rm(home, { recursive: true, force: true }) };
}

/** The global flags that tell regctl how to reach the reference's registry (plain HTTP when the edge is). */
export function regctlHostFlags(ref: ClientReference): string[] {
  return ['--host', `reg=${ref.authority},tls=${ref.plainHttp ? 'disabled' : 'enabled'}`];
}

export async function regctlImageDigest(
  bin: string,
  ref: ClientReference,
  session: RegctlSession,
  opts: ToolRunOptions = {},
): Promise<RegctlDigest> {
  const run = await runTool(bin, ['image', 'digest', ...regctlHostFlags(ref), ref.text], { ...opts, env: session.env });
  const printed = run.stdout.trim();
  return { run, digest: run.exitCode === 0 && isDigest(printed) ? printed : null };
}

interface LayoutIndex {
  manifests?: { digest?: string; annotations?: Record<string, string> }[];
}

/**
 * Copies `ref` (every platform, every blob) into a new OCI layout at `layoutDir`, tagged `tag`, then reads back the
 * digest recorded for the tag and verifies every blob stored.
 */
export async function regctlCopyToOciLayout(
  bin: string,
  ref: ClientReference,
  layoutDir: string,
  session: RegctlSession,
  opts: ToolRunOptions & { tag?: string } = {},
): Promise<RegctlCopy> {
  const tag = opts.tag ?? 'pulled';
  const run = await runTool(bin, ['image', 'copy', ...regctlHostFlags(ref), ref.text, `ocidir://${layoutDir}:${tag}`], {
    ...opts,
    env: session.env,
  });
  if (run.exitCode !== 0) return { run, digest: null, blobs: 0, mismatched: [] };
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as LayoutIndex;
  const entry = index.manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  const digest = entry?.digest ?? null;
  const { blobs, mismatched } = await verifyLayoutBlobs(layoutDir);
  if (digest !== null && isDigest(digest)) {
    const [algorithm, encoded] = digest.split(':') as [string, string];
    const stored = await readdir(join(layoutDir, 'blobs', algorithm)).catch(() => [] as string[]);
    if (!stored.includes(encoded)) mismatched.push(`${digest}: the tagged manifest is not in the layout`);
  }
  return { run, digest, blobs, mismatched };
}

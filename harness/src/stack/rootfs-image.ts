/**
 * Container images assembled from binaries already on this machine, for a container engine that cannot pull from
 * any image registry: a root file system holding the program, the shared libraries `ldd` names
 * and the dynamic loader, imported through the Docker API's import endpoint (`POST /images/create?fromSrc=-`, which
 * podman's compatibility API serves too).
 *
 * Used for the upstream registry (Debian's docker-registry is dynamically linked) and for the Node base image the
 * redirector's Containerfile builds on (passed by build argument).
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'undici';
import { StackError } from './stack-error.js';

const run = promisify(execFile);

/** The shared objects a dynamically linked program needs, loader included, as `ldd` reports them. */
export async function sharedLibraries(bin: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('ldd', [bin]));
  } catch (err) {
    // "not a dynamic executable": nothing to add
    if (/not a dynamic executable/.test(String((err as { stderr?: unknown }).stderr ?? ''))) return [];
    throw err;
  }
  const libs = new Set<string>();
  for (const line of stdout.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    if (arrow) libs.add(arrow[1]!);
    else {
      const direct = /^\s*(\/\S+)\s+\(/.exec(line);
      if (direct) libs.add(direct[1]!);
    }
  }
  return [...libs];
}

export interface RootfsSpec {
  /** host files copied to the same path in the image (their libraries are added automatically) */
  binaries: string[];
  /** extra files: path in the image → content */
  files?: Record<string, string>;
  /** empty directories to create (e.g. /tmp) */
  dirs?: string[];
  /** Containerfile instructions applied on import (ENTRYPOINT, ENV, WORKDIR, ...) */
  changes?: string[];
}

/** Builds the root file system in `workDir` and returns the path of a tar of it. */
export async function buildRootfsTar(spec: RootfsSpec, workDir: string): Promise<string> {
  const root = join(workDir, 'rootfs');
  await rm(root, { recursive: true, force: true });
  const paths = new Set<string>();
  for (const bin of spec.binaries) {
    paths.add(bin);
    for (const lib of await sharedLibraries(bin)) paths.add(lib);
  }
  for (const p of paths) {
    const dest = join(root, p);
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(p, dest);
    await chmod(dest, 0o755);
  }
  for (const [p, content] of Object.entries(spec.files ?? {})) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), content);
  }
  for (const d of spec.dirs ?? []) await mkdir(join(root, d), { recursive: true, mode: 0o1777 });
  const tar = join(workDir, 'rootfs.tar');
  await run('tar', ['-C', root, '-cf', tar, '.']);
  await rm(root, { recursive: true, force: true });
  return tar;
}

export async function imageExists(socketPath: string, image: string): Promise<boolean> {
  const client = new Client('http://localhost', { socketPath });
  try {
    const res = await client.request({ method: 'GET', path: `/images/${encodeURIComponent(image)}/json` });
    await res.body.dump();
    return res.statusCode === 200;
  } finally {
    await client.close().catch(() => {});
  }
}

/** Imports a root file system tar as `repo:tag` through the Docker API. */
export async function importRootfs(
  socketPath: string,
  tarFile: string,
  repo: string,
  tag: string,
  changes: readonly string[],
): Promise<void> {
  // the tag goes into `repo` ("the repo may include a tag"): podman's compatibility API ignores a separate `tag`
  const params = new URLSearchParams({ fromSrc: '-', repo: `${repo}:${tag}` });
  for (const c of changes) params.append('changes', c);
  const client = new Client('http://localhost', { socketPath, headersTimeout: 300_000, bodyTimeout: 300_000 });
  try {
    const res = await client.request({
      method: 'POST',
      path: `/images/create?${params}`,
      headers: { 'content-type': 'application/x-tar' },
      body: createReadStream(tarFile),
    });
    const text = await res.body.text();
    // the endpoint streams JSON progress; a failure is a non-2xx status or an "error" field in that stream
    if (res.statusCode >= 300 || /"error"\s*:/.test(text)) {
      throw new StackError(
        'STACK_ENGINE_UNAVAILABLE',
        `importing ${repo}:${tag} failed (HTTP ${res.statusCode}): ${text.slice(0, 500)}`,
      );
    }
  } finally {
    await client.close().catch(() => {});
  }
}

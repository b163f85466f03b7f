/**
 * Builds an image through the Docker API (`POST /build`, which podman's compatibility API serves too) with
 * `squash=1`: one layer instead of one per instruction, which is what podman's vfs driver (a full copy of the file
 * system per layer) stores most cheaply. testcontainers' builder cannot ask for that, so the context goes to the API
 * directly; containers still run through testcontainers. The image's tag is a fingerprint of its inputs, so an
 * engine whose storage outlives the stack (a Docker daemon) reuses an unchanged image instead of rebuilding it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Client } from 'undici';
import { StackError } from './stack-error.js';

/**
 * A fingerprint of a build: the Containerfile's text, extra material (base image identity), and every file the
 * COPY sources name: by content, except under node_modules, where path, size and modification time stand in
 * (hashing hundreds of MB would cost more than the cache saves, and only an install changes them). Content rather
 * than mtimes elsewhere, because `tsc` rewrites dist/ on every build even when nothing changed.
 */
export async function buildFingerprint(
  repoRoot: string,
  containerfileText: string,
  sources: readonly string[],
  extra: unknown,
): Promise<string> {
  const hash = createHash('sha256').update(containerfileText).update(JSON.stringify(extra));
  const walk = async (abs: string): Promise<void> => {
    const st = await lstat(abs);
    const rel = relative(repoRoot, abs);
    if (st.isDirectory()) {
      hash.update(`d ${rel}\n`);
      for (const name of (await readdir(abs)).sort()) await walk(join(abs, name));
    } else if (/(^|\/)node_modules\//.test(rel)) {
      hash.update(`m ${rel}\0${st.size}\0${Math.round(st.mtimeMs)}\0${st.mode}\n`);
    } else {
      hash
        .update(`f ${rel}\0${st.mode}\0`)
        .update(await readFile(abs))
        .update('\n');
    }
  };
  for (const src of [...sources].sort()) await walk(join(repoRoot, src));
  return hash.digest('hex').slice(0, 16);
}

/** The repo-relative sources a Containerfile's COPY/ADD lines name (multi-stage `--from=` copies excluded). */
export function containerfileSources(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(?:COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m || /--from=/.test(m[1]!)) continue;
    const words = m[1]!.split(/\s+/).filter((w) => w !== '' && !w.startsWith('--'));
    out.push(...words.slice(0, -1));
  }
  return out;
}

/**
 * A build context in `stage`: the Containerfile and exactly the repo-relative `sources` (what its COPY lines name,
 * after withRuntimePackagesOnly has narrowed node_modules), so a whole checkout with every package of the harness
 * and the test tools, and .cache, is never sent to the builder.
 */
export async function stageBuildContext(
  repoRoot: string,
  containerfile: string,
  sources: readonly string[],
  stage: string,
): Promise<void> {
  await mkdir(stage, { recursive: true });
  await cp(containerfile, join(stage, 'Containerfile'));
  for (const src of sources) {
    await mkdir(dirname(join(stage, src)), { recursive: true });
    await cp(join(repoRoot, src), join(stage, src), { recursive: true, dereference: true });
  }
}

export interface ImageBuild {
  socketPath: string;
  /** a directory holding the Containerfile and exactly what it copies */
  contextDir: string;
  dockerfile: string;
  tag: string;
  buildArgs: Record<string, string>;
  timeoutMs?: number;
}

export async function buildImageSquashed(b: ImageBuild): Promise<void> {
  const params = new URLSearchParams({
    dockerfile: b.dockerfile,
    t: b.tag,
    squash: '1',
    rm: '1',
    buildargs: JSON.stringify(b.buildArgs),
  });
  const tar = spawn('tar', ['-C', b.contextDir, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarErr = '';
  tar.stderr.setEncoding('utf8').on('data', (c: string) => (tarErr += c));
  const client = new Client('http://localhost', {
    socketPath: b.socketPath,
    headersTimeout: b.timeoutMs ?? 900_000,
    bodyTimeout: b.timeoutMs ?? 900_000,
  });
  try {
    const res = await client.request({
      method: 'POST',
      path: `/build?${params}`,
      headers: { 'content-type': 'application/x-tar' },
      body: tar.stdout,
    });
    const text = await res.body.text();
    // the endpoint streams JSON lines; a failed step shows as {"error": ...} with a 200 status
    const error = /"error(?:Detail)?"\s*:\s*("(?:[^"\\]|\\.)*"|\{[^}]*\})/.exec(text);
    if (res.statusCode >= 300 || error) {
      throw new StackError(
        'STACK_ENGINE_UNAVAILABLE',
        `building ${b.tag} failed (HTTP ${res.statusCode}): ${(error?.[1] ?? text).slice(0, 800)}${tarErr ? `\ntar: ${tarErr}` : ''}`,
      );
    }
  } finally {
    tar.kill();
    await client.close().catch(() => {});
  }
}

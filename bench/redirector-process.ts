/**
 * Shared by the redirector benchmarks: build once, spawn the built redirector (`node dist/redirector/src/main.js`)
 * with its stdout (the per-decision log, kept ON: it is part of the cost) going through a pipe to a collector
 * process (`cat`, appending to a file), as on Cloud Run, where a logging agent reads the container's stdout: the
 * redirector pays for its write(2) into the pipe, the collector for storing the lines. `LOG_SINK=file` gives the
 * redirector the file itself instead (it then also pays for the file system's page-cache work). The benchmark
 * waits for the "listening" line, which carries the real ports. Every process is stopped and every temp dir removed by the
 * callers' `finally`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MAIN = join(ROOT, 'dist', 'redirector', 'src', 'main.js');
/** where the redirector's stdout goes: `pipe` (default; to a collector process) or `file` */
export const LOG_SINK = process.env.LOG_SINK === 'file' ? 'file' : 'pipe';

/** `npx tsc -p tsconfig.json`, unless SKIP_BUILD=1 and dist/ exists. */
export function build(): void {
  if (process.env.SKIP_BUILD === '1' && existsSync(MAIN)) return;
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(MAIN)) throw new Error(`build failed (tsc exit ${r.status}): ${MAIN} is missing`);
}

export interface RunningRedirector {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  /** ms from spawn to the listening line */
  readyMs: number;
  stop(): Promise<number | null>;
}

/** Spawns the built redirector (or another build's `main.js`); resolves once its listening line is in `logFile`. */
export async function spawnRedirector(
  env: Record<string, string>,
  logFile: string,
  nodeArgs: string[] = [],
  main: string = MAIN,
): Promise<RunningRedirector> {
  const fd = openSync(logFile, 'w');
  const collector = LOG_SINK === 'pipe' ? spawn('cat', [], { stdio: ['pipe', fd, 'inherit'] }) : null;
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, main], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ADMIN_PORT: '0', ...env },
    stdio: ['ignore', collector === null ? fd : collector.stdin!, 'pipe'],
  });
  closeSync(fd);
  // the redirector holds the pipe's write end now; the collector ends when it closes
  collector?.stdin!.destroy();
  const collected =
    collector === null
      ? Promise.resolve()
      : new Promise<void>((r) => (collector.exitCode !== null ? r() : collector.once('exit', () => r())));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const poll = setInterval(() => {
      const hit = readFileSync(logFile, 'utf8')
        .split('\n')
        .find((l) => l.includes('"msg":"listening"'));
      if (hit) {
        clearInterval(poll);
        resolve(JSON.parse(hit) as Record<string, unknown>);
      }
    }, 2);
    child.once('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`redirector exited ${code} before listening: ${stderr}`));
    });
  });
  const readyMs = performance.now() - started;
  return {
    child,
    url: line.url as string,
    adminUrl: line.adminUrl as string,
    readyMs,
    stop: async () => {
      const code = await new Promise<number | null>((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (c) => resolve(c));
        child.kill('SIGTERM');
      });
      await collected;
      return code;
    },
  };
}

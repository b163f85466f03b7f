/**
 * Shared by the redirector benchmarks: build once, spawn the built redirector (`node dist/redirector/src/main.js`)
 * with its stdout (the per-decision log, kept ON: it is part of the cost) going to a file, and wait for the
 * "listening" line, which carries the real ports. Every process is stopped and every temp dir removed by the
 * callers' `finally`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MAIN = join(ROOT, 'dist', 'redirector', 'src', 'main.js');

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

/** Spawns the built redirector; resolves once its listening line is in `logFile`. */
export async function spawnRedirector(env: Record<string, string>, logFile: string, nodeArgs: string[] = []): Promise<RunningRedirector> {
  const fd = openSync(logFile, 'w');
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, MAIN], { env: { PATH: process.env.PATH ?? '', PORT: '0', ADMIN_PORT: '0', ...env }, stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
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
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

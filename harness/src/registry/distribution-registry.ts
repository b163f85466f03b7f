/**
 * Runs the Debian `docker-registry` (CNCF distribution 2.8) as a throwaway process on 127.0.0.1: a config in a
 * temporary directory (filesystem storage, redirects disabled, no upload purging, no storage health
 * check), port 0 so the kernel picks a free port, readiness from its "listening on <addr>" log line. `close()`
 * stops that PID and removes the directory. The local stack's second upstream; seeded with oci/push.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const DEFAULT_DOCKER_REGISTRY_BINARY = '/usr/bin/docker-registry';

export class DistributionRegistryError extends Error {
  constructor(
    readonly code: 'REGISTRY_NOT_INSTALLED' | 'REGISTRY_START_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'DistributionRegistryError';
  }
}

export interface DistributionRegistryOptions {
  binary?: string;
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (any free port) */
  port?: number;
  /** give up waiting for "listening on" after this long; default 15 s */
  startTimeoutMs?: number;
}

export interface StartedDistributionRegistry {
  url: string;
  port: number;
  pid: number;
  /** temporary directory holding config.yml and data/ (removed by close) */
  dir: string;
  /** everything the process logged so far */
  log(): string;
  close(): Promise<void>;
}

export function distributionRegistryInstalled(binary = DEFAULT_DOCKER_REGISTRY_BINARY): boolean {
  return existsSync(binary);
}

export async function startDistributionRegistry(
  options: DistributionRegistryOptions = {},
): Promise<StartedDistributionRegistry> {
  const binary = options.binary ?? DEFAULT_DOCKER_REGISTRY_BINARY;
  if (!distributionRegistryInstalled(binary)) {
    throw new DistributionRegistryError(
      'REGISTRY_NOT_INSTALLED',
      `${binary} not found (apt-get install docker-registry)`,
    );
  }
  const host = options.host ?? '127.0.0.1';
  const dir = await mkdtemp(path.join(tmpdir(), 'docker-registry-'));
  // JSON is YAML: no serializer needed for the config
  const config = {
    version: 0.1,
    log: { level: 'info', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: path.join(dir, 'data') },
      delete: { enabled: true },
      redirect: { disable: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}` },
    health: { storagedriver: { enabled: false } },
  };
  await writeFile(path.join(dir, 'config.yml'), JSON.stringify(config, null, 2));
  const child = spawn(binary, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new DistributionRegistryError(
              'REGISTRY_START_FAILED',
              `no "listening on" within ${options.startTimeoutMs ?? 15_000} ms:\n${output}`,
            ),
          ),
        options.startTimeoutMs ?? 15_000,
      );
      const onLine = (line: string) => {
        output += `${line}\n`;
        const m = /listening on \[?([^\]\s"]+?)\]?:(\d+)/.exec(line);
        if (m !== null) {
          clearTimeout(timer);
          resolve(Number(m[2]));
        }
      };
      createInterface({ input: child.stderr }).on('line', onLine);
      createInterface({ input: child.stdout }).on('line', onLine);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new DistributionRegistryError('REGISTRY_START_FAILED', `${binary}: ${e.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new DistributionRegistryError(
            'REGISTRY_START_FAILED',
            `${binary} exited (${code ?? signal}) before listening:\n${output}`,
          ),
        );
      });
    });
    return {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      port,
      pid: child.pid!,
      dir,
      log: () => output,
      close: stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

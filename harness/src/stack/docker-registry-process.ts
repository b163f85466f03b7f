/**
 * Debian's `docker-registry` (CNCF distribution 2.8) as the upstream, with this
 * configuration: filesystem storage in the stack's temp dir, storage redirects off (it serves blob bytes itself, like
 * Artifact Registry does to our redirector's clients), upload purging off (it would start a background walker).
 * Port 0: distribution logs the port it actually bound ("listening on 127.0.0.1:<port>").
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess } from './managed-process.js';
import type { RegistryService, Started } from './stack-service.js';
import { registryListening } from './registry-listening.js';
import type { Clock } from './wait.js';

export const DOCKER_REGISTRY_BIN = '/usr/bin/docker-registry';

export interface DockerRegistryOptions {
  /** a directory of its own (config and storage go here) */
  dir: string;
  /** name in the process list: "upstream-registry", "signature-registry" */
  name: string;
  bin?: string;
  clock?: Clock;
  timeoutMs?: number;
  echo?: (name: string, line: string) => void;
  /** extra environment for the process (the stack's owner tag) */
  env?: Record<string, string>;
}

export function dockerRegistryConfig(storageDir: string, addr: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: info',
    // one line per request would cost more than serving it; errors still show
    '  accesslog: {disabled: true}',
    'storage:',
    `  filesystem: {rootdirectory: ${JSON.stringify(storageDir)}}`,
    '  delete: {enabled: true}',
    '  redirect: {disable: true}',
    '  maintenance: {uploadpurging: {enabled: false}}',
    'http:',
    `  addr: ${addr}`,
    // a fixed secret silences the "generated random secret" warning; uploads never span instances here
    `  secret: ${randomBytes(16).toString('hex')}`,
    'health: {storagedriver: {enabled: false}}',
    '',
  ].join('\n');
}

export type StartedDockerRegistry = Started<RegistryService & { process: ManagedProcess }>;

export async function startDockerRegistry(opts: DockerRegistryOptions): Promise<StartedDockerRegistry> {
  await mkdir(join(opts.dir, 'data'), { recursive: true });
  const configFile = join(opts.dir, 'config.yml');
  await writeFile(configFile, dockerRegistryConfig(join(opts.dir, 'data'), '127.0.0.1:0'));
  const proc = await ManagedProcess.start({
    name: opts.name,
    command: opts.bin ?? DOCKER_REGISTRY_BIN,
    args: ['serve', configFile],
    // OTEL and proxy variables from the caller's environment must not change how a loopback registry behaves
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    echo: opts.echo,
  });
  try {
    const url = await registryListening(proc, { name: opts.name, clock: opts.clock, timeoutMs: opts.timeoutMs });
    return { url, process: proc, stop: async () => void (await proc.stop(3_000)) };
  } catch (err) {
    await proc.stop(1_000);
    throw err;
  }
}

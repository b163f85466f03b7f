/**
 * A private containerd daemon for one check: its own root, state and sockets under a fresh temp dir, the config
 * (CRI and the snapshotters that cannot work here disabled), started, awaited on its socket,
 * and stopped by its PID. Nothing it writes survives `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface ContainerdDaemonOptions {
  /** containerd binary (absolute path or name on PATH) */
  bin?: string;
  /** how long to wait for the gRPC socket */
  readyTimeoutMs?: number;
  /** extra text appended to the TOML config */
  extraConfig?: string;
}

export interface StartedContainerd {
  /** the gRPC socket, for `ctr --address` */
  address: string;
  /** the temp dir holding config, root, state and sockets */
  dir: string;
  pid: number;
  /** the daemon's log so far (stderr), for failure messages */
  log(): string;
  /** SIGTERM, then SIGKILL after a grace period; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export class ContainerdStartError extends Error {
  readonly code = 'CONTAINERD_START_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerdStartError';
  }
}

export function containerdConfig(dir: string, extra = ''): string {
  return [
    'version = 2',
    `root = "${join(dir, 'root')}"`,
    `state = "${join(dir, 'state')}"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]',
    '[grpc]',
    `  address = "${join(dir, 'containerd.sock')}"`,
    '[ttrpc]',
    `  address = "${join(dir, 'containerd.sock.ttrpc')}"`,
    '[debug]',
    `  address = "${join(dir, 'debug.sock')}"`,
    '[metrics]',
    '  address = ""',
    extra,
    '',
  ].join('\n');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startContainerd(opts: ContainerdDaemonOptions = {}): Promise<StartedContainerd> {
  // A short path: unix socket paths are limited to 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'rc-ctrd-'));
  const config = join(dir, 'config.toml');
  const address = join(dir, 'containerd.sock');
  await writeFile(config, containerdConfig(dir, opts.extraConfig));

  let log = '';
  let child: ChildProcess;
  try {
    child = spawn(opts.bin ?? 'containerd', ['--config', config, '--log-level', 'warn'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: false,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new ContainerdStartError(`cannot spawn containerd: ${(err as Error).message}`);
  }
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    log = (log + chunk).slice(-20_000);
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const graceful = await Promise.race([exited(child).then(() => true), delay(5_000).then(() => false)]);
      if (!graceful) {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
  for (;;) {
    const failure = await Promise.race([spawnError, delay(50).then(() => null)]);
    if (failure) {
      await stop();
      throw new ContainerdStartError(`cannot start containerd: ${failure.message}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new ContainerdStartError(
        `containerd exited during startup (${child.exitCode ?? child.signalCode}): ${log.trim().slice(-2000)}`,
      );
    }
    if (await exists(address)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new ContainerdStartError(`containerd did not create ${address} in time: ${log.trim().slice(-2000)}`);
    }
  }

  return { address, dir, pid: child.pid!, log: () => log, stop };
}

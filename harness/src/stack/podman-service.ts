/**
 * A private Docker-compatible API for the container engine: `podman system service` on a unix socket, with the
 * isolated configuration that works on a Debian 12 CI machine (vfs storage, cgroupfs, a file events log, and the
 * `default_ulimits` line without which every container fails with "error setting rlimits"). Storage and runtime
 * state live in the stack's temp dir, chosen through CONTAINERS_STORAGE_CONF / CONTAINERS_CONF, so nothing under
 * /etc or /var/lib/containers changes.
 *
 * Stopping it also removes what podman leaves behind when its service goes away: `conmon` monitors (they re-parent
 * to init and, after an exec, linger for 5 minutes) and mounts under its run root.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'undici';
import { ManagedProcess } from './managed-process.js';
import { StackError } from './stack-error.js';
import { systemClock, type Clock } from './wait.js';

const run = promisify(execFile);

export interface PodmanServiceOptions {
  /** a directory of its own (config, storage, run root) */
  dir: string;
  /** the API socket to create (unix socket paths are limited to 108 bytes) */
  socketPath: string;
  bin?: string;
  env?: Record<string, string>;
  clock?: Clock;
  timeoutMs?: number;
  echo?: (name: string, line: string) => void;
}

export interface StartedPodmanService {
  /** `unix://...`, for DOCKER_HOST */
  dockerHost: string;
  socketPath: string;
  /** the environment under which the `podman` CLI sees the same storage */
  cliEnv: Record<string, string>;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export function podmanConfigs(dir: string): { storage: string; containers: string } {
  return {
    storage: [
      '[storage]',
      'driver = "vfs"',
      `runroot = "${join(dir, 'runroot')}"`,
      `graphroot = "${join(dir, 'root')}"`,
      '',
    ].join('\n'),
    containers: [
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${join(dir, 'events.log')}"`,
      `tmp_dir = "${join(dir, 'tmp')}"`,
      '[containers]',
      'log_driver = "k8s-file"',
      // without this every container fails here: the sandbox lacks CAP_SYS_RESOURCE to raise nofile/nproc
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      '',
    ].join('\n'),
  };
}

/** GET /_ping over the socket; true on "OK". */
export async function pingDockerApi(socketPath: string): Promise<boolean> {
  const client = new Client('http://localhost', { socketPath });
  try {
    const res = await client.request({ method: 'GET', path: '/_ping', headersTimeout: 2_000, bodyTimeout: 2_000 });
    const text = await res.body.text();
    return res.statusCode === 200 && text.trim() === 'OK';
  } catch {
    return false;
  } finally {
    await client.close().catch(() => {});
  }
}

/** Processes whose command line mentions `dir` (conmon monitors of this service's containers), by PID. */
async function processesMentioning(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) out.push(Number(name));
  }
  return out;
}

/** Mount points at or below `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)));
  return points.sort((a, b) => b.length - a.length);
}

export async function startPodmanService(opts: PodmanServiceOptions): Promise<StartedPodmanService> {
  await mkdir(join(opts.dir, 'tmp'), { recursive: true });
  const configs = podmanConfigs(opts.dir);
  const storageConf = join(opts.dir, 'storage.conf');
  const containersConf = join(opts.dir, 'containers.conf');
  await writeFile(storageConf, configs.storage);
  await writeFile(containersConf, configs.containers);
  const cliEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    CONTAINERS_STORAGE_CONF: storageConf,
    CONTAINERS_CONF: containersConf,
    TMPDIR: join(opts.dir, 'tmp'),
  };
  const proc = await ManagedProcess.start({
    name: 'podman-service',
    command: opts.bin ?? 'podman',
    args: ['system', 'service', '--time=0', `unix://${opts.socketPath}`],
    env: { ...cliEnv, ...opts.env },
    echo: opts.echo,
  });
  const cleanup = async () => {
    await proc.stop(5_000);
    for (const pid of await processesMentioning(opts.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (const point of await mountsUnder(opts.dir)) await run('umount', ['-l', point]).catch(() => {});
  };
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + (opts.timeoutMs ?? 30_000);
  while (!(await pingDockerApi(opts.socketPath))) {
    if (proc.hasExited || clock.now() > deadline) {
      await cleanup();
      throw new StackError(
        'STACK_ENGINE_UNAVAILABLE',
        `podman system service did not answer /_ping on ${opts.socketPath}${proc.hasExited ? ' (it exited)' : ''}:\n${proc.lines().slice(-8).join('\n')}`,
      );
    }
    await clock.sleep(50);
  }
  return { dockerHost: `unix://${opts.socketPath}`, socketPath: opts.socketPath, cliEnv, process: proc, stop: cleanup };
}

/**
 * A child process the stack owns: spawned in its own process group, its output kept as lines (for wait strategies
 * and error messages), and stopped by signalling the whole group: SIGTERM, then SIGKILL after a deadline.
 *
 * Why a process group: `docker-registry`, `podman system service` and the redirector may fork helpers; killing
 * only the leader would orphan them. Why detached: a Ctrl-C in the terminal reaches the foreground group only, so
 * the stack (not the terminal) decides the order of teardown.
 *
 * Why a watchdog: when the stack's own process dies without tearing down (SIGKILL, a crash, a test runner killing
 * its worker), nothing would stop its children. Linux can tie a child to its parent (PR_SET_PDEATHSIG) but Node
 * cannot ask for it, so each command runs under a small `sh` that holds a pipe from us on its stdin: when we die,
 * the pipe reaches EOF and the shell terminates its process group (SIGTERM, then SIGKILL 5 s later).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { readProcessTable } from './process-tree.js';
import type { LineSource } from './wait.js';

export interface ProcessSpec {
  /** a short name used in messages and in the stack's process list ("upstream-registry") */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** lines kept for messages (default 200) */
  keepLines?: number;
  /** also copy each output line here (e.g. the CLI's stderr with --verbose) */
  echo?: (name: string, line: string) => void;
  /** run under the parent-death watchdog shell (default true) */
  watchdog?: boolean;
}

/**
 * The watchdog: runs "$@" in the background (stdin /dev/null), then ignores the stop signals itself so it outlives
 * the command's graceful exit and passes its status on. A background reader on the original stdin (fd 3; POSIX
 * gives background lists /dev/null otherwise) ends at EOF, i.e. when the stack's process is gone, and then
 * terminates the whole group. Signals are ignored only after the command started: ignored dispositions survive
 * exec, and the command must still see SIGTERM.
 */
export const WATCHDOG_SCRIPT = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'cmd=$!',
  "trap '' INT TERM HUP",
  // after EOF: SIGTERM the group, give the command 5 s to exit (polling, so nothing lingers once it has), SIGKILL
  '( while read -r _; do :; done; kill -TERM 0 2>/dev/null;',
  '  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$cmd" 2>/dev/null || exit 0; sleep 0.5; done; kill -KILL 0 2>/dev/null ) <&3 &',
  'watch=$!',
  'exec 3<&-',
  'wait "$cmd"',
  'status=$?',
  'kill -KILL "$watch" 2>/dev/null',
  'exit "$status"',
].join('\n');

export interface ProcessInfo {
  name: string;
  pid: number;
  command: string;
}

export interface StopResult {
  /** true when the group ignored SIGTERM and had to be killed */
  killed: boolean;
}

/** The file `command` runs, following PATH as execvp does; null when there is none or it is not executable. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv): string | null {
  const candidates = command.includes('/')
    ? [command]
    : (env.PATH ?? process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, command));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // keep looking
    }
  }
  return null;
}

async function groupMembersAlive(pgid: number): Promise<boolean> {
  return (await readProcessTable()).some((p) => p.pgid === pgid && p.state !== 'Z');
}

export class ManagedProcess implements LineSource {
  readonly exited: Promise<string>;
  readonly info: ProcessInfo;
  private readonly buffer: string[] = [];
  private readonly listeners = new Set<(line: string) => void>();
  private exitedFlag = false;
  private stopping: Promise<StopResult> | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly spec: ProcessSpec,
  ) {
    this.info = { name: spec.name, pid: child.pid!, command: [spec.command, ...spec.args].join(' ') };
    this.exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitedFlag = true;
        resolve(signal ? `${spec.name} was killed by ${signal}` : `${spec.name} exited with code ${code}`);
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0) {
          this.push(partial.slice(0, nl).replace(/\r$/, ''));
          partial = partial.slice(nl + 1);
        }
      });
      stream?.on('end', () => {
        if (partial) this.push(partial);
        partial = '';
      });
    }
  }

  /** Spawns the process; rejects when it cannot be started at all (ENOENT, EACCES). */
  static start(spec: ProcessSpec): Promise<ManagedProcess> {
    // under the watchdog the shell always starts; check the command first so a missing program fails here
    const missing = findExecutable(spec.command, spec.env ?? process.env) === null;
    if (missing) return Promise.reject(Object.assign(new Error(`spawn ${spec.command} ENOENT`), { code: 'ENOENT' }));
    return new Promise((resolve, reject) => {
      const watchdog = spec.watchdog ?? true;
      const child = watchdog
        ? spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'registry-canary-watchdog', spec.command, ...spec.args], {
            env: spec.env ?? process.env,
            cwd: spec.cwd,
            detached: true,
            // stdin stays open and unwritten for the life of the stack: its EOF is the watchdog's signal
            stdio: ['pipe', 'pipe', 'pipe'],
          })
        : spawn(spec.command, [...spec.args], {
            env: spec.env ?? process.env,
            cwd: spec.cwd,
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
      // the stack's process must not stay alive just because of this pipe
      child.stdin?.on('error', () => {});
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      child.once('error', reject);
      child.once('spawn', () => {
        child.removeListener('error', reject);
        // a later 'error' (e.g. a failed kill) must not crash the stack
        child.on('error', () => {});
        resolve(new ManagedProcess(child, spec));
      });
    });
  }

  get pid(): number {
    return this.info.pid;
  }

  get hasExited(): boolean {
    return this.exitedFlag;
  }

  lines(): readonly string[] {
    return this.buffer;
  }

  onLine(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private push(line: string): void {
    this.buffer.push(line);
    const keep = this.spec.keepLines ?? 200;
    if (this.buffer.length > keep) this.buffer.splice(0, this.buffer.length - keep);
    this.spec.echo?.(this.spec.name, line);
    for (const l of [...this.listeners]) l(line);
  }

  /**
   * Stops the whole process group: SIGTERM, then SIGKILL when the leader is still there after `graceMs`. The
   * group is SIGKILLed at the end in every case, so helpers that outlive a clean leader exit are not left behind.
   * Idempotent: a second call returns the first call's promise.
   */
  stop(graceMs = 5_000): Promise<StopResult> {
    this.stopping ??= this.doStop(graceMs);
    return this.stopping;
  }

  private async doStop(graceMs: number): Promise<StopResult> {
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-this.pid, sig);
      } catch {
        // ESRCH: the group is already gone
      }
    };
    let killed = false;
    if (!this.exitedFlag) {
      signalGroup('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), graceMs)));
      const outcome = await Promise.race([this.exited.then(() => 'exited' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'deadline') {
        killed = true;
        signalGroup('SIGKILL');
        await this.exited;
      }
    }
    signalGroup('SIGKILL');
    this.child.stdin?.destroy();
    // SIGKILL is delivered asynchronously: return only once no live member of the group is left, so a caller that
    // checks /proc right after stop() finds nothing (zombies re-parented to an init that does not reap are ignored)
    const deadline = Date.now() + 2_000;
    while ((await groupMembersAlive(this.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return { killed };
  }
}

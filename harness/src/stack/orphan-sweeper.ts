/**
 * A safety net for stacks whose owner died without tearing down (SIGKILL, OOM, a crashed test runner), in the
 * spirit of testcontainers' session labels: every child the stack spawns carries an owner tag in its environment,
 * and every stack temp dir an `owner` file. A later stack start removes what belongs to owners that are gone.
 *
 * The tag is `<pid>:<start time>` (field 22 of /proc/<pid>/stat), so a recycled PID is not mistaken for the owner.
 * Only processes carrying a tag are touched, each by its own PID; Linux only (elsewhere this does nothing).
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const STACK_OWNER_ENV = 'REGISTRY_CANARY_STACK_OWNER';
export const STACK_TEMP_PREFIX = 'registry-canary-stack-';
export const OWNER_FILE = 'owner';

async function startTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may contain spaces and parentheses: count fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

let selfTag: string | null = null;

/** This process's owner tag (cached). */
export async function ownerTag(): Promise<string> {
  selfTag ??= `${process.pid}:${(await startTime(process.pid)) ?? 'unknown'}`;
  return selfTag;
}

export async function ownerAlive(tag: string): Promise<boolean> {
  const [pidText, start] = tag.split(':');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = await startTime(pid);
  if (now === null) return false;
  return start === 'unknown' || now === start;
}

export interface SweepResult {
  killed: number[];
  /** temp dirs (and stale podman sockets) removed */
  removedDirs: string[];
}

/** Kills tagged processes and removes tagged temp dirs whose owner is gone. Never throws. */
export async function sweepOrphans(tmpRoot: string): Promise<SweepResult> {
  const result: SweepResult = { killed: [], removedDirs: [] };
  const alive = new Map<string, boolean>();
  const isAlive = async (tag: string) => {
    if (!alive.has(tag)) alive.set(tag, await ownerAlive(tag));
    return alive.get(tag)!;
  };
  let pids: string[] = [];
  try {
    pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  } catch {
    return result;
  }
  for (const p of pids) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = await readFile(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    const entry = environ.split('\0').find((e) => e.startsWith(`${STACK_OWNER_ENV}=`));
    if (!entry) continue;
    const tag = entry.slice(STACK_OWNER_ENV.length + 1);
    if (await isAlive(tag)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      result.killed.push(pid);
    } catch {
      // already gone
    }
  }
  let all: string[] = [];
  try {
    all = await readdir(tmpRoot);
  } catch {
    return result;
  }
  // the container engine's podman API sockets are named by the owning PID (container-engine.ts)
  for (const name of all) {
    const m = /^rc-podman-(\d+)\.sock$/.exec(name);
    if (!m || (await startTime(Number(m[1]))) !== null) continue;
    await rm(join(tmpRoot, name), { force: true }).catch(() => {});
    result.removedDirs.push(join(tmpRoot, name));
  }
  const entries = all.filter((n) => n.startsWith(STACK_TEMP_PREFIX));
  for (const name of entries) {
    const dir = join(tmpRoot, name);
    let tag: string;
    try {
      tag = (await readFile(join(dir, OWNER_FILE), 'utf8')).trim();
    } catch {
      continue; // not ours, or still being created
    }
    if (await isAlive(tag)) continue;
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    result.removedDirs.push(dir);
  }
  return result;
}

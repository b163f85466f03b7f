/**
 * The processes below a given one, read from /proc (Linux). The stack's teardown tests use it to prove that nothing
 * the stack started outlives `stop()`: detached process groups keep their parent link, so a leftover registry or
 * redirector still shows up here.
 */
import { readdir, readFile } from 'node:fs/promises';

export interface ProcEntry {
  pid: number;
  ppid: number;
  pgid: number;
  /** one-letter state; Z is a zombie (exited, not yet reaped) */
  state: string;
  command: string;
}

export async function readProcessTable(): Promise<ProcEntry[]> {
  const out: ProcEntry[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => ''))
        .split('\0')
        .filter(Boolean)
        .join(' ');
      out.push({
        pid: Number(name),
        ppid: Number(fields[1]),
        pgid: Number(fields[2]),
        state: fields[0]!,
        command: cmdline || stat.slice(stat.indexOf('(') + 1, close),
      });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Live (non-zombie) descendants of `root`, nearest first. */
export async function descendantProcesses(root: number = process.pid): Promise<ProcEntry[]> {
  const table = await readProcessTable();
  const children = new Map<number, ProcEntry[]>();
  for (const p of table) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const out: ProcEntry[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (c.state !== 'Z') out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/** Whether a PID names a live (non-zombie) process. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess } from './managed-process.js';
import {
  OWNER_FILE,
  ownerAlive,
  ownerTag,
  STACK_OWNER_ENV,
  STACK_TEMP_PREFIX,
  sweepOrphans,
} from './orphan-sweeper.js';

/** true while the process exists and is not a zombie */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** PIDs in a process group, from /proc (zombies excluded). */
async function groupMembers(pgid: number): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = await readFile(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

describe('ManagedProcess', () => {
  it('keeps output as lines and stops the whole process group', async () => {
    const p = await ManagedProcess.start({
      name: 'tree',
      command: 'sh',
      args: ['-c', 'echo one; echo two >&2; sleep 30 & sleep 30 & wait'],
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(p.lines()).toEqual(expect.arrayContaining(['one', 'two']));
    expect((await groupMembers(p.pid)).length).toBeGreaterThanOrEqual(3);
    const result = await p.stop(2_000);
    expect(result.killed).toBe(false);
    expect(await groupMembers(p.pid)).toEqual([]);
    expect(await p.stop()).toBe(result);
  });

  it('SIGKILLs a group that ignores SIGTERM after the grace period', async () => {
    const p = await ManagedProcess.start({
      name: 'stubborn',
      command: process.execPath,
      args: ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"],
    });
    // 'up' is printed once the SIGTERM handler is in place: a signal sent before it (a fixed wait on a loaded machine)
    // would end node at once and test nothing
    const deadline = performance.now() + 30_000;
    while (!p.lines().includes('up') && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(p.lines()).toContain('up');
    const t = performance.now();
    expect((await p.stop(300)).killed).toBe(true);
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
    expect(p.hasExited).toBe(true);
    expect(await groupMembers(p.pid)).toEqual([]);
  });

  it('rejects when the program does not exist', async () => {
    await expect(ManagedProcess.start({ name: 'ghost', command: '/nonexistent/bin', args: [] })).rejects.toThrow(
      /ENOENT/,
    );
  });
});

describe('sweepOrphans', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sweep-test-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('kills tagged processes and removes tagged temp dirs of dead owners only', async () => {
    // a "dead owner": a process that has exited, so its tag can never match again
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const deadTag = `${dead.pid}:1`;
    expect(await ownerAlive(deadTag)).toBe(false);
    const liveTag = await ownerTag();
    expect(await ownerAlive(liveTag)).toBe(true);

    const orphan = spawn('sleep', ['30'], {
      detached: true,
      stdio: 'ignore',
      env: { [STACK_OWNER_ENV]: deadTag, PATH: process.env.PATH },
    });
    const kept = spawn('sleep', ['30'], {
      detached: true,
      stdio: 'ignore',
      env: { [STACK_OWNER_ENV]: liveTag, PATH: process.env.PATH },
    });
    const orphanDir = join(root, `${STACK_TEMP_PREFIX}dead`);
    const liveDir = join(root, `${STACK_TEMP_PREFIX}live`);
    const foreignDir = join(root, `${STACK_TEMP_PREFIX}no-owner-file`);
    for (const d of [orphanDir, liveDir, foreignDir]) await mkdir(d);
    await writeFile(join(orphanDir, OWNER_FILE), deadTag);
    await writeFile(join(liveDir, OWNER_FILE), liveTag);
    try {
      await new Promise((r) => setTimeout(r, 50));
      const result = await sweepOrphans(root);
      expect(result.killed).toContain(orphan.pid);
      expect(result.killed).not.toContain(kept.pid);
      expect(result.removedDirs).toEqual([orphanDir]);
      expect(existsSync(liveDir)).toBe(true);
      expect(existsSync(foreignDir)).toBe(true);
      if (orphan.exitCode === null && orphan.signalCode === null) await new Promise((r) => orphan.once('exit', r));
      expect(orphan.signalCode).toBe('SIGKILL');
      expect(alive(kept.pid!)).toBe(true);
    } finally {
      kept.kill('SIGKILL');
      orphan.kill('SIGKILL');
    }
  });
});

describe('ManagedProcess watchdog', () => {
  it('takes the whole group down when the owning process dies without stopping it', async () => {
    const owner = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import { ManagedProcess } from ${JSON.stringify(new URL('./managed-process.ts', import.meta.url).pathname)};
         const p = await ManagedProcess.start({ name: 'orphan-to-be', command: 'sh', args: ['-c', 'sleep 60 & sleep 60 & wait'] });
         console.log(p.pid);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pgid = await new Promise<number>((resolve, reject) => {
      let out = '';
      owner.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      owner.once('exit', () => reject(new Error('owner exited early')));
    });
    await new Promise((r) => setTimeout(r, 200));
    expect((await groupMembers(pgid)).length).toBeGreaterThanOrEqual(3);
    owner.kill('SIGKILL');
    const deadline = Date.now() + 5_000;
    while ((await groupMembers(pgid)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await groupMembers(pgid)).toEqual([]);
  }, 20_000);

  it('passes the command’s exit status on', async () => {
    const p = await ManagedProcess.start({ name: 'fails', command: 'sh', args: ['-c', 'echo bad config >&2; exit 2'] });
    expect(await p.exited).toBe('fails exited with code 2');
    expect(p.lines()).toContain('bad config');
  });
});

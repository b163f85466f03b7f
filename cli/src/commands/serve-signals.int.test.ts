/**
 * A SIGTERM at every stage of start-up, and under load, drains: exit 0 with the drain lines, and /readyz never
 * answers 200 once the signal is in. Both entry points: the redirector's own (`node dist/redirector/src/main.js`,
 * what Cloud Run and the local stack run) and `registry-canary serve`.
 *
 * The stage "while the server's modules load" is made exact with a module loader hook that holds one module back
 * until the test has sent the signal; a process that installs its handlers only after loading everything dies of
 * that signal (143, no drain line), which is the race this pins.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPackageRoot } from '../../../harness/src/index.js';

let dir: string;
let register: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'serve-signals-'));
  // runs on the loader thread: holds HOLD_MODULE back until the HOLD_GO file exists, after writing HOLD_MARK
  await writeFile(
    join(dir, 'hooks.mjs'),
    `import { existsSync, writeFileSync } from 'node:fs';
export async function load(url, context, next) {
  const { HOLD_MODULE, HOLD_MARK, HOLD_GO } = process.env;
  if (HOLD_MODULE && url.endsWith(HOLD_MODULE) && !existsSync(HOLD_GO)) {
    writeFileSync(HOLD_MARK, url);
    while (!existsSync(HOLD_GO)) await new Promise((r) => setTimeout(r, 5));
  }
  return next(url, context);
}
`,
  );
  register = join(dir, 'register.mjs');
  await writeFile(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Entry {
  name: string;
  args: string[];
  /** the module held back while "the server's modules load" */
  heavyModule: string;
}
const ENTRIES: Entry[] = [
  {
    name: 'node dist/redirector/src/main.js',
    args: [fromPackageRoot('dist', 'redirector', 'src', 'main.js')],
    heavyModule: 'redirector/src/server/index.js',
  },
  {
    name: 'registry-canary serve',
    args: [
      fromPackageRoot('bin', 'registry-canary.js'),
      'serve',
      '--port',
      '0',
      '--admin-port',
      '0',
      '--host',
      '127.0.0.1',
    ],
    heavyModule: 'cli/src/commands/serve.js',
  },
];

interface Running {
  child: ChildProcess;
  lines: { msg: string; adminUrl?: string; url?: string }[];
  stderr: string;
  waitFor(msg: string): Promise<{ adminUrl?: string; url?: string }>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let n = 0;
function start(entry: Entry, hold: boolean): Running & { mark: string; go: string } {
  n += 1;
  const mark = join(dir, `mark-${n}`);
  const go = join(dir, `go-${n}`);
  const child = spawn(process.execPath, ['--import', pathToFileURL(register).href, ...entry.args], {
    env: {
      ...process.env,
      PORT: '0',
      ADMIN_PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      HOLD_MODULE: hold ? entry.heavyModule : '',
      HOLD_MARK: mark,
      HOLD_GO: go,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Running['lines'] = [];
  const waiters: { msg: string; resolve: (l: Running['lines'][number]) => void }[] = [];
  let buf = '';
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  child.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const line = JSON.parse(text) as Running['lines'][number];
        lines.push(line);
        for (const w of waiters.filter((x) => x.msg === line.msg)) w.resolve(line);
      } catch {
        // not a log line
      }
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    mark,
    go,
    get stderr() {
      return stderr;
    },
    waitFor: (msg) => {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return Promise.resolve(seen);
      // a process that dies first fails the wait at once, with how it ended
      return Promise.race([
        new Promise<Running['lines'][number]>((resolve) => waiters.push({ msg, resolve })),
        exit.then(({ code, signal }) => {
          throw new Error(
            `exited (code ${code}, signal ${signal}) before a ${JSON.stringify(msg)} line; lines: ${lines.map((l) => l.msg).join(', ')}`,
          );
        }),
      ]);
    },
    exit,
  };
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** /readyz's status, or 0 when nothing answers (the listener is closed). */
async function readyz(adminUrl: string): Promise<number> {
  try {
    const res = await request(`${adminUrl}/readyz`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}

async function expectDrained(r: Running): Promise<void> {
  const timer = setTimeout(() => r.child.kill('SIGKILL'), 60_000);
  const { code, signal } = await r.exit;
  clearTimeout(timer);
  const msgs = r.lines.map((l) => l.msg).filter((m) => m !== 'decision');
  expect({ code, signal, msgs }, r.stderr).toMatchObject({ code: 0, signal: null });
  expect(msgs.slice(-2)).toEqual(['draining', 'stopped']);
  expect(msgs).toContain('listening');
}

describe.each(ENTRIES)('$name: SIGTERM at every stage of start-up drains', (entry) => {
  it("while the server's modules load: held, then started, never ready, drained", { timeout: 120_000 }, async () => {
    const r = start(entry, true);
    await until(() => existsSync(r.mark), `the loader to hold ${entry.heavyModule}`);
    r.child.kill('SIGTERM');
    await new Promise((res) => setTimeout(res, 100));
    await writeFile(r.go, '');
    const listening = await r.waitFor('listening');
    expect([0, 503]).toContain(await readyz(listening.adminUrl!));
    await expectDrained(r);
  });

  it('right after the modules load, while it reads its data and binds: never ready, drained', {
    timeout: 120_000,
  }, async () => {
    const r = start(entry, true);
    await until(() => existsSync(r.mark), `the loader to hold ${entry.heavyModule}`);
    await writeFile(r.go, '');
    r.child.kill('SIGTERM');
    const listening = await r.waitFor('listening');
    expect([0, 503]).toContain(await readyz(listening.adminUrl!));
    await expectDrained(r);
  });

  it('right after the "listening" line: drained', { timeout: 120_000 }, async () => {
    const r = start(entry, false);
    const listening = await r.waitFor('listening');
    expect(await readyz(listening.adminUrl!)).toBe(200);
    r.child.kill('SIGTERM');
    await expectDrained(r);
  });

  it('under load: requests in flight, drained, and /readyz not 200 once draining', { timeout: 120_000 }, async () => {
    const r = start(entry, false);
    const listening = await r.waitFor('listening');
    const agent = new Agent({ connections: 8 });
    let stop = false;
    let answered = 0;
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        try {
          const res = await request(`${listening.url}/v2/`, { dispatcher: agent });
          await res.body.dump();
          answered += 1;
        } catch {
          return;
        }
      }
    });
    await until(() => answered >= 50, 'the load to get going');
    const probes: { afterDraining: boolean; status: number }[] = [];
    const probing = (async () => {
      while (!stop) {
        const afterDraining = r.lines.some((l) => l.msg === 'draining');
        const status = await readyz(listening.adminUrl!);
        probes.push({ afterDraining, status });
        if (status === 0) return;
      }
    })();
    r.child.kill('SIGTERM');
    await expectDrained(r);
    stop = true;
    await Promise.all([...load, probing]);
    await agent.close();
    expect(probes.filter((p) => p.afterDraining && p.status === 200)).toEqual([]);
  });
});

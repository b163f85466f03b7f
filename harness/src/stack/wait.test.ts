import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StackError } from './stack-error.js';
import { Teardown } from './teardown.js';
import { Wait, systemClock, type Clock, type LineSource } from './wait.js';

/** A clock whose sleeps end at once, with time advanced by the sleep: timeouts happen without waiting. */
function fastClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      await new Promise((r) => setImmediate(r));
      now += ms;
    },
  };
}

function lines(initial: string[] = []): LineSource & { push(l: string): void; exit(how: string): void } {
  const buf = [...initial];
  const listeners = new Set<(l: string) => void>();
  let exit: (how: string) => void = () => {};
  return {
    lines: () => buf,
    onLine: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    exited: new Promise<string>((r) => (exit = r)),
    push(l) {
      buf.push(l);
      for (const x of listeners) x(l);
    },
    exit: (how) => exit(how),
  };
}

describe('Wait.forLogLine', () => {
  it('matches a line already printed, or one printed later, and returns the match', async () => {
    const out = lines(['starting', 'listening on 127.0.0.1:4000']);
    const m = await Wait.forLogLine(/listening on .*:(\d+)/).waitUntilReady({
      clock: systemClock,
      component: 'reg',
      output: out,
    });
    expect(m[1]).toBe('4000');
    const later = lines();
    const p = Wait.forLogLine(/ready/).waitUntilReady({ clock: systemClock, component: 'x', output: later });
    later.push('not yet');
    later.push('ready now');
    expect((await p)[0]).toBe('ready');
  });

  it('times out with the component, the deadline and the last output', async () => {
    const out = lines(['boot 1', 'boot 2']);
    const err = await Wait.forLogLine(/never/, 500)
      .waitUntilReady({ clock: fastClock(), component: 'redirector', output: out })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackError);
    expect((err as StackError).code).toBe('STACK_WAIT_TIMEOUT');
    expect((err as Error).message).toMatch(
      /redirector: not ready after 500 ms \(waiting for a log line matching \/never\/\)[\s\S]*boot 2/,
    );
  });

  it('fails at once when the process exits first', async () => {
    const out = lines(['fatal: bad config']);
    const p = Wait.forLogLine(/listening/, 60_000).waitUntilReady({
      clock: systemClock,
      component: 'reg',
      output: out,
    });
    out.exit('reg exited with code 1');
    const err = await p.catch((e: unknown) => e);
    expect((err as StackError).code).toBe('STACK_PROCESS_EXITED');
    expect((err as Error).message).toMatch(/reg exited with code 1 before it was ready[\s\S]*fatal: bad config/);
  });

  it('stops when start-up is aborted', async () => {
    const ac = new AbortController();
    const p = Wait.forLogLine(/x/, 60_000).waitUntilReady({
      clock: systemClock,
      component: 'c',
      output: lines(),
      signal: ac.signal,
    });
    ac.abort();
    expect(((await p.catch((e: unknown) => e)) as StackError).code).toBe('STACK_ABORTED');
  });
});

describe('Wait.forHttp / forAll', () => {
  let server: http.Server;
  let url: string;
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      res.writeHead(req.url === '/ok' || hits > 3 ? 200 : 503);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('polls until the expected status', async () => {
    await Wait.forHttp(`${url}/flaky`, { intervalMs: 5 }).waitUntilReady({ clock: systemClock, component: 'x' });
    expect(hits).toBeGreaterThanOrEqual(4);
  });

  it('reports the last answer on timeout', async () => {
    const err = await Wait.forHttp(`${url}/ok`, { status: 204, timeoutMs: 300 })
      .waitUntilReady({ clock: systemClock, component: 'admin' })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /admin: not ready after 300 ms \(waiting for GET .*\/ok → 204\): last answer was 200/,
    );
  });

  it('reports a refused connection on timeout', async () => {
    const err = await Wait.forHttp('http://127.0.0.1:1/v2/', { timeoutMs: 200 })
      .waitUntilReady({ clock: systemClock, component: 'edge' })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/last attempt failed/);
  });

  it('forAll waits for every strategy', async () => {
    const out = lines(['ready']);
    await Wait.forAll([Wait.forHttp(`${url}/ok`), Wait.forLogLine(/ready/)]).waitUntilReady({
      clock: systemClock,
      component: 'x',
      output: out,
    });
  });
});

describe('Teardown', () => {
  it('runs every step once, newest first, and collects failures', async () => {
    const order: string[] = [];
    const t = new Teardown();
    t.add('a', () => order.push('a'));
    t.add('b', () => {
      throw new Error('b broke');
    });
    t.add('c', async () => order.push('c'));
    const failures = await t.run();
    expect(order).toEqual(['c', 'a']);
    expect(failures.map((f) => f.step)).toEqual(['b']);
    expect(await t.run()).toBe(failures);
    expect(order).toEqual(['c', 'a']);
  });

  it('undoes at once a step registered after teardown began', async () => {
    const t = new Teardown();
    await t.run();
    let undone = false;
    t.add('late', () => (undone = true));
    await new Promise((r) => setImmediate(r));
    expect(undone).toBe(true);
  });
});

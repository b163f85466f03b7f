import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BUNDLED_RANGE_SOURCES, loadRangeData } from './ranges/index.js';
import { describeStartError, readinessUntil, serve, untilSignal } from './main.js';
import { armSignalLatch } from './signal-latch.js';

const never = () => new Promise<string>(() => {}) as Promise<string> & { cancel?: () => void };

describe('serve', () => {
  it('exits 2 with a message naming the setting', async () => {
    const err = new PassThrough();
    let text = '';
    err.on('data', (c) => (text += c));
    expect(await serve({ ROUTING_SEMANTICS: 'longest' }, err, never)).toBe(2);
    expect(text).toBe(
      'redirector: ROUTING_SEMANTICS: expected one of most-specific, archeio, got "longest" (CONFIG_INVALID)\n',
    );
  });

  it('exits 2 naming a missing data file', async () => {
    const err = new PassThrough();
    let text = '';
    err.on('data', (c) => (text += c));
    expect(await serve({ BUCKET_MAP: '/nonexistent/map.json', PORT: '0', ADMIN_PORT: '0' }, err, never)).toBe(2);
    expect(text).toMatch(
      /^redirector: BUCKET_MAP \/nonexistent\/map.json: cannot read \(ENOENT\) \(BUCKET_MAP_INVALID\)/,
    );
  });

  it('serves until told to stop, then drains and exits 0', async () => {
    const lines: string[] = [];
    const code = await serve({ PORT: '0', ADMIN_PORT: '0' }, process.stderr, () => Promise.resolve('test'), {
      rangeData: loadRangeData(BUNDLED_RANGE_SOURCES),
      logDestination: { write: (l: string) => void lines.push(l) },
    });
    expect(code).toBe(0);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      'listening',
      'stopping',
      'draining',
      'stopped',
    ]);
  });
});

describe('describeStartError', () => {
  it('uses coded messages as they are, stacks otherwise', () => {
    expect(describeStartError(Object.assign(new Error('PORT: bad'), { code: 'CONFIG_INVALID' }))).toBe(
      'PORT: bad (CONFIG_INVALID)',
    );
    expect(describeStartError(new Error('boom'))).toMatch(/^Error: boom\n/);
    expect(describeStartError('text')).toBe('text');
  });
});

describe('untilSignal', () => {
  it('is a promise that a signal settles, and can be cancelled', async () => {
    const before = process.listenerCount('SIGTERM');
    const stop = untilSignal();
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    // hand-deliver to our listener only: the worker's own handlers must not see a SIGTERM
    (process.listeners('SIGTERM').at(-1) as () => void)();
    expect(await stop).toBe('SIGTERM');
    expect(process.listenerCount('SIGTERM')).toBe(before);
    const cancelled = untilSignal();
    cancelled.cancel?.();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('holds a signal that came after the latch was armed and before anyone waited, and hands it to the first waiter', async () => {
    const before = process.listenerCount('SIGTERM');
    armSignalLatch();
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    (process.listeners('SIGTERM').at(-1) as () => void)();
    expect(await untilSignal()).toBe('SIGTERM');
    await Promise.resolve();
    expect(process.listenerCount('SIGTERM')).toBe(before);
    // consumed: the next wait waits
    const next = untilSignal();
    let settled = false;
    void next.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    next.cancel?.();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('readiness turns off as soon as the stop condition settles', async () => {
    let fire: (s: string) => void = () => {};
    const state = readinessUntil(new Promise<string>((r) => (fire = r)));
    expect(state.ready).toBe(true);
    fire('SIGTERM');
    await Promise.resolve();
    await Promise.resolve();
    expect(state.ready).toBe(false);
  });

  it('a failed start releases the signal listeners', async () => {
    const before = process.listenerCount('SIGTERM');
    expect(await serve({ PORT: 'x' }, new PassThrough())).toBe(2);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});

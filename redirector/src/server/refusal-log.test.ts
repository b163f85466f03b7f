// The sampled log of refused requests (refusal-log.ts) on a manual clock: the first lines per reason and window, one
// count of the rest when the window ends (by its timer, or by flush), and nothing more however many refusals come.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../blobs/index.js';
import type { Refusal, RefusalReason } from './refusal.js';
import { REFUSAL_LOG_PER_REASON, REFUSAL_LOG_WINDOW_MS, createRefusalLog } from './refusal-log.js';

const refusal = (reason: RefusalReason, firstLine = 'GET / HTTP/1.1'): Refusal => ({
  reason,
  remoteAddress: '10.0.0.1',
  firstLine,
});
const countLine = (suppressed: Record<string, number>, windowS: number) => ({
  fields: { suppressed, windowS },
  msg: 'refused requests not logged',
});

function setup(perReason?: number, windowMs?: number) {
  const clock = new ManualClock();
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  const log = createRefusalLog({ clock, write: (fields, msg) => lines.push({ fields, msg }), perReason, windowMs });
  return { clock, lines, log };
}

describe('createRefusalLog', () => {
  it(`1,000 refusals of one reason: ${REFUSAL_LOG_PER_REASON} lines, then one count of the rest when the window ends`, () => {
    const { clock, lines, log } = setup();
    for (let i = 0; i < 1_000; i++) log.log(refusal('bad-header', `GET /${i} HTTP/1.1`));
    expect(lines).toHaveLength(REFUSAL_LOG_PER_REASON);
    expect(lines[0]).toEqual({
      fields: { status: 400, reason: 'bad-header', remoteAddress: '10.0.0.1', firstLine: 'GET /0 HTTP/1.1' },
      msg: 'request refused',
    });
    const first = Array.from({ length: REFUSAL_LOG_PER_REASON }, (_, i) => `GET /${i} HTTP/1.1`);
    expect(lines.map((l) => l.fields.firstLine)).toEqual(first);
    clock.advance(REFUSAL_LOG_WINDOW_MS - 1);
    expect(lines).toHaveLength(REFUSAL_LOG_PER_REASON);
    clock.advance(1);
    expect(lines).toHaveLength(REFUSAL_LOG_PER_REASON + 1);
    expect(lines.at(-1)).toEqual(
      countLine({ 'bad-header': 1_000 - REFUSAL_LOG_PER_REASON }, REFUSAL_LOG_WINDOW_MS / 1000),
    );
    expect(clock.pending).toBe(0);
  });

  it('counts per reason, and a new window logs each reason afresh', () => {
    const { clock, lines, log } = setup(2, 1_000);
    for (let i = 0; i < 5; i++) log.log(refusal('bad-header'));
    for (let i = 0; i < 3; i++) log.log(refusal('timeout', ''));
    log.log({ ...refusal('other'), code: 'HPE_STRICT' });
    expect(lines.map((l) => [l.msg, l.fields.reason])).toEqual([
      ['request refused', 'bad-header'],
      ['request refused', 'bad-header'],
      ['request refused', 'timeout'],
      ['request refused', 'timeout'],
      ['request refused', 'other'],
    ]);
    expect(lines[4]!.fields.code).toBe('HPE_STRICT');
    clock.advance(1_000);
    expect(lines.at(-1)).toEqual(countLine({ 'bad-header': 3, timeout: 1 }, 1));
    lines.length = 0;
    log.log(refusal('bad-header'));
    log.log(refusal('bad-header'));
    log.log(refusal('bad-header'));
    expect(lines).toHaveLength(2);
  });

  it('writes no count when nothing was held back, and flush writes that of an open window', () => {
    const { clock, lines, log } = setup(3, 1_000);
    log.log(refusal('bad-method'));
    clock.advance(5_000);
    log.flush();
    expect(lines.map((l) => l.msg)).toEqual(['request refused']);
    for (let i = 0; i < 4; i++) log.log(refusal('bad-method'));
    log.flush();
    expect(lines.at(-1)).toEqual(countLine({ 'bad-method': 1 }, 1));
    expect(clock.pending).toBe(0);
    // the flushed window is closed: the next refusal opens a new one
    log.log(refusal('bad-method'));
    expect(lines.at(-1)!.msg).toBe('request refused');
  });

  it('a window is opened by a refusal, not by the clock: one after a quiet spell starts its own', () => {
    const { clock, lines, log } = setup(1, 1_000);
    log.log(refusal('bad-target'));
    clock.advance(900);
    log.log(refusal('bad-target'));
    clock.advance(100);
    // the window's timer wrote the count; the refusal now opens the next window and is logged
    log.log(refusal('bad-target'));
    expect(lines.map((l) => l.msg)).toEqual(['request refused', 'refused requests not logged', 'request refused']);
  });
});

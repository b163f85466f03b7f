// The drain's parts on their own (the sequence over real sockets, and binding, are in listener-contract.test.ts,
// for both listeners).
import { describe, expect, it } from 'vitest';
import { InFlight, drain, type Drainable } from './listener.js';

describe('InFlight', () => {
  it('settles at once with none in flight, when the last one finishes, or at the deadline', async () => {
    const f = new InFlight();
    await f.settled(10_000);
    f.start();
    f.start();
    let settled = false;
    const waiting = f.settled(10_000).then(() => (settled = true));
    f.finish();
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    f.finish();
    await waiting;
    expect(f.size).toBe(0);
    f.start();
    const started = Date.now();
    await f.settled(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(f.size).toBe(1);
  });
});

describe('drain', () => {
  it('stops accepting, waits out the grace while connections are open, closes the idle, waits for answers, closes all', async () => {
    const steps: string[] = [];
    let open = 2;
    const f = new InFlight();
    f.start();
    const d: Drainable = {
      stopAccepting: () => {
        steps.push('stop');
        return new Promise((r) => setTimeout(r, 0));
      },
      openConnections: () => open,
      closeIdle: () => steps.push('idle'),
      closeAll: () => steps.push('all'),
    };
    setTimeout(() => (open = 0), 60);
    setTimeout(() => {
      steps.push('answered');
      f.finish();
    }, 120);
    const started = Date.now();
    await drain(d, f, 5_000);
    expect(steps).toEqual(['stop', 'idle', 'answered', 'all']);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

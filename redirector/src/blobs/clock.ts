/**
 * Time as an injected effect: the blob probe's TTLs, timeouts and breaker cool-downs read this,
 * so tests drive them with a fake clock instead of sleeping (no timed assertions).
 */
export interface Clock {
  /** milliseconds on a monotonic scale (only differences matter) */
  now(): number;
  /** runs `fn` after `ms`; returns a function that cancels it */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    // a pending HEAD timeout must never keep a draining process alive
    t.unref();
    return () => clearTimeout(t);
  },
};

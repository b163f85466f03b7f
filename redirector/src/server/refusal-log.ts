/**
 * Refused requests in the log, sampled: a flood of bad requests (a scanner, a TLS client on the plain port, a broken
 * proxy) must not flood the log, yet the first of each kind must be there to debug a client with. Per window of
 * REFUSAL_LOG_WINDOW_MS (opened by the first refusal after a quiet one), the first REFUSAL_LOG_PER_REASON refusals of
 * each reason get a line each:
 *
 *   {"level":30,"time":...,"status":400,"reason":"bad-header","remoteAddress":"...","firstLine":"GET / HTTP/1.1",
 *    "msg":"request refused"}
 *
 * and when the window closes, one line counts those that were not logged, by reason:
 *
 *   {"level":30,"time":...,"suppressed":{"bad-header":990},"windowS":60,"msg":"refused requests not logged"}
 *
 * So a window writes at most REFUSAL_LOG_PER_REASON lines per reason plus one. Every refusal is counted in
 * `redirector_listener_refusals_total` whatever this logs. `flush()` writes the count of a window still open (at
 * shutdown).
 */
import type { Clock } from '../blobs/index.js';
import { REFUSAL_STATUS, type Refusal, type RefusalReason } from './refusal.js';

export const REFUSAL_LOG_PER_REASON = 10;
export const REFUSAL_LOG_WINDOW_MS = 60_000;

export interface RefusalLogOptions {
  clock: Clock;
  /** writes one line (the logger's info) */
  write(fields: Record<string, unknown>, msg: string): void;
  perReason?: number;
  windowMs?: number;
}

export interface RefusalLog {
  log(r: Refusal): void;
  /** closes the window now: writes the count of refusals not logged, if any */
  flush(): void;
}

export function createRefusalLog(o: RefusalLogOptions): RefusalLog {
  const perReason = o.perReason ?? REFUSAL_LOG_PER_REASON;
  const windowMs = o.windowMs ?? REFUSAL_LOG_WINDOW_MS;
  let opened = -Infinity;
  const logged = new Map<RefusalReason, number>();
  const suppressed = new Map<RefusalReason, number>();
  let cancel: (() => void) | null = null;

  const close = (): void => {
    cancel?.();
    cancel = null;
    if (suppressed.size > 0) {
      o.write({ suppressed: Object.fromEntries(suppressed), windowS: windowMs / 1000 }, 'refused requests not logged');
    }
    logged.clear();
    suppressed.clear();
    opened = -Infinity;
  };

  return {
    log(r) {
      const now = o.clock.now();
      if (now - opened >= windowMs) {
        close();
        opened = now;
      }
      const n = logged.get(r.reason) ?? 0;
      if (n < perReason) {
        logged.set(r.reason, n + 1);
        const fields: Record<string, unknown> = {
          status: REFUSAL_STATUS[r.reason],
          reason: r.reason,
          remoteAddress: r.remoteAddress,
          firstLine: r.firstLine,
        };
        if (r.code !== undefined) fields.code = r.code;
        o.write(fields, 'request refused');
        return;
      }
      suppressed.set(r.reason, (suppressed.get(r.reason) ?? 0) + 1);
      // the count goes out when the window ends, even if no refusal comes after it
      cancel ??= o.clock.setTimeout(close, Math.max(0, opened + windowMs - now));
    },
    flush: close,
  };
}

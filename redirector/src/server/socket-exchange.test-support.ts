/**
 * A raw-socket exchange for the listener tests: bytes written as they are (no HTTP client normalises them), the
 * answer collected until the server closes or the caller has seen enough. Test support only: it is left out of the
 * build (tsconfig.json) and of the coverage count (vitest.config.ts).
 */
import { connect } from 'node:net';

/** Writes `bytes` (latin1), collects what comes back until the server closes or `untilDone` says enough. */
export function exchange(
  port: number,
  bytes: string | string[],
  opts: { untilDone?: (got: string) => boolean; giveUpMs?: number; gapMs?: number } = {},
): Promise<{ got: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    let got = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ got, closed });
    };
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      got += d;
      if (opts.untilDone?.(got)) finish(false);
    });
    s.on('error', () => {});
    s.on('close', () => finish(true));
    const timer = setTimeout(() => finish(false), opts.giveUpMs ?? 2_000);
    const pieces = typeof bytes === 'string' ? [bytes] : bytes;
    void (async () => {
      for (const p of pieces) {
        if (s.destroyed) return;
        s.write(Buffer.from(p, 'latin1'));
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    })();
  });
}

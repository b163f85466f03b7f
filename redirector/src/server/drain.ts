/**
 * The drain both public listeners follow on close() (SIGTERM/SIGINT): stop accepting; for a short grace keep serving
 * requests that arrive on connections already open, each answer with `Connection: close` (a keep-alive client may
 * have sent one the instant the signal came: closing its idle connection at once would reset that request); then
 * close the connections that stayed idle, let in-flight answers finish, and after all have finished, or the drain
 * deadline passed, close every connection.
 */

/** How long a drain keeps answering requests on already-open connections before closing the idle ones. */
export const DRAIN_IDLE_GRACE_MS = 1_000;

/** Answers still waiting (on a blob HEAD), with a wait for there to be none. */
export class InFlight {
  private count = 0;
  private onIdle: (() => void) | null = null;

  get size(): number {
    return this.count;
  }
  start(): void {
    this.count++;
  }
  finish(): void {
    if (--this.count === 0) this.onIdle?.();
  }
  /** Resolves when none is in flight, or after `ms`, whichever comes first. */
  settled(ms: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.onIdle = () => {
        clearTimeout(timer);
        this.onIdle = null;
        resolve();
      };
    });
  }
}

/** What a listener gives the drain. */
export interface Drainable {
  /** stops accepting; resolves once the server is closed (its last connection gone) */
  stopAccepting(): Promise<void>;
  openConnections(): number | Promise<number>;
  closeIdle(): void;
  closeAll(): void;
}

/** Runs the drain described above; `drainMs` bounds the whole of it. */
export async function drain(d: Drainable, inFlight: InFlight, drainMs: number): Promise<void> {
  const closed = d.stopAccepting();
  const grace = Math.min(drainMs, DRAIN_IDLE_GRACE_MS);
  const graceEnd = Date.now() + grace;
  while (Date.now() < graceEnd && (await d.openConnections()) > 0) await new Promise((r) => setTimeout(r, 25));
  d.closeIdle();
  await inFlight.settled(Math.max(0, drainMs - grace));
  d.closeAll();
  await closed;
}

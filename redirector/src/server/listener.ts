/**
 * What both public listeners (node-adapter.ts on node:http, strict-listener.ts on raw sockets) share: the handler and
 * listener contract, binding, and the drain they follow on close() (SIGTERM/SIGINT): stop accepting; for a short
 * grace keep serving requests that arrive on connections already open, each answer with `Connection: close` (a
 * keep-alive client may have sent one the instant the signal came: closing its idle connection at once would reset
 * that request); then close the connections that stayed idle, let in-flight answers finish, and after all have
 * finished, or the drain deadline passed, close every connection.
 */
import type { Server } from 'node:net';
import type { Refusal } from './refusal.js';
import type { Reply } from './reply.js';
import type { HttpRequest } from './request-handler.js';

export type Handler = (req: HttpRequest) => Reply | Promise<Reply>;

export interface ListenOptions {
  host: string;
  port: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** a handler bug (it threw or rejected); the client gets a 500 */
  onError?: (err: unknown, req: HttpRequest) => void;
  /** a request refused before the handler saw it (400, 408, 431: refusal.ts); called once per refused connection */
  onRefusal?: (refusal: Refusal) => void;
}

export interface Listener {
  /** e.g. http://127.0.0.1:8080: connectable, even when bound to a wildcard address */
  readonly url: string;
  readonly port: number;
  inFlight(): number;
  /** Stops accepting; in-flight requests get up to `drainMs` to finish; then every connection is closed. */
  close(drainMs?: number): Promise<void>;
}

/** The address to print for a bind address: wildcards become loopback, IPv6 gets brackets. */
export function connectableHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

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

/**
 * Binds `server` to opts.host/opts.port and resolves with its Listener: close() calls `closing` (from then on every
 * answer says `Connection: close`) and drains. A bind error rejects, after `onFail`.
 */
export function bindListener(
  server: Server,
  opts: Pick<ListenOptions, 'host' | 'port'>,
  inFlight: InFlight,
  d: Drainable & { closing(): void; onFail?(): void },
): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error): void => {
      d.onFail?.();
      reject(err);
    };
    server.once('error', failed);
    server.listen(opts.port, opts.host, () => {
      server.off('error', failed);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : opts.port;
      resolve({
        url: `http://${connectableHost(opts.host)}:${port}`,
        port,
        inFlight: () => inFlight.size,
        close(drainMs = 0) {
          d.closing();
          return drain(d, inFlight, drainMs);
        },
      });
    });
  });
}

/**
 * FaultControl: the one handle on the stack's faults and request counters, programmatic and over HTTP.
 *
 * The HTTP control endpoint listens on its own 127.0.0.1 port so a separate process (the resilience suite, a
 * developer with curl) can flip faults while the stack runs. API (JSON in and out; errors are
 * `{"error":{"code","message"}}` with status 400 or 404), documented in docs/local-stack.md:
 *
 *   GET    /faults                    → {"faults": {target: fault}, "targets": [...]}
 *   PUT    /faults/<target>           body: a Fault → {"target", "fault"}
 *   DELETE /faults/<target>           → {"cleared": target}
 *   DELETE /faults                    → {"cleared": "all"}
 *   GET    /counters?front=&scope=&method=&digest=  → {"count": n, "truncated": bool}
 *   GET    /requests?front=&scope=&method=&digest=&limit=  → {"requests": [...]}
 *   DELETE /requests                  → resets the log and the counters
 *   GET    /healthz                   → ok
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  FaultError,
  parseFault,
  type Fault,
  type FaultBoard,
  type FaultProxy,
  type FaultTarget,
  type FrontName,
  type RequestQuery,
  type RequestRecord,
} from './fault-proxy.js';
import type { Started } from './stack-service.js';

export interface FaultControl {
  /** base URL of the HTTP control endpoint */
  readonly controlUrl: string;
  /** every valid target: `bucket:<name>` for each bucket, `bucket:*`, `upstream`, `signature` (when present) */
  targets(): FaultTarget[];
  /** switches a fault on; resolves once it is in effect (e.g. the listener is closed for `down: refuse`) */
  set(target: FaultTarget, fault: Fault): Promise<void>;
  /** switches one target's fault off, or every fault when no target is given */
  clear(target?: FaultTarget): Promise<void>;
  active(): Record<FaultTarget, Fault>;
  /** requests the fronts saw that match (method compared case-insensitively) */
  count(q?: RequestQuery): number;
  requests(q?: RequestQuery & { limit?: number }): RequestRecord[];
  resetLog(): void;
}

/** FaultControl over a board and the fronts that consult it. */
export class LocalFaultControl implements FaultControl {
  controlUrl = '';
  constructor(
    private readonly board: FaultBoard,
    private readonly proxies: readonly FaultProxy[],
  ) {}

  targets(): FaultTarget[] {
    return [
      ...[...this.board.buckets].sort().map((b) => `bucket:${b}`),
      'bucket:*',
      ...[...this.board.fronts].filter((f) => f !== 'buckets'),
    ];
  }

  async set(target: FaultTarget, fault: Fault): Promise<void> {
    this.board.set(target, fault);
    await Promise.all(this.proxies.map((p) => p.applyFaults()));
  }

  async clear(target?: FaultTarget): Promise<void> {
    this.board.clear(target);
    await Promise.all(this.proxies.map((p) => p.applyFaults()));
  }

  active(): Record<FaultTarget, Fault> {
    return this.board.active();
  }

  count(q: RequestQuery = {}): number {
    return this.board.count(q);
  }

  requests(q: RequestQuery & { limit?: number } = {}): RequestRecord[] {
    return this.board.requests(q);
  }

  resetLog(): void {
    this.board.resetLog();
  }

  get countersTruncated(): boolean {
    return this.board.countersTruncated;
  }
}

const FRONTS: ReadonlySet<string> = new Set<FrontName>(['buckets', 'upstream', 'signature']);

function queryOf(url: URL): RequestQuery & { limit?: number } {
  const q: RequestQuery & { limit?: number } = {};
  const front = url.searchParams.get('front');
  if (front !== null) {
    if (!FRONTS.has(front)) throw new FaultError(`front must be buckets, upstream or signature, not "${front}"`);
    q.front = front as FrontName;
  }
  for (const key of ['scope', 'method', 'digest'] as const) {
    const v = url.searchParams.get(key);
    if (v !== null) q[key] = v;
  }
  const limit = url.searchParams.get('limit');
  if (limit !== null) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 0) throw new FaultError('limit must be a non-negative integer');
    q.limit = n;
  }
  return q;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 64 * 1024) throw new FaultError('body too large');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new FaultError('body must be JSON');
  }
}

/** The HTTP face of a FaultControl. */
export class FaultControlServer {
  private readonly server: http.Server;
  private port = 0;

  constructor(private readonly control: LocalFaultControl) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(port = 0): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.removeListener('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        this.control.controlUrl = this.url;
        resolve(this);
      });
    });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://control');
    const method = req.method ?? 'GET';
    try {
      if (url.pathname === '/healthz' && method === 'GET') return this.send(res, 200, 'ok\n');
      if (url.pathname === '/faults') {
        if (method === 'GET')
          return this.send(res, 200, { faults: this.control.active(), targets: this.control.targets() });
        if (method === 'DELETE') {
          await this.control.clear();
          return this.send(res, 200, { cleared: 'all' });
        }
      }
      if (url.pathname.startsWith('/faults/')) {
        const target = decodeURIComponent(url.pathname.slice('/faults/'.length));
        if (method === 'PUT' || method === 'POST') {
          const fault = parseFault(await readJson(req), target);
          await this.control.set(target, fault);
          return this.send(res, 200, { target, fault });
        }
        if (method === 'DELETE') {
          await this.control.clear(target);
          return this.send(res, 200, { cleared: target });
        }
      }
      if (url.pathname === '/counters' && method === 'GET') {
        return this.send(res, 200, {
          count: this.control.count(queryOf(url)),
          truncated: this.control.countersTruncated,
        });
      }
      if (url.pathname === '/requests') {
        if (method === 'GET') return this.send(res, 200, { requests: this.control.requests(queryOf(url)) });
        if (method === 'DELETE') {
          this.control.resetLog();
          return this.send(res, 200, { reset: true });
        }
      }
      this.send(res, 404, {
        error: { code: 'NOT_FOUND', message: `no route for ${method} ${url.pathname}; see docs/local-stack.md` },
      });
    } catch (err) {
      if (err instanceof FaultError) return this.send(res, 400, { error: { code: err.code, message: err.message } });
      this.send(res, 500, { error: { code: 'INTERNAL', message: (err as Error).message } });
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Starts the fault control endpoint (the HTTP face of `control`) on a free 127.0.0.1 port. */
export function startFaultControlServer(control: LocalFaultControl): Promise<Started<FaultControlServer>> {
  return new FaultControlServer(control).start();
}

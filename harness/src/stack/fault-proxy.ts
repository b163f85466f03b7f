/**
 * The faults front: an HTTP proxy in front of one backend (s3rver for every bucket, or an upstream registry) whose
 * misbehaviour can be switched at run time, and which counts every request it sees.
 *
 * Faults live here, not in the redirector, so the system under test is exactly what ships. A fault applies to a
 * *scope*: for the buckets front the scope is the bucket (the first path segment, since bucket URLs are path-style);
 * for a registry front it is the front's own name (`upstream`, `signature`). The shared registry of faults and
 * counters is FaultBoard; FaultProxy is one listening front that consults it.
 *
 * The buckets front also answers Range on object GETs and HEADs itself, as S3 does (bucket-range.ts), because
 * s3rver's own Range handling is wrong; faults apply to ranged requests exactly as to plain ones.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Transform } from 'node:stream';
import { isRangedObjectRead, serveBucketRange } from './bucket-range.js';
import { forwardRequest } from './forward-request.js';
import type { Started } from './stack-service.js';

/**
 * What a scope does instead of (or on top of) answering normally. Every kind except `corrupt` and `down` may be
 * narrowed to one digest, so "this one blob is missing from the CDN" is expressible.
 * - status: answer with that status (403/404/500/503/...) and an error body in the backend's dialect
 * - hang: accept the request and never answer until the fault is cleared (then the request proceeds normally) or
 *   the stack stops (then the connection is destroyed)
 * - reset: destroy the connection with a TCP RST as soon as the request arrives
 * - delay: wait `ms` before forwarding
 * - corrupt: forward, but flip the first byte of every response body for `digest` (length and headers unchanged, so
 *   only a client that verifies digests notices); a ranged answer has the first byte of its slice flipped
 * - down: registry fronts only. `refuse` closes the listening socket (connection refused, as when the upstream is
 *   gone); `status` answers 503 to everything (as when the upstream's load balancer has no healthy backend)
 */
export type Fault =
  | { kind: 'status'; status: number; digest?: string }
  | { kind: 'hang'; digest?: string }
  | { kind: 'reset'; digest?: string }
  | { kind: 'delay'; ms: number; digest?: string }
  | { kind: 'corrupt'; digest: string }
  | { kind: 'down'; mode: 'refuse' | 'status' };

export type FrontName = 'buckets' | 'upstream' | 'signature';

/** `bucket:<name>`, `bucket:*` (every bucket), `upstream` or `signature` */
export type FaultTarget = string;

export interface RequestRecord {
  seq: number;
  /** ms since the epoch */
  time: number;
  front: FrontName;
  /** bucket name for the buckets front, else the front name */
  scope: string;
  method: string;
  /** the raw request-target */
  path: string;
  /** the digest named by the path, if any (`containers/images/<d>`, `blobs/<d>`, `manifests/<d>`) */
  digest: string | null;
  /** the status sent, 0 when the connection was reset or hung until it closed */
  status: number;
  /** the fault that applied, if any */
  fault: Fault['kind'] | null;
}

export interface RequestQuery {
  front?: FrontName;
  scope?: string;
  method?: string;
  digest?: string;
}

export class FaultError extends Error {
  readonly code = 'STACK_FAULT_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'FaultError';
  }
}

const DIGEST_IN_PATH = /(sha256|sha384|sha512)(?::|%3[aA])([0-9a-fA-F]{32,128})/;

export function digestInPath(path: string): string | null {
  const m = DIGEST_IN_PATH.exec(path);
  return m ? `${m[1]}:${m[2]!.toLowerCase()}` : null;
}

/** Validates an untrusted fault (from the control endpoint) and the target it is meant for. */
export function parseFault(value: unknown, target: FaultTarget): Fault {
  const fail = (what: string): never => {
    throw new FaultError(`fault for ${target}: ${what}`);
  };
  if (typeof value !== 'object' || value === null) fail('must be a JSON object with a "kind"');
  const v = value as Record<string, unknown>;
  const digest = v.digest;
  if (digest !== undefined && (typeof digest !== 'string' || digestInPath(digest) !== digest))
    fail('"digest" must be an OCI digest such as sha256:<64 hex>');
  const isRegistry = target === 'upstream' || target === 'signature';
  switch (v.kind) {
    case 'status': {
      const s = v.status;
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 400 || s > 599)
        fail('"status" must be an integer from 400 to 599');
      return { kind: 'status', status: s as number, ...(digest ? { digest: digest as string } : {}) };
    }
    case 'hang':
    case 'reset':
      return { kind: v.kind, ...(digest ? { digest: digest as string } : {}) };
    case 'delay': {
      const ms = v.ms;
      if (typeof ms !== 'number' || !(ms >= 0) || ms > 600_000) fail('"ms" must be a number from 0 to 600000');
      return { kind: 'delay', ms: ms as number, ...(digest ? { digest: digest as string } : {}) };
    }
    case 'corrupt':
      if (typeof digest !== 'string') fail('"corrupt" needs the "digest" whose bytes to corrupt');
      return { kind: 'corrupt', digest: digest as string };
    case 'down':
      if (!isRegistry)
        fail('"down" applies to the registry fronts (upstream, signature) only; for buckets use status, hang or reset');
      if (v.mode !== 'refuse' && v.mode !== 'status') fail('"mode" must be "refuse" or "status"');
      return { kind: 'down', mode: v.mode as 'refuse' | 'status' };
    default:
      return fail('"kind" must be one of status, hang, reset, delay, corrupt, down');
  }
}

/** Targets are checked against the buckets and fronts that exist, so a typo is an error and not a silent no-op. */
export function parseTarget(
  target: string,
  buckets: ReadonlySet<string>,
  fronts: ReadonlySet<FrontName>,
): { front: FrontName; scope: string } {
  if (target === 'upstream' || target === 'signature') {
    if (!fronts.has(target)) throw new FaultError(`no ${target} front in this stack`);
    return { front: target, scope: target };
  }
  if (target.startsWith('bucket:')) {
    const bucket = target.slice('bucket:'.length);
    if (bucket !== '*' && !buckets.has(bucket))
      throw new FaultError(`unknown bucket "${bucket}" (known: ${[...buckets].sort().join(', ')})`);
    return { front: 'buckets', scope: bucket };
  }
  throw new FaultError(`unknown fault target "${target}": use bucket:<name>, bucket:*, upstream or signature`);
}

const MAX_RECORDS = 10_000;
const MAX_COUNTER_KEYS = 200_000;

/**
 * Faults and counters shared by every front. Counters are exact per (front, scope, method, digest) until
 * MAX_COUNTER_KEYS distinct keys exist (a run that HEADs a million distinct digests must not grow memory without
 * bound); past that, `count` with a digest reports what it has and `countersTruncated` says so. The request log
 * keeps the last MAX_RECORDS requests.
 */
export class FaultBoard {
  private readonly faults = new Map<string, Fault>();
  private readonly records: RequestRecord[] = [];
  private readonly counters = new Map<string, number>();
  private seq = 0;
  countersTruncated = false;

  constructor(
    readonly buckets: ReadonlySet<string>,
    readonly fronts: ReadonlySet<FrontName>,
  ) {}

  set(target: FaultTarget, fault: Fault): void {
    const { front, scope } = parseTarget(target, this.buckets, this.fronts);
    const checked = parseFault(fault, target);
    this.faults.set(`${front}|${scope}`, checked);
  }

  clear(target?: FaultTarget): void {
    if (target === undefined) this.faults.clear();
    else {
      const { front, scope } = parseTarget(target, this.buckets, this.fronts);
      this.faults.delete(`${front}|${scope}`);
    }
  }

  /** Active faults keyed by target string. */
  active(): Record<FaultTarget, Fault> {
    const out: Record<string, Fault> = {};
    for (const [key, fault] of this.faults) {
      const [front, scope] = key.split('|') as [FrontName, string];
      out[front === 'buckets' ? `bucket:${scope}` : front] = fault;
    }
    return out;
  }

  /** The fault that applies to a request: the scope's own, else the front-wide one (`bucket:*`). */
  faultFor(front: FrontName, scope: string, digest: string | null): Fault | null {
    for (const key of [`${front}|${scope}`, `${front}|*`]) {
      const f = this.faults.get(key);
      if (!f) continue;
      if (f.kind === 'down') return f;
      if (f.kind === 'corrupt') {
        if (digest === f.digest) return f;
        continue;
      }
      if (f.digest === undefined || f.digest === digest) return f;
    }
    return null;
  }

  /** Counts a request as it arrives (so a counter never lags the answer); the caller fills in the outcome. */
  record(r: Omit<RequestRecord, 'seq' | 'time'>): RequestRecord {
    const rec: RequestRecord = { seq: ++this.seq, time: Date.now(), ...r };
    this.records.push(rec);
    if (this.records.length > MAX_RECORDS) this.records.splice(0, this.records.length - MAX_RECORDS);
    const key = `${r.front}|${r.scope}|${r.method}|${r.digest ?? ''}`;
    const current = this.counters.get(key);
    if (current !== undefined) this.counters.set(key, current + 1);
    else if (this.counters.size < MAX_COUNTER_KEYS) this.counters.set(key, 1);
    else this.countersTruncated = true;
    return rec;
  }

  /** How many requests matched (exact while `countersTruncated` is false). */
  count(q: RequestQuery = {}): number {
    let n = 0;
    for (const [key, value] of this.counters) {
      const [front, scope, method, digest] = key.split('|');
      if (q.front !== undefined && q.front !== front) continue;
      if (q.scope !== undefined && q.scope !== scope) continue;
      if (q.method !== undefined && q.method.toUpperCase() !== method) continue;
      if (q.digest !== undefined && q.digest !== digest) continue;
      n += value;
    }
    return n;
  }

  requests(q: RequestQuery & { limit?: number } = {}): RequestRecord[] {
    const matched = this.records.filter(
      (r) =>
        (q.front === undefined || r.front === q.front) &&
        (q.scope === undefined || r.scope === q.scope) &&
        (q.method === undefined || r.method === q.method.toUpperCase()) &&
        (q.digest === undefined || r.digest === q.digest),
    );
    return q.limit === undefined ? matched : matched.slice(-q.limit);
  }

  resetLog(): void {
    this.records.length = 0;
    this.counters.clear();
    this.countersTruncated = false;
  }
}

function errorBody(front: FrontName, status: number): { type: string; body: string } {
  if (front === 'buckets') {
    // S3's dialect: an XML <Error> document (what an anonymous client of a real bucket sees)
    const code =
      status === 403 ? 'AccessDenied' : status === 404 ? 'NoSuchKey' : status === 503 ? 'SlowDown' : 'InternalError';
    return {
      type: 'application/xml',
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the registry-canary faults front</Message></Error>\n`,
    };
  }
  // the distribution spec's error document
  const code =
    status === 404 ? 'NAME_UNKNOWN' : status === 403 ? 'DENIED' : status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE';
  return {
    type: 'application/json',
    body: `${JSON.stringify({ errors: [{ code, message: 'injected by the registry-canary faults front' }] })}\n`,
  };
}

/** Flips the first byte of the body; everything else passes through. */
function corruptFirstByte(): Transform {
  let done = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!done && chunk.length > 0) {
        const copy = Buffer.from(chunk);
        copy[0] = copy[0]! ^ 0xff;
        done = true;
        return cb(null, copy);
      }
      cb(null, chunk);
    },
  });
}

export interface FaultProxyOptions {
  front: FrontName;
  backend: URL;
  board: FaultBoard;
  /** port to listen on; 0 picks a free one (the port is kept across a `down: refuse` fault) */
  port?: number;
}

/** One listening front. */
export class FaultProxy {
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly hung = new Set<() => void>();
  private port = 0;
  private refusing = false;
  private stopped = false;

  constructor(private readonly opts: FaultProxyOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await this.listen(this.opts.port ?? 0);
    return this;
  }

  private listen(port: number): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        this.server = server;
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private scopeOf(req: IncomingMessage): string {
    if (this.opts.front !== 'buckets') return this.opts.front;
    const path = (req.url ?? '/').split('?')[0]!;
    return path.split('/')[1] ?? '';
  }

  /**
   * Called after the board changed: hung requests are judged again, `down: refuse` closes the listener, and its
   * clearing listens again on the same port. Resolves once the change is in effect.
   */
  async applyFaults(): Promise<void> {
    if (this.stopped) return;
    for (const release of [...this.hung]) release();
    const fault = this.opts.board.faultFor(this.opts.front, this.opts.front, null);
    const refuse = fault?.kind === 'down' && fault.mode === 'refuse';
    if (refuse && !this.refusing) {
      this.refusing = true;
      const server = this.server;
      this.server = null;
      await new Promise<void>((r) => {
        server?.close(() => r());
        for (const s of this.sockets) s.destroy();
      });
    } else if (!refuse && this.refusing) {
      this.refusing = false;
      await this.listen(this.port);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { front, board } = this.opts;
    const scope = this.scopeOf(req);
    const digest = digestInPath(req.url ?? '');
    const method = req.method ?? 'GET';
    let fault = board.faultFor(front, scope, digest);
    const rec = board.record({
      front,
      scope,
      method,
      path: req.url ?? '',
      digest,
      status: 0,
      fault: fault?.kind ?? null,
    });
    const record = (status: number, applied: Fault | null) => {
      rec.status = status;
      rec.fault = applied?.kind ?? null;
    };

    // a hang lasts until the fault changes; then the request is judged again
    while (fault?.kind === 'hang') {
      const gone = await new Promise<boolean>((resolve) => {
        const release = () => {
          this.hung.delete(release);
          resolve(false);
        };
        this.hung.add(release);
        res.once('close', () => {
          this.hung.delete(release);
          resolve(true);
        });
      });
      if (gone || this.stopped) {
        record(0, fault);
        res.destroy();
        return;
      }
      fault = board.faultFor(front, scope, digest);
    }
    if (fault?.kind === 'reset') {
      record(0, fault);
      req.socket.resetAndDestroy();
      return;
    }
    if (fault?.kind === 'status' || (fault?.kind === 'down' && fault.mode === 'status')) {
      const status = fault.kind === 'status' ? fault.status : 503;
      const { type, body } = errorBody(front, status);
      record(status, fault);
      req.resume();
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    const forward = {
      backend: this.opts.backend,
      agent: this.agent,
      onStatus: (status: number) => record(status, fault),
      responseBody: () => (fault?.kind === 'corrupt' ? corruptFirstByte() : null),
    };
    // s3rver's Range handling is wrong (bucket-range.ts): the buckets front answers Range as S3 does
    if (front === 'buckets' && isRangedObjectRead(req)) await serveBucketRange(req, res, forward);
    else await forwardRequest(req, res, forward);
  }

  /** Closes the listener and every connection (hung ones included). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const release of [...this.hung]) release();
    const server = this.server;
    this.server = null;
    await new Promise<void>((r) => {
      if (!server) return r();
      server.close(() => r());
      server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
    });
    this.agent.destroy();
  }
}

/** Starts one faults front, listening on 127.0.0.1 in front of its backend. */
export function startFaultProxy(opts: FaultProxyOptions): Promise<Started<FaultProxy>> {
  return new FaultProxy(opts).start();
}

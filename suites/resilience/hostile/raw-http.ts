/**
 * HTTP/1.1 over raw sockets, for hostile input: the request bytes go to the server exactly as generated (no client
 * library validates, normalises or refuses them), and the response is read byte for byte, so a header the server
 * did not mean to send is visible.
 *
 * Two ways to send:
 *  - `KeepAliveSender`: well-framed requests (no CR or LF inside any part) on reused connections, one at a time per
 *    connection, one response each; a connection the server closes is replaced;
 *  - `sendAlone`: anything that may not frame as one request (CR/LF inside a part, CONNECT, ...) on a fresh
 *    connection, followed by a sentinel request (`GET /v2/` with `Connection: close`), so the server closes the
 *    connection once it has answered everything it parsed; every response is parsed (a request smuggled inside
 *    another shows up as an extra response). The client never half-closes: node's server drops the requests still
 *    being answered when its client does (httpAllowHalfOpen is false), which no registry client does.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** the status line and header lines, as sent */
  head: string;
  headers: [string, string][];
  body: string;
}

export interface RawOutcome {
  responses: RawResponse[];
  /** the server closed (or reset) the connection before a complete response */
  closedEarly: boolean;
  /** no complete response within the deadline */
  timedOut: boolean;
  error?: string;
}

/**
 * Parses every complete response in `buf`; returns them and the unparsed rest. `headRequest`: the first final
 * (non-1xx) response answers a HEAD and has no body (later ones answer the sentinel or a smuggled request, GETs).
 */
export function parseResponses(
  buf: Buffer,
  headRequest: boolean,
  atEof: boolean,
): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0) break;
    const head = buf.subarray(at, end).toString('latin1');
    const lines = head.split('\r\n');
    const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers: [string, string][] = lines.slice(1).map((l) => {
      const colon = l.indexOf(':');
      return colon < 0 ? [l, ''] : [l.slice(0, colon), l.slice(colon + 1).trim()];
    });
    const lengthHeader = headers.find(([n]) => n.toLowerCase() === 'content-length');
    const informational = status >= 100 && status < 200;
    const answersTheHead = headRequest && !responses.some((r) => r.status >= 200);
    let bodyLength =
      answersTheHead || informational || status === 204 || status === 304
        ? 0
        : lengthHeader
          ? Number(lengthHeader[1])
          : -1;
    if (bodyLength < 0) {
      // no length: the body runs to the end of the connection
      if (!atEof) break;
      bodyLength = buf.length - (end + 4);
    }
    if (buf.length < end + 4 + bodyLength) break;
    const body = buf.subarray(end + 4, end + 4 + bodyLength).toString('latin1');
    responses.push({ status, head, headers, body });
    at = end + 4 + bodyLength;
  }
  return { responses, rest: buf.subarray(at) };
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.setNoDelay(true);
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** The request the server answers last and then closes the connection on (see `sendAlone`). */
export const SENTINEL = Buffer.from(
  'GET /v2/ HTTP/1.1\r\nHost: sentinel.invalid\r\nConnection: close\r\n\r\n',
  'latin1',
);

/** One request on a fresh connection, then the sentinel; reads until the server closes or `timeoutMs`. */
export async function sendAlone(
  port: number,
  bytes: Buffer,
  headRequest: boolean,
  timeoutMs = 3_000,
): Promise<RawOutcome> {
  let socket: Socket;
  try {
    socket = await openSocket(port);
  } catch (err) {
    return { responses: [], closedEarly: true, timedOut: false, error: (err as Error).message };
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const { responses } = parseResponses(Buffer.concat(chunks), headRequest, true);
      resolve({
        responses,
        closedEarly: responses.length === 0 && !timedOut,
        timedOut: timedOut && responses.length === 0,
        ...(error ? { error } : {}),
      });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    // a body-length header can make the server read the sentinel as body and wait for more: once something was
    // answered, 300 ms of silence ends the exchange
    let quiet: NodeJS.Timeout | undefined;
    socket.on('data', (d) => {
      chunks.push(d);
      clearTimeout(quiet);
      if (parseResponses(Buffer.concat(chunks), headRequest, false).responses.length > 0)
        quiet = setTimeout(() => finish(false), 300);
    });
    socket.on('error', (err) => (error = (err as NodeJS.ErrnoException).code ?? err.message));
    socket.on('close', () => {
      clearTimeout(quiet);
      finish(false);
    });
    socket.write(Buffer.concat([bytes, SENTINEL]));
  });
}

/** Reused connections for well-framed requests. */
export class KeepAliveSender {
  private socket: Socket | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((outcome: RawOutcome) => void) | null = null;
  private headRequest = false;
  private timer: NodeJS.Timeout | undefined;
  opened = 0;

  constructor(
    private readonly port: number,
    private readonly timeoutMs = 3_000,
  ) {}

  private settle(outcome: RawOutcome): void {
    clearTimeout(this.timer);
    const w = this.waiting;
    this.waiting = null;
    w?.(outcome);
  }

  private drop(): void {
    this.socket?.destroy();
    this.socket = null;
    this.buffered = Buffer.alloc(0);
  }

  async send(bytes: Buffer, headRequest: boolean): Promise<RawOutcome> {
    if (this.socket === null || this.socket.destroyed) {
      try {
        const s = await openSocket(this.port);
        this.opened++;
        this.socket = s;
        this.buffered = Buffer.alloc(0);
        s.on('data', (d) => {
          if (this.socket !== s) return;
          this.buffered = Buffer.concat([this.buffered, d]);
          const { responses, rest } = parseResponses(this.buffered, this.headRequest, false);
          if (responses.length === 0) return;
          this.buffered = rest;
          const closing = responses.some((r) =>
            r.headers.some(([n, v]) => n.toLowerCase() === 'connection' && /close/i.test(v)),
          );
          // a second response to one request would be a smuggled one: report it, and never reuse this connection
          if (closing || responses.length > 1 || rest.length > 0) this.drop();
          this.settle({ responses, closedEarly: false, timedOut: false });
        });
        s.on('error', () => {});
        s.on('close', () => {
          if (this.socket !== s) return;
          const { responses } = parseResponses(this.buffered, this.headRequest, true);
          this.socket = null;
          this.buffered = Buffer.alloc(0);
          this.settle({ responses, closedEarly: responses.length === 0, timedOut: false });
        });
      } catch (err) {
        return { responses: [], closedEarly: true, timedOut: false, error: (err as Error).message };
      }
    }
    this.headRequest = headRequest;
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.timer = setTimeout(() => {
        this.drop();
        this.settle({ responses: [], closedEarly: false, timedOut: true });
      }, this.timeoutMs);
      this.socket!.write(bytes);
    });
  }

  close(): void {
    this.drop();
  }
}

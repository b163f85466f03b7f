/**
 * The only module that imports node:http: it turns IncomingMessage into the handler's
 * HttpRequest facts, writes the handler's Reply back, and owns the listener's lifecycle.
 *
 * Timeouts (archeio: ReadHeaderTimeout 2 s, ReadTimeout 10 s; docs/reference/archeio.md#server): `headersTimeout` and
 * `requestTimeout` close slow-loris clients, `keepAliveTimeout` idle ones; node checks them every
 * `connectionsCheckingInterval` (30 s by default, far too coarse for a 2 s header timeout, so it is derived from the
 * header timeout).
 *
 * Drain (SIGTERM/SIGINT): listener.ts, the sequence both public listeners follow.
 *
 * Refusals (refusal.ts): with `onRefusal`, a 'clientError' listener answers what node would (400, 408, 413, 431 and
 * `Connection: close` for a parse error or a timeout, unless an answer on that connection has begun; then the socket
 * is destroyed) and reports it. Without one, node's own handling stays (the admin listener).
 */
import { METHODS, STATUS_CODES, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { InFlight, bindListener, type Handler, type ListenOptions, type Listener } from './listener.js';
import { firstLineOf, nodeRefusalReason, refusalAnswer, type Refusal } from './refusal.js';
import type { Reply } from './reply.js';
import type { HttpRequest } from './request-handler.js';

/** The request facts, read lazily from the IncomingMessage: only blob requests look at X-Forwarded-For. */
class NodeRequest implements HttpRequest {
  readonly method: string;
  readonly target: string;
  constructor(private readonly req: IncomingMessage) {
    this.method = req.method ?? 'GET';
    this.target = req.url ?? '/';
  }
  get xff(): string | undefined {
    // Read from rawHeaders rather than `headers`, which builds an object of every header on first access. Repeated
    // lines are joined with ", " as node's `headers` does for this field (RFC 9110 §5.3: a list field's lines
    // are equivalent to one combined line).
    const raw = this.req.rawHeaders;
    let value: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      // the spelling every proxy sends is compared first: lower-casing allocates a string
      if (name.length === 15 && (name === 'X-Forwarded-For' || name.toLowerCase() === 'x-forwarded-for'))
        value = value === undefined ? raw[i + 1] : `${value}, ${raw[i + 1]}`;
    }
    return value;
  }
  get remoteAddress(): string | undefined {
    return this.req.socket.remoteAddress;
  }
}

const CONNECTION_CLOSE = ['Connection', 'close'];

/** The error of node:http's 'clientError' event: a parse error carries the bytes being parsed. */
type ClientError = NodeJS.ErrnoException & { rawPacket?: Buffer };

export function listenNodeHttp(handler: Handler, opts: ListenOptions): Promise<Listener> {
  const inFlight = new InFlight();
  let closing = false;

  const send = (res: ServerResponse, reply: Reply): void => {
    res.writeHead(reply.status, closing ? reply.headers.concat(CONNECTION_CLOSE) : reply.headers);
    res.end(reply.body);
  };
  const fail = (res: ServerResponse, req: HttpRequest, err: unknown): void => {
    opts.onError?.(err, req);
    if (!res.headersSent)
      send(res, {
        status: 500,
        headers: ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '22'],
        body: 'internal server error\n',
      });
    else res.destroy();
  };

  const headersTimeout = opts.headersTimeoutMs ?? 60_000;
  const server = createServer(
    {
      headersTimeout,
      requestTimeout: opts.requestTimeoutMs ?? 300_000,
      keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000,
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersTimeout / 2))),
    },
    (req, res) => {
      const facts = new NodeRequest(req);
      let reply: Reply | Promise<Reply>;
      try {
        reply = handler(facts);
      } catch (err) {
        fail(res, facts, err);
        return;
      }
      if (reply instanceof Promise) {
        // Only answers that wait (on a blob HEAD) are counted as in flight for the drain: a synchronous answer is
        // handed to the socket before this function returns, so there is nothing to wait for, and the common
        // (cached) path pays for no listener.
        inFlight.start();
        reply.then(
          (r) => {
            send(res, r);
            inFlight.finish();
          },
          (err) => {
            fail(res, facts, err);
            inFlight.finish();
          },
        );
      } else {
        send(res, reply);
      }
    },
  );

  // CONNECT never reaches the 'request' listener, and without a 'connect' listener node closes the connection in
  // silence. Rule 1 says any method but GET and HEAD gets a 405 with Allow: ask the handler, write its answer on the
  // raw socket, close (resilience finding, docs/reliability.md).
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => {});
    const facts = new NodeRequest(req);
    Promise.resolve()
      .then(() => handler(facts))
      .then(
        (reply) => writeRaw(socket, reply),
        (err: unknown) => {
          opts.onError?.(err, facts);
          writeRaw(socket, {
            status: 500,
            headers: ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '22'],
            body: 'internal server error\n',
          });
        },
      );
  });

  const onRefusal = opts.onRefusal;
  if (onRefusal !== undefined) {
    server.on('clientError', (err: ClientError, socket: Duplex) => refuseClient(err, socket as Socket, onRefusal));
  }

  return bindListener(server, opts, inFlight, {
    closing: () => void (closing = true),
    // net.Server's close stops accepting; http.Server's close (Node ≥ 19) would also destroy every idle keep-alive
    // connection at once, resetting a request a client is sending on one at this very moment.
    stopAccepting: () => new Promise<void>((r) => NetServer.prototype.close.call(server, () => r())),
    openConnections: () => openConnections(server),
    closeIdle: () => server.closeIdleConnections(),
    closeAll: () => server.closeAllConnections(),
  });
}

function openConnections(server: NetServer): Promise<number> {
  return new Promise((resolve) => server.getConnections((err, n) => resolve(err ? 0 : n)));
}

/** The reason phrase node writes for a status code ('' for one it does not know). */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? '';
}

/** The request methods node's parser accepts (it answers any other with 400). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS);

/**
 * What node does with a client error when nobody listens for it, and a report of it: a parse error or timeout is
 * answered, unless the answer to an earlier request on the connection has begun (its bytes would be corrupted); a
 * failed socket (ECONNRESET, ...) is not; then the socket is destroyed, which also keeps a second error on it
 * (node can report more than one) from being answered or counted again.
 */
function refuseClient(err: ClientError, socket: Socket, onRefusal: (r: Refusal) => void): void {
  const reason = nodeRefusalReason(err.code);
  // the response in progress on this connection: node keeps it there, and no public property exposes it
  const current = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (reason !== null && socket.writable && !(current?.headersSent ?? false)) {
    const firstLine = err.rawPacket === undefined ? '' : firstLineOf(err.rawPacket.toString('latin1', 0, 2048));
    onRefusal({ reason, remoteAddress: socket.remoteAddress, firstLine, code: err.code! });
    socket.write(refusalAnswer(reason), 'latin1');
  }
  socket.destroy();
}

/** Writes a reply on a socket node no longer parses (CONNECT), then closes it. */
function writeRaw(socket: Duplex, reply: Reply): void {
  let head = `HTTP/1.1 ${reply.status} ${reasonPhrase(reply.status)}\r\n`;
  for (let i = 0; i + 1 < reply.headers.length; i += 2) {
    const name = reply.headers[i]!;
    const value = reply.headers[i + 1]!;
    // what writeHead would refuse must not reach the wire here either
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) continue;
    head += `${name}: ${value}\r\n`;
  }
  socket.end(`${head}Connection: close\r\n\r\n${reply.body}`);
}

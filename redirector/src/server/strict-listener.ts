/**
 * The strict listener (HTTP_LISTENER=strict, the default; `node` falls back to node-adapter.ts): the public listener
 * on raw `node:net` sockets, reading request heads itself instead of through node:http, whose objects and events
 * cost about a third of a request's CPU here (docs/performance.md#listeners). A redirector is never asked anything
 * with a body, so it reads much less of HTTP/1.1 than a general server:
 *
 *  - a head is accepted only when well formed by RFC 9112 read strictly: `method SP target SP HTTP/1.0|1.1` with a
 *    method node knows and a target in the form RFC 9112 §3.2 allows for it; CRLF line ends only (a bare CR or LF
 *    anywhere is an error); `token ":" OWS value OWS` header lines, no obs-fold, no space before the colon, values of
 *    visible ASCII, SP, HTAB and obs-text; for HTTP/1.1 exactly one Host. Up to MAX_EMPTY_LINES empty lines (CRLF) before
 *    the request line are ignored (RFC 9112 §2.2), counting toward the head's size and time. Anything else gets
 *    node's own answer to a malformed request (`400 Bad Request`, `Connection: close`) and the connection is closed;
 *    a head over 16 KiB (node's maxHeaderSize) gets `431`. Each refusal is reported to `onRefusal` with a reason
 *    named for what was wrong (refusal.ts), found on the refusal path alone: an accepted head costs nothing more;
 *  - it never reads a body: a request announcing one (one `Transfer-Encoding: chunked`, or a Content-Length other
 *    than 0) is answered and the connection then closed, so no body byte is ever taken for the next request's head
 *    (request smuggling needs two parsers to disagree on where a body ends; this one never looks for the end).
 *    Content-Length with Transfer-Encoding, any other Transfer-Encoding, and a repeated or non-numeric Content-Length
 *    are a 400;
 *  - requests on a connection are answered one at a time, in order: pipelined heads wait in the buffer while an
 *    answer waits on a blob HEAD or the kernel has not taken the last one, and reading pauses when the buffer is full
 *    or the client does not read its answers;
 *  - replies are node:http's: the same status line, the handler's headers, then `Date`, `Connection: keep-alive` and
 *    `Keep-Alive: timeout=N` (or `Connection: close`), no body on HEAD;
 *  - timeouts and drain are the node adapter's: a head not complete within the header timeout (from the connection's
 *    start for its first request, as node counts) gets `408` and is closed, an idle keep-alive connection is closed
 *    after the keep-alive timeout, both checked on the interval node uses; on close(), the same grace, idle close and
 *    in-flight wait.
 *
 * Differences from node:http, on purpose: `Expect: 100-continue` gets the final answer straight away
 * (RFC 9110 §10.1.1 allows it; there is no body to wait for); a repeated Host, CONNECT to anything but `host:port`,
 * `*` with a method other than OPTIONS, the Transfer-Encoding cases above, more than MAX_EMPTY_LINES empty lines,
 * and a bare CR or LF among them are a 400 where node accepts them (node skips any number of CRs and LFs there);
 * empty lines start a head's header timeout, as any byte of a head does here (node starts it at the request line).
 * strict-listener.differential.test.ts checks that every head this reader accepts, node:http accepts as the same
 * method, target and X-Forwarded-For.
 */
import { createServer, type Socket } from 'node:net';
import { InFlight, bindListener, type Handler, type ListenOptions, type Listener } from './listener.js';
import { KNOWN_METHODS, reasonPhrase } from './node-adapter.js';
import { firstLineOf, refusalAnswer, type RefusalReason } from './refusal.js';
import type { Reply } from './reply.js';
import type { HttpRequest } from './request-handler.js';

/** node's default maxHeaderSize: the request line and header lines, with their line ends */
export const MAX_HEAD_BYTES = 16 * 1024;
/** How many empty lines (CRLF) before a request line are ignored; more are a 400 (`too-many-empty-lines`). */
export const MAX_EMPTY_LINES = 8;

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([!-~]+) HTTP\/1\.([01])$/;
const AUTHORITY_FORM = /^[^/?#@]+:[0-9]+$/;
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]/i;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** a field value, in a request or a reply (node's writeHead refuses the rest) */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const ASCII = /^[\x00-\x7f]*$/;
const BARE_CR_OR_LF = /[\r\n]/;

const INTERNAL_ERROR: Reply = {
  status: 500,
  headers: ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '22'],
  body: 'internal server error\n',
};

/** A parsed request head. */
export interface RequestHead {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 */
  minor: 0 | 1;
  /** X-Forwarded-For lines joined with ", " (as node's `headers` joins them), if any */
  xff: string | undefined;
  /** whether the client asked for the connection to stay open (HTTP/1.1 unless `close`; HTTP/1.0 only with `keep-alive`) */
  keepAlive: boolean;
  /** whether it announced a body (which is never read: the connection is closed after the answer) */
  hasBody: boolean;
}

/**
 * Parses a request head (the text before its blank line, without the final CRLF CRLF), after up to MAX_EMPTY_LINES
 * empty lines. Returns why it is refused for anything not well formed. Pure; exported for the differential test.
 */
export function parseRequestHead(text: string): RequestHead | RefusalReason {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const m = REQUEST_LINE.exec(text.slice(0, lineEnd));
  if (m === null) {
    return lineEnd === 0 && text.length > 0 ? afterEmptyLines(text) : requestLineProblem(text.slice(0, lineEnd));
  }
  if (!KNOWN_METHODS.has(m[1]!)) return 'bad-method';
  if (!targetFits(m[1]!, m[2]!)) return 'bad-target';
  const minor = m[3] === '1' ? 1 : 0;
  let xff: string | undefined;
  let hosts = 0;
  let contentLength: string | undefined;
  let transferEncoding = false;
  let close = false;
  let keepAliveToken = false;
  let at = lineEnd + 2;
  while (at < text.length + 2 && lineEnd < text.length) {
    lineEnd = text.indexOf('\r\n', at);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(at, lineEnd);
    at = lineEnd + 2;
    const colon = line.indexOf(':');
    if (colon <= 0) return headerLineProblem(line);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return headerLineProblem(line);
    let s = colon + 1;
    let e = line.length;
    while (s < e && (line.charCodeAt(s) === 32 || line.charCodeAt(s) === 9)) s++;
    while (e > s && (line.charCodeAt(e - 1) === 32 || line.charCodeAt(e - 1) === 9)) e--;
    const value = line.slice(s, e);
    if (!FIELD_VALUE.test(value)) return headerLineProblem(line);
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') hosts++;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          for (const t of value.toLowerCase().split(',')) {
            const token = t.trim();
            if (token === 'close') close = true;
            else if (token === 'keep-alive') keepAliveToken = true;
          }
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          // digits only, and nothing after them (node refuses trailing whitespace here)
          if (contentLength !== undefined || e !== line.length || !/^[0-9]+$/.test(value)) return 'bad-content-length';
          contentLength = value;
        }
        break;
      case 15:
        if (name === 'X-Forwarded-For' || name.toLowerCase() === 'x-forwarded-for')
          xff = xff === undefined ? value : `${xff}, ${value}`;
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          // one line naming chunked alone: a chunked body (answered, then the connection closed); any other coding
          // list (RFC 9112 §6.3: chunked not last, or twice) leaves no length a server could know
          if (transferEncoding || value.toLowerCase() !== 'chunked') return 'bad-transfer-encoding';
          transferEncoding = true;
        }
        break;
    }
  }
  if (hosts > 1) return 'repeated-host';
  if (minor === 1 && hosts === 0) return 'missing-host';
  if (transferEncoding && contentLength !== undefined) return 'bad-transfer-encoding';
  const hasBody = transferEncoding || (contentLength !== undefined && !/^0+$/.test(contentLength));
  return {
    method: m[1]!,
    target: m[2]!,
    minor,
    xff,
    keepAlive: minor === 1 ? !close : keepAliveToken && !close,
    hasBody,
  };
}

/** Why a request line is refused (the refusal path only: an accepted line never gets here). */
function requestLineProblem(line: string): RefusalReason {
  // lines are split at CRLF: a CR or LF left in one is bare
  if (BARE_CR_OR_LF.test(line)) return 'bad-line-end';
  const parts = line.split(' ');
  if (parts.length !== 3 || parts[0] === '') return 'bad-request-line';
  if (!TOKEN.test(parts[0]!)) return 'bad-method';
  if (!/^HTTP\/1\.[01]$/.test(parts[2]!)) return 'bad-version';
  return 'bad-target';
}

/** Why a header line is refused (the refusal path only). */
function headerLineProblem(line: string): RefusalReason {
  return BARE_CR_OR_LF.test(line) ? 'bad-line-end' : 'bad-header';
}

/**
 * A head after empty lines (RFC 9112 §2.2: a server SHOULD ignore at least one received before the request line;
 * node ignores any number of CRs and LFs there, this reader up to MAX_EMPTY_LINES CRLFs).
 */
function afterEmptyLines(text: string): RequestHead | RefusalReason {
  const start = emptyLinesEnd(text);
  if (start > 2 * MAX_EMPTY_LINES) return 'too-many-empty-lines';
  // the text after them starts with no CRLF, so this does not come back here
  return start === text.length ? 'bad-request-line' : parseRequestHead(text.slice(start));
}

/** Where the CRLFs at the start of `text` end (counting stops after MAX_EMPTY_LINES + 1 of them). */
function emptyLinesEnd(text: string): number {
  let at = 0;
  while (at <= 2 * MAX_EMPTY_LINES && text.charCodeAt(at) === 13 && text.charCodeAt(at + 1) === 10) at += 2;
  return at;
}

/** RFC 9112 §3.2's forms: authority-form for CONNECT alone, asterisk-form for OPTIONS alone, else origin- or absolute-form. */
function targetFits(method: string, target: string): boolean {
  if (method === 'CONNECT') return AUTHORITY_FORM.test(target);
  if (target === '*') return method === 'OPTIONS';
  return target.charCodeAt(0) === 47 /* / */ || ABSOLUTE_FORM.test(target);
}

/** The status line and the handler's header lines, validated, remembered for frozen (shared) header lists. */
const headerTexts = new WeakMap<readonly string[], string>();

function headerText(reply: Reply): string | null {
  const h = reply.headers;
  const known = headerTexts.get(h);
  if (known !== undefined && known.startsWith(`HTTP/1.1 ${reply.status} `)) return known;
  let head = `HTTP/1.1 ${reply.status} ${reasonPhrase(reply.status)}\r\n`;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i]!;
    const value = h[i + 1]!;
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return null;
    head += `${name}: ${value}\r\n`;
  }
  if (Object.isFrozen(h)) headerTexts.set(h, head);
  return head;
}

/** The reply as bytes on the wire, node:http's way; null when a header could not be written (CR, LF, a bad name). */
export function serializeReply(
  reply: Reply,
  method: string,
  date: string,
  keepAlive: boolean,
  keepAliveS: number | null,
): string | Buffer | null {
  let head = headerText(reply);
  if (head === null) return null;
  if (!keepAlive) head += `Date: ${date}\r\nConnection: close\r\n\r\n`;
  else if (keepAliveS === null) head += `Date: ${date}\r\nConnection: keep-alive\r\n\r\n`;
  else head += `Date: ${date}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=${keepAliveS}\r\n\r\n`;
  const body = method === 'HEAD' || reply.status === 204 || reply.status === 304 ? '' : reply.body;
  if (body === '') return head;
  if (ASCII.test(body)) return head + body;
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body, 'utf8')]);
}

/** What the handler reads of a request on this listener. */
class StrictRequest implements HttpRequest {
  constructor(
    readonly method: string,
    readonly target: string,
    readonly xff: string | undefined,
    private readonly socket: Socket,
  ) {}
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
}

/** The text of the Date header, kept to the second as node:http keeps it. */
class DateText {
  private text = '';
  private until = 0;
  now(ms: number): string {
    if (ms >= this.until) {
      this.text = new Date(ms).toUTCString();
      this.until = ms - (ms % 1000) + 1000;
    }
    return this.text;
  }
}

interface Shared {
  handler: Handler;
  opts: ListenOptions;
  /** the Keep-Alive header's timeout (null: none is sent, as node sends none when its keep-alive timeout is 0) */
  keepAliveS: number | null;
  dates: DateText;
  closing: () => boolean;
  inFlight: InFlight;
}

/** One connection: its unparsed bytes, whether an answer is outstanding, and its timers' reference points. */
class Connection {
  /** unparsed bytes (latin1: one char per byte) */
  private parts: string[] = [];
  private size = 0;
  /** the last 3 bytes received, to find a CRLF CRLF split across reads */
  private tail = '';
  /**
   * since when a head is awaited for the header timeout (0: none is): from the connection's start for its first
   * request, as node and Go's ReadHeaderTimeout count, then from the first byte of each later one
   */
  headSince: number;
  /** when the last answer was written (for the keep-alive timeout) */
  idleSince: number;
  /** an answer is outstanding (the handler is waiting on a blob HEAD) */
  busy = false;
  private ended = false;

  constructor(
    readonly socket: Socket,
    private readonly shared: Shared,
  ) {
    this.idleSince = this.headSince = Date.now();
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => {});
  }

  get idle(): boolean {
    return !this.busy && this.size === 0;
  }

  /** An answer is outstanding, or the kernel has not taken the last one: heads wait in the buffer. */
  private get waiting(): boolean {
    return this.busy || this.socket.writableNeedDrain;
  }

  private onData(chunk: string): void {
    if (this.ended) return;
    if (this.headSince === 0) this.headSince = Date.now();
    // a read that starts a head (the common case: a whole request in one read) is searched once, here, and pump()
    // starts from what was found; otherwise only the new bytes and the 3 before them are searched
    const fresh = this.size === 0;
    const at = (fresh ? chunk : this.tail + chunk).indexOf('\r\n\r\n');
    this.parts.push(chunk);
    this.size += chunk.length;
    this.tail = chunk.length >= 3 ? chunk.slice(-3) : (this.tail + chunk).slice(-3);
    if (this.waiting) {
      // what is buffered may be whole heads waiting their turn: stop reading rather than refuse them
      if (this.size > MAX_HEAD_BYTES) this.socket.pause();
    } else if (at >= 0) this.pump(fresh ? at : -1);
    else if (this.size > MAX_HEAD_BYTES) this.refuse('header-too-large', this.parts[0]!);
  }

  /**
   * Answers the complete heads in the buffer, in order, until one must wait (on the handler or on the client).
   * `firstEnd`: where the first head ends, when the caller already searched the whole buffer for it.
   */
  private pump(firstEnd = -1): void {
    let buf = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    let known = firstEnd;
    for (;;) {
      if (this.waiting) {
        this.keep(buf);
        if (this.socket.writableNeedDrain) this.socket.pause();
        return;
      }
      // empty lines before a request line (RFC 9112 §2.2) are skipped: the head's end is searched for after them
      const start = buf.charCodeAt(0) === 13 ? emptyLinesEnd(buf) : 0;
      if (start > 2 * MAX_EMPTY_LINES) return this.refuse('too-many-empty-lines', buf);
      const end = known >= 0 && start === 0 ? known : buf.indexOf('\r\n\r\n', start);
      known = -1;
      if (end < 0) {
        this.keep(buf);
        if (this.size > MAX_HEAD_BYTES) this.refuse('header-too-large', buf);
        return;
      }
      if (end + 4 > MAX_HEAD_BYTES) return this.refuse('header-too-large', buf);
      const head = parseRequestHead(buf.slice(0, end));
      if (typeof head === 'string') return this.refuse(head, buf);
      buf = buf.slice(end + 4);
      // after CONNECT, a client sends tunnel bytes, not requests
      this.dispatch(head, head.keepAlive && !head.hasBody && head.method !== 'CONNECT' && !this.shared.closing());
      if (this.ended) return;
    }
  }

  private keep(buf: string): void {
    this.parts = buf.length === 0 ? [] : [buf];
    this.size = buf.length;
    this.tail = buf.slice(-3);
    this.headSince = buf.length === 0 ? 0 : Date.now();
  }

  /** The kernel took what was written: read and answer again, unless the handler is still deciding. */
  private onDrain(): void {
    if (this.ended || this.busy) return;
    this.socket.resume();
    if (this.size > 0) this.pump();
  }

  /** Calls the handler and answers at once, or marks the connection busy until its answer is ready. */
  private dispatch(head: RequestHead, keepAlive: boolean): void {
    const { handler, opts } = this.shared;
    const facts = new StrictRequest(head.method, head.target, head.xff, this.socket);
    let reply: Reply | Promise<Reply>;
    try {
      reply = handler(facts);
    } catch (err) {
      opts.onError?.(err, facts);
      this.answer(INTERNAL_ERROR, facts, keepAlive);
      return;
    }
    if (!(reply instanceof Promise)) {
      this.answer(reply, facts, keepAlive);
      return;
    }
    this.busy = true;
    this.shared.inFlight.start();
    reply.then(
      (r) => this.settle(r, facts, keepAlive),
      (err: unknown) => {
        opts.onError?.(err, facts);
        this.settle(INTERNAL_ERROR, facts, keepAlive);
      },
    );
  }

  private settle(reply: Reply, facts: HttpRequest, keepAlive: boolean): void {
    this.busy = false;
    this.shared.inFlight.finish();
    if (this.socket.destroyed) return;
    this.answer(reply, facts, keepAlive && !this.shared.closing());
    if (this.ended || this.socket.writableNeedDrain) return;
    this.socket.resume();
    if (this.size > 0) this.pump();
  }

  private answer(reply: Reply, facts: HttpRequest, keepAlive: boolean): void {
    const now = Date.now();
    const date = this.shared.dates.now(now);
    let bytes = serializeReply(reply, facts.method, date, keepAlive, this.shared.keepAliveS);
    if (bytes === null) {
      this.shared.opts.onError?.(
        new Error(`reply ${reply.status} has a header node would refuse to write (CR, LF or a bad name)`),
        facts,
      );
      bytes = serializeReply(INTERNAL_ERROR, facts.method, date, keepAlive, this.shared.keepAliveS)!;
    }
    this.idleSince = now;
    if (!keepAlive) {
      this.end(bytes);
      return;
    }
    // when the kernel does not take it all, pump() stops and reading pauses until 'drain'
    if (typeof bytes === 'string') this.socket.write(bytes, 'latin1');
    else this.socket.write(bytes);
  }

  /**
   * Writes a last answer and closes once it is handed to the kernel (node's destroySoon). What the client still sends
   * until then (a body) is read and dropped, so that closing does not find unread bytes and reset the answer away.
   */
  private end(bytes: string | Buffer): void {
    this.ended = true;
    this.parts = [];
    this.size = 0;
    this.headSince = 0;
    const socket = this.socket;
    socket.once('finish', () => socket.destroy());
    if (typeof bytes === 'string') socket.end(bytes, 'latin1');
    else socket.end(bytes);
    socket.resume();
  }

  /** Answers a refusal node's way and closes; reports it. `text`: what was received of the refused head. */
  refuse(reason: RefusalReason, text: string): void {
    if (this.ended) return;
    const remoteAddress = this.socket.remoteAddress;
    this.shared.opts.onRefusal?.({ reason, remoteAddress, firstLine: firstLineOf(text) });
    this.end(refusalAnswer(reason));
  }

  /** The timeouts, checked on the listener's interval. */
  check(now: number, headersTimeoutMs: number, keepAliveTimeoutMs: number): void {
    // a connection waiting on the handler or on its client to read is not idle, nor slow to send its head
    if (this.ended || this.waiting) return;
    if (this.headSince > 0) {
      if (now - this.headSince > headersTimeoutMs) this.refuse('timeout', this.parts.length > 0 ? this.parts[0]! : '');
    } else if (now - this.idleSince > keepAliveTimeoutMs) {
      this.socket.destroy();
    }
  }
}

/**
 * Like node-adapter's `listenNodeHttp`, on the strict listener. `requestTimeoutMs` has nothing to bound here: a head
 * has the header timeout, and no body is read.
 */
export function listenStrict(handler: Handler, opts: ListenOptions): Promise<Listener> {
  const inFlight = new InFlight();
  let closing = false;
  const headersTimeoutMs = opts.headersTimeoutMs ?? 60_000;
  const keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 5_000;
  const connections = new Set<Connection>();
  const shared: Shared = {
    handler,
    opts,
    keepAliveS: keepAliveTimeoutMs > 0 ? Math.floor(keepAliveTimeoutMs / 1000) : null,
    dates: new DateText(),
    closing: () => closing,
    inFlight,
  };
  const server = createServer({ noDelay: true }, (socket) => {
    const c = new Connection(socket, shared);
    connections.add(c);
    socket.on('close', () => connections.delete(c));
  });
  const checker = setInterval(
    () => {
      const now = Date.now();
      for (const c of connections) c.check(now, headersTimeoutMs, keepAliveTimeoutMs);
    },
    Math.max(100, Math.min(1_000, Math.floor(headersTimeoutMs / 2))),
  );
  checker.unref();

  return bindListener(server, opts, inFlight, {
    closing: () => void (closing = true),
    onFail: () => clearInterval(checker),
    stopAccepting: () => new Promise<void>((r) => server.close(() => r())),
    openConnections: () => connections.size,
    closeIdle: () => {
      for (const c of connections) if (c.idle) c.socket.destroy();
    },
    closeAll: () => {
      clearInterval(checker);
      for (const c of connections) c.socket.destroy();
    },
  });
}

/**
 * One JSON line per decision : reason and rule, client IP and where it
 * came from, cloud, region, matched prefix, target, cache outcome and HEAD time.
 *
 * Cost: this runs once per request, so it must stay cheap (docs/performance.md: the log was the largest cost above
 * bare node:http). The line is built directly (below), all ASCII (anything else is escaped as JSON `\u` escapes), and
 * the default destination takes it as bytes into a batch that goes out in writes of up to 192 KiB, at least every
 * 250 ms so a quiet server's lines still appear promptly, and at exit (log-sink.ts).
 * Nothing is sampled: LOG_LEVEL=warn (or higher) is the only way to turn the lines off, and that is the operator's
 * explicit choice.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { createLogSink, isLogSink, type LogSink } from './log-sink.js';
import { BoundedMemo, type BlobRoute, type ClientFacts, type Reason } from '../routing/index.js';
import type { LogLevel } from '../config.js';
import { decisionLocation, type Decision } from './request-handler.js';

/** The rule number (docs/request-handling.md) each reason belongs to. */
export const RULE_OF: Readonly<Record<Reason, number>> = {
  'method-not-allowed': 1,
  info: 2,
  privacy: 2,
  'not-found': 2,
  'v2-ping': 3,
  'catalog-unsupported': 3,
  'bad-path': 4,
  'bad-reference': 5,
  'signature-upstream': 5,
  upstream: 5,
  'bad-blob': 6,
  'blob-gcp-client': 6,
  'blob-bucket-hit': 6,
  'blob-bucket-miss': 6,
  'blob-bucket-error': 6,
  'blob-breaker-open': 6,
  'client-ip-invalid': 6,
};

/** stdout through the batching LogSink (log-sink.ts explains why not sonic-boom). */
export function defaultLogDestination(): DestinationStream {
  return createLogSink();
}

export function createLogger(level: LogLevel, destination: DestinationStream): Logger {
  // no pid/hostname: Cloud Run and the local stack label the stream already, and each byte is paid per request
  return pino({ level, base: undefined }, destination);
}

/**
 * A piece of a decision line, ASCII only, kept both as text (for destinations that take strings) and as bytes (copied
 * straight into the LogSink's batch).
 */
interface Piece {
  readonly text: string;
  readonly bytes: Buffer;
}

const piece = (text: string): Piece => ({ text, bytes: Buffer.from(text, 'latin1') });

/** A line is a list of parts: remembered pieces, and text built for this line alone (escaped: ASCII). */
type Part = Piece | string;

/**
 * The per-decision log writer. The line is built by hand rather than by `logger.info(obj)`: the fields and their
 * types are fixed, and building it directly costs a fraction of pino's generic serialisation, on the one line every
 * request writes. It has pino's shape (`level`, `time`, `msg`) and goes to the logger's destination, so the stream
 * stays one uniform pino log.
 *
 * A line is assembled from parts, most of them remembered: the time (per millisecond), the reason with its rule and
 * the method, the status, the cache outcome, and the escaped text of whatever shared (frozen) route, plan and client
 * the decision carries. To the LogSink the parts go as bytes, copied into its batch one after another, so a repeated
 * decision builds no string at all (concatenating ~450 characters, flattening the result and encoding it into the
 * batch measured about a third of the log's cost, and each line left ~1 KB for the next scavenge); any other
 * destination gets the parts joined into one string. Both are the same text (decision-log.test.ts).
 */
export function decisionLogger(level: LogLevel, destination: DestinationStream): (d: Decision) => void {
  if (!INFO_ENABLED.has(level)) return () => {};
  const owners = new OwnerFragments();
  const clientText = (c: ClientFacts, source: Decision['ipSource']): string => {
    let text = `,"ip":${nullable(c.ip)},"ipSource":${source === null ? 'null' : `"${source}"`}`;
    if (c.problem !== undefined) text += `,"ipProblem":${str(c.problem)}`;
    return text + owners.get(c);
  };
  const shared = new SharedPieces(clientText);
  const parts: Part[] = [];
  const sink = isLogSink(destination) ? destination : null;
  const write =
    sink === null
      ? (n: number) => void destination.write(joinParts(parts, n))
      : (n: number) => copyParts(sink, parts, n);
  // The time, kept for the millisecond it stands for: a 13-digit number took ~250 ns to format (V8's number cache
  // never holds it), and at tens of thousands of decisions a second most lines share their millisecond.
  let clockMs = -1;
  let clock = piece('');
  return (d) => {
    const now = Date.now();
    if (now !== clockMs) {
      clockMs = now;
      clock = piece(`{"level":30,"time":${now},"msg":"decision",`);
    }
    let n = 0;
    parts[n++] = clock;
    // reason, rule, status, cache outcome and cloud are from closed sets of plain words; the rest may hold anything
    parts[n++] =
      d.method === 'GET' || d.method === 'HEAD'
        ? REASON_METHOD[d.plan.reason][d.method]
        : `${REASON_RULE[d.plan.reason]},"method":${str(d.method)},"path":`;
    parts[n++] = d.blob === null ? str(d.target) : shared.path(d.blob, d.target);
    parts[n++] = STATUS_TARGET.get(d.status);
    const location = decisionLocation(d);
    parts[n++] = location === null ? NULL : shared.location(d.plan, location);
    if (d.client !== null) parts[n++] = shared.client(d.client, d.ipSource);
    // on a hit the probed URL is the target: log it once
    if (d.probeUrl !== null && d.probeUrl !== location) parts[n++] = `,"probeUrl":${str(d.probeUrl)}`;
    const p = d.probe;
    if (p !== null) {
      parts[n++] = CACHE.get(p.outcome);
      if (p.status !== null) parts[n++] = `,"headStatus":${p.status}`;
      if (p.headMs !== null) parts[n++] = `,"headMs":${Math.round(p.headMs * 100) / 100}`;
      if (p.coalesced) parts[n++] = COALESCED;
    }
    parts[n++] = END;
    write(n);
  };
}

/** Copies a line's parts into the sink's batch: bytes as they are, text one byte per character (it is ASCII). */
function copyParts(sink: LogSink, parts: readonly Part[], n: number): void {
  let length = 0;
  for (let i = 0; i < n; i++) {
    const part = parts[i]!;
    length += typeof part === 'string' ? part.length : part.bytes.length;
  }
  let at = sink.reserve(length);
  if (at < 0) return sink.writeAscii(joinParts(parts, n));
  const batch = sink.batch;
  for (let i = 0; i < n; i++) {
    const part = parts[i]!;
    if (typeof part === 'string') {
      at += batch.write(part, at, 'latin1');
    } else {
      batch.set(part.bytes, at);
      at += part.bytes.length;
    }
  }
  sink.commit(at);
}

function joinParts(parts: readonly Part[], n: number): string {
  let line = '';
  for (let i = 0; i < n; i++) {
    const part = parts[i]!;
    line += typeof part === 'string' ? part : part.text;
  }
  return line;
}

/** `"reason":"…","rule":N` for each reason, built once. */
const REASON_RULE = Object.fromEntries(
  Object.entries(RULE_OF).map(([reason, rule]) => [reason, `"reason":"${reason}","rule":${rule}`]),
) as Record<Reason, string>;

/** The same with `,"method":"GET","path":` (or HEAD) after it: the pieces between the time and the path. */
const REASON_METHOD = Object.fromEntries(
  Object.entries(REASON_RULE).map(([reason, text]) => [
    reason,
    { GET: piece(`${text},"method":"GET","path":`), HEAD: piece(`${text},"method":"HEAD","path":`) },
  ]),
) as Record<Reason, Record<'GET' | 'HEAD', Piece>>;

const NULL = piece('null');
const COALESCED = piece(',"coalesced":true');
const END = piece('}\n');

/** Pieces for the values of a small closed set (statuses, cache outcomes), built on first use. */
class PieceTable<K extends string | number> {
  private readonly pieces = new Map<K, Piece>();

  constructor(private readonly render: (key: K) => string) {}

  get(key: K): Part {
    const known = this.pieces.get(key);
    if (known !== undefined) return known;
    const text = this.render(key);
    // the sets are small (a handful of statuses and outcomes); the bound only guards against a caller's mistake
    if (this.pieces.size < 64) this.pieces.set(key, piece(text));
    return text;
  }
}

const STATUS_TARGET = new PieceTable<number>((status) => `,"status":${status},"target":`);
const CACHE = new PieceTable<string>((outcome) => `,"cache":${str(outcome)}`);

/**
 * The escaped text of the parts of a line that come from objects the router and the handler share between requests
 * (they freeze what they share: a remembered blob route and its plans, a remembered client): escaped once per object
 * instead of on every request (a 130-character URL took ~200 ns to check and quote). Weakly keyed, so an entry lives
 * as long as its object; objects that are not frozen are fresh for one request and are escaped as they come. Each
 * entry keeps what it was built from and is used only when that is still what the line needs, so a wrong entry can
 * cost a recomputation, never a wrong line (decision-log.test.ts checks lines against the uncached rendering).
 */
class SharedPieces {
  private readonly paths = new WeakMap<BlobRoute, Remembered<string>>();
  private readonly locations = new WeakMap<object, Remembered<string>>();
  private readonly clients = new WeakMap<ClientFacts, Remembered<Decision['ipSource']>>();

  constructor(private readonly renderClient: (c: ClientFacts, source: Decision['ipSource']) => string) {}

  /** the request-target of a blob request, as JSON */
  path(blob: BlobRoute, target: string): Part {
    return remembered(this.paths, blob, target, quoteText);
  }

  /** a redirect's Location (`plan`'s), as JSON */
  location(plan: object, location: string): Part {
    return remembered(this.locations, plan, location, quoteText);
  }

  /** the client part of a line (`"ip"` to `"prefix"`) */
  client(c: ClientFacts, source: Decision['ipSource']): Part {
    return remembered(this.clients, c, source, this.renderClient);
  }
}

/**
 * A rendered text, what it was rendered from besides its key, and its bytes once it has been used a second time (a
 * blob asked for once, as most are, never pays for them: 100k distinct blobs measured 7 MiB more RSS when every
 * remembered text got its bytes at once).
 */
interface Remembered<S> {
  readonly from: S;
  readonly text: string;
  piece: Piece | null;
}

/** `render(key, from)`, remembered under `key` when the key is shared (frozen) and reused only for the same `from`. */
function remembered<K extends object, S>(
  map: WeakMap<K, Remembered<S>>,
  key: K,
  from: S,
  render: (key: K, from: S) => string,
): Part {
  const hit = map.get(key);
  if (hit !== undefined && hit.from === from) return (hit.piece ??= piece(hit.text));
  const text = render(key, from);
  if (Object.isFrozen(key)) map.set(key, { from, text, piece: null });
  return text;
}

const quoteText = (_key: object, text: string): string => str(text);

/**
 * The `"cloud","region","prefix"` part of a line, built once per matched prefix rather than escaped again on every
 * request from the same network. Keyed by the prefix text and checked against the owner (a range refresh may give
 * a prefix to another region); bounded, so a table swap cannot make it grow without end.
 */
class OwnerFragments {
  private readonly byPrefix = new BoundedMemo<string, { cloud: string | null; region: string | null; text: string }>(
    65_536,
  );

  get(c: { cloud: string | null; region: string | null; prefix: string | null }): string {
    if (c.prefix === null) return OwnerFragments.render(c);
    const hit = this.byPrefix.get(c.prefix);
    if (hit !== undefined && hit.cloud === c.cloud && hit.region === c.region) return hit.text;
    const text = OwnerFragments.render(c);
    this.byPrefix.set(c.prefix, { cloud: c.cloud, region: c.region, text });
    return text;
  }

  private static render(c: { cloud: string | null; region: string | null; prefix: string | null }): string {
    return `,"cloud":${c.cloud === null ? 'null' : `"${c.cloud}"`},"region":${nullable(c.region)},"prefix":${nullable(c.prefix)}`;
  }
}

const INFO_ENABLED: ReadonlySet<LogLevel> = new Set(['trace', 'debug', 'info']);

/** Printable ASCII but `"` and `\`: text that stands in a JSON string literal as it is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * A JSON string literal, in ASCII. The common case (a path, a URL, an address: plain ASCII) is one native regex test,
 * about a third of a charCode loop's cost on the ~250 characters each line checks; anything else goes through
 * JSON.stringify (quotes, backslashes, control characters; lone surrogates as \u escapes), and then every character
 * beyond ASCII becomes a \u escape too (a pair of them for one outside the BMP), which JSON reads back as the same text.
 */
export function str(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  const json = JSON.stringify(s);
  return ASCII.test(json) ? json : json.replace(NON_ASCII, escapeUnit);
}

const ASCII = /^[\x00-\x7f]*$/;
const NON_ASCII = /[\u0080-\uffff]/g;
const escapeUnit = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

function nullable(s: string | null): string {
  return s === null ? 'null' : str(s);
}

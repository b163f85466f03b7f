/**
 * One JSON line per decision (issue 2 "Explain and observe"; anchors §(e)9): reason and rule, client IP and where it
 * came from, cloud, region, matched prefix, target, cache outcome and HEAD time.
 *
 * Cost: this runs once per request, so it must stay cheap (docs/performance.md: the log was the largest cost above
 * bare node:http). The line is built directly (below), all ASCII (anything else is escaped as JSON `\u` escapes), and
 * the default destination copies it into a batch that goes out in writes of up to 192 KiB, at least every 250 ms so
 * a quiet server's lines still appear promptly, and at exit (log-sink.ts).
 * Nothing is sampled: LOG_LEVEL=warn (or higher) is the only way to turn the lines off, and that is the operator's
 * explicit choice.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { createLogSink, type LogSink } from './log-sink.js';
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
 * The per-decision log writer. The line is built by hand rather than by `logger.info(obj)`: the fields and their
 * types are fixed, and building the string directly costs about a third of pino's generic serialisation, on the one
 * line every request writes. It has pino's shape (`level`, `time`, `msg`) and goes to the logger's destination, so
 * the stream stays one uniform pino log.
 */
export function decisionLogger(level: LogLevel, destination: DestinationStream): (d: Decision) => void {
  if (!INFO_ENABLED.has(level)) return () => {};
  const owners = new OwnerFragments();
  const ascii = destination as DestinationStream & Partial<Pick<LogSink, 'writeAscii'>>;
  const emit = typeof ascii.writeAscii === 'function' ? (l: string) => ascii.writeAscii!(l) : (l: string) => void destination.write(l);
  const clientPart = (c: ClientFacts, source: Decision['ipSource']): string => {
    let text = `,"ip":${nullable(c.ip)},"ipSource":${source === null ? 'null' : `"${source}"`}`;
    if (c.problem !== undefined) text += `,"ipProblem":${str(c.problem)}`;
    return text + owners.get(c);
  };
  const shared = new SharedFragments(clientPart);
  // The time's text, kept for the millisecond it stands for: a 13-digit number took ~250 ns to format (V8's number
  // cache never holds it), and at tens of thousands of decisions a second most lines share their millisecond.
  let clockMs = -1;
  let clockText = '';
  return (d) => {
    const now = Date.now();
    if (now !== clockMs) {
      clockMs = now;
      clockText = String(now);
    }
    // reason, rule, status, cache outcome and cloud are from closed sets of plain words; the rest may hold anything
    const path = d.blob === null ? str(d.target) : shared.path(d.blob, d.target);
    const location = decisionLocation(d);
    const target = location === null ? 'null' : shared.location(d.plan, location);
    let line = `{"level":30,"time":${clockText},"msg":"decision",${REASON_RULE[d.plan.reason]},"method":${d.method === 'GET' || d.method === 'HEAD' ? `"${d.method}"` : str(d.method)},"path":${path},"status":${d.status},"target":${target}`;
    const c = d.client;
    if (c !== null) line += shared.client(c, d.ipSource);
    // on a hit the probed URL is the target: log it once
    if (d.probeUrl !== null && d.probeUrl !== location) line += `,"probeUrl":${str(d.probeUrl)}`;
    const p = d.probe;
    if (p !== null) {
      line += `,"cache":"${p.outcome}"`;
      if (p.status !== null) line += `,"headStatus":${p.status}`;
      if (p.headMs !== null) line += `,"headMs":${Math.round(p.headMs * 100) / 100}`;
      if (p.coalesced) line += ',"coalesced":true';
    }
    emit(line + '}\n');
  };
}

/** `"reason":"…","rule":N` for each reason, built once. */
const REASON_RULE = Object.fromEntries(Object.entries(RULE_OF).map(([reason, rule]) => [reason, `"reason":"${reason}","rule":${rule}`])) as Record<Reason, string>;

/**
 * The escaped text of the parts of a line that come from objects the router and the handler share between requests
 * (they freeze what they share: a remembered blob route and its plans, a remembered client): escaped once per object
 * instead of on every request (a 130-character URL took ~200 ns to check and quote). Weakly keyed, so an entry lives
 * as long as its object; objects that are not frozen are fresh for one request and are escaped as they come. Each
 * entry keeps what it was built from and is used only when that is still what the line needs, so a wrong entry can
 * cost a recomputation, never a wrong line (decision-log.test.ts checks lines against the uncached rendering).
 */
class SharedFragments {
  private readonly paths = new WeakMap<BlobRoute, Fragment<string>>();
  private readonly locations = new WeakMap<object, Fragment<string>>();
  private readonly clients = new WeakMap<ClientFacts, Fragment<Decision['ipSource']>>();

  constructor(private readonly renderClient: (c: ClientFacts, source: Decision['ipSource']) => string) {}

  /** the request-target of a blob request, as JSON */
  path(blob: BlobRoute, target: string): string {
    return remembered(this.paths, blob, target, quoteText);
  }

  /** a redirect's Location (`plan`'s), as JSON */
  location(plan: object, location: string): string {
    return remembered(this.locations, plan, location, quoteText);
  }

  /** the client part of a line (`"ip"` to `"prefix"`) */
  client(c: ClientFacts, source: Decision['ipSource']): string {
    return remembered(this.clients, c, source, this.renderClient);
  }
}

/** A rendered fragment and what it was rendered from besides its key. */
interface Fragment<S> {
  readonly from: S;
  readonly text: string;
}

/** `render(key, from)`, remembered under `key` when the key is shared (frozen) and reused only for the same `from`. */
function remembered<K extends object, S>(map: WeakMap<K, Fragment<S>>, key: K, from: S, render: (key: K, from: S) => string): string {
  const hit = map.get(key);
  if (hit !== undefined && hit.from === from) return hit.text;
  const text = render(key, from);
  if (Object.isFrozen(key)) map.set(key, { from, text });
  return text;
}

const quoteText = (_key: object, text: string): string => str(text);

/**
 * The `"cloud","region","prefix"` part of a line, built once per matched prefix rather than escaped again on every
 * request from the same network. Keyed by the prefix text and checked against the owner (a range refresh may give
 * a prefix to another region); bounded, so a table swap cannot make it grow without end.
 */
class OwnerFragments {
  private readonly byPrefix = new BoundedMemo<string, { cloud: string | null; region: string | null; text: string }>(65_536);

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

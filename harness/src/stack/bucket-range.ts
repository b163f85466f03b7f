/**
 * Range on the buckets front, answered the way Amazon S3 answers it, whatever s3rver does with the header.
 *
 * s3rver 3.7.1 gets Range wrong (bucket-range.test.ts shows it): `bytes=-500` is read as `0-500` (the FIRST 501 bytes),
 * and a last position of `0` is read as "no last position", so `bytes=500-0` answers 206 from 500 to the end and
 * `bytes=0-0` the whole object. Production's buckets are S3, so the stack's buckets front handles Range itself:
 *
 * - one satisfiable byte range (`a-b`, `a-`, `-n`, RFC 9110 §14.1.2) → 206, the slice, `Content-Range:
 *   bytes <first>-<last>/<size>`, its Content-Length, and s3rver's other headers (ETag, Last-Modified,
 *   Content-Type, Accept-Ranges);
 * - an unsatisfiable one (first position at or past the end, `-0`, any int-range of an empty object) → 416 with
 *   `Content-Range: bytes *\/<size>` and S3's `InvalidRange` error document (RFC 9110 §15.5.17);
 * - a header S3 does not act on (syntactically invalid such as `bytes=500-0` or `bytes=x-1`, another unit, or
 *   several ranges: S3 serves one range per GET) → the header is ignored: 200 with the whole object
 *   (RFC 9110 §14.2: a server MAY ignore Range; S3 ignores these);
 * - anything s3rver does not answer with the object (404 NoSuchKey, 403, 304, 5xx) → s3rver's answer, as is.
 *
 * How: s3rver is asked only for ranges it serves right, never with a last position of 0, and the slice is cut from
 * its answer with a stream (never buffered). A suffix range needs the size first, so it costs a HEAD; int-ranges do
 * not. The body is checked against what s3rver's own Content-Range says it holds, so a backend that ignores Range
 * (200, whole object) is sliced too.
 */
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseContentRange } from '../oci/byte-range.js';
import { endToEndHeaders, forwardRequest, requestBackend } from './forward-request.js';

/** One byte-range-spec (RFC 9110 §14.1.1). Positions are numbers; beyond 2^53 they lose precision but not order. */
export type ByteRangeSpec =
  /** `first-last` or `first-` (last null) */
  | { kind: 'int'; first: number; last: number | null }
  /** `-length`: the last `length` bytes */
  | { kind: 'suffix'; length: number };

export type RangeHeader =
  /** one range: the only kind S3 serves */
  | { kind: 'single'; spec: ByteRangeSpec }
  /** a header S3 ignores (answering 200 with the whole object), and why */
  | { kind: 'ignored'; reason: 'unit' | 'syntax' | 'multiple' };

const INT_RANGE = /^([0-9]+)-([0-9]*)$/;
const SUFFIX_RANGE = /^-([0-9]+)$/;

/**
 * Parses a Range header value (RFC 9110 §14.2 `ranges-specifier`): `bytes=` (the unit is case-insensitive) and a
 * comma-separated range-set, empty list elements allowed (RFC 9110 §5.6.1). An int-range whose last position is
 * below its first is invalid (RFC 9110 §14.1.1), and so is the whole header then. Undefined when there is no header.
 */
export function parseRangeHeader(value: string | undefined): RangeHeader | undefined {
  if (value === undefined) return undefined;
  const eq = value.indexOf('=');
  if (eq < 0) return { kind: 'ignored', reason: 'syntax' };
  if (value.slice(0, eq).toLowerCase() !== 'bytes')
    return { kind: 'ignored', reason: /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value.slice(0, eq)) ? 'unit' : 'syntax' };
  const elements = value
    .slice(eq + 1)
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (elements.length === 0) return { kind: 'ignored', reason: 'syntax' };
  const specs: ByteRangeSpec[] = [];
  for (const e of elements) {
    const int = INT_RANGE.exec(e);
    if (int !== null) {
      const first = Number(int[1]);
      const last = int[2] === '' ? null : Number(int[2]);
      if (last !== null && last < first) return { kind: 'ignored', reason: 'syntax' };
      specs.push({ kind: 'int', first, last });
      continue;
    }
    const suffix = SUFFIX_RANGE.exec(e);
    if (suffix !== null) {
      specs.push({ kind: 'suffix', length: Number(suffix[1]) });
      continue;
    }
    return { kind: 'ignored', reason: 'syntax' };
  }
  if (specs.length > 1) return { kind: 'ignored', reason: 'multiple' };
  return { kind: 'single', spec: specs[0]! };
}

/**
 * The inclusive slice a range selects from an object of `size` bytes (RFC 9110 §14.1.2: a last position past the
 * end is clamped, a suffix longer than the object selects all of it); `unsatisfiable` for a first position at or
 * past the end, a zero-length suffix, or an int-range on an empty object (RFC 9110 §14.1.1); `whole` for a suffix range
 * on an empty object, satisfiable but with no bytes to put in a Content-Range, so answered 200 with the empty body.
 */
export function resolveByteRange(
  spec: ByteRangeSpec,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | 'whole' {
  if (spec.kind === 'suffix') {
    if (spec.length === 0) return 'unsatisfiable';
    if (size === 0) return 'whole';
    return { start: Math.max(0, size - spec.length), end: size - 1 };
  }
  if (spec.first >= size) return 'unsatisfiable';
  return { start: spec.first, end: spec.last === null ? size - 1 : Math.min(spec.last, size - 1) };
}

/** S3 object subresources: a GET of these is not a read of the object's bytes, so Range is left to the backend. */
const SUBRESOURCE = /(?:^|&)(?:acl|attributes|legal-hold|retention|tagging|torrent|uploadId|uploads|versions)(?:=|&|$)/;

/** Whether the buckets front answers this request's Range itself: a GET or HEAD of an object, with a Range header. */
export function isRangedObjectRead(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (req.headers.range === undefined) return false;
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (!/^\/[^/]+\/./.test(path)) return false; // path-style: /<bucket>/<key>, key not empty
  return q < 0 || !SUBRESOURCE.test(target.slice(q + 1));
}

export interface BucketRangeOptions {
  /** s3rver: `http://127.0.0.1:<port>` */
  backend: URL;
  agent: http.Agent;
  /** a transform for the body served (the faults front's corruption: it then sees only the slice), or null */
  responseBody?: () => Transform | null;
  /** called once with the status the client is answered (502 when the backend could not be reached) */
  onStatus?: (status: number) => void;
}

function contentLengthOf(res: IncomingMessage): number | null {
  const v = res.headers['content-length'];
  return v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : null;
}

/**
 * The Range sent to s3rver for a slice starting at `first`: s3rver reads a last position of 0 as "to the end",
 * so that one (and an unrepresentable one) becomes an open range, cut short here.
 */
function backendRange(first: number, last: number | null): string {
  return last === null || last === 0 || !Number.isSafeInteger(last) ? `bytes=${first}-` : `bytes=${first}-${last}`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Yields bytes [skip, skip + length) of `source`. When the wanted bytes end before the source does, the source is
 * destroyed instead of read to its end (an open range asked of s3rver for `bytes=0-0` must not stream a layer).
 */
async function* slice(
  source: IncomingMessage,
  skip: number,
  length: number,
  sourceLength: number,
): AsyncGenerator<Buffer> {
  let toSkip = skip;
  let left = length;
  const drainRest = skip + length >= sourceLength;
  for await (const data of source as AsyncIterable<Buffer>) {
    let chunk = data;
    if (left === 0) {
      if (drainRest) continue;
      return;
    }
    if (toSkip > 0) {
      if (chunk.length <= toSkip) {
        toSkip -= chunk.length;
        continue;
      }
      chunk = chunk.subarray(toSkip);
      toSkip = 0;
    }
    if (chunk.length >= left) {
      chunk = chunk.subarray(0, left);
      left = 0;
      yield chunk;
      if (!drainRest) return;
      continue;
    }
    left -= chunk.length;
    yield chunk;
  }
  if (left > 0) throw new Error(`the backend's body ended ${left} bytes before the range did`);
}

/**
 * Answers a ranged GET or HEAD of an object on the buckets front (the caller checked `isRangedObjectRead`). Every
 * fault except corruption has been applied by the caller; `opts.responseBody` is applied to the body served.
 */
export async function serveBucketRange(
  req: IncomingMessage,
  res: ServerResponse,
  opts: BucketRangeOptions,
): Promise<void> {
  const header = parseRangeHeader(req.headers.range);
  const plainHeaders = endToEndHeaders(req.headers);
  delete plainHeaders.range;
  if (header === undefined || header.kind === 'ignored') {
    // S3 ignores the header: the request is answered as if it had none
    await forwardRequest(req, res, { ...opts, headers: plainHeaders });
    return;
  }
  req.resume(); // a GET or HEAD: nothing to forward
  const rangeValue = req.headers.range!;
  const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const ask = (askMethod: string, range?: string): Promise<IncomingMessage> =>
    requestBackend({
      backend: opts.backend,
      agent: opts.agent,
      method: askMethod,
      path: req.url ?? '/',
      headers: range === undefined ? plainHeaders : { ...plainHeaders, range },
      signal: abort.signal,
    });
  let statusSent = false;
  const status = (s: number): void => {
    if (statusSent) return;
    statusSent = true;
    opts.onStatus?.(s);
  };

  /** the backend's answer, as is (body through the fault transform) */
  const relay = async (answer: IncomingMessage): Promise<void> => {
    const s = answer.statusCode ?? 502;
    status(s);
    res.writeHead(s, answer.statusMessage, endToEndHeaders(answer.headers));
    const transform = opts.responseBody?.() ?? null;
    await (transform ? pipeline(answer, transform, res) : pipeline(answer, res));
  };

  /** 416 in S3's words, with the size when known */
  const unsatisfiable = (size: number | null): void => {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message>' +
      `<RangeRequested>${escapeXml(rangeValue)}</RangeRequested>${size === null ? '' : `<ActualObjectSize>${size}</ActualObjectSize>`}</Error>\n`;
    status(416);
    res.writeHead(416, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      'accept-ranges': 'bytes',
      ...(size === null ? {} : { 'content-range': `bytes */${size}` }),
    });
    res.end(method === 'HEAD' ? undefined : body);
  };

  const badGateway = (why: string): void => {
    status(502);
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const body = `bad gateway: ${why}\n`;
    res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  /** the object's size from a HEAD without Range, or the backend's answer to a plain request when it is no object */
  const sizeOrAnswer = async (): Promise<number | IncomingMessage> => {
    const head = await ask('HEAD');
    const size = contentLengthOf(head);
    if (head.statusCode === 200 && size !== null) {
      head.resume();
      return size;
    }
    // missing, forbidden, not modified...: what a request without Range gets (with its body for a GET)
    if (method === 'HEAD') return head;
    head.resume();
    return ask(method);
  };

  const spec = header.spec;
  try {
    let range: string;
    if (spec.kind === 'suffix' || !Number.isSafeInteger(spec.first)) {
      const known = await sizeOrAnswer();
      if (typeof known !== 'number') return await relay(known);
      const want = resolveByteRange(spec, known);
      if (want === 'unsatisfiable') return unsatisfiable(known);
      if (want === 'whole') return await relay(await ask(method));
      range = backendRange(want.start, want.end);
    } else {
      range = backendRange(spec.first, spec.last);
    }

    const answer = await ask(method, range);
    const code = answer.statusCode ?? 502;
    if (code === 416) {
      // s3rver's 416 carries no Content-Range: the size comes from a HEAD
      answer.resume();
      const known = await sizeOrAnswer();
      if (typeof known === 'number') return unsatisfiable(known);
      if (known.statusCode === 404 || known.statusCode === 403) return await relay(known); // gone meanwhile
      known.resume();
      return unsatisfiable(null);
    }
    if (code !== 200 && code !== 206) return await relay(answer);

    // what the backend's body holds: [offset, offset + held) of an object of `size` bytes
    let offset = 0;
    let size: number | null;
    let held: number | null;
    if (code === 206) {
      const value = answer.headers['content-range'];
      const cr = parseContentRange(value);
      // s3rver answers an empty object's `bytes=0-` with "bytes 0-0/0": its size still says what to answer
      const emptyObject = value !== undefined && /^bytes [0-9]+-[0-9]+\/0$/i.test(value.trim());
      if (emptyObject) {
        answer.destroy();
        return unsatisfiable(0);
      }
      if (cr === null || cr.kind !== 'range' || cr.size === null) {
        answer.destroy();
        return badGateway(`the backend answered 206 with Content-Range ${JSON.stringify(value)}`);
      }
      offset = cr.start;
      size = cr.size;
      held = cr.end - cr.start + 1;
    } else {
      size = contentLengthOf(answer);
      held = size;
    }
    if (size === null || held === null) {
      answer.destroy();
      return badGateway('the backend answered without a Content-Length');
    }
    const want = resolveByteRange(spec, size);
    if (want === 'unsatisfiable') {
      answer.destroy();
      return unsatisfiable(size);
    }
    if (want === 'whole' || want.start < offset || want.end >= offset + held) {
      // the object changed between the HEAD and the GET (seeded objects never do)
      answer.destroy();
      return badGateway(
        `the backend's answer (${code} ${answer.headers['content-range'] ?? ''}) does not hold the range ${rangeValue} of a ${size}-byte object`,
      );
    }
    const length = want.end - want.start + 1;
    const headers = endToEndHeaders(answer.headers);
    headers['content-range'] = `bytes ${want.start}-${want.end}/${size}`;
    headers['content-length'] = String(length);
    headers['accept-ranges'] = 'bytes';
    status(206);
    res.writeHead(206, headers);
    if (method === 'HEAD') {
      answer.resume();
      res.end();
      return;
    }
    const body = Readable.from(slice(answer, want.start - offset, length, contentLengthOf(answer) ?? held));
    const transform = opts.responseBody?.() ?? null;
    await (transform ? pipeline(body, transform, res) : pipeline(body, res));
  } catch (err) {
    if (abort.signal.aborted) {
      // the client left: nothing to answer
      status(0);
      res.destroy();
      return;
    }
    badGateway((err as Error).message);
  }
}

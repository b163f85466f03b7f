/**
 * A request a public listener refuses before the handler sees it: a head that is not well formed (400), one over
 * 16 KiB (431), one not complete in time (408). Both listeners answer it as node:http does by default (the status
 * line and `Connection: close`, then the connection is closed) and report it, with a reason named for what was wrong,
 * to `ListenOptions.onRefusal` (counted in `redirector_listener_refusals_total`, sampled in the log: refusal-log.ts).
 *
 * The strict listener names every reason itself (strict-listener.ts). node:http names them through the error of its
 * 'clientError' event (llhttp's `HPE_*` codes, node's `ERR_HTTP_REQUEST_TIMEOUT`); a missing Host on HTTP/1.1 it
 * answers with 400 on its own, without that event, so it is not counted there.
 */

import { STATUS_CODES } from 'node:http';

/** Why a request was refused. */
export type RefusalReason =
  /** not `method SP target SP version` (three parts, one space each, a token for a method) */
  | 'bad-request-line'
  /** a method node does not know (it answers any such with 400), or a malformed one (node's HPE_INVALID_METHOD) */
  | 'bad-method'
  /** a target not in a form its method allows (RFC 9112 §3.2), or with bytes outside visible ASCII */
  | 'bad-target'
  /** a version other than HTTP/1.0 and HTTP/1.1 */
  | 'bad-version'
  /** a bare CR or LF where a line must end in CRLF */
  | 'bad-line-end'
  /** a header line that is not `token ":" OWS value OWS`: no colon, a bad name, space before the colon, obs-fold,
   * control characters in the value */
  | 'bad-header'
  /** HTTP/1.1 without a Host line (strict listener only: node answers this itself) */
  | 'missing-host'
  /** more than one Host line (strict listener only: node accepts it) */
  | 'repeated-host'
  /** a repeated or non-numeric Content-Length */
  | 'bad-content-length'
  /** a transfer coding other than one `chunked`, or Transfer-Encoding with Content-Length */
  | 'bad-transfer-encoding'
  /** more empty lines before the request line than the strict listener ignores (MAX_EMPTY_LINES) */
  | 'too-many-empty-lines'
  /** a head over 16 KiB (node's maxHeaderSize) */
  | 'header-too-large'
  /** a head not complete within HEADERS_TIMEOUT_MS (on node, also a request not complete within REQUEST_TIMEOUT_MS) */
  | 'timeout'
  /** node only: the client ended its side of the connection in the middle of a request */
  | 'incomplete-request'
  /** node only: chunk extensions over node's limit (413) */
  | 'chunk-extensions-too-large'
  /** node only: a parse error none of the above names (its code is in the sampled log line) */
  | 'other';

/** Every reason with the status it is answered with. */
export const REFUSAL_STATUS: Readonly<Record<RefusalReason, 400 | 408 | 413 | 431>> = {
  'bad-request-line': 400,
  'bad-method': 400,
  'bad-target': 400,
  'bad-version': 400,
  'bad-line-end': 400,
  'bad-header': 400,
  'missing-host': 400,
  'repeated-host': 400,
  'bad-content-length': 400,
  'bad-transfer-encoding': 400,
  'too-many-empty-lines': 400,
  'header-too-large': 431,
  timeout: 408,
  'incomplete-request': 400,
  'chunk-extensions-too-large': 413,
  other: 400,
};

export const REFUSAL_REASONS = Object.keys(REFUSAL_STATUS) as readonly RefusalReason[];

/** What a listener reports of a refusal. */
export interface Refusal {
  /** why (its status is REFUSAL_STATUS[reason]) */
  readonly reason: RefusalReason;
  /** the peer's address (behind a load balancer, the balancer's) */
  readonly remoteAddress: string | undefined;
  /** the start of what was refused: its first line, at most REFUSAL_LINE_BYTES (latin1: one char per byte) */
  readonly firstLine: string;
  /** node's error code, when node:http refused it */
  readonly code?: string;
}

/** How much of a refused head's first line a refusal carries. */
export const REFUSAL_LINE_BYTES = 128;

/**
 * The first line of `text` that is not empty, cut at REFUSAL_LINE_BYTES; a header line (its first word holds a
 * colon: node's bytes can start in the middle of a head) is cut after the colon, so no header value, which may be a
 * credential, reaches the log.
 */
export function firstLineOf(text: string): string {
  let start = 0;
  while (start < text.length && (text.charCodeAt(start) === 13 || text.charCodeAt(start) === 10)) start++;
  let line = text.slice(start, start + REFUSAL_LINE_BYTES);
  const cr = line.indexOf('\r');
  const lf = line.indexOf('\n');
  const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
  if (end >= 0) line = line.slice(0, end);
  const colon = line.indexOf(':');
  const space = line.indexOf(' ');
  return colon >= 0 && (space < 0 || colon < space) ? line.slice(0, colon + 1) : line;
}

/** The answer node:http writes for each refusal (then it closes the connection), built once. */
const ANSWERS = Object.fromEntries(
  REFUSAL_REASONS.map((reason) => {
    const status = REFUSAL_STATUS[reason];
    return [reason, `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`];
  }),
) as Readonly<Record<RefusalReason, string>>;

export function refusalAnswer(reason: RefusalReason): string {
  return ANSWERS[reason];
}

/**
 * The reason for an error node:http's 'clientError' event carries, or null for one that is no refusal (the socket
 * failed: ECONNRESET, EPIPE, ...): node answers only parse errors and timeouts.
 */
export function nodeRefusalReason(code: string | undefined): RefusalReason | null {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'header-too-large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'timeout';
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 'chunk-extensions-too-large';
    case 'HPE_INVALID_METHOD':
      return 'bad-method';
    case 'HPE_INVALID_URL':
      return 'bad-target';
    case 'HPE_INVALID_VERSION':
      return 'bad-version';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_UNEXPECTED_SPACE':
      return 'bad-request-line';
    case 'HPE_CR_EXPECTED':
    case 'HPE_LF_EXPECTED':
      return 'bad-line-end';
    case 'HPE_INVALID_HEADER_TOKEN':
      return 'bad-header';
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return 'bad-content-length';
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return 'bad-transfer-encoding';
    case 'HPE_INVALID_EOF_STATE':
      return 'incomplete-request';
  }
  return code !== undefined && code.startsWith('HPE_') ? 'other' : null;
}

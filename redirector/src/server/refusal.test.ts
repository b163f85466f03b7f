// What a refusal is (refusal.ts): the reason for each node:http client error, the answer for each status, the first
// line a refusal carries, and the table of reasons in docs/request-handling.md kept in step with the code.
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPackageRoot } from '../ranges/index.js';
import {
  REFUSAL_LINE_BYTES,
  REFUSAL_REASONS,
  REFUSAL_STATUS,
  firstLineOf,
  nodeRefusalReason,
  refusalAnswer,
} from './refusal.js';

describe('nodeRefusalReason', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 'header-too-large'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 'timeout'],
    ['HPE_INVALID_METHOD', 'bad-method'],
    ['HPE_INVALID_URL', 'bad-target'],
    ['HPE_INVALID_VERSION', 'bad-version'],
    ['HPE_INVALID_CONSTANT', 'bad-request-line'],
    ['HPE_LF_EXPECTED', 'bad-line-end'],
    ['HPE_INVALID_HEADER_TOKEN', 'bad-header'],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 'bad-content-length'],
    ['HPE_INVALID_TRANSFER_ENCODING', 'bad-transfer-encoding'],
    ['HPE_INVALID_EOF_STATE', 'incomplete-request'],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 'chunk-extensions-too-large'],
    ['HPE_SOMETHING_NEW', 'other'],
  ])('%s is %s', (code, reason) => {
    expect(nodeRefusalReason(code)).toBe(reason);
  });

  it.each([['ECONNRESET'], ['EPIPE'], [undefined]])(
    '%s is no refusal (the socket failed: nothing to answer)',
    (code) => {
      expect(nodeRefusalReason(code)).toBeNull();
    },
  );
});

describe('refusalAnswer', () => {
  it("is node's: the status line with node's reason phrase and Connection: close, for every reason's status", () => {
    for (const reason of REFUSAL_REASONS) {
      const status = REFUSAL_STATUS[reason];
      expect(refusalAnswer(reason)).toBe(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
    }
  });
});

describe('firstLineOf', () => {
  it('is the first line that is not empty, cut at REFUSAL_LINE_BYTES, at the first CR or LF', () => {
    expect(firstLineOf('GET / HTTP/1.1\r\nHost: r')).toBe('GET / HTTP/1.1');
    expect(firstLineOf('\r\n\r\n\nGET /x HTTP/1.1\r\n')).toBe('GET /x HTTP/1.1');
    expect(firstLineOf('GET /a\nb')).toBe('GET /a');
    expect(firstLineOf('GET /a\rb')).toBe('GET /a');
    expect(firstLineOf('\x16\x03\x01\x00')).toBe('\x16\x03\x01\x00');
    expect(firstLineOf(`GET /${'a'.repeat(1_000)}`)).toHaveLength(REFUSAL_LINE_BYTES);
    expect(firstLineOf('')).toBe('');
    expect(firstLineOf('GET http://h:80/ HTTP/1.1\r\n')).toBe('GET http://h:80/ HTTP/1.1');
  });

  it('cuts a header line after its name: no header value is carried', () => {
    expect(firstLineOf('Authorization: Bearer secret\r\nGET / HTTP/1.1')).toBe('Authorization:');
    expect(firstLineOf('\r\nCookie:a=secret')).toBe('Cookie:');
  });
});

describe('docs/request-handling.md "Refused requests"', () => {
  it('lists every reason with its status, and no other', () => {
    const doc = readFileSync(join(findPackageRoot(import.meta.dirname), 'docs', 'request-handling.md'), 'utf8');
    const start = doc.indexOf('### Refused requests');
    const section = doc.slice(start, doc.indexOf('\n## ', start));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows).toEqual(REFUSAL_REASONS.map((r) => [r, REFUSAL_STATUS[r]]));
  });
});

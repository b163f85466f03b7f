/**
 * Go's `path.Clean` / `path.Join` and net/http's `hexEscapeNonASCII`, reproduced for PROTOCOL_COMPAT=archeio only.
 *
 * archeio builds upstream Locations as `endpoint + path.Join("/v2/", UpstreamRegistryPath, TrimPrefix(P, "/v2"))`
 * (docs/reference/archeio.md#url-construction) and sets them through `http.Redirect`, which hex-escapes non-ASCII
 * bytes. Reproducing these lets a developer see exactly the Location production emits, including the quirk Q2 escapes
 * (`..` leaving the upstream path). The default mode never uses this module: it refuses dot segments instead.
 */

/** Go `path.Clean` (Rob Pike, "Lexical File Names in Plan 9"): the shortest equivalent path, lexically. */
export function goPathClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.charCodeAt(0) === 0x2f;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

/** Go `path.Join`: empty elements are ignored, the rest joined with `/` and cleaned; all empty gives "". */
export function goPathJoin(...elems: string[]): string {
  const parts = elems.filter((e) => e !== '');
  return parts.length === 0 ? '' : goPathClean(parts.join('/'));
}

/**
 * net/http `hexEscapeNonASCII`: every byte >= 0x80 becomes `%xx` (lowercase hex, as strconv.AppendInt writes it).
 * Input chars <= 0xff are bytes (Node's latin1 request targets); larger code points are first encoded as UTF-8.
 */
export function goHexEscapeNonAscii(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out += ch;
    else if (cp <= 0xff) out += '%' + cp.toString(16);
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16);
  }
  return out;
}

/**
 * What Go's net/http puts on the wire for a header value: CR and LF become spaces (`headerNewlineToSpace` in
 * net/http/header.go). Node refuses every other control character in a header value (ERR_INVALID_CHAR), where Go
 * would send it raw; those are percent-encoded instead, the one place compat mode cannot be byte-exact.
 */
export function goHeaderValue(s: string): string {
  // the control characters in this pattern are what it looks for
  if (!/[\u0000-\u0008\u000a-\u001f\u007f]/.test(s)) return s;
  // the control characters in this pattern are what it looks for
  return s
    .replace(/[\r\n]/g, ' ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

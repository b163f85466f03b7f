/**
 * Request-target parsing and OCI path classification (rules 2-6 of docs/request-handling.md, path part only).
 *
 * Grammar sources: distribution-spec `spec.md` "Pulling" (name), image-spec `descriptor.md` (digest), summarised in
 * docs/reference/oci-distribution.md#grammar. Paths are judged on their percent-DECODED form, as archeio
 * does (it routes on Go's decoded `r.URL.Path`, docs/reference/archeio.md#decision-list), but forwarded in their RAW
 * form: decoding then re-encoding could change what the upstream sees.
 *
 * Safety: archeio builds Locations with `path.Join`, so `/v2/%2e%2e/%2e%2e/x` escapes UPSTREAM_REGISTRY_PATH
 * (docs/reference/archeio.md#url-construction, quirk Q2). Here a /v2 path is refused (400) when it contains, decoded, a
 * `.` or `..` segment, an encoded `/`, a backslash (the WHATWG URL parser treats `\` as `/` in http(s) URLs, so `..\`
 * would be a dot segment to a browser-grade client), a control character, a malformed `%` escape, or any raw character
 * outside RFC 3986 `pchar`. What is left cannot move a Location outside its prefix when appended to it.
 */

export interface RequestTarget {
  /** the raw (still percent-encoded) path, always starting with `/` for origin-form targets */
  readonly path: string;
  /** the raw query without the `?`; empty when absent */
  readonly query: string;
}

/** Splits an HTTP request-target (RFC 9112 §3.2) into raw path and raw query. Absolute-form loses its origin. */
export function splitTarget(target: string): RequestTarget {
  let t = target;
  if (t.charCodeAt(0) !== 0x2f /* / */) {
    // absolute-form (`GET http://host/v2/ HTTP/1.1`), which servers MUST accept (RFC 9112 §3.2.2)
    const m = ABSOLUTE_FORM.exec(t);
    if (m !== null) {
      t = t.slice(m[0].length);
      if (t.length === 0 || t.charCodeAt(0) === 0x3f /* ? */) t = '/' + t;
    }
  }
  const q = t.indexOf('?');
  return q < 0 ? { path: t, query: '' } : { path: t.slice(0, q), query: t.slice(q + 1) };
}
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * Percent-decodes a path into a byte string (one char per byte, latin1), or null when an escape is malformed.
 * Bytes, not UTF-8: only ASCII matters for routing, and a byte string never fails on invalid UTF-8.
 */
export function percentDecode(raw: string): string | null {
  if (raw.indexOf('%') < 0) return raw;
  let out = '';
  let from = 0;
  for (let i = raw.indexOf('%'); i >= 0; i = raw.indexOf('%', from)) {
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return null;
    out += raw.slice(from, i) + String.fromCharCode(hi * 16 + lo);
    from = i + 3;
  }
  return out + raw.slice(from);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

// distribution-spec: <name> = path-component ( "/" path-component )*, path-component = [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
// The separators never overlap the alphanumerics, so this regex matches in linear time (no catastrophic backtracking).
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_SRC = `${COMPONENT}(?:\\/${COMPONENT})*`;
const NAME = new RegExp(`^${NAME_SRC}$`);

/** True when `name` is a repository name by the distribution-spec grammar. */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}

// distribution-spec: a tag is [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. Cosign's `sha256-<hex>.sig|.att` and the referrers
// fallback tag `sha256-<hex>` are tags like any other.
const TAG_SRC = '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}';
const TAG = new RegExp(`^${TAG_SRC}$`);

/** True when `tag` is a tag by the distribution-spec grammar. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

// image-spec descriptor.md: digest = algorithm ":" encoded; algorithm = component ([+._-] component)*, [a-z0-9]+;
// encoded = [a-zA-Z0-9=_-]+. Registered algorithms are stricter and uppercase hex MUST NOT be used.
const ALGORITHM_SRC = '[a-z0-9]+(?:[+._-][a-z0-9]+)*';
const ENCODED_SRC = '[a-zA-Z0-9=_-]+';
const REGISTERED_SRC: Readonly<Record<string, string>> = {
  sha256: '[a-f0-9]{64}',
  sha512: '[a-f0-9]{128}',
  blake3: '[a-f0-9]{64}',
};
// The same grammar as one regex source, for whole-path regexes: a registered algorithm with its own encoding, or an
// unregistered one (the negative lookahead) with the generic encoding. Agrees with isValidDigest (paths.test.ts).
const DIGEST_SRC = `(?:${Object.entries(REGISTERED_SRC)
  .map(([alg, enc]) => `${alg}:${enc}`)
  .join('|')}|(?!(?:${Object.keys(REGISTERED_SRC).join('|')}):)${ALGORITHM_SRC}:${ENCODED_SRC})`;
const DIGEST = new RegExp(`^(${ALGORITHM_SRC}):(${ENCODED_SRC})$`);
const SHA256 = /^sha256:[a-f0-9]{64}$/;
// A Map, not an object: `constructor` is a valid algorithm name, and an object lookup would find Object.prototype's.
const REGISTERED: ReadonlyMap<string, RegExp> = new Map(
  Object.entries(REGISTERED_SRC).map(([alg, enc]) => [alg, new RegExp(`^${enc}$`)]),
);

/**
 * True when `digest` matches the image-spec grammar, and, for a registered algorithm, its encoding rule.
 * Unregistered algorithms pass ("implementations SHOULD allow unrecognised algorithms to pass validation").
 */
export function isValidDigest(digest: string): boolean {
  // the overwhelmingly common case in one anchored regex (measured twice as fast as a charCode loop)
  if (SHA256.test(digest)) return true;
  const m = DIGEST.exec(digest);
  if (m === null) return false;
  const rule = REGISTERED.get(m[1]);
  return rule === undefined || rule.test(m[2]);
}

/** Where a request path leads, before anything about the client is known. */
export type PathRoute =
  | { readonly kind: 'info' }
  | { readonly kind: 'privacy' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'ping' }
  | { readonly kind: 'catalog' }
  | { readonly kind: 'bad-path'; readonly detail: string }
  | { readonly kind: 'bad-blob'; readonly code: 'NAME_INVALID' | 'DIGEST_INVALID'; readonly detail: string }
  /**
   * a manifest, tag-list or referrers path whose name or reference breaks the grammar: `MANIFEST_UNKNOWN` (404) for a
   * reference that is neither a tag nor digest-shaped, as G1 pull 5/9 require of `.INVALID_MANIFEST_NAME`
   */
  | {
      readonly kind: 'bad-reference';
      readonly code: 'NAME_INVALID' | 'DIGEST_INVALID' | 'MANIFEST_UNKNOWN';
      readonly detail: string;
    }
  /** `rest` is the raw path after `/v2`, starting with `/` */
  | { readonly kind: 'blob'; readonly name: string; readonly digest: string; readonly rest: string }
  | { readonly kind: 'signature'; readonly rest: string }
  | { readonly kind: 'v2'; readonly rest: string };

const INFO = { kind: 'info' } as const;
const PRIVACY = { kind: 'privacy' } as const;
const NOT_FOUND = { kind: 'not-found' } as const;
const PING = { kind: 'ping' } as const;
const CATALOG = { kind: 'catalog' } as const;

// RFC 3986: pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; plus "/" between segments.
// (Regexes here, not a charCode loop: V8 compiles these to native code and they measured several times faster.)
const RAW_PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const ENCODED_SLASH_OR_BACKSLASH = /%2f|%5c/i;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;
// the control characters in this pattern are what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;
// The OCI endpoints whose names and references are checked before forwarding, each as one anchored regex over the
// whole decoded path, so a valid request (nearly all of them) costs one test and allocates nothing. Each character
// has one place in the name grammar, so backtracking to find `/manifests/` stays linear (paths.test.ts checks).
const MANIFEST_PATH = new RegExp(`^\\/v2\\/${NAME_SRC}\\/manifests\\/(?:${TAG_SRC}|${DIGEST_SRC})$`);
const TAG_LIST_PATH = new RegExp(`^\\/v2\\/${NAME_SRC}\\/tags\\/list$`);
const REFERRERS_PATH = new RegExp(`^\\/v2\\/${NAME_SRC}\\/referrers\\/${DIGEST_SRC}$`);
// cosign: `sha256-<hex>.sig` signatures and `.att` attestations (archeio cb75b65,
// docs/reference/archeio.md#decision-list step 3), matched from the reference's first character (sticky) on a manifest
// path already known to be valid
const COSIGN_TAG = /sha256-[a-f0-9]{64}\.(?:sig|att)$/y;
const COSIGN_TAG_LENGTH = 'sha256-'.length + 64 + '.sig'.length;
const BLOBS = '/blobs/';
// The common request, an unescaped sha256 blob path, in one regex: its characters are all pchar, a name component
// cannot be `.` or `..`, and name and digest follow their grammars, so every check of rules 2-4 and 6 holds when it
// matches (paths.test.ts checks it agrees with the general path). The digest is then the last 71 characters.
const SHA256_BLOB_PATH = new RegExp(`^\\/v2\\/${NAME_SRC}\\/blobs\\/sha256:[a-f0-9]{64}$`);
const SHA256_DIGEST_LENGTH = 'sha256:'.length + 64;

/**
 * Classifies a raw request path. Pure; the rule order is the one in docs/request-handling.md:
 * `/`, `/privacy[/]`, outside-/v2 404, `/v2[/]` ping, `_catalog`, unsafe path 400, blob, malformed name or
 * reference, signature, other /v2.
 * This runs on every request: an unescaped sha256 blob path costs one regex scan, other unescaped paths three and a
 * few short checks.
 */
export function classifyPath(rawPath: string): PathRoute {
  if (SHA256_BLOB_PATH.test(rawPath)) {
    const b = rawPath.length - SHA256_DIGEST_LENGTH - BLOBS.length;
    return { kind: 'blob', name: rawPath.slice(4, b), digest: rawPath.slice(b + BLOBS.length), rest: rawPath.slice(3) };
  }
  return classifyPathByRules(rawPath);
}

/** classifyPath without the sha256 blob shortcut: every rule in order (exported as the shortcut's twin in tests). */
export function classifyPathByRules(rawPath: string): PathRoute {
  const escaped = rawPath.indexOf('%') >= 0;
  const decoded = escaped ? percentDecode(rawPath) : rawPath;
  const p = decoded ?? rawPath;
  // rule 2: outside /v2. `/v2foo` is outside /v2 (archeio's HasPrefix("/v2") treats it as v2: quirk Q3).
  if (p !== '/v2' && !p.startsWith('/v2/')) {
    if (p === '/') return INFO;
    if (p === '/privacy' || p === '/privacy/') return PRIVACY;
    return NOT_FOUND;
  }
  // rule 3
  if (p.length <= 4) return PING;
  if (p === '/v2/_catalog' || p === '/v2/_catalog/') return CATALOG;
  // rule 4
  const problem = unsafePathProblem(rawPath, decoded, escaped);
  if (problem !== null) return { kind: 'bad-path', detail: problem };
  // decoded is non-null here: a malformed escape is an unsafe path
  const d = decoded as string;
  const rest = rawPath.slice(3);
  // rule 6 (blob) before rule 5: a blob path is never a manifest path. `/v2/<name>/blobs/<last segment with a
  // colon>`, the name possibly empty (then invalid): the last "/blobs/" is the only one that can precede the last
  // segment.
  const b = d.lastIndexOf(BLOBS);
  if (b >= 4) {
    const digest = d.slice(b + BLOBS.length);
    if (digest.indexOf('/') < 0 && digest.indexOf(':') >= 0) {
      const name = d.slice(4, b);
      if (!isValidName(name))
        return { kind: 'bad-blob', code: 'NAME_INVALID', detail: `invalid repository name: ${JSON.stringify(name)}` };
      if (!isValidDigest(digest))
        return { kind: 'bad-blob', code: 'DIGEST_INVALID', detail: `invalid digest: ${JSON.stringify(digest)}` };
      return { kind: 'blob', name, digest, rest };
    }
  }
  // rule 5: `/v2/<name>/manifests/<reference>`, `/v2/<name>/tags/list`, `/v2/<name>/referrers/<digest>`, told apart
  // by the last two segments (a name may itself contain `manifests`, `tags` or `referrers`: parse from the right).
  // `prev` is at least 3, the slash after `/v2`, since d starts with `/v2/` and is longer than that.
  const last = d.lastIndexOf('/');
  const prev = d.lastIndexOf('/', last - 1);
  if (prev >= 3) {
    if (segmentIs(d, prev, last, 'manifests')) {
      if (!MANIFEST_PATH.test(d)) return badReference(d, prev, last);
      const ref = last + 1;
      if (d.length - ref === COSIGN_TAG_LENGTH) {
        COSIGN_TAG.lastIndex = ref;
        if (COSIGN_TAG.test(d)) return { kind: 'signature', rest };
      }
    } else if (segmentIs(d, prev, last, 'tags') && segmentIs(d, last, d.length, 'list')) {
      if (!TAG_LIST_PATH.test(d)) return badReference(d, prev, last);
    } else if (segmentIs(d, prev, last, 'referrers')) {
      if (!REFERRERS_PATH.test(d)) return badReference(d, prev, last, true);
    }
  }
  return { kind: 'v2', rest };
}

/** True when d[start] and d[end] are slashes around exactly `word`. */
function segmentIs(d: string, start: number, end: number, word: string): boolean {
  return end - start - 1 === word.length && d.startsWith(word, start + 1);
}

/**
 * Why a manifest, tag-list or referrers path failed its whole-path regex (the error path only: it slices). The name
 * is judged first, as for blobs; then a reference with a colon, or any referrers subject, is a malformed digest, and
 * anything else a malformed tag.
 */
function badReference(d: string, prev: number, last: number, digestOnly = false): PathRoute {
  const name = d.slice(4, prev);
  if (!isValidName(name))
    return { kind: 'bad-reference', code: 'NAME_INVALID', detail: `invalid repository name: ${JSON.stringify(name)}` };
  const ref = d.slice(last + 1);
  if (digestOnly || ref.indexOf(':') >= 0)
    return { kind: 'bad-reference', code: 'DIGEST_INVALID', detail: `invalid digest: ${JSON.stringify(ref)}` };
  return {
    kind: 'bad-reference',
    code: 'MANIFEST_UNKNOWN',
    detail: `not a valid tag or digest, so no manifest has it: ${JSON.stringify(ref)}`,
  };
}

/** Why a /v2 path may not be forwarded, or null when it is safe to append to an upstream prefix. */
function unsafePathProblem(raw: string, decoded: string | null, escaped: boolean): string | null {
  if (decoded === null) return 'malformed percent-encoding';
  if (!RAW_PATH_CHARS.test(raw)) return 'path contains characters outside RFC 3986 pchar';
  if (DOT_SEGMENT.test(decoded)) return 'path contains a dot segment';
  if (!escaped) return null;
  // escapes can hide what the raw checks cannot see
  if (ENCODED_SLASH_OR_BACKSLASH.test(raw)) return 'path contains an encoded slash or backslash';
  if (CONTROL.test(decoded)) return 'path contains a control character';
  return null;
}

// RFC 3986 query = *( pchar / "/" / "?" )
const QUERY_OK = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;
const QUERY_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?]$/;

/**
 * Makes a raw query safe to append to a Location: valid RFC 3986 queries pass unchanged (the common case, one
 * regex test); anything else is percent-encoded character by character, so a Location header can never carry a
 * byte that Node refuses (ERR_INVALID_CHAR would be a 500) or that a client reads as a fragment.
 */
export function normalizeQuery(query: string): string {
  if (QUERY_OK.test(query)) return query;
  let out = '';
  for (let i = 0; i < query.length; i++) {
    const ch = query[i];
    if (ch === '%' && hexValue(query.charCodeAt(i + 1)) >= 0 && hexValue(query.charCodeAt(i + 2)) >= 0) {
      out += query.slice(i, i + 3);
      i += 2;
    } else if (QUERY_CHAR.test(ch)) {
      out += ch;
    } else {
      out += encodeChar(query, i);
      // a surrogate pair was consumed as one code point
      if (query.codePointAt(i)! > 0xffff) i++;
    }
  }
  return out;
}

function encodeChar(s: string, i: number): string {
  const cp = s.codePointAt(i)!;
  // Node hands request targets over as latin1: one char per byte. Encode such chars as that byte.
  if (cp <= 0xff) return '%' + (cp < 16 ? '0' : '') + cp.toString(16).toUpperCase();
  const ch = String.fromCodePoint(cp);
  // lone surrogates encode as U+FFFD (Buffer does this), never throwing like encodeURIComponent would
  let out = '';
  for (const b of Buffer.from(ch, 'utf8')) out += '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  return out;
}

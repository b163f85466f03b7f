/**
 * Anonymous bearer tokens: the Docker token flow every pull client runs when a registry answers 401 (Docker
 * "Token Authentication Specification"; distribution-spec "Determining Support" leaves auth to it).
 *
 *   GET /v2/<name>/manifests/<ref>       → 401  WWW-Authenticate: Bearer realm="…",service="…",scope="repository:<name>:pull"
 *   GET <realm>?service=…&scope=…        → 200  {"token": "…", "expires_in": 300}        (no credentials: anonymous)
 *   GET /v2/<name>/manifests/<ref>       → 200  with Authorization: Bearer <token>
 *
 * Artifact Registry, the upstream of registry.k8s.io and registry-sandbox.k8s.io, answers every anonymous request
 * this way, so without the flow every pull through production stops at the upstream's 401. A regional AR that
 * refuses anonymous tokens (403) is a failure users saw (docs/reference/incidents.md#upstream-and-replication U1,
 * kubernetes/registry.k8s.io#116).
 *
 * This module is the pure part: parsing challenges and token responses, building the realm URL, and the token cache.
 * The client (oci-client.ts) sends the requests, so the token request is recorded as a hop like any other.
 * A token is only ever sent to the origin whose challenge produced it: never to the redirector, a bucket or a CDN.
 */

export type RegistryAuthErrorCode = 'AUTH_CHALLENGE_INVALID' | 'AUTH_TOKEN_INVALID';

export class RegistryAuthError extends Error {
  constructor(
    readonly code: RegistryAuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryAuthError';
  }
}

/** One challenge of a WWW-Authenticate header: the scheme (lower-cased) and its auth-params (names lower-cased). */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** A Bearer challenge with what the token request needs. */
export interface BearerChallenge {
  realm: string;
  service?: string;
  /** space-separated scopes in one `scope` param are split (the token spec allows several) */
  scopes: string[];
}

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const PARAM = new RegExp(`^(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|(${TOKEN}))\\s*$`, 's');
const SCHEME = new RegExp(`^(${TOKEN})(?:\\s+(.*))?$`, 's');

/** Splits at commas outside quoted strings. */
function splitList(value: string): string[] {
  const items: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\' && i + 1 < value.length) {
      cur += c + value[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      items.push(cur.trim());
      cur = '';
    } else {
      cur += c;
    }
  }
  items.push(cur.trim());
  return items.filter((x) => x !== '');
}

function addParam(challenge: AuthChallenge, text: string): boolean {
  const m = PARAM.exec(text);
  if (!m) return false;
  challenge.params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  return true;
}

/**
 * Parses a WWW-Authenticate value into its challenges (RFC 9110 §11.6.1: `scheme [ token68 / #auth-param ]`, several
 * challenges separated by commas; a quoted-string value may hold commas and `\"`). An item `name=value` is a
 * param of the current challenge; any other item starts a new challenge. Lenient: what cannot be read is skipped.
 */
export function parseWwwAuthenticate(value: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  for (const item of splitList(value)) {
    const current = out[out.length - 1];
    if (current !== undefined && PARAM.test(item)) {
      addParam(current, item);
      continue;
    }
    const m = SCHEME.exec(item);
    if (!m) continue;
    const challenge: AuthChallenge = { scheme: m[1]!.toLowerCase(), params: {} };
    out.push(challenge);
    const rest = m[2]?.trim();
    if (rest && !addParam(challenge, rest)) challenge.params.token68 = rest;
  }
  return out;
}

/** The Bearer challenge of a header value, or null when it has none (Basic only, or no realm). */
export function bearerChallengeOf(value: string | undefined): BearerChallenge | null {
  if (value === undefined) return null;
  const bearer = parseWwwAuthenticate(value).find((c) => c.scheme === 'bearer');
  const realm = bearer?.params.realm;
  if (!bearer || realm === undefined || realm === '') return null;
  const scopes = (bearer.params.scope ?? '').split(' ').filter((x) => x !== '');
  return { realm, ...(bearer.params.service !== undefined ? { service: bearer.params.service } : {}), scopes };
}

/**
 * The anonymous token request URL: the realm with `service` and each `scope` as query parameters (a realm that
 * already has a query keeps it). A relative realm resolves against the challenging URL; only http(s) realms are used.
 */
export function tokenRequestUrl(challenge: BearerChallenge, challengedUrl: string): URL {
  let url: URL;
  try {
    url = new URL(challenge.realm, challengedUrl);
  } catch {
    throw new RegistryAuthError(
      'AUTH_CHALLENGE_INVALID',
      `Bearer realm ${JSON.stringify(challenge.realm)} is not a URL`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RegistryAuthError('AUTH_CHALLENGE_INVALID', `Bearer realm ${url.href} is not http(s)`);
  }
  if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
  for (const scope of challenge.scopes) url.searchParams.append('scope', scope);
  return url;
}

export interface AnonymousToken {
  token: string;
  /** ms (the client's clock) after which the token is not reused */
  expiresAt: number;
}

/** Token spec: `expires_in` defaults to 60 s; tokens are refreshed a little before they lapse. */
const DEFAULT_EXPIRES_IN_S = 60;
const REFRESH_MARGIN_MS = 5_000;

/** Reads `{"token": …}` or `{"access_token": …}` (the spec allows either; `token` wins when both are there). */
export function parseTokenResponse(body: string, now: number): AnonymousToken {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new RegistryAuthError('AUTH_TOKEN_INVALID', 'the token response is not JSON');
  }
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const token =
    typeof o.token === 'string' && o.token !== '' ? o.token : typeof o.access_token === 'string' ? o.access_token : '';
  if (token === '')
    throw new RegistryAuthError('AUTH_TOKEN_INVALID', 'the token response has no "token" or "access_token"');
  const expiresIn = typeof o.expires_in === 'number' && o.expires_in > 0 ? o.expires_in : DEFAULT_EXPIRES_IN_S;
  return { token, expiresAt: now + Math.max(0, expiresIn * 1000 - REFRESH_MARGIN_MS) };
}

/** `/v2/<name>/(manifests|blobs|tags|referrers)/…` → `<name>`, the repository a token's scope is about. */
export function repositoryOfPath(path: string): string | null {
  const m = /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)\//.exec(path.split('?')[0]!);
  return m ? m[1]! : null;
}

/**
 * Tokens learnt from challenges, per origin and repository, so the next request for the same repository at the same
 * origin carries its token at once (as Docker's and containerd's resolvers do) instead of collecting a 401 first.
 */
export class AnonymousTokenCache {
  private readonly tokens = new Map<string, AnonymousToken>();

  private static key(origin: string, repository: string | null): string {
    return `${origin} ${repository ?? ''}`;
  }

  get(origin: string, path: string, now: number): string | undefined {
    const key = AnonymousTokenCache.key(origin, repositoryOfPath(path));
    const t = this.tokens.get(key);
    if (t === undefined) return undefined;
    if (t.expiresAt <= now) {
      this.tokens.delete(key);
      return undefined;
    }
    return t.token;
  }

  set(origin: string, path: string, token: AnonymousToken): void {
    this.tokens.set(AnonymousTokenCache.key(origin, repositoryOfPath(path)), token);
  }

  forget(origin: string, path: string): void {
    this.tokens.delete(AnonymousTokenCache.key(origin, repositoryOfPath(path)));
  }
}

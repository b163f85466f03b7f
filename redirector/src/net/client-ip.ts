/**
 * Which address a request comes from.
 *
 * The default rule is archeio's, for a Google Cloud external HTTP(S) load balancer (kubernetes/registry.k8s.io:
 * pkg/net/clientip/clientip.go@093d55a). Google documents the header it forwards as
 * `X-Forwarded-For: [<supplied-value>,]<client-ip>,<load-balancer-ip>`
 * (https://cloud.google.com/load-balancing/docs/https#x-forwarded-for_header): the load balancer appends two
 * entries, so the client is the second entry from the right, and anything further left was written by the client
 * and cannot be trusted. archeio splits on ',' and ' ' dropping empty tokens (Go strings.FieldsFunc), needs at least
 * two tokens, and falls back to the socket address only when the header is empty or absent.
 *
 * Two differences from archeio, both deliberate (docs/ip-classification.md):
 *  - a malformed header never fails the request: the result carries `ip: null` and a `problem`, the caller treats
 *    the client as unknown and logs why (archeio answers 400 on blob requests);
 *  - the caller may ask for IPv4-mapped IPv6 (`::ffff:a.b.c.d`) to be unmapped; archeio does not unmap.
 *
 * Other proxy chains are described by `xff-hops:N`: N trusted entries follow the client's entry at the right end of
 * the header, so the client is the (N+1)-th entry from the right. `xff-hops:1` is exactly the Google rule;
 * `xff-hops:0` suits one reverse proxy that appends the peer address (nginx's $proxy_add_x_forwarded_for).
 * `socket` ignores the header entirely, for a server that faces clients directly.
 */
import { formatIp, parseIp, unmapV4, type Ip } from './ip.js';

export type ClientIpRule = { kind: 'gclb' } | { kind: 'socket' } | { kind: 'xff-hops'; hops: number };

/** The largest hop count accepted: a longer trusted proxy chain is far more likely a typo than a topology. */
export const MAX_XFF_HOPS = 64;

export class ClientIpRuleError extends Error {
  readonly code = 'CLIENT_IP_RULE_INVALID' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ClientIpRuleError';
  }
}

/**
 * Parses a rule: `gclb`, `socket` or `xff-hops:N` (N a decimal integer from 0 to MAX_XFF_HOPS). Surrounding
 * whitespace is ignored, and an empty text means the default, `gclb`. Throws ClientIpRuleError otherwise.
 */
export function parseClientIpRule(text: string): ClientIpRule {
  const t = text.trim();
  if (t === '' || t === 'gclb') return { kind: 'gclb' };
  if (t === 'socket') return { kind: 'socket' };
  const hops = /^xff-hops:(.*)$/.exec(t);
  if (hops) {
    const n = hops[1]!;
    if (!/^(0|[1-9][0-9]*)$/.test(n) || Number(n) > MAX_XFF_HOPS) {
      throw new ClientIpRuleError(
        `invalid client IP rule ${JSON.stringify(text)}: the hop count after "xff-hops:" must be a whole number from 0 to ${MAX_XFF_HOPS}, got ${JSON.stringify(n)}`,
      );
    }
    return { kind: 'xff-hops', hops: Number(n) };
  }
  throw new ClientIpRuleError(
    `invalid client IP rule ${JSON.stringify(text)}: expected "gclb" (Google load balancer: second X-Forwarded-For entry from the right), "socket" (the connection's address) or "xff-hops:N" (N trusted entries follow the client's)`,
  );
}

/** The rule's canonical text (parseClientIpRule's inverse). */
export function formatClientIpRule(rule: ClientIpRule): string {
  return rule.kind === 'xff-hops' ? `xff-hops:${rule.hops}` : rule.kind;
}

export interface ClientIpResult {
  /** the client's address as canonical text (formatIp), or null when it could not be determined */
  ip: string | null;
  /** the same address parsed (unmapped when asked), so the caller classifies it without parsing the text again */
  address: Ip | null;
  /** where the address was (or should have been) taken from */
  source: 'xff' | 'socket';
  /** why `ip` is null, for the decision log */
  problem?: string;
}

/** Header text quoted for a log line, cut short: the header is client-controlled. */
function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/**
 * Parses the chosen entry. `wanted` (its position from the right, 0 for the socket address) only names it in the
 * problem text, which is built when there is a problem: this runs on every blob request.
 */
function finish(text: string, source: 'xff' | 'socket', unmap: boolean, wanted: number): ClientIpResult {
  const parsed = parseIp(text);
  if (parsed === null) {
    const what = wanted === 0 ? 'socket address' : `X-Forwarded-For entry (${ordinal(wanted)} from the right)`;
    return { ip: null, address: null, source, problem: `${what} ${quote(text)} is not an IP address` };
  }
  const address = unmap ? unmapV4(parsed) : parsed;
  // parseIp accepts only canonical dotted quads, so an IPv4 address's text is already its canonical form
  return { ip: address === parsed && address.family === 4 ? text : formatIp(address), address, source };
}

/** Where the connection's peer address comes from; read only when the rule needs it (node asks the socket on each access). */
export interface Peer {
  /** node's `socket.remoteAddress`: a bare address */
  readonly remoteAddress: string | undefined;
}

/**
 * Applies a rule to one request's X-Forwarded-For value and its peer's socket address, which is read only when the
 * rule uses it. Never throws.
 */
export function clientIp(
  rule: ClientIpRule,
  xff: string | undefined,
  peer: Peer,
  opts: { unmapV4: boolean },
): ClientIpResult {
  if (rule.kind === 'socket' || xff === undefined || xff === '') {
    const remoteAddress = peer.remoteAddress;
    if (remoteAddress === undefined || remoteAddress === '') {
      return { ip: null, address: null, source: 'socket', problem: 'the connection has no remote address' };
    }
    return finish(remoteAddress, 'socket', opts.unmapV4, 0);
  }
  const wanted = (rule.kind === 'gclb' ? 1 : rule.hops) + 1;
  // Go's strings.FieldsFunc(raw, c == ',' || c == ' '): tokens are separated by either, empty tokens are dropped,
  // and tabs are not separators. Scanning from the right finds the wanted token without splitting the header.
  let count = 0;
  let i = xff.length;
  for (;;) {
    while (i > 0 && isSeparator(xff.charCodeAt(i - 1))) i--;
    if (i === 0) break;
    const tokenEnd = i;
    while (i > 0 && !isSeparator(xff.charCodeAt(i - 1))) i--;
    if (++count === wanted) {
      return finish(xff.slice(i, tokenEnd), 'xff', opts.unmapV4, wanted);
    }
  }
  const have = count === 1 ? '1 entry' : `${count} entries`;
  return {
    ip: null,
    address: null,
    source: 'xff',
    problem: `X-Forwarded-For ${quote(xff)} has ${have}; rule ${formatClientIpRule(rule)} needs at least ${wanted}`,
  };
}

function isSeparator(c: number): boolean {
  return c === 0x2c /* , */ || c === 0x20 /* space */;
}

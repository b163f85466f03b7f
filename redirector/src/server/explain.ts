/**
 * The decision trace behind `/explain?ip=&path=&method=[&probe=1]` on the admin listener (like mirrorbits'
 * `?mirrorlist&fromip=`, docs/reference/archeio.md#other-redirectors): what the router decides for that request from
 * that client, rule by rule, without faking X-Forwarded-For. It never sends a HEAD unless `probe=1`; without it a blob
 * trace reports what is cached and both possible answers.
 */
import { parseIp, formatIp, unmapV4 } from '../net/index.js';
import type { ProbeResult } from '../blobs/index.js';
import {
  resolveProbe,
  UNKNOWN_CLIENT,
  type ClientFacts,
  type Plan,
  type Reason,
  type Router,
} from '../routing/index.js';
import { RULE_OF } from './decision-log.js';
import type { BlobProber, Classify } from './request-handler.js';

export interface ExplainQuery {
  /** the client address to simulate; null: an unknown client */
  ip: string | null;
  path: string;
  method: string;
  /** actually send the HEAD when the decision needs one */
  probe: boolean;
}

export interface ExplainDeps {
  router: Router;
  classify: () => Classify;
  unmapV4: boolean;
  probe: BlobProber;
  semantics: string;
}

export interface ExplainTrace {
  request: { method: string; path: string };
  semantics: string;
  protocolCompat: 'none' | 'archeio';
  /** client facts; only blob requests look at the client */
  client: ClientFacts | null;
  probe: null | {
    url: string;
    base: string;
    /** what the caches or the breaker already know, without a HEAD */
    known: ProbeResult['outcome'] | null;
    /** the answer of the HEAD sent because probe=1 */
    result: ProbeResult | null;
    ifHit: string;
    otherwise: string;
  };
  /** the final answer; null when it depends on a HEAD that was not sent */
  decision: null | { reason: Reason; rule: number; status: number | null; location: string | null };
}

export class ExplainError extends Error {
  readonly code = 'EXPLAIN_QUERY_INVALID' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ExplainError';
  }
}

/** The client facts for a simulated address, under the server's semantics. Throws ExplainError for a non-IP. */
export function clientFactsFor(ipText: string | null, classify: Classify, unmap: boolean): ClientFacts {
  if (ipText === null) return UNKNOWN_CLIENT;
  const parsed = parseIp(ipText);
  if (parsed === null) throw new ExplainError(`ip: ${JSON.stringify(ipText)} is not an IP address`);
  const address = unmap ? unmapV4(parsed) : parsed;
  const ip = formatIp(address);
  const c = classify(address);
  return c === null
    ? { ip, cloud: null, region: null, prefix: null }
    : { ip, cloud: c.cloud, region: c.region, prefix: c.prefix };
}

export async function explainRequest(q: ExplainQuery, deps: ExplainDeps): Promise<ExplainTrace> {
  const trace: ExplainTrace = {
    request: { method: q.method, path: q.path },
    semantics: deps.semantics,
    protocolCompat: deps.router.mode === 'archeio' ? 'archeio' : 'none',
    client: null,
    probe: null,
    decision: null,
  };
  const route = deps.router.route(q.method, q.path);
  let plan: Plan;
  if (route.kind === 'blob') {
    trace.client = clientFactsFor(q.ip, deps.classify(), deps.unmapV4);
    plan = deps.router.planBlob(route, trace.client);
  } else {
    plan = route;
  }
  if (plan.kind === 'probe') {
    const known = deps.probe.peek(plan.base, plan.url) ?? null;
    const result = known ?? (q.probe ? await deps.probe.check(plan.base, plan.url) : null);
    trace.probe = {
      url: plan.url,
      base: plan.base,
      known: known?.outcome ?? null,
      result: known === null ? result : null,
      ifHit: plan.onHit.location,
      otherwise: plan.fallback,
    };
    if (result === null) return trace;
    plan = resolveProbe(plan, result.verdict);
  }
  const status = plan.kind === 'redirect' ? 307 : plan.kind === 'ping' ? 200 : (plan as { status: number }).status;
  trace.decision = {
    reason: plan.reason,
    rule: RULE_OF[plan.reason],
    status,
    location: plan.kind === 'redirect' ? plan.location : null,
  };
  return trace;
}

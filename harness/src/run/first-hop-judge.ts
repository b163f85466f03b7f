/**
 * Judges one first hop against the routing oracle. Used by the routing suite (one request per check) and the
 * integrity suite (the first hop of every manifest and blob of a pull): a pull that succeeds by the wrong route is a
 * routing failure: a pull that succeeds is not enough (docs/reference/incidents.md).
 *
 * Comparison: the status exactly (307 and nothing else: 302 breaks method preservation, anchors (c) ae83b43); the
 * Location by scheme, host, port and path, then query parameters (routing-oracle.ts locationMatches), with the
 * tolerances the target declares in `locationMatch` (docs/reference/incidents.md#deployment P4: a request id may
 * be appended).
 */
import { CheckFailure, type Hop } from '../results/check.js';
import type { RoutingEvidence } from '../results/routing-evidence.js';
import {
  locationMatches,
  type ExpectedFirstHop,
  type LocationMatchOptions,
  type OracleRequest,
  type RoutingOracle,
} from '../oracle/routing-oracle.js';
import type { Semantics, TargetDescription, Vantage } from '../target/target-description.js';
import { Inconclusive, transportClassOf } from './classify-outcome.js';

/** The target's `locationMatch` extra field: `{ toleratedQueryParams?: string[], upstreamHosts?: string[] }`. */
export function locationMatchOptions(target: TargetDescription): LocationMatchOptions {
  const raw = (target.locationMatch ?? {}) as Record<string, unknown>;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return {
    toleratedQueryParams: strings(raw.toleratedQueryParams),
    upstreamHosts: strings(raw.upstreamHosts),
    upstream: target.upstream,
  };
}

function describeVantage(v: Vantage): string {
  return `${v.name} (${v.cloud ?? 'internet'}${v.region ? ` ${v.region}` : ''}, ${v.ip || 'declared'})`;
}

function describeExpected(e: ExpectedFirstHop): string {
  return `${e.status}${e.location ? ` → ${e.location}` : ''} [${e.reason}${e.base ? ` via ${e.base}` : ''}]`;
}

export interface JudgeInput {
  oracle: RoutingOracle;
  vantage: Vantage;
  request: OracleRequest;
  /** the first hop as recorded; undefined when no response arrived */
  hop: Hop | undefined;
  kind: string;
  /** the X-Forwarded-For value sent, for the evidence */
  xff?: string;
  /** judge under this semantics instead of the target's (shadowed-prefix checks show both) */
  semantics?: Semantics;
  /** an expectation computed by the caller (anti-spoofing) */
  expected?: ExpectedFirstHop;
}

/**
 * Returns the evidence when the hop is what the oracle expects. Throws CheckFailure('routing') when it is not, or
 * Inconclusive when the answer was a 5xx/429/front-end block instead of a decision.
 */
export async function judgeFirstHop(input: JudgeInput): Promise<RoutingEvidence> {
  const { oracle, vantage, request, hop } = input;
  const expected = input.expected ?? (await oracle.expect(vantage, request, input.semantics));
  const evidence: RoutingEvidence = {
    kind: input.kind,
    vantage: vantage.name,
    request: { method: request.method, path: request.path, ...(input.xff !== undefined ? { xff: input.xff } : {}) },
    expected: {
      status: expected.status,
      ...(expected.location !== undefined ? { location: expected.location } : {}),
      reason: expected.reason,
    },
    ...(hop && hop.status !== 0
      ? { actual: { status: hop.status, ...(hop.location !== undefined ? { location: hop.location } : {}) } }
      : {}),
    matched: false,
  };
  const hops = hop ? [hop] : [];
  const what = `${request.method} ${request.path} from ${describeVantage(vantage)}`;
  if (!hop || hop.status === 0)
    throw new Inconclusive('availability', `${what}: no response`, hops, { routing: evidence });
  const statusOk = hop.status === expected.status;
  // Regional upstream hosts may stand in for the upstream only where the rule says "upstream": a signature tag must
  // reach the canonical signature upstream even when it shares the upstream's host
  // (docs/reference/archeio.md#decision-list).
  const matchOptions = locationMatchOptions(oracle.target);
  if (expected.reason === 'signature-upstream') delete matchOptions.upstreamHosts;
  const locationOk = expected.location === undefined || locationMatches(expected.location, hop.location, matchOptions);
  if (statusOk && locationOk) {
    evidence.matched = true;
    return evidence;
  }
  const transport = transportClassOf(hop.status, hop.headers['content-type']);
  const got = `${hop.status}${hop.location ? ` → ${hop.location}` : ''}`;
  if (!statusOk && transport) {
    throw new Inconclusive(
      transport,
      `${what}: expected ${describeExpected(expected)}, got ${got} (${transport})`,
      hops,
      { routing: evidence },
    );
  }
  throw new CheckFailure('routing', `${what}: expected ${describeExpected(expected)}, got ${got}`, hops, {
    routing: evidence,
  });
}

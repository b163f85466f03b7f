/**
 * The evidence a routing judgement leaves in a result's `details.routing`: what was asked from where, what the
 * oracle expected and what came back. Suites write it (pass or fail, through `ctx.record`), and the HTML report
 * draws its vantage × request-kind map from it.
 */
import type { CheckResult } from './check.js';

export interface RoutingEvidence {
  /** a request kind of the routing matrix, or e.g. `anti-spoofing`, `shadowed-prefix`, `integrity-blob` */
  kind: string;
  vantage: string;
  request: { method: string; path: string; xff?: string };
  expected: { status: number; location?: string; reason: string };
  /** absent when no response arrived */
  actual?: { status: number; location?: string };
  matched: boolean;
}

export function routingEvidenceOf(result: CheckResult): RoutingEvidence | undefined {
  const r = result.details?.routing as RoutingEvidence | undefined;
  return r && typeof r === 'object' && typeof r.kind === 'string' && typeof r.vantage === 'string' ? r : undefined;
}

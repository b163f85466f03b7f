/**
 * A small, real results set for the report check to render: from every vantage of the target, the first hop of
 * `GET /` and `GET /privacy`, judged by the routing oracle (redirector rule 2). Each result carries routing
 * evidence, so the HTML report's routing map gets one row per vantage, including the vantages this target's IP
 * mode cannot speak from (their results are not applicable, with the evidence of what was expected).
 */
import {
  NotApplicable,
  clientForRoute,
  judgeFirstHop,
  targetOracle,
  vantageRoute,
  type Check,
  type RequestKind,
  type TargetDescription,
  type Vantage,
} from '../../harness/src/index.js';

const LANDING: { kind: Extract<RequestKind, 'root' | 'privacy'>; path: string }[] = [
  { kind: 'root', path: '/' },
  { kind: 'privacy', path: '/privacy' },
];

function landingCheck(target: TargetDescription, vantage: Vantage, kind: 'root' | 'privacy', path: string): Check {
  return {
    id: `browser/landing-${kind}@${vantage.name}`,
    suite: 'browser',
    title: `GET ${path} from ${vantage.name}: first hop to the ${kind === 'root' ? 'info' : 'privacy'} page`,
    rule: `redirector rule 2: ${path} → 307 ${kind === 'root' ? 'INFO_URL' : 'PRIVACY_URL'}`,
    vantage,
    async run(ctx) {
      const oracle = await targetOracle(target);
      const request = { method: 'GET', path };
      let route;
      try {
        route = vantageRoute(target, vantage);
      } catch (err) {
        if (err instanceof NotApplicable) {
          const expected = await oracle.expect(vantage, request);
          ctx.record?.([], {
            routing: {
              kind,
              vantage: vantage.name,
              request,
              expected: {
                status: expected.status,
                ...(expected.location ? { location: expected.location } : {}),
                reason: expected.reason,
              },
              matched: false,
            },
          });
        }
        throw err;
      }
      const client = clientForRoute(route, { signal: ctx.signal, headersTimeoutMs: 10_000 });
      const first = await client.firstHop('GET', path);
      const evidence = await judgeFirstHop({
        oracle,
        vantage,
        request,
        hop: first.hop,
        kind,
        ...(route.headers['x-forwarded-for'] ? { xff: route.headers['x-forwarded-for'] } : {}),
      });
      ctx.record?.([first.hop], { routing: evidence });
    },
  };
}

export function landingRouteChecks(target: TargetDescription): Check[] {
  return target.vantages.flatMap((v) => LANDING.map(({ kind, path }) => landingCheck(target, v, kind, path)));
}

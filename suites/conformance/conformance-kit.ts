/**
 * What every conformance check shares: the target, the route it speaks from, the seeded content (discovered once
 * per suite instance, on first use) and a small constructor that names the check, its rule and its id.
 */
import type { OciClient, Check, CheckContext, Hop, TargetDescription } from '../../harness/src/index.js';
import { conformanceRoute, type ConformanceRoute } from './conformance-routes.js';
import { discoverSeededContent, type SeededContent } from './seeded-content.js';

export const CONFORMANCE_SUITE = 'conformance';

export interface ConformanceRun {
  ctx: CheckContext;
  client: OciClient;
  /** the seeded content; discovery runs once per suite instance */
  content(): Promise<SeededContent>;
  /** attach hops to the result even when the check passes */
  evidence(hops: readonly Hop[], details?: Record<string, unknown>): void;
}

export interface ConformanceKit {
  target: TargetDescription;
  route: ConformanceRoute;
  /** discovered once per suite instance, without any one check's signal (a check that times out must not poison it) */
  content(): Promise<SeededContent>;
  check(name: string, title: string, rule: string, run: (r: ConformanceRun) => Promise<void>): Check;
}

export function conformanceKit(target: TargetDescription): ConformanceKit {
  const route = conformanceRoute(target);
  let discovered: Promise<SeededContent> | undefined;
  const content = (): Promise<SeededContent> => {
    discovered ??= discoverSeededContent(target, route.client());
    return discovered;
  };
  return {
    target,
    route,
    content,
    check(name, title, rule, run) {
      return {
        id: `${CONFORMANCE_SUITE}/${name}`,
        suite: CONFORMANCE_SUITE,
        title,
        rule,
        async run(ctx) {
          const client = route.client(ctx.signal);
          await run({
            ctx,
            client,
            content,
            evidence: (hops, details) => ctx.record?.(hops, { route: route.label, ...(details ?? {}) }),
          });
        },
      };
    },
  };
}

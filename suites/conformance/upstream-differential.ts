/**
 * Blame assignment for rules the redirector can only pass through: tag-list order and pagination (`n`, `last`,
 * Link) are implemented by the upstream registry, and the redirector's job is to keep the query intact
 * (docs/reference/oci-distribution.md#what-breaks-through-a-redirector item 8). When a redirected answer breaks such a
 * rule, the same request is sent to the upstream directly:
 *
 * - the upstream breaks it on its own → the target cannot exercise the rule: not applicable, with both answers
 *   (G2 records "registry unsupported" features the same way, as skip;
 *   docs/reference/oci-distribution.md#g2-pull-path-checks);
 * - the upstream gets it right → the redirect broke it: a conformance failure;
 * - the upstream cannot be asked (auth, network) → the failure stands as observed.
 */
import {
  createOciClient,
  type OciClient,
  NotApplicable,
  type Hop,
  type TargetDescription,
} from '../../harness/src/index.js';
import { conformanceFailure } from './conformance-expect.js';

export interface UpstreamView {
  client: OciClient;
  /** the upstream's name for a repository: the upstream path prefix + the name */
  repo(name: string): string;
}

export function upstreamView(target: TargetDescription, signal?: AbortSignal): UpstreamView {
  const prefix = target.upstreamPath.replace(/^\/+|\/+$/g, '');
  return {
    client: createOciClient({
      baseUrl: target.upstream,
      headersTimeoutMs: 15_000,
      bodyTimeoutMs: 15_000,
      ...(signal ? { signal } : {}),
    }),
    repo: (name) => (prefix === '' ? name : `${prefix}/${name}`),
  };
}

/**
 * Throws for an observed `problem`: NotApplicable when `direct()` finds the upstream has the same problem on its
 * own, a conformance failure otherwise.
 */
export async function blameUpstreamOrFail(
  problem: string,
  hops: readonly Hop[],
  direct: () => Promise<string | null>,
): Promise<never> {
  let upstreamProblem: string | null;
  try {
    upstreamProblem = await direct();
  } catch (err) {
    throw conformanceFailure(`${problem} (the upstream could not be asked directly: ${(err as Error).message})`, hops);
  }
  if (upstreamProblem !== null) {
    throw new NotApplicable(
      `the upstream registry does not implement this itself (asked directly: ${upstreamProblem}); through the redirector: ${problem}. ` +
        'The redirector can only keep the query intact, which conformance/query-survives-redirect checks',
    );
  }
  throw conformanceFailure(`${problem} (asked directly, the upstream gets it right: the redirect broke it)`, hops);
}

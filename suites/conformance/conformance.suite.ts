/**
 * conformance: the OCI distribution pull path through the redirector.
 *
 * Every pull-path check of the official suites, G1 (v1.1.1) and G2 (main), adapted to pre-seeded content on a
 * read-only target and judged on the final hop after following redirects
 * (docs/reference/oci-distribution.md#official-conformance-suites), plus the spec rules they leave out:
 * Docker-Content-Digest, Content-Type/Content-Length on HEAD, Range on the final hop, error bodies, tag-list pagination
 * across the redirect, referrers with the tag-schema fallback, `/v2/`, `_catalog`, 405, HEAD/GET parity and raw-path
 * probes. docs/suites.md lists each check and its rule.
 */
import type { Check, TargetDescription } from '../../harness/src/index.js';
import { conformanceKit } from './conformance-kit.js';
import { endpointChecks } from './endpoint-checks.js';
import { headerChecks } from './header-checks.js';
import { pathProbeChecks } from './path-probe-checks.js';
import { pullChecks } from './pull-checks.js';
import { rangeChecks } from './range-checks.js';
import { referrersChecks } from './referrers-checks.js';
import { tagListChecks } from './tag-list-checks.js';

export { CONFORMANCE_SUITE } from './conformance-kit.js';

export function conformanceChecks(target: TargetDescription): Check[] {
  const kit = conformanceKit(target);
  return [
    ...endpointChecks(kit),
    ...pullChecks(kit),
    ...headerChecks(kit),
    ...rangeChecks(kit),
    ...tagListChecks(kit),
    ...referrersChecks(kit),
    ...pathProbeChecks(kit),
  ];
}

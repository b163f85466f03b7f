/**
 * The suite registry: every suite `registry-canary run --suite a,b` can pick, by name, in the order a full run
 * executes them. Each suite is a function from a target description to checks (written once, run
 * against any target); its `<area>.test.ts` binds the same checks to the local stack under vitest.
 */
import type { Check, GoProgramName, TargetDescription } from '../harness/src/index.js';
import { BROWSER_SUITE, browserChecks } from './browser/browser.suite.js';
import { CLIENTS_SUITE, clientsChecks } from './clients/clients.suite.js';
import { CONFORMANCE_SUITE, conformanceChecks } from './conformance/conformance.suite.js';
import { INTEGRITY_SUITE, integrityChecks } from './integrity/integrity.suite.js';
import { MIRROR_SUITE, mirrorChecks } from './mirror/mirror.suite.js';
import { OCI_CONFORMANCE_SUITE, ociConformanceChecks } from './oci-conformance/oci-conformance.suite.js';
import { ROUTING_SUITE, routingChecks } from './routing/routing.suite.js';

/** What a run tells a suite besides the target. */
export interface SuiteContext {
  /** the run's report directory, for suites that keep files of their own there (screenshots, a program's reports) */
  reportDir?: string;
}

export interface SuiteDefinition {
  name: string;
  /** one line for `--help` and the report */
  description: string;
  checks(target: TargetDescription, context?: SuiteContext): Check[];
  /** the pinned Go programs its checks run, built before a run starts when the cache lacks them */
  goPrograms?: readonly GoProgramName[];
}

export const SUITES: readonly SuiteDefinition[] = [
  {
    name: CONFORMANCE_SUITE,
    description:
      "the official OCI suites' pull-path checks (G1, G2) read-only through the redirector, plus DCD, HEAD headers, Range, errors, pagination, referrers, /v2/, 405, path probes",
    checks: (target) => conformanceChecks(target),
  },
  {
    name: OCI_CONFORMANCE_SUITE,
    goPrograms: ['conformance'],
    description:
      'the official OCI distribution-spec conformance program, read-only pull mode, through the redirector; ' +
      'its tests as checks, its own report linked',
    checks: (target, context) =>
      ociConformanceChecks(target, context?.reportDir ? { reportDir: context.reportDir } : {}),
  },
  {
    name: ROUTING_SUITE,
    description:
      'every vantage × request kind: the exact first hop the routing oracle predicts; anti-spoofing; shadowed prefixes',
    checks: (target) => routingChecks(target),
  },
  {
    name: INTEGRITY_SUITE,
    description:
      'full pulls of every image through every vantage, every digest and size verified, every first hop judged; Range resume',
    checks: (target) => integrityChecks(target),
  },
  {
    name: MIRROR_SUITE,
    description:
      'every bucket audited against the images: HEAD of every blob, sampled GETs hashed, coverage per region; the mirror plan is ground truth',
    checks: (target) => mirrorChecks(target),
  },
  {
    name: CLIENTS_SUITE,
    goPrograms: ['crane', 'regctl'],
    description:
      'skopeo, containerd (ctr), crane and regctl pull every image through AWS, GCP and internet edges and agree ' +
      'on digests; docker when a daemon answers',
    checks: (target) => clientsChecks(target),
  },
  {
    name: BROWSER_SUITE,
    description:
      'chromium: / and /privacy land on the info and privacy pages; the HTML report renders its routing map (screenshot)',
    checks: (target, options) =>
      browserChecks(target, options?.reportDir !== undefined ? { reportDir: options.reportDir } : {}),
  },
];

export class UnknownSuiteError extends Error {
  readonly code = 'SUITE_UNKNOWN';
  constructor(message: string) {
    super(message);
    this.name = 'UnknownSuiteError';
  }
}

export function suiteNames(): string[] {
  return SUITES.map((s) => s.name);
}

/** `a,b,c` → the suites, in registry order; undefined or empty → all of them. Unknown names throw, listing the known. */
export function selectSuites(spec?: string): SuiteDefinition[] {
  const wanted = (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (wanted.length === 0) return [...SUITES];
  const unknown = wanted.filter((w) => !SUITES.some((s) => s.name === w));
  if (unknown.length > 0)
    throw new UnknownSuiteError(
      `unknown suite${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${suiteNames().join(', ')})`,
    );
  return SUITES.filter((s) => wanted.includes(s.name));
}

/**
 * `registry-canary gate`: is the candidate environment safe to promote over the baseline? Promotion
 * is a human decision upstream and nothing compares the two environments' behaviour
 * (docs/reference/incidents.md#sandbox-and-production); the gate lists every behavioural difference.
 *
 * 1. One set of vantages for both sides (gateVantages): the same egress vantage when either side is reached from the
 *    harness's own address (an xff side poses as its address), else the vantages both describe.
 * 2. Preflight both (`GET /v2/`); optionally run the named suites on both (reports per side).
 * 3. The behaviour fingerprint of each side from those vantages (one probe list, built from both sides' oracles),
 *    compared probe by probe; the verdict (gate-verdict.ts).
 *
 * The suites are passed in (the harness does not import suites/: docs/architecture.md).
 */
import { join } from 'node:path';
import type { Check } from '../results/check.js';
import type { Preflight, RunReport } from '../results/run-report.js';
import { writeReports } from '../report/write-reports.js';
import { preflight as defaultPreflight } from '../run/preflight.js';
import { runChecks } from '../run/run-checks.js';
import { packageVersion } from '../version.js';
import { targetOracle } from '../run/target-oracle.js';
import { resolveEgressVantage, selectVantages, VantageSelectionError } from '../run/vantage-selection.js';
import type { TargetDescription, Vantage } from '../target/target-description.js';
import { collectFingerprint, type BehaviourFingerprint } from './behaviour-fingerprint.js';
import { diffFingerprints, type FingerprintDiff } from './fingerprint-diff.js';
import { commonRefs, gateProbes, type FingerprintProbe } from './fingerprint-probes.js';
import { unmatchedAccepts, type GateReport } from './gate-report.js';
import { decideGate, redChecks, suiteRegressions, type GateSide, type SideSuites } from './gate-verdict.js';

export class GateUsageError extends Error {
  readonly code = 'GATE_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'GateUsageError';
  }
}

export interface GateSuite {
  name: string;
  checks(target: TargetDescription, options?: { reportDir?: string }): Check[];
}

export interface RunGateOptions {
  candidate: TargetDescription;
  baseline: TargetDescription;
  /** `--vantage`: egress place/name/auto (default auto when a side is egress), or names/places narrowing xff sides */
  vantage?: string;
  ipEchoUrl?: string;
  /** suites to run on both sides beside the fingerprint (default none) */
  suites?: readonly GateSuite[];
  /** difference ids (globs) that are expected */
  accept?: readonly string[];
  /** where each side's suite reports go (`<dir>/candidate`, `<dir>/baseline`) */
  reportDir?: string;
  concurrency?: number;
  checkTimeoutMs?: number;
  signal?: AbortSignal;
  log?: (message: string) => void;
  /** replaces the GET /v2/ preflight (tests) */
  preflight?: (target: TargetDescription, vantages: readonly Vantage[]) => Promise<Preflight>;
  /** the egress echo answer without the network (tests) */
  fetchText?: (url: string) => Promise<string>;
}

/** Puts a vantage on a target so the harness can speak as it there (egress: declared; xff: posed by address). */
function placeVantage(target: TargetDescription, v: Vantage, role: string): TargetDescription {
  const vantages = target.vantages.some((x) => x.name === v.name) ? target.vantages : [...target.vantages, v];
  if (target.ipMode === 'egress') return { ...target, vantages, egressVantage: v.name };
  if (target.ipMode === 'xff') {
    if (v.ip === '')
      throw new GateUsageError(
        `the ${role} ${target.name} is in xff mode and poses as an address, but vantage ${v.name} was declared without one: use --vantage auto or a vantage with an address`,
      );
    return { ...target, vantages };
  }
  if (!target.vantages.some((x) => x.name === v.name && x.url !== null)) {
    throw new GateUsageError(`the ${role} ${target.name} is in edge mode and has no edge for vantage ${v.name}`);
  }
  return target;
}

/**
 * The same vantages on both sides ("runs the suites on both sides (same vantage)"). Returns the two targets
 * prepared for them. Throws GateUsageError (a name matching nothing) or VantageSelectionError (detection failed).
 */
export async function gateVantages(
  candidate: TargetDescription,
  baseline: TargetDescription,
  spec: string | undefined,
  options: { ipEchoUrl?: string; fetchText?: (url: string) => Promise<string> } = {},
): Promise<{ candidate: TargetDescription; baseline: TargetDescription; vantages: Vantage[] }> {
  const egress = [candidate, baseline].find((t) => t.ipMode === 'egress');
  if (egress) {
    const resolved = await resolveEgressVantage(egress, spec ?? 'auto', {
      ...(options.ipEchoUrl ? { ipEchoUrl: options.ipEchoUrl } : {}),
      ...(options.fetchText ? { fetchText: options.fetchText } : {}),
    });
    const v = resolved.vantages.find((x) => x.name === resolved.egressVantage)!;
    return {
      candidate: placeVantage(candidate, v, 'candidate'),
      baseline: placeVantage(baseline, v, 'baseline'),
      vantages: [v],
    };
  }
  const narrow = (t: TargetDescription) => {
    if (spec === undefined) return t;
    try {
      return selectVantages(t, spec);
    } catch (err) {
      if (err instanceof VantageSelectionError) throw new GateUsageError(err.message);
      throw err;
    }
  };
  const c = narrow(candidate);
  const b = narrow(baseline);
  const bNames = new Map(b.vantages.map((v) => [v.name, v]));
  const shared = c.vantages.filter((v) => bNames.has(v.name));
  if (shared.length === 0)
    throw new GateUsageError(
      `the candidate ${c.name} and the baseline ${b.name} share no vantage name${spec ? ` matching --vantage ${spec}` : ''}`,
    );
  const moved = shared.filter((v) => bNames.get(v.name)!.ip !== v.ip).map((v) => v.name);
  if (moved.length > 0)
    throw new GateUsageError(
      `vantages with the same name but different addresses on the two sides: ${moved.join(', ')}`,
    );
  const keep = new Set(shared.map((v) => v.name));
  return {
    candidate: { ...c, vantages: c.vantages.filter((v) => keep.has(v.name)) },
    baseline: { ...b, vantages: b.vantages.filter((v) => keep.has(v.name)) },
    vantages: shared,
  };
}

async function runSideSuites(
  target: TargetDescription,
  role: string,
  options: RunGateOptions,
  vantages: readonly Vantage[],
): Promise<{ suites: SideSuites; report: RunReport }> {
  const names = new Set(vantages.map((v) => v.name));
  // files a check writes go under this side's report directory, nowhere else
  const sideDir = options.reportDir ? join(options.reportDir, role) : undefined;
  const checks = (options.suites ?? [])
    .flatMap((s) => s.checks(target, sideDir !== undefined ? { reportDir: sideDir } : {}))
    .filter((c) => !c.vantage || names.has(c.vantage.name));
  const report = await runChecks({
    target,
    checks,
    suites: (options.suites ?? []).map((s) => s.name),
    preflight: false, // the gate ran its own
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.checkTimeoutMs !== undefined ? { checkTimeoutMs: options.checkTimeoutMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    vantages: vantages.map((v) => v.name),
  });
  const reportDir = sideDir;
  if (reportDir !== undefined) await writeReports(report, reportDir);
  return {
    report,
    suites: {
      suites: report.suites,
      verdict: report.verdict,
      counts: report.counts,
      red: redChecks(report.results),
      ...(reportDir ? { reportDir } : {}),
    },
  };
}

const now = () => performance.now();

/** Runs the gate; never throws for the targets' faults (they become the verdict), only for usage errors. */
export async function runGate(options: RunGateOptions): Promise<GateReport> {
  const log = options.log ?? (() => {});
  const startedAt = new Date();
  const t0 = now();
  const timings: Record<string, number> = {};
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const s = now();
    try {
      return await fn();
    } finally {
      timings[name] = (timings[name] ?? 0) + now() - s;
    }
  };

  const placed = await phase('vantages', () =>
    gateVantages(options.candidate, options.baseline, options.vantage, {
      ...(options.ipEchoUrl ? { ipEchoUrl: options.ipEchoUrl } : {}),
      ...(options.fetchText ? { fetchText: options.fetchText } : {}),
    }),
  );
  const { vantages } = placed;
  log(
    `gate vantage${vantages.length === 1 ? '' : 's'}: ${vantages.length <= 6 ? vantages.map((v) => `${v.name} (${v.ip || 'no address'})`).join(', ') : `${vantages.length} shared by both sides`}`,
  );
  const side = (role: 'candidate' | 'baseline', t: TargetDescription): GateSide => ({
    role,
    name: t.name,
    url: t.url,
    ipMode: t.ipMode,
    semantics: t.semantics,
    preflight: null,
    fingerprint: null,
    suites: null,
  });
  const candidate = side('candidate', placed.candidate);
  const baseline = side('baseline', placed.baseline);
  const targets = { candidate: placed.candidate, baseline: placed.baseline };

  // 1. reachability, both sides at once
  const pre =
    options.preflight ??
    ((t: TargetDescription, v: readonly Vantage[]) =>
      defaultPreflight(t, v, options.signal ? { signal: options.signal } : {}));
  await phase('preflight', async () => {
    [candidate.preflight, baseline.preflight] = await Promise.all([
      pre(targets.candidate, vantages),
      pre(targets.baseline, vantages),
    ]);
  });
  const reachable = candidate.preflight!.reachable && baseline.preflight!.reachable;

  let probes: FingerprintProbe[] = [];
  let diff: FingerprintDiff | null = null;
  if (reachable) {
    // 2. the probe list, from both sides' oracles (an oracle that cannot be built is that side's error)
    const oracles = await phase('oracles', () =>
      Promise.all(
        (['candidate', 'baseline'] as const).map(async (role) => {
          try {
            return await targetOracle(targets[role]);
          } catch (err) {
            (role === 'candidate' ? candidate : baseline).error = `routing oracle: ${(err as Error).message}`;
            return null;
          }
        }),
      ),
    );
    if (oracles[0] && oracles[1]) {
      probes = await phase('probes', () =>
        gateProbes(
          [
            { label: 'candidate', target: targets.candidate, oracle: oracles[0]! },
            { label: 'baseline', target: targets.baseline, oracle: oracles[1]! },
          ],
          vantages,
        ),
      );
      log(
        `fingerprint: ${probes.length} first hops per side from ${vantages.length} vantage${vantages.length === 1 ? '' : 's'}`,
      );
      const refs = commonRefs(targets.candidate, targets.baseline);
      // 3. suites (optional) and fingerprints, both sides in parallel
      const both = async (role: 'candidate' | 'baseline'): Promise<[BehaviourFingerprint, SideSuites | null]> => {
        const fp = await phase(`fingerprint ${role}`, () =>
          collectFingerprint(targets[role], probes, vantages, {
            refs,
            ...(options.concurrency ? { concurrency: options.concurrency * 2 } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
          }),
        );
        const suites =
          options.suites && options.suites.length > 0
            ? (await phase(`suites ${role}`, () => runSideSuites(targets[role], role, options, vantages))).suites
            : null;
        return [fp, suites];
      };
      const [[cfp, csuites], [bfp, bsuites]] = await Promise.all([both('candidate'), both('baseline')]);
      candidate.fingerprint = cfp;
      candidate.suites = csuites;
      baseline.fingerprint = bfp;
      baseline.suites = bsuites;
      diff = diffFingerprints(probes, cfp, bfp, targets, { ...(options.accept ? { accept: options.accept } : {}) });
    }
  }

  const verdict = decideGate(candidate, baseline, diff);
  return {
    schema: 'registry-canary/gate/v1',
    versions: { harness: packageVersion() },
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: now() - t0,
    vantages: vantages.map((v) => v.name),
    candidate,
    baseline,
    probes,
    diff,
    accept: [...(options.accept ?? [])],
    unmatchedAccepts: unmatchedAccepts({ accept: [...(options.accept ?? [])], diff }),
    regressions: suiteRegressions(candidate.suites, baseline.suites),
    verdict,
    timings,
  };
}

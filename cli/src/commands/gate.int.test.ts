/**
 * The gate's bar: against two local stacks, one per semantics, it reports exactly the behavioural
 * differences between them and blocks; against two identical stacks it promotes. The stacks are handed to the CLI as
 * target description files (`--candidate-config`, `--baseline-config`), as a CI job would.
 *
 * "Exactly" is checked against an independent account: for every probe the gate sent, the two sides' routing
 * oracles (each under its own semantics) are asked what a correct redirector answers, in each side's own terms; the
 * probes where those answers differ must be exactly the reported differences.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  packageVersion,
  RoutingOracle,
  startStack,
  type StartedStack,
  type TargetDescription,
  locationShape,
  type GateReport,
} from '../../../harness/src/index.js';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';

let dir: string;
let mostSpecific: StartedStack;
let archeio: StartedStack;
let twin: StartedStack;
const files: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gate-int-'));
  [mostSpecific, archeio, twin] = await Promise.all([
    startStack({ semantics: 'most-specific' }),
    startStack({ semantics: 'archeio' }),
    startStack({ semantics: 'most-specific' }),
  ]);
  for (const [name, s] of [
    ['most-specific', mostSpecific],
    ['archeio', archeio],
    ['twin', twin],
  ] as const) {
    files[name] = join(dir, `${name}.json`);
    await writeFile(files[name], JSON.stringify({ ...s.target, name: `local-${name}` }));
  }
});

afterAll(async () => {
  await Promise.all([mostSpecific?.stop(), archeio?.stop(), twin?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const gate = async (...args: string[]) => {
  const io = captureIo();
  const started = performance.now();
  const code = await main(['node', 'registry-canary', 'gate', ...args], io);
  return { code, out: io.out(), err: io.err(), seconds: (performance.now() - started) / 1000 };
};

/** What correct redirectors of the two semantics answer for a probe, in each side's own terms. */
async function expectedShape(
  target: TargetDescription,
  oracle: RoutingOracle,
  probe: GateReport['probes'][number],
): Promise<string> {
  const vantage = target.vantages.find((v) => v.name === (probe.vantage ?? target.vantages[0]!.name))!;
  const e = await oracle.expect(vantage, { method: probe.method, path: probe.path });
  if (e.location === undefined) return String(e.status);
  const s = locationShape(target, e.location, `${target.url}${probe.path}`, { signature: probe.signature === true });
  return `${e.status} ${s.destination} ${s.path}`;
}

describe('registry-canary gate against local stacks', () => {
  it("most-specific vs archeio: reports exactly the GLOBAL-shadowed vantage's blob hosts, and blocks (exit 1)", async () => {
    const report = join(dir, 'semantics');
    const r = await gate(
      '--candidate-config',
      files['most-specific']!,
      '--baseline-config',
      files.archeio!,
      '--report',
      report,
    );
    expect(r.code, r.err).toBe(1);
    const g = JSON.parse(await readFile(join(report, 'gate.json'), 'utf8')) as GateReport;
    expect(g.verdict.decision).toBe('block');
    expect(g.versions.harness).toBe(packageVersion());
    const reported = g.diff!.differences.map((d) => d.id).sort();
    expect(reported.length).toBeGreaterThan(0);

    // independently: where correct redirectors of the two semantics would answer differently
    const candidate = mostSpecific.target;
    const baseline = archeio.target;
    const [oc, ob] = [new RoutingOracle(candidate), new RoutingOracle(baseline)];
    const expected: string[] = [];
    for (const p of g.probes)
      if ((await expectedShape(candidate, oc, p)) !== (await expectedShape(baseline, ob, p))) expected.push(p.id);
    expect(reported).toEqual(expected.sort());

    // and they are what the issue says: blob hosts, from the GLOBAL-shadowed vantages only
    const shadowed = new Set(
      candidate.vantages.filter((v) => v.tags?.includes('shadowed-by-global')).map((v) => v.name),
    );
    for (const d of g.diff!.differences) {
      expect(d.kind).toBe('blob');
      expect(shadowed.has(d.vantage!)).toBe(true);
      expect(d.changes.map((c) => c.field)).toContain('destination');
    }
    expect(new Set(g.diff!.differences.map((d) => d.vantage))).toEqual(shadowed);
    expect(
      g.diff!.differences.some(
        (d) => /bucket:prod-registry-k8s-io-ap-south-1/.test(d.candidate) && /default-base/.test(d.baseline),
      ),
    ).toBe(true);
    expect(g.diff!.declared).toEqual([{ field: 'semantics', candidate: 'most-specific', baseline: 'archeio' }]);
    expect(g.verdict.reasons).toHaveLength(reported.length);
    // the suites (routing by default) ran on both sides and are green on both: the fingerprint is what blocks
    expect(g.candidate.suites?.verdict.exitCode).toBe(0);
    expect(g.baseline.suites?.verdict.exitCode).toBe(0);
    expect(g.regressions).toEqual([]);

    // the reports: markdown on stdout, HTML and JUnit beside gate.json, each side's suite reports
    expect(r.out).toMatch(/^# Promotion gate: local-most-specific → local-archeio: BLOCK \(exit 1\)/);
    expect(await readFile(join(report, 'gate.html'), 'utf8')).toMatch(/data-decision="block"/);
    const junit = await readFile(join(report, 'junit.xml'), 'utf8');
    expect(junit.match(/type="behaviour"/g)).toHaveLength(reported.length);
    await readFile(join(report, 'candidate', 'junit.xml'), 'utf8');
    await readFile(join(report, 'baseline', 'results.json'), 'utf8');
    console.log(
      `gate most-specific vs archeio: ${r.seconds.toFixed(1)} s, ${g.diff!.compared} behaviours, ${reported.length} differences`,
    );
  });

  it('two identical stacks: promotes (exit 0)', async () => {
    const report = join(dir, 'same');
    const r = await gate(
      '--candidate-config',
      files['most-specific']!,
      '--baseline-config',
      files.twin!,
      '--report',
      report,
      '--suite',
      'none',
    );
    expect(r.code, r.out + r.err).toBe(0);
    const g = JSON.parse(await readFile(join(report, 'gate.json'), 'utf8')) as GateReport;
    expect(g.verdict.decision).toBe('promote');
    expect(g.diff!.differences).toEqual([]);
    expect(g.diff!.compared).toBeGreaterThan(400);
    expect(g.candidate.suites).toBeNull();
    console.log(`gate identical stacks (fingerprint only): ${r.seconds.toFixed(1)} s, ${g.diff!.compared} behaviours`);
  });

  it('an accepted difference is reported and does not block; a pattern that matched nothing is a warning', async () => {
    const report = join(dir, 'accepted');
    const r = await gate(
      '--candidate-config',
      files['most-specific']!,
      '--baseline-config',
      files.archeio!,
      '--report',
      report,
      '--suite',
      'none',
      '--accept',
      'blob:*@aws-shadowed-*',
      '--accept',
      'manifest:*@nowhere-*',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/accepted \(blob:\*@aws-shadowed-\*\)/);
    expect(r.err).toContain('WARNING: --accept "manifest:*@nowhere-*" matched no difference');
    expect(r.err).not.toContain('--accept "blob:');
    const g = JSON.parse(await readFile(join(report, 'gate.json'), 'utf8')) as GateReport;
    expect(g.unmatchedAccepts).toEqual(['manifest:*@nowhere-*']);
  });

  it('an unreachable side exits 2 and still writes the report', async () => {
    const down = join(dir, 'down.json');
    await writeFile(down, JSON.stringify({ ...mostSpecific.target, name: 'down', url: 'http://127.0.0.1:9' }));
    const report = join(dir, 'down');
    const r = await gate(
      '--candidate-config',
      down,
      '--baseline-config',
      files.archeio!,
      '--report',
      report,
      '--suite',
      'none',
      '--vantage',
      'aws-us-east-1',
    );
    expect(r.code).toBe(2);
    const g = JSON.parse(await readFile(join(report, 'gate.json'), 'utf8')) as GateReport;
    expect(g.verdict.decision).toBe('unreachable');
    expect(g.verdict.reasons[0]).toMatch(/^candidate down is unreachable: GET \/v2\/ failed/);
  });
});

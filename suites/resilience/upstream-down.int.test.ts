/**
 * Upstream down: manifest redirects are still issued, because the redirector never talks to the upstream
 * itself; the pulls that then fail at the upstream are classified by the harness as availability failures, never
 * as conformance (or routing, or integrity) failures.
 *
 * Against the stack's own redirector. Two ways the upstream goes away (docs/local-stack.md "Fault control"):
 * `down: refuse` (the front closes its listener: connection refused) and `down: status` (503 to everything, as a
 * load balancer with no healthy backend). For each: manifest redirects from every vantage, measured next to the
 * same requests with the upstream up; then the harness's own integrity and conformance checks through two
 * vantages, and every red result's class.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  runChecks,
  selectVantages,
  splitRef,
  primaryImage,
  type CheckResult,
  type Fault,
} from '../../harness/src/index.js';
import { conformanceChecks } from '../conformance/conformance.suite.js';
import { integrityChecks } from '../integrity/integrity.suite.js';
import { FigureLog } from './support/figures.js';
import { TimedClient, round, runPool, summarize } from './support/timed-client.js';
import { FaultsClient, world, xffFor } from './support/world.js';

const W = world();
const target = W.target;
const faults = new FaultsClient(W.faultsUrl);
const figures = new FigureLog('upstream-down');
const { repository: REPO, tag: TAG } = splitRef(primaryImage(target)!.ref);
const VANTAGES = 'aws-us-east-1,internet-v4';

afterAll(async () => {
  await faults.clear();
});

async function manifestRedirects(client: TimedClient) {
  const vs = target.vantages;
  const answers = await runPool(vs.length * 10, 4, (i) =>
    client.send(`/v2/${REPO}/manifests/${TAG}`, { headers: { 'x-forwarded-for': xffFor(target, vs[i % vs.length]!) } }),
  );
  const issued = answers.filter(
    (a) => a.status === 307 && a.location === `${target.upstream}/v2/${REPO}/manifests/${TAG}`,
  ).length;
  return { issued, total: answers.length, latency: summarize(answers.map((a) => a.ms)) };
}

const describeResult = (r: CheckResult) => `${r.id}: ${r.status} [${r.failureClass}] ${r.message?.split('\n')[0]}`;

describe.sequential('upstream down', () => {
  const cases: { label: string; fault: Fault }[] = [
    { label: 'refuse', fault: { kind: 'down', mode: 'refuse' } },
    { label: '503', fault: { kind: 'down', mode: 'status' } },
  ];
  for (const { label, fault } of cases) {
    it(`upstream down (${label}): manifest redirects still issued; the failed pulls are availability, not conformance`, async () => {
      const client = new TimedClient(target.url, { connections: 4 });
      try {
        await manifestRedirects(client); // warm-up
        const up = await manifestRedirects(client);
        await faults.set('upstream', fault);
        const down = await manifestRedirects(client);
        const ready = await fetch(`${W.adminUrl}/readyz`);
        figures.record({
          check: `upstream down (${label}): manifest redirects`,
          figure: `${down.issued}/${down.total} issued from all ${target.vantages.length} vantages, p50 ${round(down.latency.p50)} ms, p99 ${round(down.latency.p99)} ms (upstream up: p50 ${round(up.latency.p50)} ms, p99 ${round(up.latency.p99)} ms); /readyz ${ready.status}`,
          value: down.issued / down.total,
          unit: 'fraction issued',
          bar: 'all issued, /readyz 200',
          ok: down.issued === down.total && ready.status === 200,
          details: { up, down },
        });
        expect(down.issued).toBe(down.total);
        expect(ready.status).toBe(200);

        const t = selectVantages(target, VANTAGES);
        const checks = [...integrityChecks(t, { range: true }), ...conformanceChecks(t)];
        const report = await runChecks({
          target: t,
          checks,
          suites: ['integrity', 'conformance'],
          concurrency: 4,
          checkTimeoutMs: 30_000,
          preflight: false,
        });
        const red = report.results.filter((r) => r.status === 'fail' || r.status === 'error');
        const byClass: Record<string, number> = {};
        for (const r of red) byClass[r.failureClass ?? 'none'] = (byClass[r.failureClass ?? 'none'] ?? 0) + 1;
        const notAvailability = red.filter((r) => r.failureClass !== 'availability');
        figures.record({
          check: `upstream down (${label}): how the harness classifies the failures`,
          figure: `${report.results.length} integrity and conformance checks through ${VANTAGES}: ${red.length} red, by class ${JSON.stringify(byClass)}; ${report.results.length - red.length} not red (answered by the redirector or the buckets alone)`,
          value: notAvailability.length,
          unit: 'red results not classed availability',
          bar: '0 (every red result is availability)',
          ok: notAvailability.length === 0 && red.length > 0,
          details: {
            red: red.map(describeResult),
            notRed: report.results.filter((r) => !red.includes(r)).map((r) => `${r.id}: ${r.status}`),
          },
        });
        expect(notAvailability.map(describeResult)).toEqual([]);
        expect(red.length).toBeGreaterThan(0);
        expect(red.some((r) => r.id.startsWith('integrity/'))).toBe(true);
      } finally {
        await faults.clear('upstream');
        await client.close();
      }
      // and back: a pull works again once the upstream is
      const t = selectVantages(target, 'aws-us-east-1');
      const again = await runChecks({
        target: t,
        checks: integrityChecks(t, { range: false, images: [primaryImage(target)!.ref] }),
        suites: ['integrity'],
        preflight: false,
      });
      expect(again.results.map((r) => `${r.id}: ${r.status}`)).toEqual(again.results.map((r) => `${r.id}: pass`));
    });
  }
});

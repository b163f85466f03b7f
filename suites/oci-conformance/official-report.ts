/**
 * `<report dir>/oci-conformance/index.html`: the official program's verdicts per test and per endpoint (through the
 * redirector, and the upstream asked directly), linking each group's own report.html, junit.xml and results.yaml.
 * Pure: the runs in, the page out.
 */
import { relative } from 'node:path';
import { OCI_CONFORMANCE_ROOT, type ProgramRun, type ProgramTestCase } from '../../harness/src/index.js';
import { relativeName } from './program-tests.js';

export interface EndpointRun {
  /** "through the redirector (internet-v4's edge)", "upstream directly" */
  label: string;
  run: ProgramRun;
}

const e = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function tally(cases: readonly ProgramTestCase[]): string {
  if (cases.length === 0) return '—';
  const by = new Map<string, number>();
  for (const c of cases) by.set(c.status, (by.get(c.status) ?? 0) + 1);
  return [...by].map(([s, n]) => `${n} ${s}`).join(', ');
}

/** A run's totals by status: the figures docs/suites.md quotes. */
export function runTotals(run: ProgramRun): Record<ProgramTestCase['status'], number> {
  const t = { passed: 0, skipped: 0, failure: 0, error: 0 };
  for (const c of run.cases) t[c.status] += 1;
  return t;
}

export function officialReportHtml(runs: readonly EndpointRun[], reportDir: string, version: string): string {
  const names: string[] = [];
  for (const { run } of runs) {
    for (const c of run.cases) {
      const n = relativeName(c.name, OCI_CONFORMANCE_ROOT) ?? c.name;
      if (!names.includes(n)) names.push(n);
    }
  }
  const th = (r: EndpointRun) => `<th>${e(r.label)}<br><code>${e(r.run.endpoint.registry)}</code></th>`;
  const head = `<tr><th>test</th>${runs.map(th).join('')}</tr>`;
  const rows = names.map((n) => {
    const cells = runs.map(({ run }) => {
      const cases = run.cases.filter((c) => (relativeName(c.name, OCI_CONFORMANCE_ROOT) ?? c.name) === n);
      const bad = cases.some((c) => c.status === 'failure' || c.status === 'error');
      return `<td class="${bad ? 'bad' : ''}">${e(tally(cases))}</td>`;
    });
    return `<tr><td><code>${e(n)}</code></td>${cells.join('')}</tr>`;
  });
  const total = ({ run }: EndpointRun) => `<th>${e(tally(run.cases))} (${(run.durationMs / 1000).toFixed(1)} s)</th>`;
  const totals = `<tr><th>total</th>${runs.map(total).join('')}</tr>`;
  const groups = runs
    .map(({ label, run }) => {
      const items = run.groups.map((g) => {
        const rel = (f: string) => e(relative(reportDir, `${g.resultsDir}/${f}`).split('\\').join('/'));
        const links = g.problem
          ? `no reports: <pre>${e(g.problem)}</pre>`
          : ['report.html', 'junit.xml', 'results.yaml'].map((f) => `<a href="${rel(f)}">${f}</a>`).join(' · ');
        return `<li><code>${e(g.group)}</code> (exit ${g.exitCode}, ${g.durationMs} ms): ${links}</li>`;
      });
      const i = run.inputs;
      const what =
        `${i.tags.length} tags, ${i.manifests.length} manifests, ${i.blobs.length} blobs, ` +
        `${i.referrers.length} referrer subjects`;
      return `<h3>${e(label)}</h3><p>repository <code>${e(i.repo)}</code> · ${what}</p><ul>${items.join('')}</ul>`;
    })
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OCI distribution-spec conformance program</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.bad{background:#fdd}</style></head>
<body><h1>OCI distribution-spec conformance program, read-only pull mode</h1>
<p>github.com/opencontainers/distribution-spec/conformance@${e(version)}; one run per top-level group;
each group's own reports are linked below.</p>
<table>${head}${rows.join('')}${totals}</table>
<h2>The program's own reports</h2>${groups}
</body></html>
`;
}

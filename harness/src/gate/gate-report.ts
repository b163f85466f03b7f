/**
 * The gate's report, rendered from one GateReport value (as the run's reports are from one RunReport):
 *
 * - gate.json   everything: both sides, both fingerprints, the probes, the diff, the verdict (`registry-canary/gate/v1`);
 * - gate.md     for a promotion PR or an issue: the verdict and its reasons, the differences, declared differences,
 *               new hostnames (docs/reference/incidents.md#edge-and-network N6), suite regressions;
 * - gate.html   the same, self-contained (inline CSS, no scripts), with stable hooks `#gate-verdict[data-decision]`
 *               and `table#gate-differences tr[data-id]`;
 * - junit.xml   for TestGrid: one testcase per compared behaviour (a difference is a failure, an accepted one is
 *               skipped with its pattern), one per side's suite verdict.
 * When the suites ran, each side's own results.json, junit.xml and index.html are in `candidate/` and `baseline/`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { globMatches } from '../results/known-issue.js';
import { xmlEscape } from '../report/junit-xml.js';
import type { FingerprintProbe } from './fingerprint-probes.js';
import type { BehaviourDifference, FingerprintDiff } from './fingerprint-diff.js';
import { describeHop } from './fingerprint-diff.js';
import type { GateSide, GateVerdict, RedCheck } from './gate-verdict.js';

export interface GateReport {
  schema: 'registry-canary/gate/v1';
  /** the registry-canary that judged (each side's suite reports carry their own versions too) */
  versions: { harness: string };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** the vantages both sides were asked from */
  vantages: string[];
  candidate: GateSide;
  baseline: GateSide;
  probes: FingerprintProbe[];
  diff: FingerprintDiff | null;
  accept: string[];
  /** the `accept` patterns that matched no difference: stale, or mistyped (a warning, never a block) */
  unmatchedAccepts: string[];
  /** candidate checks red while the same check on the baseline is not (each one blocks) */
  regressions: RedCheck[];
  verdict: GateVerdict;
  /** time spent per phase, ms */
  timings: Record<string, number>;
}

export interface WrittenGateReports {
  dir: string;
  gateJson: string;
  gateMd: string;
  gateHtml: string;
  junitXml: string;
}

const DECISION_TEXT = { promote: 'PROMOTE', block: 'BLOCK', unreachable: 'UNREACHABLE' } as const;

export function gateJson(report: GateReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * `--accept` patterns that matched no difference. Not an error: a pattern written for a difference that comes and
 * goes (or one already fixed) must not block a promotion. It is a loud warning instead: on stderr, and first among
 * the report's notes, so a stale pattern is seen and removed before it hides a new difference.
 */
export function unmatchedAccepts(report: Pick<GateReport, 'accept' | 'diff'>): string[] {
  const ids = (report.diff?.differences ?? []).map((d) => d.id);
  return report.accept.filter((g) => !ids.some((id) => globMatches(g, id)));
}

/** A side's suite report, relative to the gate's report directory when it lies inside it. */
function sideReportLink(dir: string | undefined, gateDir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  const index = join(dir, 'index.html');
  return gateDir !== undefined && !relative(gateDir, index).startsWith('..') ? relative(gateDir, index) : index;
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function sideLine(s: GateSide): string {
  const suites = s.suites
    ? `; suites ${s.suites.suites.join(', ')}: exit ${s.suites.verdict.exitCode} (${s.suites.verdict.reason})`
    : '';
  return `${s.name} (${s.url}, ${s.ipMode}, ${s.semantics})${suites}${s.error ? `; error: ${s.error}` : ''}`;
}

function differenceRows(ds: readonly BehaviourDifference[]): string[] {
  return ds.map(
    (d) =>
      `| ${md(d.id)} | ${md(d.request ? `${d.request.method} ${d.request.path}` : d.kind)} | ${md(d.changes.map((c) => c.field).join(', '))} | ${md(d.candidate)} | ${md(d.baseline)} |${d.accepted ? ` accepted (${md(d.accepted)})` : ''}`,
  );
}

export function gateMarkdown(report: GateReport): string {
  const { verdict, diff } = report;
  const out = [
    `# Promotion gate: ${report.candidate.name} → ${report.baseline.name}: ${DECISION_TEXT[verdict.decision]} (exit ${verdict.exitCode})`,
    '',
    `- candidate: ${sideLine(report.candidate)}`,
    `- baseline: ${sideLine(report.baseline)}`,
    `- vantage${report.vantages.length === 1 ? '' : 's'}: ${report.vantages.length <= 8 ? report.vantages.join(', ') : `${report.vantages.length} (${report.vantages.slice(0, 8).join(', ')}, ...)`}`,
    `- compared: ${diff?.compared ?? 0} behaviours (${report.probes.length} first hops per side plus image digests) in ${(report.durationMs / 1000).toFixed(1)} s`,
    `- judged by: registry-canary ${report.versions.harness}`,
    '',
    '## Verdict',
    '',
    ...verdict.reasons.map((r) => `- ${r}`),
  ];
  const unmatched = report.unmatchedAccepts;
  if (unmatched.length > 0) {
    out.push('', `## WARNING: --accept patterns that matched nothing (${unmatched.length})`, '');
    out.push(...unmatched.map((g) => `- \`${g}\`: no difference has an id it matches; remove it, or fix the pattern`));
  }
  if (diff) {
    const blocking = diff.differences.filter((d) => !d.accepted);
    out.push(
      '',
      `## Behavioural differences (${blocking.length}${diff.differences.length > blocking.length ? `, plus ${diff.differences.length - blocking.length} accepted` : ''})`,
      '',
    );
    if (diff.differences.length === 0)
      out.push("None: every probe got the same answer, in each environment's own terms.");
    else
      out.push(
        '| id | request | what differs | candidate | baseline |',
        '|---|---|---|---|---|',
        ...differenceRows(diff.differences),
      );
    out.push(
      '',
      `## Declared differences (${diff.declared.length})`,
      '',
      'What the two descriptions configure differently; not a verdict by itself.',
      '',
    );
    if (diff.declared.length === 0) out.push('None.');
    else
      out.push(
        '| field | candidate | baseline |',
        '|---|---|---|',
        ...diff.declared.map((d) => `| ${md(d.field)} | ${md(d.candidate)} | ${md(d.baseline)} |`),
      );
    const { candidateOnly, baselineOnly } = diff.hostnames;
    out.push('', '## Hostnames clients are sent to', '');
    if (candidateOnly.length + baselineOnly.length === 0)
      out.push('No change (loopback hosts of local stacks are not counted).');
    else {
      if (candidateOnly.length > 0)
        out.push(`- user impact, new on the candidate (allowlists need them): ${candidateOnly.join(', ')}`);
      if (baselineOnly.length > 0) out.push(`- no longer used by the candidate: ${baselineOnly.join(', ')}`);
    }
  }
  const regressions = report.regressions;
  if (report.candidate.suites || report.baseline.suites) {
    out.push('', `## Suites (${regressions.length} regression${regressions.length === 1 ? '' : 's'})`, '');
    for (const s of [report.candidate, report.baseline])
      if (s.suites)
        out.push(
          `- ${s.role} ${s.name}: exit ${s.suites.verdict.exitCode}: ${s.suites.verdict.reason}${s.suites.reportDir ? ` (report: ${join(s.suites.reportDir, 'index.html')})` : ''}`,
        );
    for (const r of regressions)
      out.push(
        `- regression: ${r.id}: ${r.status}${r.failureClass ? ` ${r.failureClass}` : ''}${r.message ? `: ${md(r.message)}` : ''}`,
      );
  }
  out.push(
    '',
    `Timings: ${Object.entries(report.timings)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
      .join(', ')}.`,
    '',
  );
  return out.join('\n');
}

const h = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function gateHtml(report: GateReport, gateDir?: string): string {
  const { verdict, diff } = report;
  const unmatched = report.unmatchedAccepts;
  const regressions = report.regressions;
  const suiteItems = [report.candidate, report.baseline]
    .filter((s) => s.suites)
    .map((s) => {
      const link = sideReportLink(s.suites!.reportDir, gateDir);
      const a = link ? ` (<a href="${h(link)}">${s.role}'s report</a>)` : '';
      const v = s.suites!.verdict;
      return `<li data-role="${s.role}">${s.role} ${h(s.name)}: exit ${v.exitCode}: ${h(v.reason)}${a}</li>`;
    });
  const regressionItems = regressions.map((r) => {
    const cls = r.failureClass ? ` ${h(r.failureClass)}` : '';
    const why = r.message ? `: ${h(r.message)}` : '';
    return `<li class="regression">regression: <code>${h(r.id)}</code>: ${h(r.status)}${cls}${why}</li>`;
  });
  const plural = regressions.length === 1 ? '' : 's';
  const suitesSection =
    report.candidate.suites || report.baseline.suites
      ? `<h2>Suites (${regressions.length} regression${plural})</h2>\n` +
        `<ul id="gate-suites">${[...suiteItems, ...regressionItems].join('')}</ul>`
      : '';
  const unmatchedItems = unmatched.map(
    (g) => `<li><code>${h(g)}</code>: no difference has an id it matches; remove it, or fix the pattern</li>`,
  );
  const acceptSection =
    unmatched.length > 0
      ? `<section id="gate-unmatched-accepts" class="warning">` +
        `<h2>Warning: --accept patterns that matched nothing (${unmatched.length})</h2>` +
        `<ul>${unmatchedItems.join('')}</ul></section>`
      : '';
  const colour = verdict.decision === 'promote' ? '#1a7f37' : verdict.decision === 'block' ? '#cf222e' : '#9a6700';
  const rows = (diff?.differences ?? [])
    .map(
      (d) =>
        `<tr data-id="${h(d.id)}" data-kind="${h(d.kind)}" data-vantage="${h(d.vantage ?? '')}"${d.accepted ? ' class="accepted"' : ''}><td>${h(d.id)}</td><td><code>${h(d.request ? `${d.request.method} ${d.request.path}` : d.kind)}</code></td><td>${h(d.changes.map((c) => c.field).join(', '))}</td><td>${h(d.candidate)}</td><td>${h(d.baseline)}</td></tr>`,
    )
    .join('\n');
  const declared = (diff?.declared ?? [])
    .map((d) => `<tr><td>${h(d.field)}</td><td>${h(d.candidate)}</td><td>${h(d.baseline)}</td></tr>`)
    .join('\n');
  const newHosts = diff?.hostnames.candidateOnly ?? [];
  const goneHosts = diff?.hostnames.baselineOnly ?? [];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gate ${h(report.candidate.name)} → ${h(report.baseline.name)}: ${DECISION_TEXT[verdict.decision]}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1f2328}
#gate-verdict{border-left:6px solid ${colour};padding:.5em 1em;background:#f6f8fa}
#gate-verdict h1{color:${colour};margin:.2em 0}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:.25em .5em;text-align:left;vertical-align:top}
#gate-differences{table-layout:fixed;width:100%}#gate-differences td{overflow-wrap:anywhere;word-break:break-word}
#gate-differences col.id{width:18%}#gate-differences col.request{width:22%}#gate-differences col.what{width:10%}
#gate-differences col.side{width:25%}
tr.accepted{color:#57606a}code{font-size:12px}.warning{border-left:6px solid #9a6700;padding:.2em 1em;background:#fff8c5}
</style></head><body>
<section id="gate-verdict" data-decision="${verdict.decision}" data-exit-code="${verdict.exitCode}">
<h1>${DECISION_TEXT[verdict.decision]}: ${h(report.candidate.name)} → ${h(report.baseline.name)} (exit ${verdict.exitCode})</h1>
<ul>${verdict.reasons.map((r) => `<li>${h(r)}</li>`).join('')}</ul>
</section>
${acceptSection}
<p>candidate: ${h(sideLine(report.candidate))}<br>baseline: ${h(sideLine(report.baseline))}<br>vantages: ${h(report.vantages.join(', '))}<br>compared: ${diff?.compared ?? 0} behaviours in ${(report.durationMs / 1000).toFixed(1)} s<br>judged by: registry-canary ${h(report.versions.harness)}</p>
<h2>Behavioural differences (${diff?.differences.length ?? 0})</h2>
<table id="gate-differences"><colgroup><col class="id"><col class="request"><col class="what"><col class="side"><col class="side"></colgroup><thead><tr><th>id</th><th>request</th><th>what differs</th><th>candidate</th><th>baseline</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Declared differences (${diff?.declared.length ?? 0})</h2>
<table id="gate-declared"><thead><tr><th>field</th><th>candidate</th><th>baseline</th></tr></thead><tbody>
${declared}
</tbody></table>
<h2>Hostnames</h2>
<p id="gate-hostnames">${newHosts.length ? `New on the candidate (allowlists need them): ${h(newHosts.join(', '))}. ` : ''}${goneHosts.length ? `No longer used: ${h(goneHosts.join(', '))}.` : ''}${newHosts.length + goneHosts.length === 0 ? 'No change.' : ''}</p>
${suitesSection}
${
  Object.keys(report.timings).length > 0
    ? `<p class="muted">Timings: ${h(
        Object.entries(report.timings)
          .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
          .join(', '),
      )}.</p>`
    : ''
}
</body></html>
`;
}

const attr = (name: string, value: string | number) => ` ${name}="${xmlEscape(String(value))}"`;

export function gateJunitXml(report: GateReport): string {
  const cases: string[] = [];
  const diffs = new Map((report.diff?.differences ?? []).map((d) => [d.id, d]));
  let failures = 0;
  let skipped = 0;
  const ids = [
    ...report.probes.map((p) => p.id),
    ...Object.keys(report.candidate.fingerprint?.digests ?? {}).map((r) => `digest:${r}`),
  ];
  for (const id of ids) {
    const d = diffs.get(id);
    const p = report.probes.find((x) => x.id === id);
    const c = report.candidate.fingerprint?.firstHops[id];
    const b = report.baseline.fingerprint?.firstHops[id];
    let body = '';
    if (d && !d.accepted) {
      failures++;
      body = `      <failure${attr('message', `${d.changes.map((x) => `${x.field}: ${x.candidate} vs ${x.baseline}`).join('; ')}`)}${attr('type', 'behaviour')}>${xmlEscape(`candidate: ${d.candidate}\nbaseline: ${d.baseline}`)}</failure>\n`;
    } else if (d?.accepted) {
      skipped++;
      body = `      <skipped${attr('message', `accepted difference (${d.accepted}): candidate ${d.candidate}; baseline ${d.baseline}`)}/>\n`;
    } else if (p) {
      body = `      <system-out>${xmlEscape(`${p.method} ${p.path}\ncandidate: ${describeHop(c)}\nbaseline: ${describeHop(b)}`)}</system-out>\n`;
    }
    cases.push(
      `    <testcase${attr('classname', 'registry-canary.gate.fingerprint')}${attr('name', id)}${attr('time', '0')}>\n${body}    </testcase>`,
    );
  }
  for (const side of [report.candidate, report.baseline]) {
    const v = side.suites?.verdict;
    if (!v) continue;
    const red = v.exitCode !== 0;
    if (red) failures++;
    cases.push(
      `    <testcase${attr('classname', 'registry-canary.gate.suites')}${attr('name', `${side.role} ${side.name}`)}${attr('time', '0')}>\n${red ? `      <failure${attr('message', `exit ${v.exitCode}: ${v.reason}`)}${attr('type', 'suites')}/>\n` : ''}    </testcase>`,
    );
  }
  const verdictRed = report.verdict.exitCode !== 0;
  if (verdictRed) failures++;
  cases.push(
    `    <testcase${attr('classname', 'registry-canary.gate')}${attr('name', 'verdict')}${attr('time', (report.durationMs / 1000).toFixed(3))}>\n${verdictRed ? `      <failure${attr('message', `${DECISION_TEXT[report.verdict.decision]}: ${report.verdict.reasons[0] ?? ''}`)}${attr('type', report.verdict.decision)}>${xmlEscape(report.verdict.reasons.join('\n'))}</failure>\n` : ''}    </testcase>`,
  );
  const name = `registry-canary gate ${report.candidate.name} vs ${report.baseline.name}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attr('name', name)}${attr('tests', cases.length)}${attr('failures', failures)}${attr('errors', 0)}${attr('skipped', skipped)}${attr('time', (report.durationMs / 1000).toFixed(3))}>`,
    `  <testsuite${attr('name', 'gate')}${attr('tests', cases.length)}${attr('failures', failures)}${attr('errors', 0)}${attr('skipped', skipped)}${attr('time', (report.durationMs / 1000).toFixed(3))}${attr('timestamp', report.startedAt)}>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export async function writeGateReports(report: GateReport, dir: string): Promise<WrittenGateReports> {
  await mkdir(dir, { recursive: true });
  const files = {
    gateJson: join(dir, 'gate.json'),
    gateMd: join(dir, 'gate.md'),
    gateHtml: join(dir, 'gate.html'),
    junitXml: join(dir, 'junit.xml'),
  };
  await Promise.all([
    writeFile(files.gateJson, gateJson(report)),
    writeFile(files.gateMd, gateMarkdown(report)),
    writeFile(files.gateHtml, gateHtml(report, dir)),
    writeFile(files.junitXml, gateJunitXml(report)),
  ]);
  return { dir, ...files };
}

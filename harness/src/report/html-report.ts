/**
 * index.html: one self-contained page (inline CSS, no scripts, no external assets, so it opens from a CI artifact
 * store or a laptop alike). It leads with the verdict, then the routing map (vantage × request kind, coloured by
 * where the first hop went, wrong cells outlined with what was expected), then the failures with their hop traces,
 * known issues, not-applicable reasons, timings, and the redacted target.
 *
 * Stable hooks for the browser suite: `#verdict[data-exit-code]`, `table#routing-map`, and cells
 * `td.cell[data-vantage][data-kind][data-status][data-destination]`.
 */
import type { CheckResult, FailureClass } from '../results/check.js';
import { FAILURE_CLASSES, isRed, type RunReport } from '../results/run-report.js';
import { formatTrace } from './hop-trace.js';
import { cellKey, destinationOf, routingMap, type RoutingMapCell } from './routing-map.js';

export function htmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
const e = htmlEscape;
const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`);

const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1400px;margin:0 auto;padding:24px}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 10px;border-bottom:1px solid var(--line);padding-bottom:6px}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;white-space:pre-wrap;word-break:break-all}
.verdict{border-radius:8px;padding:16px 20px;color:#fff;margin-bottom:16px}.verdict.ok{background:var(--ok)}.verdict.bad{background:var(--bad)}.verdict .big{font-size:20px;font-weight:600}
.meta{color:var(--muted)}.pills span{display:inline-block;border-radius:12px;padding:2px 10px;margin:4px 6px 0 0;background:var(--bg);border:1px solid var(--line)}
.pills .pass{border-color:var(--ok);color:var(--ok)}.pills .fail,.pills .error{border-color:var(--bad);color:var(--bad)}.pills .known{border-color:var(--warn);color:var(--warn)}
table{border-collapse:collapse}th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}th{background:var(--bg);font-weight:600}
#routing-map{font-size:12px}#routing-map th.kind{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;height:180px;vertical-align:bottom}
#routing-map td.cell{min-width:92px;text-align:center;white-space:nowrap}#routing-map td.vantage{white-space:nowrap}
.d-regional-bucket{background:#dafbe1}.d-default-bucket{background:#c8f0ec}.d-upstream{background:#ddf4ff}.d-signature-upstream{background:#fbefff}
.d-info,.d-privacy{background:#f6f8fa}.d-answer{background:#fff8c5}.d-other{background:#ffebe9}.d-none{background:#eee}
td.cell.s-fail,td.cell.s-error{outline:3px solid var(--bad);outline-offset:-3px;font-weight:600}td.cell.s-known-failure{outline:3px dashed var(--warn);outline-offset:-3px}
td.cell.s-not-applicable,td.cell.s-skip,td.cell.s-missing{background:repeating-linear-gradient(45deg,#f6f8fa,#f6f8fa 4px,#fff 4px,#fff 8px);color:var(--muted)}
td.cell small{display:block;color:var(--bad);font-weight:400}.legend span{display:inline-block;padding:2px 8px;margin:2px;border:1px solid var(--line);border-radius:4px}
details{margin:6px 0;border:1px solid var(--line);border-radius:6px;padding:6px 10px}details>summary{cursor:pointer}details.fail>summary,details.error>summary{color:var(--bad)}
.cls{font-size:12px;border-radius:4px;padding:1px 6px;background:#ffebe9;color:var(--bad);margin-right:6px}
.bar{height:10px;background:#54aeff;border-radius:2px;min-width:1px}.bar.red{background:#ff8182}.timeline{position:relative;height:12px;background:var(--bg)}.timeline .bar{position:absolute;top:1px}
.muted{color:var(--muted)}
`;

function statusPill(report: RunReport): string {
  const c = report.counts.byStatus;
  return `<div class="pills"><span class="pass">${c.pass} passed</span><span class="fail">${c.fail} failed</span><span class="error">${c.error} errors</span><span class="known">${c['known-failure']} known failures</span><span>${c['not-applicable'] + c.skip} not applicable</span><span>${report.counts.total} checks</span></div>`;
}

function mapCell(vantage: string, kind: string, cell: RoutingMapCell | undefined): string {
  if (!cell)
    return `<td class="cell s-missing" data-vantage="${e(vantage)}" data-kind="${e(kind)}" data-status="missing">·</td>`;
  const r = cell.result;
  const shown = cell.actual ?? cell.expected;
  const dest = shown?.kind ?? 'none';
  let text: string;
  if (r.status === 'not-applicable' || r.status === 'skip') text = 'n/a';
  else if (shown) text = shown.label;
  else text = r.status;
  const wrong =
    (r.status === 'fail' || r.status === 'error' || r.status === 'known-failure') &&
    cell.expected &&
    cell.actual?.label !== cell.expected.label;
  const expectLine = wrong ? `<small>expected ${e(cell.expected!.label)}</small>` : '';
  const title = [
    r.id,
    r.status,
    cell.evidence ? `${cell.evidence.request.method} ${cell.evidence.request.path}` : '',
    cell.evidence
      ? `expected ${cell.evidence.expected.status} ${cell.evidence.expected.location ?? ''} (${cell.evidence.expected.reason})`
      : '',
    cell.evidence?.actual ? `got ${cell.evidence.actual.status} ${cell.evidence.actual.location ?? ''}` : '',
    r.status === 'pass' ? '' : (r.message ?? ''),
  ]
    .filter(Boolean)
    .join('\n');
  return `<td class="cell d-${dest} s-${r.status}" data-vantage="${e(vantage)}" data-kind="${e(kind)}" data-status="${r.status}" data-destination="${e(shown?.label ?? '')}" title="${e(title)}">${e(text)}${expectLine}</td>`;
}

/** GLOBAL-shadowed addresses get their own table: what the declared semantics gave, and what the other would have. */
function shadowedTable(report: RunReport, cells: RoutingMapCell[]): string {
  if (cells.length === 0) return '';
  const rows = cells.map((c) => {
    const ip = c.evidence?.request.xff?.split(',').slice(-2, -1)[0] ?? '';
    const other = Object.entries(c.result.details ?? {}).find(([k]) => k.startsWith('under '));
    const otherDest =
      other && typeof other[1] === 'string'
        ? destinationOf(report.target, 307, other[1]).label
        : other
          ? String(other[1])
          : '';
    return `<tr><td><b>${e(c.evidence?.vantage ?? c.result.vantage ?? '')}</b><br><span class="muted">${e(ip)}</span></td>${mapCell(c.evidence?.vantage ?? '', 'shadowed-prefix', c)}<td>${e(other?.[0] ?? '')}: ${e(otherDest)}</td></tr>`;
  });
  return `<h3>GLOBAL-shadowed prefixes (${e(report.target.semantics)} semantics)</h3>
<table><tr><th>address</th><th>first hop</th><th>the other semantics would give</th></tr>${rows.join('')}</table>`;
}

function routingSection(report: RunReport): string {
  const full = routingMap(report);
  const shadowed = [...full.cells.values()].filter(
    (c) => (c.evidence?.kind ?? /^routing\/([^@]+)@/.exec(c.result.id)?.[1]) === 'shadowed-prefix',
  );
  const kinds = full.kinds.filter((k) => k !== 'shadowed-prefix');
  const vantages = full.vantages.filter((v) => kinds.some((k) => full.cells.has(cellKey(v, k))));
  const map = { ...full, kinds, vantages };
  if (map.vantages.length === 0 && shadowed.length === 0) return '';
  const info = new Map(report.target.vantages.map((v) => [v.name, v]));
  const head = `<tr><th>vantage</th>${map.kinds.map((k) => `<th class="kind">${e(k)}</th>`).join('')}</tr>`;
  const rows = map.vantages.map((name) => {
    const v = info.get(name);
    const who = v
      ? `<br><span class="muted">${e(v.cloud ?? 'internet')}${v.region ? ` ${e(v.region)}` : ''} · ${e(v.ip)}</span>`
      : '';
    return `<tr><td class="vantage"><b>${e(name)}</b>${who}</td>${map.kinds.map((k) => mapCell(name, k, map.cells.get(cellKey(name, k)))).join('')}</tr>`;
  });
  const legend = [
    ['regional-bucket', 'regional bucket'],
    ['default-bucket', 'default bucket'],
    ['upstream', 'upstream'],
    ['signature-upstream', 'signature upstream'],
    ['info', 'info/privacy page'],
    ['answer', 'answered directly (200/404/…)'],
    ['other', 'somewhere else'],
  ]
    .map(([k, l]) => `<span class="d-${k}">${l}</span>`)
    .join('');
  return `<h2>Routing map: where each vantage's first hop went</h2>
<p class="muted">Each cell is the first hop's destination for that request kind from that vantage. A red outline is a cell that differs from the routing oracle (the expected destination is written under it); a dashed outline is a known issue; hatched cells were not applicable to this target (hover for the reason).</p>
<div class="legend">${legend}</div>
<div style="overflow:auto"><table id="routing-map">${head}${rows.join('')}</table></div>
${shadowedTable(report, shadowed)}`;
}

function resultDetails(r: CheckResult, open: boolean): string {
  const cls = r.failureClass ? `<span class="cls">${e(r.failureClass)}</span>` : '';
  const known = r.knownIssue
    ? `<p>Known issue: <a href="${e(r.knownIssue)}">${e(r.knownIssue)}</a> ${e(r.knownIssueReason ?? '')}</p>`
    : '';
  return `<details class="${r.status}"${open ? ' open' : ''}><summary>${cls}<code>${e(r.id)}</code> <span class="muted">${ms(r.durationMs)}</span></summary>
<p>${e(r.title)}<br><span class="muted">rule: ${e(r.rule)}${r.vantage ? ` · vantage ${e(r.vantage)}` : ''}</span></p>${known}
<pre>${e(r.message ?? '')}</pre>
<pre>${e(formatTrace(r.hops))}</pre>
</details>`;
}

function failuresSection(report: RunReport): string {
  const red = report.results.filter((r) => isRed(r.status));
  if (red.length === 0) return '<h2>Failures</h2><p>None.</p>';
  const parts = FAILURE_CLASSES.map((c: FailureClass) => {
    const group = red.filter((r) => (r.failureClass ?? 'harness') === c);
    if (group.length === 0) return '';
    return `<h3>${e(c)} (${group.length})</h3>${group.map((r, i) => resultDetails(r, i < 10)).join('')}`;
  });
  return `<h2>Failures (${red.length})</h2>${parts.join('')}`;
}

function knownSection(report: RunReport): string {
  const known = report.results.filter((r) => r.status === 'known-failure');
  const fixed = report.results.filter((r) => r.fixedKnownIssue);
  if (known.length === 0 && fixed.length === 0) return '';
  const fixedList = fixed.length
    ? `<p><b>Fixed</b> (these checks pass now; remove their known-issue entries):</p><ul>${fixed.map((r) => `<li><code>${e(r.id)}</code>: <a href="${e(r.fixedKnownIssue!)}">${e(r.fixedKnownIssue!)}</a></li>`).join('')}</ul>`
    : '';
  return `<h2>Known issues (${known.length} reproduced, ${fixed.length} fixed)</h2>${known.map((r) => resultDetails(r, false)).join('')}${fixedList}`;
}

function naSection(report: RunReport): string {
  const na = report.results.filter((r) => r.status === 'not-applicable' || r.status === 'skip');
  if (na.length === 0) return '';
  const groups = new Map<string, CheckResult[]>();
  for (const r of na) groups.set(r.message ?? '', [...(groups.get(r.message ?? '') ?? []), r]);
  const rows = [...groups].map(
    ([reason, rs]) =>
      `<tr><td>${rs.length}</td><td>${e(reason)}<details><summary>checks</summary><code>${rs.map((r) => e(r.id)).join('<br>')}</code></details></td></tr>`,
  );
  return `<h2>Not applicable to this target (${na.length})</h2><table><tr><th>checks</th><th>reason</th></tr>${rows.join('')}</table>`;
}

function timingSection(report: RunReport): string {
  const total = Math.max(1, report.durationMs);
  const bySuite = new Map<string, CheckResult[]>();
  for (const r of report.results) bySuite.set(r.suite, [...(bySuite.get(r.suite) ?? []), r]);
  const suiteRows = [...bySuite].map(([suite, rs]) => {
    const starts = rs.map((r) => r.startMs ?? 0);
    const ends = rs.map((r) => (r.startMs ?? 0) + r.durationMs);
    const from = Math.min(...starts);
    const to = Math.max(...ends);
    const left = (from / total) * 100;
    const width = Math.max(0.2, ((to - from) / total) * 100);
    return `<tr><td>${e(suite)}</td><td>${rs.length}</td><td>${ms(to - from)}</td><td>${ms(rs.reduce((a, r) => a + r.durationMs, 0))}</td><td style="width:50%"><div class="timeline"><div class="bar" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></div></div></td></tr>`;
  });
  const slowest = [...report.results].sort((a, b) => b.durationMs - a.durationMs).slice(0, 15);
  const max = Math.max(1, ...slowest.map((r) => r.durationMs));
  const slowRows = slowest.map(
    (r) =>
      `<tr><td><code>${e(r.id)}</code></td><td>${ms(r.durationMs)}</td><td style="width:40%"><div class="bar${isRed(r.status) ? ' red' : ''}" style="width:${((r.durationMs / max) * 100).toFixed(1)}%"></div></td></tr>`,
  );
  return `<h2>Timings</h2><p class="muted">Run wall time ${ms(report.durationMs)} at concurrency ${report.options.concurrency}, per-check deadline ${ms(report.options.checkTimeoutMs)}.</p>
<table><tr><th>suite</th><th>checks</th><th>wall</th><th>sum of checks</th><th>span within the run</th></tr>${suiteRows.join('')}</table>
<h3>Slowest checks</h3><table>${slowRows.join('')}</table>`;
}

/**
 * Reports a check attached (`details.reportLinks`: `{ label, href }`, href relative to the report directory), e.g.
 * the official conformance program's own report: listed once each, with the suites that attached them.
 */
export function attachedReports(report: RunReport): { label: string; href: string; suites: string[] }[] {
  const out: { label: string; href: string; suites: string[] }[] = [];
  for (const r of report.results) {
    const links = r.details?.reportLinks;
    if (!Array.isArray(links)) continue;
    for (const l of links as unknown[]) {
      const { label, href } = (l ?? {}) as { label?: unknown; href?: unknown };
      if (typeof label !== 'string' || typeof href !== 'string') continue;
      if (/^[a-z]+:/i.test(href) || href.startsWith('/')) continue;
      const known = out.find((x) => x.href === href);
      if (known) {
        if (!known.suites.includes(r.suite)) known.suites.push(r.suite);
      } else {
        out.push({ label, href, suites: [r.suite] });
      }
    }
  }
  return out;
}

function attachedSection(report: RunReport): string {
  const links = attachedReports(report);
  if (links.length === 0) return '';
  const items = links.map(
    (l) =>
      `<li><a class="attached-report" href="${e(l.href)}">${e(l.label)}</a> ` +
      `<span class="muted">(${e(l.suites.join(', '))})</span></li>`,
  );
  return `<h2>Attached reports</h2><ul>${items.join('')}</ul>`;
}

function preflightSection(report: RunReport): string {
  const p = report.preflight;
  if (!p) return '';
  const rows = p.vantages.map(
    (v) =>
      `<tr><td>${e(v.vantage)}</td><td>${v.ok ? '✓' : '✗'}</td><td>${e(v.message ?? String(v.status ?? ''))}</td></tr>`,
  );
  return `<details${p.reachable ? '' : ' open'}><summary>Preflight: GET /v2/ ${p.reachable ? 'answered' : 'failed from every vantage'}</summary><table>${rows.join('')}</table></details>`;
}

export function htmlReport(report: RunReport): string {
  const t = report.target;
  const ok = report.verdict.exitCode === 0;
  const all = report.results
    .map(
      (r) =>
        `<tr><td><code>${e(r.id)}</code></td><td>${e(r.status)}</td><td>${e(r.failureClass ?? '')}</td><td>${ms(r.durationMs)}</td><td>${e(r.rule)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>registry-canary: ${e(t.name)} ${ok ? 'green' : 'red'}</title><style>${CSS}</style></head>
<body><main>
<div id="verdict" class="verdict ${ok ? 'ok' : 'bad'}" data-exit-code="${report.verdict.exitCode}"><div class="big">${ok ? '✓' : '✗'} ${e(t.name)}: exit ${report.verdict.exitCode}</div>${e(report.verdict.reason)}</div>
<h1>registry-canary run against ${e(t.name)}</h1>
<div class="meta"><code>${e(t.url)}</code> · IP mode ${e(t.ipMode)} · ${e(t.semantics)} semantics · suites ${e(report.suites.join(', '))} · started ${e(report.startedAt)} · ${ms(report.durationMs)}${report.versions ? ` · registry-canary ${e(report.versions.harness)}, redirector ${e(report.versions.redirector ?? 'version not reported')}` : ''}</div>
${statusPill(report)}
${preflightSection(report)}
${routingSection(report)}
${failuresSection(report)}
${attachedSection(report)}
${knownSection(report)}
${naSection(report)}
${timingSection(report)}
<h2>Every check</h2><details><summary>${report.results.length} checks</summary><table><tr><th>check</th><th>status</th><th>class</th><th>time</th><th>rule</th></tr>${all}</table></details>
<h2>Target</h2><details><summary>target description (secrets redacted)</summary><pre>${e(JSON.stringify(t, null, 2))}</pre></details>
</main></body></html>
`;
}

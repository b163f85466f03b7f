/**
 * junit.xml for TestGrid (and any CI that reads JUnit): one <testsuite> per suite, one <testcase> per check.
 * fail → <failure>, error → <error> (TestGrid shows both red), known-failure and not-applicable → <skipped> with the
 * link or reason, so neither is green-washed into a pass nor turns the grid red. The hop trace goes to <system-out>,
 * which TestGrid and Spyglass show beside the test.
 */
import type { CheckResult } from '../results/check.js';
import type { RunReport } from '../results/run-report.js';
import { formatTrace } from './hop-trace.js';

// XML 1.0 forbids most C0 controls even as character references; drop them.
// the control characters in this pattern are what it looks for
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function xmlEscape(s: string): string {
  return s
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);
const attr = (name: string, value: string | number) => ` ${name}="${xmlEscape(String(value))}"`;

function testcase(r: CheckResult): string {
  const open = `    <testcase${attr('classname', `registry-canary.${r.suite}`)}${attr('name', r.id)}${attr('time', seconds(r.durationMs))}>`;
  const body: string[] = [];
  const trace = formatTrace(r.hops);
  const message = (r.message ?? '').split('\n')[0] ?? '';
  const described = `${r.title}\nrule: ${r.rule}${r.vantage ? `\nvantage: ${r.vantage}` : ''}`;
  switch (r.status) {
    case 'fail':
      body.push(
        `      <failure${attr('message', message)}${attr('type', r.failureClass ?? 'harness')}>${xmlEscape(`${r.message ?? ''}\n\n${described}\n\n${trace}`)}</failure>`,
      );
      break;
    case 'error':
      body.push(
        `      <error${attr('message', message)}${attr('type', r.failureClass ?? 'harness')}>${xmlEscape(`${r.message ?? ''}\n\n${described}\n\n${trace}`)}</error>`,
      );
      break;
    case 'known-failure':
      body.push(
        `      <skipped${attr('message', `known issue ${r.knownIssue ?? ''}: ${r.knownIssueReason ?? ''} (${message})`)}/>`,
      );
      break;
    case 'not-applicable':
    case 'skip':
    case 'unknown':
      body.push(`      <skipped${attr('message', `not applicable: ${message}`)}/>`);
      break;
    case 'pass':
      break;
  }
  if (r.hops.length > 0 || r.status === 'pass')
    body.push(
      `      <system-out>${xmlEscape(`${described}\n${r.fixedKnownIssue ? `fixed known issue: ${r.fixedKnownIssue}\n` : ''}\n${trace}`)}</system-out>`,
    );
  return `${open}\n${body.join('\n')}${body.length ? '\n' : ''}    </testcase>`;
}

export function junitXml(report: RunReport): string {
  const suites = new Map<string, CheckResult[]>();
  for (const name of report.suites) suites.set(name, []);
  for (const r of report.results) suites.set(r.suite, [...(suites.get(r.suite) ?? []), r]);
  const tally = (rs: readonly CheckResult[]) => ({
    tests: rs.length,
    failures: rs.filter((r) => r.status === 'fail').length,
    errors: rs.filter((r) => r.status === 'error').length,
    skipped: rs.filter((r) => r.status !== 'pass' && r.status !== 'fail' && r.status !== 'error').length,
    time: seconds(rs.reduce((a, r) => a + r.durationMs, 0)),
  });
  const all = tally(report.results);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attr('name', `registry-canary ${report.target.name}`)}${attr('tests', all.tests)}${attr('failures', all.failures)}${attr('errors', all.errors)}${attr('skipped', all.skipped)}${attr('time', seconds(report.durationMs))}>`,
  ];
  for (const [name, rs] of suites) {
    const t = tally(rs);
    lines.push(
      `  <testsuite${attr('name', name)}${attr('tests', t.tests)}${attr('failures', t.failures)}${attr('errors', t.errors)}${attr('skipped', t.skipped)}${attr('time', t.time)}${attr('timestamp', report.startedAt)}>`,
      '    <properties>',
      `      <property${attr('name', 'target')}${attr('value', report.target.name)}/>`,
      `      <property${attr('name', 'target.url')}${attr('value', report.target.url)}/>`,
      `      <property${attr('name', 'ipMode')}${attr('value', report.target.ipMode)}/>`,
      `      <property${attr('name', 'semantics')}${attr('value', report.target.semantics)}/>`,
      `      <property${attr('name', 'verdict')}${attr('value', `exit ${report.verdict.exitCode}: ${report.verdict.reason}`)}/>`,
      '    </properties>',
      ...rs.map(testcase),
      '  </testsuite>',
    );
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

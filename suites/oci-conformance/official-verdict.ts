/**
 * The official program's verdict on one test, as the outcome of one check: a pure function over the test cases the
 * program reported through the redirector and, when it was run there too, directly against the upstream.
 *
 * - every case passed (or some were skipped by the program as unsupported and the rest passed): pass;
 * - a case failed: fail, class conformance, with the program's own messages; unless the upstream asked directly
 *   fails the same test too, in which case the redirector passed on what it was given: not applicable with both
 *   answers (the conformance suite's upstream differential, docs/suites.md);
 * - a case ended in the program's internal error: error;
 * - every case skipped or disabled: not applicable, with the program's reason;
 * - no case at all: not applicable, with why the program ran none (or the group's problem when it crashed: error).
 */
import type { ProgramTestCase } from '../../harness/src/index.js';

export type Verdict =
  | { status: 'pass'; summary: string }
  | { status: 'fail'; message: string }
  | { status: 'error'; message: string }
  | { status: 'not-applicable'; reason: string };

export interface VerdictInput {
  /** cases of this test through the redirector */
  redirector: readonly ProgramTestCase[];
  /** cases of this test against the upstream directly; null when the upstream was not run */
  upstream: readonly ProgramTestCase[] | null;
  /** why the program runs no such test against this target (from the test list) */
  notRun?: string;
  /** the redirector run of this test's group wrote no results: why */
  groupProblem?: string;
}

const MAX_MESSAGE = 3000;

/** The program's reason for skipping: its errors, else the line after "skipping test:" in its output. */
export function skipReason(c: ProgramTestCase): string {
  const errors = c.errors.trim();
  if (errors) return errors.split('\n')[0]!.trim();
  const m = /skipping test:\s*\n?\s*(.+)/.exec(c.output);
  return m ? m[1]!.trim() : 'skipped by the program';
}

function clip(s: string): string {
  return s.length <= MAX_MESSAGE
    ? s
    : `${s.slice(0, MAX_MESSAGE)}… (${s.length - MAX_MESSAGE} more characters; see the program's report)`;
}

function failureText(cases: readonly ProgramTestCase[]): string {
  return cases
    .filter((c) => c.status === 'failure' || c.status === 'error')
    .map((c) => c.errors.trim() || `${c.status} (no message)`)
    .join('\n');
}

function counts(cases: readonly ProgramTestCase[]): string {
  const n = (s: ProgramTestCase['status']) => cases.filter((c) => c.status === s).length;
  const parts = [`${n('passed')} passed`];
  if (n('skipped')) parts.push(`${n('skipped')} skipped`);
  return `${parts.join(', ')} of ${cases.length}`;
}

/**
 * What a test case ran on: the object of the first request it made (`blobs/<digest>`, `manifests/<ref>`,
 * `tags/list`, `referrers/<digest>`), read from the request dump in its output; '' when it made none. The program
 * walks its inputs in map order, so cases of two runs are matched by this, never by position.
 */
export function inputKey(c: ProgramTestCase): string {
  const url = /^URL: (\S+)/m.exec(c.output)?.[1] ?? '';
  const m = /\/(blobs|manifests|tags|referrers)\/([^?#\s]*)/.exec(url);
  return m ? `${m[1]}/${m[2]}` : '';
}

export function officialVerdict(input: VerdictInput): Verdict {
  const cases = input.redirector;
  if (cases.length === 0) {
    if (input.groupProblem) return { status: 'error', message: clip(input.groupProblem) };
    return {
      status: 'not-applicable',
      reason: input.notRun ?? 'the official program ran no such test against this target',
    };
  }
  if (cases.some((c) => c.status === 'error')) {
    return { status: 'error', message: clip(`the official program ended in its own error:\n${failureText(cases)}`) };
  }
  if (cases.some((c) => c.status === 'failure')) {
    const through = failureText(cases);
    // blamed on the upstream only when the upstream fails the very same input (the same blob, manifest, tag ...)
    const upstreamFailing = new Set((input.upstream ?? []).filter((c) => c.status === 'failure').map(inputKey));
    const upstreamFails = cases.filter((c) => c.status === 'failure').every((c) => upstreamFailing.has(inputKey(c)));
    if (upstreamFails) {
      return {
        status: 'not-applicable',
        reason: clip(
          'the upstream asked directly fails this test too, so the redirector is not to blame.\n' +
            `through the redirector:\n${through}\nupstream directly:\n${failureText(input.upstream!)}`,
        ),
      };
    }
    const upstreamNote =
      input.upstream === null
        ? ''
        : input.upstream.length === 0
          ? '\n(the upstream run has no such test)'
          : `\n(the upstream asked directly: ${counts(input.upstream)})`;
    return { status: 'fail', message: clip(`${through}${upstreamNote}`) };
  }
  if (cases.every((c) => c.status === 'skipped')) {
    const reasons = [...new Set(cases.map(skipReason))];
    return { status: 'not-applicable', reason: clip(`skipped by the official program: ${reasons.join('; ')}`) };
  }
  return { status: 'pass', summary: counts(cases) };
}

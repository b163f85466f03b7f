/**
 * Progress while a run is under way, on stderr (stdout is kept for `--json`). On a terminal one live line is
 * rewritten after every finished check, and anything that is not a pass is printed above it for good; elsewhere
 * (CI logs) each finished check gets one plain line, so a log reader sees the order things finished in.
 */
import type { CheckResult, Status } from '../results/check.js';

export interface ProgressSink {
  start(total: number): void;
  finished(result: CheckResult, done: number, total: number): void;
  /** free text from the runner (preflight, aborts) */
  note(message: string): void;
  end(): void;
}

export const silentProgress: ProgressSink = { start() {}, finished() {}, note() {}, end() {} };

const MARK: Record<Status, string> = {
  unknown: '?',
  'not-applicable': '-',
  skip: '-',
  pass: '✓',
  'known-failure': '~',
  fail: '✗',
  error: '!',
};

const LABEL: Record<Status, string> = {
  unknown: 'UNKNOWN',
  'not-applicable': 'N/A',
  skip: 'SKIP',
  pass: 'PASS',
  'known-failure': 'KNOWN',
  fail: 'FAIL',
  error: 'ERROR',
};

function describe(r: CheckResult): string {
  const why = r.status === 'pass' ? '' : r.failureClass ? ` [${r.failureClass}]` : '';
  const msg = r.status === 'pass' || !r.message ? '' : `: ${firstLine(r.message)}`;
  return `${r.id}${why} (${Math.round(r.durationMs)} ms)${msg}`;
}

const firstLine = (s: string) => (s.split('\n')[0] ?? '').slice(0, 240);

export function createProgress(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  options: { tty?: boolean } = {},
): ProgressSink {
  const tty = options.tty ?? stream.isTTY === true;
  const counts: Partial<Record<Status, number>> = {};
  let live = false;
  const clear = () => {
    if (live) stream.write('\r\x1b[2K');
    live = false;
  };
  return {
    start(total) {
      stream.write(`running ${total} check${total === 1 ? '' : 's'}\n`);
    },
    finished(r, done, total) {
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      const width = String(total).length;
      const n = `[${String(done).padStart(width)}/${total}]`;
      if (!tty) {
        stream.write(`${n} ${LABEL[r.status].padEnd(7)} ${describe(r)}\n`);
        return;
      }
      clear();
      if (r.status !== 'pass') stream.write(`${MARK[r.status]} ${LABEL[r.status].padEnd(6)} ${describe(r)}\n`);
      const tally = (['pass', 'fail', 'error', 'known-failure', 'not-applicable'] as const)
        .filter((s) => counts[s])
        .map((s) => `${MARK[s]}${counts[s]}`)
        .join(' ');
      const line = `${n} ${tally}  ${r.id}`;
      stream.write(line.slice(0, Math.max(20, (stream.columns ?? 120) - 1)));
      live = true;
    },
    note(message) {
      clear();
      stream.write(`${message}\n`);
    },
    end() {
      clear();
    },
  };
}

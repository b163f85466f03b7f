/**
 * Binds a suite's checks to vitest: one test per check, run through the same runner code as `registry-canary run`
 * (runCheck), so a check behaves identically under both. A fail or error throws with the check's message and hop
 * trace; not-applicable and known failures are skipped with their reason or link (reported, never hidden: vitest
 * lists them as skipped with the note).
 */
import { describe, it } from 'vitest';
import { formatTrace, runCheck, type Check, type TargetDescription } from '../../harness/src/index.js';
import { providedTarget } from './provided-target.js';

export interface BindOptions {
  /** per-check deadline (default 120 s) */
  checkTimeoutMs?: number;
  /** run the suite's checks concurrently within the file (default true) */
  concurrent?: boolean;
}

export class SuiteCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SuiteCheckError';
  }
}

export function bindSuite(
  suite: string,
  build: (target: TargetDescription) => Check[],
  options: BindOptions = {},
): void {
  const target = providedTarget();
  const checks = build(target);
  const timeout = options.checkTimeoutMs ?? 120_000;
  const group = options.concurrent === false ? describe : describe.concurrent;
  group(suite, () => {
    for (const check of checks) {
      it(check.id, { timeout: timeout + 5_000 }, async (ctx) => {
        const r = await runCheck(check, { target, checkTimeoutMs: timeout });
        switch (r.status) {
          case 'pass':
            return;
          case 'not-applicable':
          case 'skip':
            ctx.skip(`not applicable: ${r.message ?? ''}`);
            return;
          case 'known-failure':
            ctx.skip(`known issue ${r.knownIssue}: ${r.knownIssueReason ?? ''} (${r.message ?? ''})`);
            return;
          default:
            throw new SuiteCheckError(
              `${r.status} [${r.failureClass ?? 'harness'}] ${r.message ?? ''}\nrule: ${r.rule}\n${formatTrace(r.hops)}`,
            );
        }
      });
    }
  });
}

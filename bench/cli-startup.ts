/**
 * How long the CLI takes before it does anything: spawn `node bin/registry-canary.js <args>` (the launcher users
 * run, on the built dist/) and wait for it to exit, for `--version` and `run --help`, RUNS times each, interleaved
 * with `node -e ""` (the floor no command can beat). Reports the median with an interval for it (goal-verdict.ts),
 * p90 and max. What the CLI must not load at start is a test (cli/src/startup-imports.int.test.ts); this is the time.
 *
 *   npx tsx bench/cli-startup.ts        (RUNS=10; SKIP_BUILD=1 to reuse dist/)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { medianInterval, quantile } from './goal-verdict.js';
import { ROOT, build } from './redirector-process.js';

const RUNS = Number(process.env.RUNS ?? 10);
const LAUNCHER = join(ROOT, 'bin', 'registry-canary.js');
const CASES: Record<string, string[]> = {
  'registry-canary --version': [LAUNCHER, '--version'],
  'registry-canary run --help': [LAUNCHER, 'run', '--help'],
  'node -e "" (floor)': ['-e', ''],
};

function timeOnce(args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore', cwd: ROOT });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return ms;
}

function main(): void {
  build();
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(CASES).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [name, args] of Object.entries(CASES)) times[name]!.push(timeOnce(args));
  const lines = [`| spawn → exit, ms (${RUNS} runs) | median | interval | p90 | max |`, '|---|---|---|---|---|'];
  for (const [name, xs] of Object.entries(times)) {
    const m = medianInterval(xs);
    const p90 = quantile(xs, 0.9);
    lines.push(
      `| ${name} | ${m.median.toFixed(0)} | ${m.low.toFixed(0)}-${m.high.toFixed(0)} (${Math.round(m.confidence * 100)}%) | ${p90.toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'cli-startup', runs: RUNS, ms: times })}\n`);
}

main();

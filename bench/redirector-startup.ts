/**
 * Time from start to ready: spawn the built redirector (`node dist/redirector/src/main.js`, PORT=0 ADMIN_PORT=0,
 * the bundled full range tables and bucket map) and wait for its `"msg":"listening"` line, which it writes once
 * both listeners accept connections. Repeated RUNS times; median, p90 and max are reported, next to the cost of
 * starting node itself with an empty script (the floor no server can beat), and the verdict on the goal (≤ 500 ms)
 * with an interval for the median (goal-verdict.ts).
 *
 *   npx tsx bench/redirector-startup.ts        (RUNS=10; SKIP_BUILD=1 to reuse dist/)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, spawnRedirector } from './redirector-process.js';
import { goalVerdict, quantile, verdictLine } from './goal-verdict.js';

const RUNS = Number(process.env.RUNS ?? 10);
/** the goal for the median start (docs/performance.md) */
const GOAL_MS = 500;

async function main(): Promise<void> {
  build();
  const tmp = mkdtempSync(join(tmpdir(), 'redirector-startup-'));
  try {
    const ready: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
      bare.push(performance.now() - t);
      const r = await spawnRedirector({}, join(tmp, `run-${i}.log`));
      ready.push(r.readyMs);
      const code = await r.stop();
      if (code !== 0) throw new Error(`redirector exited ${code} on SIGTERM`);
    }
    const row = (name: string, xs: number[]) =>
      `| ${name} | ${quantile(xs, 0.5).toFixed(0)} | ${quantile(xs, 0.9).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`;
    process.stdout.write(
      [
        `| start → ready, ms (${RUNS} runs) | median | p90 | max |`,
        '|---|---|---|---|',
        row('redirector (full tables)', ready),
        row('node -e "" (floor)', bare),
      ].join('\n') + '\n',
    );
    const goal = goalVerdict(ready, GOAL_MS, 'at-most');
    process.stdout.write(`start → ready, ms: ${verdictLine(goal, 0, 'runs')}\n`);
    process.stdout.write(
      JSON.stringify({
        bench: 'redirector-startup',
        runs: RUNS,
        readyMs: ready,
        nodeFloorMs: bare,
        medianMs: quantile(ready, 0.5),
        goal,
      }) + '\n',
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();

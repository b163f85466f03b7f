#!/usr/bin/env node
// npm run soak: the long versions of suites/resilience (docs/reliability.md).
//
//   npm run soak                      build, then the load run (10 min, then feeding the caches 1,000,000 distinct
//                                     digests) and 1,000,000 hostile requests, against one local stack
//   npm run soak -- --all             every resilience file, with the soak lengths where a file has them
//   npm run soak -- --no-build        skip `tsc` (the stack runs the redirector from dist/)
//   npm run soak -- suites/resilience/load     only the files named (vitest filters)
//
// Shorter trial runs of the same code: RESILIENCE_LOAD_S, RESILIENCE_DISTINCT_N, RESILIENCE_HOSTILE_N override the
// lengths. It sets RESILIENCE_SOAK=1 and runs the `resilience` vitest project (vitest.config.ts), whose global setup starts
// and stops the stack; figures go to reports/resilience/*-soak.json and the terminal. Ctrl-C is passed on to vitest,
// which tears the stack down. Exit code: vitest's.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const build = !args.includes('--no-build');
const all = args.includes('--all');
const named = args.filter((a) => !a.startsWith('--'));
const files = named.length > 0 ? named : all ? [] : ['suites/resilience/load', 'suites/resilience/hostile-input'];

/**
 * Runs a command in the checkout; resolves to its exit code. Ctrl-C reaches the child from the terminal (same
 * process group), so this process only waits for it; a SIGTERM sent to this process alone is passed on.
 */
function run(command, argv, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: root, env, stdio: 'inherit' });
    const wait = () => {};
    const forward = () => child.kill('SIGTERM');
    process.on('SIGINT', wait);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', wait);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

if (build) {
  process.stderr.write('[soak] building (tsc -p tsconfig.json): the stack runs the redirector from dist/\n');
  const code = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  if (code !== 0) {
    process.stderr.write(`[soak] the build failed (exit ${code})\n`);
    process.exit(code);
  }
}
process.stderr.write(`[soak] RESILIENCE_SOAK=1 vitest run --project resilience ${files.join(' ')}\n`);
const started = Date.now();
const code = await run(
  process.execPath,
  [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'resilience', ...files],
  {
    ...process.env,
    RESILIENCE_SOAK: '1',
  },
);
process.stderr.write(
  `[soak] done in ${Math.round((Date.now() - started) / 1000)} s, exit ${code}; figures in reports/resilience/*-soak.json\n`,
);
process.exit(code);

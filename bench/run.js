#!/usr/bin/env node
// `npm run bench`: builds the project, then runs every benchmark in sequence (they share a 2-core machine, so never
// in parallel) and prints their markdown tables. Method and recorded results: docs/performance.md.
// Pick some with BENCH=lookup,pull-throughput; each benchmark's own knobs are documented at its top.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BENCHES = {
  lookup: 'bench/lookup.bench.ts',
  'redirector-throughput': 'bench/redirector-throughput.ts',
  'redirector-startup': 'bench/redirector-startup.ts',
  'cli-startup': 'bench/cli-startup.ts',
  'redirector-memory': 'bench/redirector-memory.ts',
  'pull-throughput': 'bench/pull-throughput.ts',
};
const wanted = (process.env.BENCH ?? Object.keys(BENCHES).join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = wanted.filter((w) => !(w in BENCHES));
if (unknown.length) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')} (known: ${Object.keys(BENCHES).join(', ')})\n`);
  process.exit(64);
}
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
let failed = 0;
for (const name of wanted) {
  process.stdout.write(`\n## ${name}\n`);
  const r = spawnSync('npx', ['tsx', '--expose-gc', BENCHES[name]], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SKIP_BUILD: '1' },
  });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench: ${name} exited ${r.status}\n`);
  }
}
process.exit(failed ? 1 : 0);

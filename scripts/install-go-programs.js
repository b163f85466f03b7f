#!/usr/bin/env node
// Installs every pinned Go program the tests use (harness/src/clients/go-programs.ts) into the cache outside the
// tree, so no check spends its time budget building one. Run after `npm ci` (which builds dist/): `.ci/run` does.
// Usage: node scripts/install-go-programs.js [name ...]   (default: all, and the ggcr upstream of the local stack,
// harness/go/upstream-registry, which is built with go build from this tree)
import { GO_PROGRAMS, ensureGoProgram, goProgramCacheDir } from '../dist/harness/src/clients/go-programs.js';
import { ensureGgcrBinary } from '../dist/harness/src/stack/ggcr-upstream.js';

const all = Object.values(GO_PROGRAMS);
// a program is named as in reports (kubectl-validate) or by its key in GO_PROGRAMS (kubectlValidate)
const byName = (n) => all.find((p) => p.name === n) ?? GO_PROGRAMS[n];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => byName(n) === undefined);
if (unknown.length > 0) {
  console.error(`unknown Go program(s): ${unknown.join(', ')}; known: ${all.map((p) => p.name).join(', ')}`);
  process.exit(64);
}
const programs = wanted.length > 0 ? wanted.map(byName) : all;
console.log(`Go programs → ${goProgramCacheDir()}`);
let failed = 0;
// one at a time: two cores, and each build already uses both
for (const program of programs) {
  const name = program.name;
  const started = Date.now();
  try {
    const path = await ensureGoProgram(program);
    console.log(`  ${name} ${program.version}: ${path} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failed += 1;
    console.error(`  ${name} ${program.version}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
if (wanted.length === 0) {
  const started = Date.now();
  try {
    const path = await ensureGgcrBinary({ log: (m) => console.log(`  ${m}`) });
    console.log(`  ggcr upstream: ${path} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failed += 1;
    console.error(`  ggcr upstream: ${err instanceof Error ? err.message : String(err)}`);
  }
}
process.exit(failed > 0 ? 1 : 0);

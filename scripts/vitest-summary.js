#!/usr/bin/env node
// Prints the one closing line CI's log reader understands: "N passed, N failed, N skipped".
// Input: the JSON report vitest writes with --reporter=json --outputFile.json=FILE.
import { readFileSync } from 'node:fs';

// Optional second argument: vitest's own exit code. A non-zero exit with no failed test (a coverage threshold, an
// unhandled error between tests) still counts as one failure, so the closing line never reads green by accident.
const file = process.argv[2];
const runnerExit = Number(process.argv[3] ?? 0);
if (!file) {
  process.stderr.write('usage: vitest-summary.js <vitest-json-report> [vitest-exit-code]\n');
  process.exit(64);
}
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  // No report means vitest crashed before it could write one: that is a failure, never a green.
  process.stdout.write(`0 passed, 1 failed\n`);
  process.stderr.write(`vitest-summary: cannot read ${file}: ${err.message}\n`);
  process.exit(1);
}
let passed = 0,
  failed = 0,
  skipped = 0;
for (const suite of report.testResults ?? []) {
  const assertions = suite.assertionResults ?? [];
  for (const t of assertions) {
    if (t.status === 'passed') passed++;
    else if (t.status === 'failed') failed++;
    else skipped++;
  }
  // A file that failed to load has no assertions but is a failure.
  if (assertions.length === 0 && suite.status === 'failed') failed++;
}
if (runnerExit !== 0 && failed === 0) {
  process.stderr.write(
    `vitest-summary: vitest exited ${runnerExit} with no failed test (coverage threshold or an error outside tests); counted as 1 failure\n`,
  );
  failed = 1;
}
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 ? 1 : 0);

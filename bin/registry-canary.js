#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const entry = new URL('../dist/cli/src/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'registry-canary: dist/ is missing; run `npm install` (or `npm run build`) in the checkout first.\n',
  );
  process.exit(70);
}
// `serve` catches SIGTERM/SIGINT from here on, before the CLI's modules load: a signal at any stage of start-up is
// held for the server, which starts, says so and drains (redirector/src/signal-latch.ts)
if (process.argv[2] === 'serve') {
  const { armSignalLatch } = await import(new URL('../dist/redirector/src/signal-latch.js', import.meta.url).href);
  armSignalLatch();
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);

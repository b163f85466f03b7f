/**
 * The node flags the redirector runs with in production: those of redirector/Containerfile's ENTRYPOINT (its heap
 * limits, docs/performance.md "Memory"). The local stack's process engine and the benchmarks start the redirector
 * with the same flags, read from that one place, so what they measure is the process production runs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root.js';

/** The flags between `node` and the script in an exec-form `ENTRYPOINT ["node", ...flags, script]`. */
export function nodeFlagsOfEntrypoint(containerfile: string): string[] {
  const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(containerfile);
  if (m === null) throw new Error('the Containerfile has no exec-form ENTRYPOINT');
  const argv = JSON.parse(m[1]!) as unknown;
  if (!Array.isArray(argv) || argv.length < 2 || argv[0] !== 'node' || !argv.every((a) => typeof a === 'string')) {
    throw new Error(`the Containerfile's ENTRYPOINT is not ["node", ...flags, script]: ${m[1]}`);
  }
  return (argv as string[]).slice(1, -1);
}

let cached: string[] | undefined;

/** redirector/Containerfile's node flags (read once). */
export function redirectorNodeFlags(): string[] {
  cached ??= nodeFlagsOfEntrypoint(readFileSync(path.join(packageRoot(), 'redirector', 'Containerfile'), 'utf8'));
  return cached;
}

/**
 * What the CLI loads before it does anything: `--version` and `--help` must not pull in the packages only some
 * commands use (a browser driver, the container client, the S3 SDK, the shell helper, the metrics client, the bucket
 * server). Each of them costs a tenth of a second to a second to load (docs/performance.md "Start-up"); the harness
 * loads each one where it is used.
 *
 * The launcher runs as users start it (`bin/registry-canary.js`, from the built dist/), with a preload that prints
 * the CommonJS module cache at exit: every package named here loads CommonJS files when it loads at all.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fromPackageRoot } from '../../harness/src/index.js';

const LOADED_ON_USE = ['playwright-core', 'testcontainers', '@aws-sdk/client-s3', 'zx', 'prom-client', 's3rver'];

const PRELOAD = `data:text/javascript,${encodeURIComponent(
  "import { createRequire } from 'node:module';" +
    'const cache = createRequire(process.execPath).cache;' +
    "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(cache)) + '\\n'));",
)}`;

/** The packages under node_modules whose code is in the module cache after `args` ran. */
function packagesLoadedBy(args: string[]): { packages: Set<string>; stdout: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', PRELOAD, fromPackageRoot('bin', 'registry-canary.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  if (line === undefined) throw new Error(`no module list on stderr (exit ${r.status}): ${r.stderr.slice(0, 2000)}`);
  const packages = new Set<string>();
  for (const file of JSON.parse(line.slice('LOADED '.length)) as string[]) {
    if (file.endsWith('/package.json')) continue; // read for a version, not loaded
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (m) packages.add(m[1]!);
  }
  return { packages, stdout: r.stdout, status: r.status };
}

describe('CLI start-up', () => {
  it.each([[['--version']], [['--help']], [['run', '--help']]])(
    '%j loads none of the packages only some commands use',
    (args) => {
      const { packages, stdout, status } = packagesLoadedBy(args);
      expect(status).toBe(0);
      expect(stdout).toMatch(/registry-canary/);
      expect(packages.size, 'the preload saw no package at all: the probe is broken').toBeGreaterThan(0);
      expect(LOADED_ON_USE.filter((p) => packages.has(p))).toEqual([]);
    },
  );
});

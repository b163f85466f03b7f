/**
 * `registry-canary stack up --json` through the built CLI (bin/registry-canary.js → dist/), as another tool would
 * run it: stdout carries exactly one JSON document, a valid target description; SIGINT tears everything down (no
 * process left, no temp dir left) and the exit code is 0. Needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { parseTargetDescription, descendantProcesses, isAlive } from '../../../harness/src/index.js';

const BIN = fileURLToPath(new URL('../../../bin/registry-canary.js', import.meta.url));
const DIST_MAIN = fileURLToPath(new URL('../../../dist/cli/src/main.js', import.meta.url));

describe('registry-canary stack up --json (built CLI)', () => {
  it('prints only the target description on stdout, serves, and tears down on SIGINT', async () => {
    if (!existsSync(DIST_MAIN)) throw new Error('dist/ is missing: run `npm run build` before the integration tests');
    // without the AWS SDK's switch for its Node-version notice, which the stack sets for itself (s3-bucket-server.ts)
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => k !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'),
    );
    const child = spawn(process.execPath, [BIN, 'stack', 'up', '--json', '--big-layer-mib', '8'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // the document is complete when it parses
      const started = Date.now();
      let doc: unknown = null;
      while (doc === null) {
        if (child.exitCode !== null) throw new Error(`stack up exited early (${child.exitCode}):\n${stderr}`);
        if (Date.now() - started > 120_000) throw new Error(`no target description after 120 s:\n${stderr}`);
        try {
          doc = JSON.parse(stdout);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const target = parseTargetDescription(doc, 'stack up --json');
      expect(stdout.endsWith('}\n')).toBe(true);
      expect(stderr).toMatch(/stack: ready in \d+ ms/);
      const extra = target.stack as { tempDir: string; processes: { name: string; pid: number }[] };
      expect(existsSync(extra.tempDir)).toBe(true);

      // it serves: a ping through an edge port reaches the redirector
      const ping = await request(`${target.vantages.find((v) => v.name === 'gcp-v4')!.url}/v2/`);
      await ping.body.dump();
      expect(ping.statusCode).toBe(200);

      const tree = await descendantProcesses(child.pid);
      expect(tree.map((p) => p.pid)).toEqual(expect.arrayContaining(extra.processes.map((p) => p.pid)));

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toMatch(/SIGINT: tearing down/);
      expect(stderr).toMatch(/stopped; everything removed/);
      // progress only: no dependency's notice in the middle of it
      expect(stderr).not.toMatch(/Warning/);
      // stdout never carried anything but the document
      expect(JSON.parse(stdout)).toEqual(doc);
      for (const p of tree) expect(await isAlive(p.pid), `${p.pid} ${p.command}`).toBe(false);
      expect(existsSync(extra.tempDir)).toBe(false);
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  }, 180_000);
});

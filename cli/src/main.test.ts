import { describe, expect, it } from 'vitest';
import { main } from './main.js';
import { captureIo } from './test-io.js';

describe('registry-canary CLI entry', () => {
  it('prints help and exits 0', async () => {
    const io = captureIo();
    expect(await main(['node', 'registry-canary', '--help'], io)).toBe(0);
    expect(io.out()).toMatch(/Usage: registry-canary/);
  });

  it('--version prints the package version and exits 0', async () => {
    const { readFileSync } = await import('node:fs');
    const { fromPackageRoot } = await import('../../harness/src/index.js');
    const version = (JSON.parse(readFileSync(fromPackageRoot('package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const io = captureIo();
      expect(await main(['node', 'registry-canary', flag], io)).toBe(0);
      expect(io.out()).toBe(`registry-canary ${version} (harness and redirector)\n`);
    }
  });

  it('exits 64 on an unknown command or option', async () => {
    const io = captureIo();
    expect(await main(['node', 'registry-canary', '--no-such-flag'], io)).toBe(64);
    expect(io.err()).toMatch(/unknown option/);
  });
});

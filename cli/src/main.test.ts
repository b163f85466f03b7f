import { describe, expect, it } from 'vitest';
import { main } from './main.js';
import { captureIo } from './test-io.js';

describe('registry-canary CLI entry', () => {
  it('prints help and exits 0', async () => {
    const io = captureIo();
    expect(await main(['node', 'registry-canary', '--help'], io)).toBe(0);
    expect(io.out()).toMatch(/Usage: registry-canary/);
  });

  it('exits 64 on an unknown command or option', async () => {
    const io = captureIo();
    expect(await main(['node', 'registry-canary', '--no-such-flag'], io)).toBe(64);
    expect(io.err()).toMatch(/unknown option/);
  });
});

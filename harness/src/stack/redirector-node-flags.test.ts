import { describe, expect, it } from 'vitest';
import { nodeFlagsOfEntrypoint, redirectorNodeFlags } from './redirector-node-flags.js';

describe('redirector node flags', () => {
  it("are redirector/Containerfile's ENTRYPOINT flags: heap limits, each a --flag=value", () => {
    const flags = redirectorNodeFlags();
    expect(flags.length).toBeGreaterThan(0);
    for (const f of flags) expect(f).toMatch(/^--[a-z-]+=\d+$/);
    expect(flags.some((f) => f.startsWith('--max-old-space-size='))).toBe(true);
  });

  it('reads the flags between node and the script, and refuses other shapes', () => {
    expect(nodeFlagsOfEntrypoint('FROM x\nENTRYPOINT ["node", "--a=1", "--b=2", "/app/main.js"]\n')).toEqual([
      '--a=1',
      '--b=2',
    ]);
    expect(nodeFlagsOfEntrypoint('ENTRYPOINT ["node", "/app/main.js"]')).toEqual([]);
    expect(() => nodeFlagsOfEntrypoint('CMD ["node", "x.js"]')).toThrow(/no exec-form ENTRYPOINT/);
    expect(() => nodeFlagsOfEntrypoint('ENTRYPOINT node x.js')).toThrow(/no exec-form ENTRYPOINT/);
    expect(() => nodeFlagsOfEntrypoint('ENTRYPOINT ["sh", "-c", "node x.js"]')).toThrow(/not \["node"/);
  });
});

import { chmod, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GGCR_SOURCE_DIR, ggcrAvailable, ggcrBinaryPath, ggcrSourceHash, goOnPath } from './ggcr-upstream.js';
import { StackError } from './stack-error.js';
import { stackSpec } from './stack.js';

let dir: string;
let saved: NodeJS.ProcessEnv;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ggcr-unit-'));
  saved = { ...process.env };
});
afterEach(async () => {
  process.env = saved;
  await rm(dir, { recursive: true, force: true });
});

/** an executable named go in the test's dir (never run: the choice only looks for it) */
async function fakeGo(): Promise<void> {
  await writeFile(join(dir, 'go'), '#!/bin/sh\nexit 0\n');
  await chmod(join(dir, 'go'), 0o755);
}

describe('goOnPath', () => {
  it('finds an executable go on PATH, and nothing else', async () => {
    expect(goOnPath({ PATH: dir })).toBe(false);
    await writeFile(join(dir, 'go'), 'not executable');
    expect(goOnPath({ PATH: dir })).toBe(false);
    await chmod(join(dir, 'go'), 0o755);
    expect(goOnPath({ PATH: `/nonexistent::${dir}` })).toBe(true);
  });
});

describe('ggcrSourceHash', () => {
  it('changes when any source file changes, so a changed command is built afresh', async () => {
    const copy = join(dir, 'src');
    await cp(GGCR_SOURCE_DIR, copy, { recursive: true });
    const before = ggcrSourceHash(copy);
    expect(before).toBe(ggcrSourceHash(GGCR_SOURCE_DIR));
    await writeFile(join(copy, 'main.go'), '// changed\n', { flag: 'a' });
    expect(ggcrSourceHash(copy)).not.toBe(before);
    expect(ggcrBinaryPath({ REGISTRY_CANARY_GO_CACHE: '/c' }, copy)).toBe(
      `/c/bin/upstream-registry@${ggcrSourceHash(copy)}/upstream-registry`,
    );
  });
});

describe("the stack's upstream choice", () => {
  it('auto picks ggcr on the process engine when Go is on PATH, docker-registry on the container engine', async () => {
    await fakeGo();
    process.env.PATH = dir;
    process.env.REGISTRY_CANARY_GO_CACHE = join(dir, 'cache');
    expect(ggcrAvailable()).toBe(true);
    expect(stackSpec({}).upstream).toBe('ggcr');
    expect(stackSpec({ engine: 'container', dockerRegistryBin: '/bin/sh' }).upstream).toBe('docker-registry');
    expect(stackSpec({ upstream: 'embedded' }).upstream).toBe('embedded');
  });

  it('without Go and without a built binary, auto falls back and an explicit ggcr is refused with the reason', () => {
    process.env.PATH = dir;
    process.env.REGISTRY_CANARY_GO_CACHE = join(dir, 'cache');
    expect(ggcrAvailable()).toBe(false);
    expect(stackSpec({ dockerRegistryBin: join(dir, 'no-registry') }).upstream).toBe('embedded');
    expect(() => stackSpec({ upstream: 'ggcr' })).toThrow(StackError);
    expect(() => stackSpec({ upstream: 'ggcr' })).toThrow(/needs Go/);
    expect(() => stackSpec({ upstream: 'crane' as never })).toThrow(/"auto", "ggcr", "docker-registry" or "embedded"/);
  });
});

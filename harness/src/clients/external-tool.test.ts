import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckFailure, NotApplicable } from '../results/check.js';
import { locateTool, optionalTool, requireTool, runTool, toolOutputTail } from './external-tool.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rc-tool-test-'));
  await writeFile(join(dir, 'fake-tool'), '#!/bin/sh\necho "out $1"\necho "err line" >&2\nexit 3\n');
  await chmod(join(dir, 'fake-tool'), 0o755);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('locating tools', () => {
  it('finds executables on the given PATH only', async () => {
    expect(await locateTool('fake-tool', { PATH: dir })).toBe(join(dir, 'fake-tool'));
    expect(await locateTool('fake-tool', { PATH: '/nonexistent' })).toBeNull();
    expect(await locateTool(join(dir, 'fake-tool'), { PATH: '' })).toBe(join(dir, 'fake-tool'));
  });

  it('a missing required tool is not applicable outside CI and a failure under CI=true', async () => {
    await expect(requireTool('no-such-tool', 'apt-get install it', { PATH: dir })).rejects.toBeInstanceOf(
      NotApplicable,
    );
    const err = await requireTool('no-such-tool', 'apt-get install it', { PATH: dir, CI: 'true' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CheckFailure);
    expect((err as CheckFailure).failureClass).toBe('harness');
    expect((err as CheckFailure).message).toMatch(/CI=true/);
  });

  it('a missing optional tool is not applicable even under CI', async () => {
    await expect(optionalTool('docker', 'no daemon here', { PATH: dir, CI: 'true' })).rejects.toBeInstanceOf(
      NotApplicable,
    );
  });
});

describe('runTool', () => {
  it('returns exit code and output without throwing, and quotes arguments', async () => {
    const run = await runTool(join(dir, 'fake-tool'), ['a b; echo injected']);
    expect(run.exitCode).toBe(3);
    expect(run.stdout.trim()).toBe('out a b; echo injected');
    expect(toolOutputTail(run)).toBe('err line');
  });

  it('kills a command past its timeout', async () => {
    const run = await runTool('sleep', ['5'], { timeoutMs: 200 });
    expect(run.exitCode).not.toBe(0);
    expect(run.durationMs).toBeLessThan(4000);
  });

  it('leaves info-level log lines out of the tail when there is anything else', () => {
    const tail = toolOutputTail({
      command: 'x',
      exitCode: 1,
      stdout: '',
      durationMs: 0,
      stderr: 'time="t" level=info msg="GET /v2/"\nctr: real error\ntime="t" level=info msg="Host: h"',
    });
    expect(tail).toBe('ctr: real error');
  });
});

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ContainerdStartError, startContainerd } from './containerd-daemon.js';
import { isCi, locateTool, runTool } from './external-tool.js';

const containerd = await locateTool('containerd');
const ctr = await locateTool('ctr');
// Without the binaries the lifecycle cannot be exercised; under CI=true that is a failure, not a skip.
const haveTools = containerd !== null && ctr !== null;

describe('containerd daemon lifecycle', () => {
  it.runIf(haveTools || isCi())('starts on a private socket, answers ctr, and leaves nothing behind', async () => {
    expect(containerd, 'containerd must be installed when CI=true').not.toBeNull();
    expect(ctr, 'ctr must be installed when CI=true').not.toBeNull();
    const daemon = await startContainerd({ bin: containerd! });
    let stopped = false;
    try {
      expect(daemon.address.length).toBeLessThan(108);
      const version = await runTool(ctr!, ['--address', daemon.address, 'version'], { timeoutMs: 20_000 });
      expect(version.exitCode, version.stderr).toBe(0);
      expect(version.stdout).toMatch(/Server:/);
      await daemon.stop();
      stopped = true;
      expect(existsSync(daemon.dir)).toBe(false);
      expect(() => process.kill(daemon.pid, 0)).toThrow();
      await daemon.stop(); // idempotent
    } finally {
      if (!stopped) await daemon.stop();
    }
  });

  it('reports a containerd that cannot start', async () => {
    await expect(startContainerd({ bin: '/nonexistent/containerd', readyTimeoutMs: 2_000 })).rejects.toBeInstanceOf(
      ContainerdStartError,
    );
  });
});

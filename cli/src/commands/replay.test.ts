/** `registry-canary replay` usage errors (exit 64), checked before any stack starts. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'replay-cmd-'));
  await writeFile(join(dir, 'empty.jsonl'), '{"msg":"listening"}\nnot json\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const replay = async (...args: string[]) => {
  const io = captureIo();
  const code = await main(['node', 'registry-canary', 'replay', ...args], io);
  return { code, out: io.out(), err: io.err() };
};

describe('registry-canary replay: usage errors exit 64', () => {
  it.each([
    [[], /give --ip and --image, or --log FILE/],
    [['--ip', '15.193.0.5'], /--ip needs at least one --image/],
    [['--image', 'pause:3.10'], /--image needs at least one --ip/],
    [['--ip', '15.193.0.500', '--image', 'pause:3.10'], /--ip "15.193.0.500" is not an IP address/],
    [
      ['--ip', '15.193.0.5', '--image', 'registry.k8s.io/pause'],
      /--image "registry.k8s.io\/pause" is not <repository>:<tag>/,
    ],
    [
      ['--ip', '15.193.0.5', '--image', 'pause:3.10', '--semantics', 'longest'],
      /--semantics must be both, most-specific or archeio/,
    ],
    [
      ['--ip', '15.193.0.5', '--image', 'pause:3.10', '--protocol-compat', 'go'],
      /--protocol-compat must be none or archeio/,
    ],
  ])('%j', async (args, message) => {
    const r = await replay(...args);
    expect(r.code).toBe(64);
    expect(r.err).toMatch(message);
  });

  it('an image the local world does not hold is a usage error that lists the images it does', async () => {
    const r = await replay('--ip', '15.193.0.5', '--image', 'kube-proxy:v1.34.0,pause:3.10');
    expect(r.code).toBe(64);
    expect(r.err).toMatch(
      /--image kube-proxy:v1\.34\.0: not in the local world, where every semantics answers 404 alike; its images: .*pause:3\.10/,
    );
    expect(r.err).not.toMatch(/starting the local stack/);
  });

  it('a missing log file exits 2 (what the flag points at cannot be used)', async () => {
    const r = await replay('--log', '/nonexistent/decisions.jsonl');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--log: cannot read \/nonexistent\/decisions.jsonl: ENOENT/);
  });

  it('a log without decision lines exits 2, naming the format', async () => {
    const r = await replay('--log', join(dir, 'empty.jsonl'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/has no decision lines \(JSON with "msg":"decision"/);
  });
});

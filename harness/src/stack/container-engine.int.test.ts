/**
 * The container engine for real: podman system service on a private socket (or DOCKER_HOST / docker.sock when the
 * machine has one), the upstream registries from a rootfs image of /usr/bin/docker-registry, the redirector from
 * redirector/Containerfile on a Node base assembled from /usr/bin/node, both through testcontainers with host
 * networking. Needs `npm run build`. With CI=true a missing podman (and no Docker socket) fails instead of skipping.
 */
import { existsSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCi } from '../clients/external-tool.js';
import { findRepoRoot } from '../images/fixture-cache.js';
import { descendantProcesses, readProcessTable } from './process-tree.js';
import { startStack, type StartedStack } from './stack.js';

const engineAvailable =
  Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock') || existsSync('/usr/bin/podman');
/** REGISTRY_CANARY_REDIRECTOR_CONTAINERFILE tries another Containerfile (repo-relative COPY sources) */
const containerfile =
  process.env.REGISTRY_CANARY_REDIRECTOR_CONTAINERFILE ?? `${findRepoRoot()}/redirector/Containerfile`;

const runnable = engineAvailable && existsSync(containerfile);

it.runIf(!runnable && isCi())('the container engine can run here (CI=true requires it)', () => {
  throw new Error(`the container engine needs podman (or a Docker socket) and ${containerfile} when CI=true`);
});

describe.skipIf(!runnable).sequential('local stack, container engine', () => {
  let stack: StartedStack | undefined;
  let baseline: Set<number>;

  beforeAll(async () => {
    baseline = new Set((await descendantProcesses()).map((p) => p.pid));
    stack = await startStack({
      engine: 'container',
      bigLayerMiB: 8,
      redirectorContainerfile: containerfile,
      readyTimeoutMs: 240_000,
      log: (m) => process.stderr.write(`[stack:container] ${m}\n`),
    });
  }, 600_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('runs the registries and the redirector as containers, and serves through the edge', async () => {
    const s = stack!;
    expect(s.spec.engine).toBe('container');
    expect(s.target.stack).toMatchObject({ engine: 'container' });
    // the redirector is not a child process of ours in this engine
    expect(s.processes.map((p) => p.name)).not.toContain('redirector');
    const gcp = s.target.vantages.find((v) => v.name === 'gcp-v4')!.url!;
    const ping = await request(`${gcp}/v2/`);
    await ping.body.dump();
    expect(ping.statusCode).toBe(200);
    const im = s.target.images.find((i) => i.ref === 'pause:3.10')!;
    const first = await request(
      `${s.target.vantages.find((v) => v.name === 'aws-us-east-1')!.url}/v2/pause/manifests/3.10`,
    );
    await first.body.dump();
    expect(first.statusCode).toBe(307);
    const manifest = await request(String(first.headers.location), {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    await manifest.body.dump();
    expect(manifest.headers['docker-content-digest']).toBe(im.digest);
  });

  it('stop() removes the containers, the podman service, conmon and the temp dir', async () => {
    const s = stack!;
    const stopped = await s.stop();
    expect(stopped.failures).toEqual([]);
    expect(existsSync(s.tempDir)).toBe(false);
    const left = (await descendantProcesses()).filter((p) => !baseline.has(p.pid));
    expect(left.map((p) => `${p.pid} ${p.command}`)).toEqual([]);
    const strays = (await readProcessTable()).filter((p) => p.state !== 'Z' && p.command.includes(s.tempDir));
    expect(strays.map((p) => `${p.pid} ${p.command}`)).toEqual([]);
  });
});

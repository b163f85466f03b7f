/**
 * The local stack for real (process engine): docker-registry and the embedded registry as upstreams, s3rver, the
 * faults fronts, the redirector from dist/, the edge. Real clients (skopeo, containerd's ctr) pull every fixture
 * image through AWS, GCP and internet vantage ports. Teardown is checked against /proc and the file system.
 *
 * Needs `npm run build` first (the redirector and the embedded registry run from dist/). With CI=true a missing
 * skopeo or containerd fails these tests instead of skipping them.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientReference } from '../clients/client-reference.js';
import { startContainerd, type StartedContainerd } from '../clients/containerd-daemon.js';
import { ctrContentFetch } from '../clients/ctr.js';
import { isCi, locateTool } from '../clients/external-tool.js';
import { skopeoCopyToDirLayout } from '../clients/skopeo.js';
import { parseTargetDescription, type TargetDescription } from '../target/target-description.js';
import { descendantProcesses, isAlive } from './process-tree.js';
import { distEntry } from './dist-entry.js';
import { blobKey, listBucketKeys, s3rverClient } from './s3-bucket-server.js';
import { startStack, type StartedStack } from './stack.js';

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const SMALL_BIG_LAYER_MIB = 8;

/** A tool the test needs: under CI its absence fails the test; elsewhere the test is skipped with a reason. */
async function tool(name: string): Promise<string | null> {
  const found = await locateTool(name);
  if (!found && isCi()) throw new Error(`${name} is required when CI=true but is not installed`);
  return found;
}

/**
 * One ref per distinct image digest (pulling every tag of the same manifest proves nothing more), minus kinds the
 * client cannot copy whatever serves them (Debian 12's versions):
 * - `sha512-layer`: skopeo 1.9 and containerd 1.6 store every blob under sha256 and reject a sha512 layer
 *   ("saved with digest sha256:..." / "unexpected commit digest");
 * - `referrers-fallback-tag` (skopeo only): an index of artifacts; skopeo 1.9 rewrites it on copy (it does not know
 *   `artifactType`) and so refuses to preserve its digest.
 */
const CLIENT_CANNOT_COPY = { skopeo: ['sha512-layer', 'referrers-fallback-tag'], ctr: ['sha512-layer'] };

function distinctImages(
  target: TargetDescription,
  client: keyof typeof CLIENT_CANNOT_COPY,
): { ref: string; digest: string }[] {
  const seen = new Map<string, { ref: string; digest: string }>();
  for (const im of target.images) {
    if (im.kind?.some((k) => CLIENT_CANNOT_COPY[client].includes(k))) continue;
    if (!seen.has(im.digest)) seen.set(im.digest, { ref: im.ref, digest: im.digest });
  }
  return [...seen.values()];
}

function digestOfBytes(algorithmOf: string, bytes: Buffer): string {
  const algorithm = algorithmOf.slice(0, algorithmOf.indexOf(':'));
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

function vantageUrl(target: TargetDescription, name: string): string {
  const url = target.vantages.find((v) => v.name === name)?.url;
  if (!url) throw new Error(`no edge URL for vantage ${name}`);
  return url;
}

async function manifestDigest(base: string, ref: string): Promise<{ status: number; digest: string; header: unknown }> {
  const colon = ref.lastIndexOf(':');
  const res = await request(`${base}/v2/${ref.slice(0, colon)}/manifests/${ref.slice(colon + 1)}`, {
    headers: { accept: MANIFEST_ACCEPT },
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return {
    status: res.statusCode,
    digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
    header: res.headers['docker-content-digest'],
  };
}

const PULL_VANTAGES = ['aws-us-east-1', 'gcp-v4', 'internet-v4'];

describe.sequential('local stack, process engine, docker-registry upstream', () => {
  let stack: StartedStack;
  let baseline: Set<number>;
  let scratch: string;

  beforeAll(async () => {
    if (!existsSync(distEntry('redirector/src/main.js')))
      throw new Error('dist/ is missing: run `npm run build` before the integration tests');
    baseline = new Set((await descendantProcesses()).map((p) => p.pid));
    scratch = await mkdtemp(join(tmpdir(), 'stack-int-'));
    stack = await startStack({
      upstream: 'docker-registry',
      bigLayerMiB: SMALL_BIG_LAYER_MIB,
      log: (m) => process.stderr.write(`[stack] ${m}\n`),
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('reports its time to ready (bar: ≤ 10 s on the 2-core CI machine, first fixture build excluded)', () => {
    process.stderr.write(`[stack] timings ${JSON.stringify(stack.timings)}\n`);
    expect(stack.timings.readyMs).toBeGreaterThan(0);
    if (isCi()) expect(stack.timings.readyMs).toBeLessThanOrEqual(10_000);
  });

  it('publishes a valid target description naming every vantage with its own edge port', () => {
    const t = parseTargetDescription(JSON.parse(JSON.stringify(stack.target)));
    expect(t.name).toBe('local');
    expect(t.upstreamPath).toBe('');
    expect(t.signatureUpstream).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(t.vantages.every((v) => v.url !== null)).toBe(true);
    expect(new Set(t.vantages.map((v) => v.url)).size).toBe(t.vantages.length);
    expect(Object.keys(t.bucketMap.regions)).toHaveLength(36);
    expect(t.images.map((i) => i.ref)).toEqual(
      expect.arrayContaining(['pause:3.10', 'e2e-test-images/busybox:1.36.1-1', 'docker-list:v1', 'big:v1']),
    );
    for (const url of [t.url, t.upstream, t.infoUrl, ...t.vantages.map((v) => v.url!)])
      expect(new URL(url).hostname).toBe('127.0.0.1');
  });

  it('answers /v2/ through AWS, GCP and internet edge ports', async () => {
    for (const name of PULL_VANTAGES) {
      const res = await request(`${vantageUrl(stack.target, name)}/v2/`);
      await res.body.dump();
      expect(res.statusCode, name).toBe(200);
    }
  });

  it('each bucket holds exactly what the mirror plan says (ListObjectsV2)', async () => {
    await expectBucketsMatchPlan(stack);
    // the promised gaps exist
    const plan = stack.target.mirrorPlan as { buckets: Record<string, string[]> };
    const pauseLayer = stack.fixtures.blobs.find((b) => b.role === 'pause:layer')!.digest;
    expect(plan.buckets[stack.target.bucketMap.default]).not.toContain(pauseLayer);
    expect(plan.buckets[stack.target.bucketMap.regions['me-central-1']!]).toEqual([]);
  });

  it('serves bucket objects to anonymous HEAD and GET, through the faults front, byte for byte', async () => {
    const base = stack.target.bucketMap.regions['us-east-1']!;
    for (const blob of stack.fixtures.blobs.filter((b) => b.size < 1_000_000)) {
      const head = await request(`${base}/containers/images/${blob.digest}`, { method: 'HEAD' });
      await head.body.dump();
      expect(head.statusCode).toBe(200);
      expect(Number(head.headers['content-length'])).toBe(blob.size);
      const get = await request(`${base}/containers/images/${blob.digest}`);
      const bytes = Buffer.from(await get.body.arrayBuffer());
      expect(digestOfBytes(blob.digest, bytes)).toBe(blob.digest);
    }
    expect(
      stack.faults.count({ front: 'buckets', scope: 'prod-registry-k8s-io-us-east-1', method: 'HEAD' }),
    ).toBeGreaterThan(0);
  });

  it('the upstream and the signature upstream serve the fixture digests', async () => {
    for (const im of stack.target.images) {
      const got = await manifestDigest(stack.target.upstream, im.ref);
      expect(got.status, im.ref).toBe(200);
      expect(got.digest, im.ref).toBe(im.digest);
      expect(got.header, im.ref).toBe(im.digest);
    }
    const sig = stack.target.images.find((i) => i.kind?.includes('signature'))!;
    expect((await manifestDigest(stack.target.signatureUpstream!, sig.ref)).digest).toBe(sig.digest);
  });

  it('the redirector routes by vantage: a regional bucket, the default base’s gap, GCP upstream', async () => {
    const layer = stack.fixtures.blobs.find((b) => b.role === 'pause:layer')!.digest;
    const locationFrom = async (name: string) => {
      const res = await request(`${vantageUrl(stack.target, name)}/v2/pause/blobs/${layer}`, { method: 'HEAD' });
      await res.body.dump();
      expect(res.statusCode, name).toBe(307);
      return String(res.headers.location);
    };
    expect(await locationFrom('aws-us-east-1')).toBe(
      `${stack.target.bucketMap.regions['us-east-1']}/containers/images/${layer}`,
    );
    expect(await locationFrom('internet-v4')).toBe(`${stack.target.upstream}/v2/pause/blobs/${layer}`);
    expect(await locationFrom('gcp-v6')).toBe(`${stack.target.upstream}/v2/pause/blobs/${layer}`);
  });

  it('faults can be flipped over the control endpoint while the stack runs', async () => {
    const faultsUrl = String(stack.target.faultsUrl);
    const base = stack.target.bucketMap.regions['eu-west-1']!;
    const digest = stack.buckets.contents['eu-west-1']![0]!;
    const put = await request(`${faultsUrl}/faults/bucket:prod-registry-k8s-io-eu-west-1`, {
      method: 'PUT',
      body: JSON.stringify({ kind: 'status', status: 503 }),
    });
    expect(put.statusCode).toBe(200);
    await put.body.dump();
    const failing = await request(`${base}/containers/images/${digest}`);
    await failing.body.dump();
    expect(failing.statusCode).toBe(503);
    await (await request(`${faultsUrl}/faults`, { method: 'DELETE' })).body.dump();
    const healed = await request(`${base}/containers/images/${digest}`);
    await healed.body.dump();
    expect(healed.statusCode).toBe(200);
  });

  it('with the upstream down (refused), the redirector still answers manifest requests with a redirect', async () => {
    await stack.faults.set('upstream', { kind: 'down', mode: 'refuse' });
    const fresh = new Agent();
    try {
      // a fresh agent: a pooled keep-alive connection would see a reset instead (also "down", but not the point here)
      await expect(request(`${stack.target.upstream}/v2/`, { dispatcher: fresh })).rejects.toThrow(/ECONNREFUSED/);
      const res = await request(`${vantageUrl(stack.target, 'aws-us-east-1')}/v2/pause/manifests/3.10`, {
        method: 'HEAD',
      });
      await res.body.dump();
      expect(res.statusCode).toBe(307);
    } finally {
      await stack.faults.clear('upstream');
      await fresh.close();
    }
    const back = await request(`${stack.target.upstream}/v2/`);
    await back.body.dump();
    expect(back.statusCode).toBe(200);
  });

  it('skopeo pulls every fixture image through AWS, GCP and internet vantage ports; digests match', async (ctx) => {
    const skopeo = await tool('skopeo');
    if (!skopeo) return ctx.skip();
    for (const vantage of PULL_VANTAGES) {
      for (const im of distinctImages(stack.target, 'skopeo')) {
        const dir = join(scratch, `skopeo-${vantage}-${im.digest.slice(7, 19)}`);
        const copy = await skopeoCopyToDirLayout(
          skopeo,
          clientReference(vantageUrl(stack.target, vantage), im.ref),
          dir,
          { timeoutMs: 120_000 },
        );
        expect(copy.run.exitCode, `${vantage} ${im.ref}: ${copy.run.stderr}`).toBe(0);
        expect(copy.digest, `${vantage} ${im.ref}`).toBe(im.digest);
        await rm(dir, { recursive: true, force: true });
      }
    }
  }, 600_000);

  it('containerd (ctr content fetch) pulls every fixture image through AWS, GCP and internet vantage ports; digests match', async (ctx) => {
    const ctr = await tool('ctr');
    const containerd = await tool('containerd');
    if (!ctr || !containerd) return ctx.skip();
    let daemon: StartedContainerd | null = null;
    try {
      daemon = await startContainerd({ bin: containerd });
      for (const vantage of PULL_VANTAGES) {
        for (const im of distinctImages(stack.target, 'ctr')) {
          const fetch = await ctrContentFetch(ctr, clientReference(vantageUrl(stack.target, vantage), im.ref), {
            address: daemon.address,
            timeoutMs: 120_000,
          });
          expect(fetch.run.exitCode, `${vantage} ${im.ref}: ${fetch.run.stderr.slice(-800)}`).toBe(0);
          expect(fetch.digest, `${vantage} ${im.ref}`).toBe(im.digest);
        }
      }
    } finally {
      await daemon?.stop();
    }
  }, 600_000);

  it('stop() leaves no process and no temp dir behind (checked in /proc and on disk); a second stop is a no-op', async () => {
    const pids = stack.processes.map((p) => p.pid);
    expect(pids.length).toBeGreaterThanOrEqual(4);
    for (const pid of pids) expect(await isAlive(pid)).toBe(true);
    const stopped = await stack.stop();
    expect(stopped.failures).toEqual([]);
    for (const pid of pids) expect(await isAlive(pid), `pid ${pid}`).toBe(false);
    const left = (await descendantProcesses()).filter((p) => !baseline.has(p.pid));
    expect(left.map((p) => `${p.pid} ${p.command}`)).toEqual([]);
    expect(existsSync(stack.tempDir)).toBe(false);
    expect(await stack.stop()).toBe(stopped);
    for (const url of [
      stack.target.url,
      stack.target.upstream,
      vantageUrl(stack.target, 'aws-us-east-1'),
      String(stack.target.faultsUrl),
    ]) {
      await expect(request(`${url}/v2/`), url).rejects.toThrow(/ECONNREFUSED/);
    }
  });
});

describe.sequential('local stack, embedded upstream', () => {
  let stack: StartedStack;
  let baseline: Set<number>;

  beforeAll(async () => {
    baseline = new Set((await descendantProcesses()).map((p) => p.pid));
    // seedCache off: this start uploads every bucket object with the SDK, whatever earlier starts left in the cache
    stack = await startStack({
      upstream: 'embedded',
      semantics: 'archeio',
      ipMode: 'edge',
      bigLayerMiB: SMALL_BIG_LAYER_MIB,
      seedCache: false,
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('serves the same digests as docker-registry does (both equal the fixture set’s)', async () => {
    expect(stack.upstreams.registry.kind).toBe('embedded');
    expect(stack.seeded).toEqual({ registries: 'served-in-place', buckets: 'uploaded' });
    expect(stack.target.semantics).toBe('archeio');
    expect(stack.target.ipMode).toBe('edge');
    for (const im of stack.target.images) {
      const got = await manifestDigest(stack.target.upstream, im.ref);
      expect(got.status, im.ref).toBe(200);
      expect(got.digest, im.ref).toBe(im.digest);
    }
    const sig = stack.target.images.find((i) => i.kind?.includes('signature'))!;
    expect((await manifestDigest(stack.target.signatureUpstream!, sig.ref)).digest).toBe(sig.digest);
  });

  it('buckets seeded afresh with the SDK hold exactly what the mirror plan says', async () => {
    await expectBucketsMatchPlan(stack);
  });

  it('under archeio semantics the shadowed vantage is GLOBAL and routes to the default base', async () => {
    const v = stack.target.vantages.find((x) => x.tags?.includes('shadowed-by-global'))!;
    expect(v.region).toBe('GLOBAL');
    const blob = stack.buckets.contents.default![0]!;
    const res = await request(`${v.url}/v2/pause/blobs/${blob}`, { method: 'HEAD' });
    await res.body.dump();
    expect(res.statusCode).toBe(307);
    expect(res.headers.location).toBe(`${stack.target.bucketMap.default}/containers/images/${blob}`);
  });

  it('skopeo pulls an image through an edge port', async (ctx) => {
    const skopeo = await tool('skopeo');
    if (!skopeo) return ctx.skip();
    const dir = await mkdtemp(join(tmpdir(), 'stack-int-embedded-'));
    try {
      const copy = await skopeoCopyToDirLayout(
        skopeo,
        clientReference(vantageUrl(stack.target, 'aws-eu-west-2'), 'e2e-test-images/busybox:1.36.1-1'),
        join(dir, 'out'),
      );
      expect(copy.run.exitCode, copy.run.stderr).toBe(0);
      expect(copy.digest).toBe(stack.target.images.find((i) => i.ref === 'e2e-test-images/busybox:1.36.1-1')!.digest);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('stop() leaves no process and no temp dir behind', async () => {
    const stopped = await stack.stop();
    expect(stopped.failures).toEqual([]);
    const left = (await descendantProcesses()).filter((p) => !baseline.has(p.pid));
    expect(left.map((p) => `${p.pid} ${p.command}`)).toEqual([]);
    expect(existsSync(stack.tempDir)).toBe(false);
  });
});

describe('a failed start tears down what it started', () => {
  it('a vantage file the range data disagrees with fails before anything starts', async () => {
    const before = new Set((await descendantProcesses()).map((p) => p.pid));
    const dir = await mkdtemp(join(tmpdir(), 'stack-int-bad-'));
    try {
      const { writeFile } = await import('node:fs/promises');
      const file = join(dir, 'vantages.json');
      await writeFile(
        file,
        JSON.stringify({
          lbIp: '34.96.108.209',
          vantages: [{ name: 'aws-us-east-1', ip: '104.154.113.1', expect: { cloud: 'AWS', region: 'us-east-1' } }],
        }),
      );
      await expect(startStack({ vantagesFile: file, tmpRoot: dir })).rejects.toMatchObject({
        code: 'STACK_VANTAGE_INVALID',
      });
      await expect(startStack({ vantagesFile: file, tmpRoot: dir })).rejects.toThrow(
        /aws-us-east-1 \(104\.154\.113\.1\) under most-specific: the range data says GCP us-central1/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect((await descendantProcesses()).filter((p) => !before.has(p.pid))).toEqual([]);
  });

  it('a redirector that cannot start (bad configuration) leaves nothing behind', async () => {
    const before = new Set((await descendantProcesses()).map((p) => p.pid));
    const dir = await mkdtemp(join(tmpdir(), 'stack-int-bad-'));
    try {
      const err = await startStack({
        tmpRoot: dir,
        bigLayerMiB: SMALL_BIG_LAYER_MIB,
        redirectorEnv: { ROUTING_SEMANTICS: 'nonsense' },
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STACK_PROCESS_EXITED' });
      expect((err as Error).message).toMatch(/redirector exited with code 2[\s\S]*ROUTING_SEMANTICS/);
      const { readdir } = await import('node:fs/promises');
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect((await descendantProcesses()).filter((p) => !before.has(p.pid))).toEqual([]);
  }, 120_000);
});

/** Lists every bucket with the SDK (ListObjectsV2) and compares it with the published mirror plan. */
async function expectBucketsMatchPlan(stack: StartedStack): Promise<void> {
  const s3 = await s3rverClient(stack.buckets.s3rverUrl);
  try {
    const plan = stack.target.mirrorPlan as { buckets: Record<string, string[]> };
    const bases = Object.keys(plan.buckets).sort();
    const mapped = [
      ...new Set([...Object.values(stack.target.bucketMap.regions), stack.target.bucketMap.default]),
    ].sort();
    expect(bases).toEqual(mapped);
    for (const base of bases) {
      const bucket = base.slice(base.lastIndexOf('/') + 1);
      const keys = (await listBucketKeys(s3, bucket)).sort();
      expect(keys, bucket).toEqual(plan.buckets[base]!.map(blobKey).sort());
    }
  } finally {
    s3.destroy();
  }
}

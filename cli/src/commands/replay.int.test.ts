/**
 * `registry-canary replay`: a pull from a GLOBAL-shadowed AWS address, 15.193.0.5 (AWS ap-south-1 by
 * its /24, inside AWS GLOBAL 15.193.0.0/19), shows the two semantics' different first hops; a decision log replays
 * from its logged addresses.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientForRoute, pullImage, startStack, vantageRoute, type ReplayResult } from '../../../harness/src/index.js';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'replay-int-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const replay = async (...args: string[]) => {
  const io = captureIo();
  const started = performance.now();
  const code = await main(['node', 'registry-canary', 'replay', ...args], io);
  return { code, out: io.out(), err: io.err(), seconds: (performance.now() - started) / 1000 };
};

describe('registry-canary replay', () => {
  it('a GLOBAL-shadowed AWS address: the two semantics send its blobs to different first hops', async () => {
    const r = await replay('--ip', '15.193.0.5', '--image', 'pause:3.10', '--json');
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(r.out) as ReplayResult;
    expect(result.semantics).toEqual(['most-specific', 'archeio']);
    const [item] = result.items;
    expect(item!.worlds.every((w) => w.ok)).toBe(true);
    // both worlds pulled the same requests; the manifest routes alike, blobs do not
    expect(item!.differences.length).toBeGreaterThan(0);
    for (const d of item!.differences) {
      expect(d.request).toMatch(/^GET \/v2\/pause\/blobs\/sha256:/);
      expect(d.answers['most-specific']).toMatch(/^307 bucket:prod-registry-k8s-io-ap-south-1 \/containers\/images\//);
      expect(d.answers.archeio).not.toMatch(/ap-south-1/);
      expect(d.clients['most-specific']).toBe('15.193.0.5: AWS ap-south-1 (15.193.0.0/24)');
      expect(d.clients.archeio).toBe('15.193.0.5: AWS GLOBAL (15.193.0.0/19)');
    }
    // hop by hop: every chain has its trace, the first hop sent the client address with the LB's behind it
    const chain = item!.worlds[0]!.chains.find((c) => c.request.includes('/blobs/'))!;
    expect(chain.hops.length).toBe(2);
    expect(chain.hops[0]!.requestHeaders['x-forwarded-for']).toMatch(/^15\.193\.0\.5,/);
    console.log(`replay 15.193.0.5 pause:3.10 under both semantics: ${r.seconds.toFixed(1)} s including the stack`);
  });

  it('prints the traces and the differences as text', async () => {
    const r = await replay('--ip', '15.193.0.5,35.180.1.1', '--image', 'pause:3.10', '--brief');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /^== 15\.193\.0\.5 pause:3\.10\nclient 15\.193\.0\.5: most-specific → AWS ap-south-1 \(15\.193\.0\.0\/24\); archeio → AWS GLOBAL \(15\.193\.0\.0\/19\)/m,
    );
    expect(r.out).toMatch(/requests? route differently under most-specific and archeio:/);
    expect(r.out).toMatch(/== 35\.180\.1\.1 pause:3\.10[\s\S]*== same first hops under most-specific and archeio/);
    expect(r.out).toMatch(
      /replayed 2 items under most-specific, archeio in .* s; 1 route differently between the semantics/,
    );
  });

  it('replays a decision log from the logged addresses, beside what was logged; --fail-on-difference exits 1', async () => {
    const log = join(dir, 'decisions.jsonl');
    const digest = 'sha256:da86e6ba6ca197bf6bc5e9d900febd906b133eaa4750e6bed647b0fbe50ed43e';
    const lines = [
      {
        level: 30,
        time: 1,
        msg: 'decision',
        reason: 'blob-bucket-hit',
        rule: 6,
        method: 'GET',
        path: `/v2/pause/blobs/${digest}`,
        status: 307,
        target: `https://cdn.registry.k8s.io/containers/images/${digest}`,
        ip: '15.193.0.5',
        ipSource: 'xff',
        cloud: 'AWS',
        region: 'GLOBAL',
        prefix: '15.193.0.0/19',
        cache: 'head-found',
      },
      {
        level: 30,
        time: 2,
        msg: 'decision',
        reason: 'upstream',
        rule: 5,
        method: 'GET',
        path: '/v2/pause/manifests/3.10',
        status: 307,
        target: 'https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/manifests/3.10',
      },
    ];
    await writeFile(log, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"level":30,"msg":"listening"}\n`);
    const r = await replay('--log', log, '--fail-on-difference');
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/--log: skipped 1 line: not a decision line/);
    expect(r.out).toMatch(
      /logged \(line 1\): blob-bucket-hit 307 → https:\/\/cdn\.registry\.k8s\.io\/containers\/images\/sha256:da86.*client AWS GLOBAL \(15\.193\.0\.0\/19\); bucket cdn\.registry\.k8s\.io/,
    );
    // the local world does not hold production's pause:3.1 config, but the bucket each semantics consults shows
    expect(r.out).toMatch(/consulted bucket:prod-registry-k8s-io-ap-south-1/);
    expect(r.out).toMatch(/consulted default-base/);
  });

  it('replays the decision lines a real redirector wrote (archeio semantics, as production logs them)', async () => {
    const lines: string[] = [];
    const stack = await startStack({
      semantics: 'archeio',
      processOutput: (name, line) => name === 'redirector' && line.includes('"msg":"decision"') && lines.push(line),
    });
    try {
      const v = { name: 'shadowed', ip: '15.193.0.5', cloud: 'AWS' as const, region: 'ap-south-1', url: null };
      const pulled = await pullImage(clientForRoute(vantageRoute(stack.target, v)), 'pause', '3.10');
      expect(pulled.ok).toBe(true);
      // the sink flushes within 250 ms
      for (let i = 0; i < 40 && lines.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await stack.stop();
    }
    expect(lines.some((l) => l.includes('"ip":"15.193.0.5"'))).toBe(true);
    const log = join(dir, 'real.jsonl');
    await writeFile(log, `${lines.join('\n')}\n`);
    const r = await replay('--log', log, '--json');
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(r.out) as ReplayResult;
    const blobs = result.items.filter((i) => i.item.kind === 'request' && i.item.path.includes('/blobs/'));
    expect(blobs.length).toBeGreaterThan(0);
    for (const b of blobs) {
      expect(b.logged).toMatchObject({ cloud: 'AWS', region: 'GLOBAL', prefix: '15.193.0.0/19' });
      expect(b.differences).toHaveLength(1); // the local world holds these blobs: the first hops differ
    }
  });
});

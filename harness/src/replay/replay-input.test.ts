import { describe, expect, it } from 'vitest';
import { parseDecisionLog, pullsFrom, ReplayInputError } from './replay-input.js';
import { semanticsDifferences, type WorldReplay } from './run-replay.js';

describe('replay input', () => {
  it('--ip × --image, validated', () => {
    expect(pullsFrom(['15.193.0.5', '2600:1f14::1'], ['pause:3.10', 'e2e-test-images/busybox:1.36.1-1'])).toEqual([
      { kind: 'pull', ip: '15.193.0.5', image: 'pause:3.10' },
      { kind: 'pull', ip: '15.193.0.5', image: 'e2e-test-images/busybox:1.36.1-1' },
      { kind: 'pull', ip: '2600:1f14::1', image: 'pause:3.10' },
      { kind: 'pull', ip: '2600:1f14::1', image: 'e2e-test-images/busybox:1.36.1-1' },
    ]);
    expect(() => pullsFrom(['15.193.0.x'], ['pause:3.10'])).toThrow(ReplayInputError);
    expect(() => pullsFrom(['1.2.3.4'], ['registry.k8s.io/pause'])).toThrow(/not <repository>:<tag>/);
  });

  it("reads the redirector's decision lines (and Cloud Logging's jsonPayload), skipping the rest with counts", () => {
    const hit = {
      level: 30,
      time: 1,
      msg: 'decision',
      reason: 'blob-bucket-miss',
      rule: 6,
      method: 'GET',
      path: '/v2/pause/blobs/sha256:da86e6ba6ca197bf6bc5e9d900febd906b133eaa4750e6bed647b0fbe50ed43e',
      status: 307,
      target:
        'https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/blobs/sha256:da86e6ba6ca197bf6bc5e9d900febd906b133eaa4750e6bed647b0fbe50ed43e',
      ip: '15.193.0.5',
      ipSource: 'xff',
      cloud: 'AWS',
      region: 'GLOBAL',
      prefix: '15.193.0.0/19',
      probeUrl:
        'https://cdn.registry.k8s.io/containers/images/sha256:da86e6ba6ca197bf6bc5e9d900febd906b133eaa4750e6bed647b0fbe50ed43e',
      cache: 'head-missing',
    };
    const manifest = {
      level: 30,
      msg: 'decision',
      reason: 'upstream',
      rule: 5,
      method: 'HEAD',
      path: '/v2/pause/manifests/3.10',
      status: 307,
      target: 'https://x/v2/pause/manifests/3.10',
    };
    const text = [
      JSON.stringify(hit),
      '{"level":30,"msg":"listening","url":"http://x"}',
      'plain text',
      JSON.stringify({ jsonPayload: manifest }),
      JSON.stringify({ ...hit, ip: '15.193.0.0/24-hash' }),
      '',
    ].join('\n');
    const parsed = parseDecisionLog(text);
    expect(parsed.skipped).toEqual({
      'not a decision line': 1,
      'not JSON': 1,
      'client address is not an IP (truncated or hashed logs cannot be replayed)': 1,
    });
    expect(parsed.items).toEqual([
      {
        kind: 'request',
        ip: '15.193.0.5',
        method: 'GET',
        path: hit.path,
        logged: {
          line: 1,
          reason: 'blob-bucket-miss',
          status: 307,
          target: hit.target,
          cloud: 'AWS',
          region: 'GLOBAL',
          prefix: '15.193.0.0/19',
          probeUrl: hit.probeUrl,
        },
      },
      {
        kind: 'request',
        ip: null,
        method: 'HEAD',
        path: '/v2/pause/manifests/3.10',
        logged: {
          line: 4,
          reason: 'upstream',
          status: 307,
          target: manifest.target,
          cloud: null,
          region: null,
          prefix: null,
          probeUrl: null,
        },
      },
    ]);
  });
});

describe('semanticsDifferences', () => {
  const world = (semantics: string, firstHop: string, bucket?: string): WorldReplay => ({
    semantics,
    url: 'u',
    ok: true,
    chains: [
      { request: 'GET /v2/pause/manifests/3.10', hops: [], firstHop: '307 upstream /v2/pause/manifests/3.10' },
      {
        request: 'GET /v2/pause/blobs/sha256:1',
        hops: [],
        firstHop,
        explain: {
          client: {
            ip: '15.193.0.5',
            cloud: 'AWS',
            region: semantics === 'archeio' ? 'GLOBAL' : 'ap-south-1',
            prefix: 'p',
          },
          ...(bucket ? { bucket } : {}),
        },
      },
    ],
  });
  it("lists the requests whose first hop differs, with each semantics' client classification", () => {
    expect(
      semanticsDifferences([
        world('most-specific', '307 bucket:prod-registry-k8s-io-ap-south-1 /c'),
        world('archeio', '307 default-base /c'),
      ]),
    ).toEqual([
      {
        request: 'GET /v2/pause/blobs/sha256:1',
        answers: { 'most-specific': '307 bucket:prod-registry-k8s-io-ap-south-1 /c', archeio: '307 default-base /c' },
        clients: { 'most-specific': '15.193.0.5: AWS ap-south-1 (p)', archeio: '15.193.0.5: AWS GLOBAL (p)' },
        buckets: { 'most-specific': 'none', archeio: 'none' },
      },
    ]);
    expect(
      semanticsDifferences([world('most-specific', '307 default-base /c'), world('archeio', '307 default-base /c')]),
    ).toEqual([]);
  });
  it('also lists a request whose first hops agree but whose decisions consulted different buckets (a blob this world lacks)', () => {
    const d = semanticsDifferences([
      world('most-specific', '307 upstream /v2/x', 'bucket:prod-registry-k8s-io-ap-south-1'),
      world('archeio', '307 upstream /v2/x', 'default-base'),
    ]);
    expect(d.map((x) => x.buckets)).toEqual([
      { 'most-specific': 'bucket:prod-registry-k8s-io-ap-south-1', archeio: 'default-base' },
    ]);
  });
});

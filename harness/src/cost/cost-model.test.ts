import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PRICES,
  estimateCost,
  parseTrafficMix,
  targetForBucketMap,
  TrafficMixError,
  type TrafficMix,
} from './cost-model.js';

const bucketMap = {
  default: 'https://cdn.example/',
  regions: {
    'ap-south-1': 'https://bucket-ap-south-1.example',
    'cn-north-1': 'https://bucket-ap-east-1.example',
    'ap-east-1': 'https://bucket-ap-east-1.example',
  },
};
const target = targetForBucketMap(bucketMap);
const prices = {
  ...DEFAULT_PRICES,
  'default-host': 0.1,
  'upstream-to-internet': 0.2,
  'upstream-to-gcp': 0.05,
  's3-same-region': 0,
  's3-other-region': 0.03,
};
const mix = (clients: TrafficMix['clients'], mirroredShare?: number): TrafficMix => ({
  pulls: 1000,
  clients,
  images: [{ ref: 'a:1', bytes: 1e9, share: 1 }],
  ...(mirroredShare === undefined ? {} : { mirroredShare }),
});

describe('estimateCost', () => {
  it('sends a GLOBAL-shadowed AWS client to its regional bucket under most-specific and to the default host under archeio', () => {
    const m = mix([{ name: 'shadowed', ip: '15.193.0.5', share: 1 }]);
    const ms = estimateCost(m, target, 'most-specific', prices);
    const ar = estimateCost(m, target, 'archeio', prices);
    expect(ms.byOrigin).toEqual([{ origin: 's3-same-region', host: 'bucket-ap-south-1.example', gb: 1000, usd: 0 }]);
    expect(ar.byOrigin).toEqual([{ origin: 'default-host', host: 'cdn.example', gb: 1000, usd: 100 }]);
    expect(ar.totalUsd - ms.totalUsd).toBeCloseTo(100);
  });

  it('keeps GCP clients on the upstream and prices them as intra-GCP', () => {
    const r = estimateCost(mix([{ name: 'gcp', ip: '35.220.26.1', share: 1 }]), target, 'most-specific', prices);
    expect(r.byOrigin).toEqual([{ origin: 'upstream-to-gcp', host: 'us-central1-docker.pkg.dev', gb: 1000, usd: 50 }]);
    expect(r.savingsUsd).toBe(0);
  });

  it("routes grouped regions to another region's bucket and splits mirror misses to the upstream", () => {
    const r = estimateCost(
      mix([{ name: 'cn', cloud: 'AWS', region: 'cn-north-1', share: 1 }], 0.75),
      target,
      'most-specific',
      prices,
    );
    expect(r.byOrigin.find((o) => o.origin === 's3-other-region')).toMatchObject({
      host: 'bucket-ap-east-1.example',
      gb: 750,
    });
    expect(r.byOrigin.find((o) => o.origin === 'upstream-to-internet')).toMatchObject({ gb: 250, usd: 50 });
    expect(r.totalUsd).toBeCloseTo(750 * 0.03 + 250 * 0.2);
    expect(r.allUpstreamUsd).toBeCloseTo(200);
  });

  it('normalises shares and weights image sizes', () => {
    const m: TrafficMix = {
      pulls: 10,
      clients: [
        { name: 'net', ip: '8.8.8.8', share: 2 },
        { name: 'azure', cloud: 'Azure', region: 'eastus', share: 2 },
      ],
      images: [
        { ref: 'small:1', bytes: 0, share: 3 },
        { ref: 'big:1', bytes: 4e9, share: 1 },
      ],
    };
    const r = estimateCost(m, target, 'most-specific', prices);
    expect(r.totalGb).toBeCloseTo(10 * 1 * 4 * 0.25); // 10 pulls × 1 GB average
    expect(r.byClient.map((c) => c.origin)).toEqual(['default-host', 'default-host']);
  });
});

describe('parseTrafficMix', () => {
  it.each([
    [{ pulls: -1, clients: [], images: [] }, 'pulls must be a non-negative number'],
    [{ pulls: 1, clients: [], images: [] }, 'clients must be a non-empty list'],
    [
      { pulls: 1, clients: [{ name: 'x', share: 1 }], images: [{ ref: 'a', bytes: 1, share: 1 }] },
      'clients[0] needs an `ip` or a `cloud`',
    ],
    [
      { pulls: 1, clients: [{ name: 'x', cloud: 'AWS', share: 1 }], images: [{ ref: 'a', bytes: 1, share: 1 }] },
      'clients[0].region is required',
    ],
    [
      { pulls: 1, clients: [{ name: 'x', ip: '1.1.1.1', share: 1 }], images: [{ ref: 'a', bytes: 'big', share: 1 }] },
      'images[0].bytes',
    ],
    [
      { pulls: 1, clients: [{ name: 'x', ip: '1.1.1.1', share: 0 }], images: [{ ref: 'a', bytes: 1, share: 1 }] },
      'shares must not all be zero',
    ],
    [
      {
        pulls: 1,
        clients: [{ name: 'x', ip: '1.1.1.1', share: 1 }],
        images: [{ ref: 'a', bytes: 1, share: 1 }],
        mirroredShare: 2,
      },
      'mirroredShare must be between 0 and 1',
    ],
  ])('rejects %j with a message naming the field', (value, message) => {
    expect(() => parseTrafficMix(value, 'mix.yaml')).toThrow(TrafficMixError);
    expect(() => parseTrafficMix(value, 'mix.yaml')).toThrow(message);
  });

  it('rejects an invalid client address when estimating', () => {
    const m = parseTrafficMix({
      pulls: 1,
      clients: [{ name: 'bad', ip: '999.1.1.1', share: 1 }],
      images: [{ ref: 'a:1', bytes: 1, share: 1 }],
    });
    expect(() => estimateCost(m, target, 'most-specific', prices)).toThrow('"bad" has an invalid ip "999.1.1.1"');
  });
});

import { describe, expect, it } from 'vitest';
import { classifyByScan, readPublishedRanges } from '../oracle/published-ranges.js';
import { PRODUCTION_BUCKET_REGIONS } from './bucket-map.js';
import { StackError } from './stack-error.js';
import { checkVantages, parseVantagePlan, readVantagePlan } from './vantages.js';

const prefixes = readPublishedRanges();
const regions = Object.keys(PRODUCTION_BUCKET_REGIONS);

describe('fixtures/vantages.json', () => {
  const plan = readVantagePlan();

  it('agrees with the bundled range data under both semantics, and covers every bucket-map region', () => {
    expect(checkVantages(plan, prefixes, 'most-specific', regions)).toHaveLength(plan.vantages.length);
    expect(checkVantages(plan, prefixes, 'archeio', regions)).toHaveLength(plan.vantages.length);
  });

  it('has the vantage classes the local stack promises', () => {
    const names = new Set(plan.vantages.map((v) => v.name));
    for (const region of regions) expect(names).toContain(`aws-${region}`);
    for (const n of [
      'aws-global',
      'aws-shadowed-ap-south-1',
      'aws-us-gov-west-1',
      'aws-v6-us-east-1',
      'gcp-v4',
      'gcp-v6',
      'azure',
      'internet-v4',
      'internet-v6',
    ]) {
      expect(names).toContain(n);
    }
    for (const grouped of ['cn-north-1', 'cn-northwest-1', 'ap-east-2', 'me-south-1']) {
      expect(plan.vantages.find((v) => v.name === `aws-${grouped}`)!.tags).toContain('grouped-bucket');
    }
  });

  it('the shadowed vantage really is shadowed: its region under most-specific, GLOBAL under archeio', () => {
    const v = plan.vantages.find((x) => x.tags?.includes('shadowed-by-global'))!;
    expect(classifyByScan(prefixes, v.ip, 'most-specific')).toMatchObject({ cloud: 'AWS', region: 'ap-south-1' });
    expect(classifyByScan(prefixes, v.ip, 'archeio')).toMatchObject({ cloud: 'AWS', region: 'GLOBAL' });
    const [ms] = checkVantages({ ...plan, vantages: [v] }, prefixes, 'most-specific', []);
    const [ar] = checkVantages({ ...plan, vantages: [v] }, prefixes, 'archeio', []);
    expect(ms).toMatchObject({ cloud: 'AWS', region: 'ap-south-1', tags: ['shadowed-by-global'] });
    expect(ar).toMatchObject({ cloud: 'AWS', region: 'GLOBAL' });
  });

  it('internet vantages are in no publication, and are not documentation addresses', () => {
    for (const v of plan.vantages.filter((x) => x.tags?.includes('internet'))) {
      expect(v.expect).toBeNull();
      expect(classifyByScan(prefixes, v.ip, 'most-specific')).toBeNull();
      expect(v.ip).not.toMatch(/^(192\.0\.2|198\.51\.100|203\.0\.113)\.|^2001:db8:/i);
    }
  });

  it('includes IPv6 vantages for AWS, GCP and the internet', () => {
    const v6 = plan.vantages.filter((v) => v.ip.includes(':'));
    expect(v6.map((v) => v.expect?.cloud ?? null)).toEqual(expect.arrayContaining(['AWS', 'GCP', null]));
  });
});

describe('checkVantages', () => {
  const base = { lbIp: '34.96.108.209' };

  it('fails start-up with every disagreement named, when the data moved', () => {
    const plan = parseVantagePlan({
      ...base,
      vantages: [
        { name: 'aws-us-east-1', ip: '44.192.0.1', expect: { cloud: 'AWS', region: 'us-west-2' } },
        { name: 'internet-v4', ip: '44.224.0.1', expect: null },
      ],
    });
    let err: unknown;
    try {
      checkVantages(plan, prefixes, 'most-specific', ['us-east-1']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StackError);
    expect((err as StackError).code).toBe('STACK_VANTAGE_INVALID');
    const msg = (err as Error).message;
    expect(msg).toMatch(
      /aws-us-east-1 \(44\.192\.0\.1\) under most-specific: the range data says AWS us-east-1 \(prefix 44\.192\.0\.0\/11\), the vantage file expects AWS us-west-2/,
    );
    expect(msg).toMatch(/internet-v4 \(44\.224\.0\.1\) under archeio: the range data says AWS us-west-2/);
    expect(msg).toMatch(/no vantage for bucket-map region us-east-1/);
  });

  it('requires coverage of every bucket-map region', () => {
    const plan = parseVantagePlan({
      ...base,
      vantages: [{ name: 'gcp-v4', ip: '104.154.113.1', expect: { cloud: 'GCP', region: 'us-central1' } }],
    });
    expect(() => checkVantages(plan, prefixes, 'most-specific', ['eu-west-2'])).toThrow(
      /no vantage for bucket-map region eu-west-2/,
    );
  });

  it('returns target-description vantages without edge URLs', () => {
    const plan = parseVantagePlan({
      ...base,
      vantages: [{ name: 'azure', ip: '20.42.0.1', expect: { cloud: 'Azure', region: 'eastus' }, tags: ['x'] }],
    });
    expect(checkVantages(plan, prefixes, 'archeio', [])).toEqual([
      { name: 'azure', ip: '20.42.0.1', cloud: 'Azure', region: 'eastus', url: null, tags: ['x'] },
    ]);
  });
});

describe('parseVantagePlan', () => {
  it.each([
    [{ lbIp: 'x', vantages: [] }, /lbIp must be an IP address/],
    [{ lbIp: '1.1.1.1', vantages: [] }, /non-empty array/],
    [{ lbIp: '1.1.1.1', vantages: [{ name: 'A B', ip: '1.1.1.1', expect: null }] }, /lowercase name/],
    [{ lbIp: '1.1.1.1', vantages: [{ name: 'a', ip: '1.1.1', expect: null }] }, /IPv4 or IPv6/],
    [{ lbIp: '1.1.1.1', vantages: [{ name: 'a', ip: 'fe80::1%eth0', expect: null }] }, /IPv4 or IPv6/],
    [{ lbIp: '1.1.1.1', vantages: [{ name: 'a', ip: '1.1.1.1' }] }, /expect is required/],
    [
      { lbIp: '1.1.1.1', vantages: [{ name: 'a', ip: '1.1.1.1', expect: { cloud: 'IBM', region: 'x' } }] },
      /"AWS"\|"GCP"\|"Azure"/,
    ],
    [
      {
        lbIp: '1.1.1.1',
        vantages: [
          { name: 'a', ip: '1.1.1.1', expect: null },
          { name: 'a', ip: '1.1.1.2', expect: null },
        ],
      },
      /used twice/,
    ],
  ])('rejects %j', (doc, message) => {
    expect(() => parseVantagePlan(doc)).toThrow(message);
  });
});

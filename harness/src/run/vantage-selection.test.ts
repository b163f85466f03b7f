import { describe, expect, it } from 'vitest';
import type { TargetDescription, Vantage } from '../target/target-description.js';
import { resolveEgressVantage, selectVantages, VantageSelectionError } from './vantage-selection.js';

const v = (name: string, ip: string, cloud: Vantage['cloud'], region: string | null): Vantage => ({ name, ip, cloud, region, url: null });
const vantages = [v('aws-us-east-1', '44.192.0.1', 'AWS', 'us-east-1'), v('aws-eu-west-3', '35.180.1.1', 'AWS', 'eu-west-3'), v('gcp-v4', '104.154.113.1', 'GCP', 'us-central1'), v('internet-v4', '192.0.2.1', null, null)];
const local = { name: 'local', ipMode: 'xff', vantages } as unknown as TargetDescription;
const remote = { name: 'production', ipMode: 'egress', vantages } as unknown as TargetDescription;

describe('selectVantages (xff and edge targets)', () => {
  it('narrows by name, place or class, keeping the target order', () => {
    expect(selectVantages(local, 'gcp-v4,aws-us-east-1').vantages.map((x) => x.name)).toEqual(['aws-us-east-1', 'gcp-v4']);
    expect(selectVantages(local, 'aws:eu-west-3').vantages.map((x) => x.name)).toEqual(['aws-eu-west-3']);
    expect(selectVantages(local, 'aws').vantages).toHaveLength(2);
    expect(selectVantages(local, 'internet').vantages.map((x) => x.name)).toEqual(['internet-v4']);
  });
  it('rejects what matches nothing, and auto', () => {
    expect(() => selectVantages(local, 'aws:mars-1')).toThrow(/--vantage aws:mars-1 matches no vantage of "local"/);
    expect(() => selectVantages(local, 'auto')).toThrow(VantageSelectionError);
    expect(() => selectVantages(local, ' , ')).toThrow(/at least one/);
  });
});

describe('resolveEgressVantage (egress targets)', () => {
  it('declares a named vantage, or a place, synthesising one without an address', async () => {
    expect((await resolveEgressVantage(remote, 'gcp-v4')).egressVantage).toBe('gcp-v4');
    expect((await resolveEgressVantage(remote, 'aws:eu-west-3')).egressVantage).toBe('aws-eu-west-3');
    expect((await resolveEgressVantage(remote, 'internet')).egressVantage).toBe('internet-v4');
    const declared = await resolveEgressVantage(remote, 'aws:ap-south-1');
    expect(declared.egressVantage).toBe('egress-aws-ap-south-1');
    expect(declared.vantages.at(-1)).toMatchObject({ ip: '', cloud: 'AWS', region: 'ap-south-1', tags: ['egress', 'declared-without-ip'] });
    await expect(resolveEgressVantage(remote, 'aws')).rejects.toThrow(/name the region too/);
    await expect(resolveEgressVantage(remote, 'mars')).rejects.toThrow(/not a vantage/);
  });
  it('auto: asks the echo service and classifies the answer with the range data', async () => {
    const t = await resolveEgressVantage({ ...remote, ipEchoUrl: 'http://echo.invalid/' }, 'auto', {
      fetchText: async (url) => {
        expect(url).toBe('http://echo.invalid/');
        return '35.180.1.1\n';
      },
    });
    expect(t.egressVantage).toBe('egress-auto');
    expect(t.vantages.at(-1)).toMatchObject({ ip: '35.180.1.1', cloud: 'AWS', region: 'eu-west-3' });
    await expect(resolveEgressVantage(remote, 'auto', { fetchText: async () => '<html>' })).rejects.toThrow(/not an IP address/);
    await expect(resolveEgressVantage(remote, 'auto', { fetchText: async () => Promise.reject(new Error('offline')) })).rejects.toThrow(/cannot learn .* offline/);
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { TargetDescription, Vantage } from '../target/target-description.js';
import { resolveEgressVantage, selectVantages, vantageCoverage, VantageSelectionError } from './vantage-selection.js';

const v = (name: string, ip: string, cloud: Vantage['cloud'], region: string | null): Vantage => ({
  name,
  ip,
  cloud,
  region,
  url: null,
});
const vantages = [
  v('aws-us-east-1', '44.192.0.1', 'AWS', 'us-east-1'),
  v('aws-eu-west-3', '35.180.1.1', 'AWS', 'eu-west-3'),
  v('gcp-v4', '104.154.113.1', 'GCP', 'us-central1'),
  v('internet-v4', '192.0.2.1', null, null),
];
const local = { name: 'local', ipMode: 'xff', vantages } as unknown as TargetDescription;
const remote = { name: 'production', ipMode: 'egress', vantages } as unknown as TargetDescription;

describe('selectVantages (xff and edge targets)', () => {
  it('narrows by name, place or class, keeping the target order', () => {
    expect(selectVantages(local, 'gcp-v4,aws-us-east-1').vantages.map((x) => x.name)).toEqual([
      'aws-us-east-1',
      'gcp-v4',
    ]);
    expect(selectVantages(local, 'aws:eu-west-3').vantages.map((x) => x.name)).toEqual(['aws-eu-west-3']);
    expect(selectVantages(local, 'aws').vantages).toHaveLength(2);
    expect(selectVantages(local, 'internet').vantages.map((x) => x.name)).toEqual(['internet-v4']);
  });
  it('rejects what matches nothing, and auto', () => {
    expect(() => selectVantages(local, 'aws:mars-1')).toThrow(/--vantage aws:mars-1 matches no vantage of "local"/);
    expect(() => selectVantages(local, 'auto')).toThrow(VantageSelectionError);
    expect(() => selectVantages(local, ' , ')).toThrow(/at least one/);
  });
  it('offers the nearest name for a typo and lists every vantage, however many', () => {
    expect(() => selectVantages(local, 'aws-us-eats-1')).toThrow(
      /matches no vantage of "local" \(did you mean aws-us-east-1\?\); its 4 vantages: aws-us-east-1, aws-eu-west-3, gcp-v4, internet-v4;/,
    );
    expect(() => selectVantages(local, 'aws:eu-wset-3')).toThrow(/did you mean aws:eu-west-3\?/);
    const many = {
      ...local,
      vantages: Array.from({ length: 30 }, (_, i) => v(`edge-${i}`, `192.0.2.${i}`, null, null)),
    } as TargetDescription;
    expect(() => selectVantages(many, 'nothing-like-it')).toThrow(/its 30 vantages: edge-0, .*edge-29;/);
    expect(() => selectVantages(many, 'nothing-like-it')).not.toThrow(/did you mean/);
  });
});

describe('resolveEgressVantage (egress targets)', () => {
  it('declares a named vantage, or a place, synthesising one without an address', async () => {
    expect((await resolveEgressVantage(remote, 'gcp-v4')).egressVantage).toBe('gcp-v4');
    expect((await resolveEgressVantage(remote, 'aws:eu-west-3')).egressVantage).toBe('aws-eu-west-3');
    expect((await resolveEgressVantage(remote, 'internet')).egressVantage).toBe('internet-v4');
    const declared = await resolveEgressVantage(remote, 'aws:ap-south-1');
    expect(declared.egressVantage).toBe('egress-aws-ap-south-1');
    expect(declared.vantages.at(-1)).toMatchObject({
      ip: '',
      cloud: 'AWS',
      region: 'ap-south-1',
      tags: ['egress', 'declared-without-ip'],
    });
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
    await expect(resolveEgressVantage(remote, 'auto', { fetchText: async () => '<html>' })).rejects.toThrow(
      /not an IP address/,
    );
    await expect(
      resolveEgressVantage(remote, 'auto', { fetchText: async () => Promise.reject(new Error('offline')) }),
    ).rejects.toThrow(/cannot learn .* offline/);
  });
});

/** A plain-text IP echo service on 127.0.0.1 (checkip.amazonaws.com's shape: the address and a newline). */
async function withEcho<T>(
  answer: string,
  status: number,
  fn: (url: string, asked: string[]) => Promise<T>,
): Promise<T> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ip`, asked);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('--vantage auto against a local echo service (--ip-echo)', () => {
  it("asks the --ip-echo URL over HTTP, in preference to the target's ipEchoUrl", async () => {
    await withEcho('35.180.1.1\n', 200, async (url, asked) => {
      const t = await resolveEgressVantage({ ...remote, ipEchoUrl: 'http://127.0.0.1:9/never' }, 'auto', {
        ipEchoUrl: url,
      });
      expect(asked).toEqual(['/ip']);
      expect(t.vantages.at(-1)).toMatchObject({
        name: 'egress-auto',
        ip: '35.180.1.1',
        cloud: 'AWS',
        region: 'eu-west-3',
        tags: ['egress', 'detected', 'aws-region'],
      });
    });
  });

  it('tags a GLOBAL-shadowed AWS address, an IPv6 address and an internet address', async () => {
    await withEcho('15.193.0.5', 200, async (url) => {
      const v = (await resolveEgressVantage(remote, 'auto', { ipEchoUrl: url })).vantages.at(-1)!;
      expect(v).toMatchObject({ cloud: 'AWS', region: 'ap-south-1' });
      expect(v.tags).toContain('shadowed-by-global');
    });
    await withEcho('2600:1f14::1', 200, async (url) => {
      const v = (await resolveEgressVantage(remote, 'auto', { ipEchoUrl: url })).vantages.at(-1)!;
      expect(v).toMatchObject({ cloud: 'AWS', region: 'us-west-2' });
      expect(v.tags).toContain('ipv6');
    });
    await withEcho('192.0.2.77', 200, async (url) => {
      const v = (await resolveEgressVantage(remote, 'auto', { ipEchoUrl: url })).vantages.at(-1)!;
      expect(v).toMatchObject({ cloud: null, region: null, tags: ['egress', 'detected', 'internet', 'default-route'] });
    });
  });

  it('an echo service that fails or answers something else is an error naming it', async () => {
    await withEcho('busy', 503, async (url) => {
      await expect(resolveEgressVantage(remote, 'auto', { ipEchoUrl: url })).rejects.toThrow(
        new RegExp(`cannot learn .* from ${url}: .*503`),
      );
    });
    await withEcho('<html>hi</html>', 200, async (url) => {
      await expect(resolveEgressVantage(remote, 'auto', { ipEchoUrl: url })).rejects.toThrow(/not an IP address/);
    });
  });

  it('an explicit place overrides detection: no echo request at all', async () => {
    await withEcho('35.180.1.1', 200, async (url, asked) => {
      const t = await resolveEgressVantage(remote, 'aws:eu-west-1', { ipEchoUrl: url });
      expect(t.egressVantage).toBe('egress-aws-eu-west-1');
      expect(asked).toEqual([]);
    });
  });
});

describe('vantageCoverage: what the run cannot cover from its vantage', () => {
  const check = (id: string, vantage?: Vantage) => ({ id, ...(vantage ? { vantage } : {}) });
  it('egress: names the speaking vantage and the checks and places it cannot cover', async () => {
    const t = await resolveEgressVantage(remote, 'gcp-v4');
    const lines = vantageCoverage(t, [
      check('a@gcp', vantages[2]),
      check('b@aws', vantages[0]),
      check('c@aws', vantages[0]),
      check('d@eu', vantages[1]),
      check('e'),
    ]);
    expect(lines[0]).toBe(
      'speaking from gcp-v4 (104.154.113.1: GCP us-central1, declared): 1 checks from this vantage, 1 without a vantage',
    );
    expect(lines[1]).toMatch(/GCP client is always sent to the upstream/);
    expect(lines[2]).toBe(
      '  not covered: 3 checks bound to 2 other vantages, because egress mode cannot pose as another client; run the canary from: aws-us-east-1 (AWS us-east-1), aws-eu-west-3 (AWS eu-west-3)',
    );
  });
  it('xff, and egress without a vantage', () => {
    expect(vantageCoverage(local, [])).toEqual(['xff mode: the harness poses as each of 4 vantages']);
    expect(vantageCoverage(remote, [])[0]).toMatch(/without a declared vantage/);
  });
});

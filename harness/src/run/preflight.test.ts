import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetDescription, Vantage } from '../target/target-description.js';
import { preflight } from './preflight.js';

let server: http.Server;
let url: string;
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers['x-forwarded-for'] as string | undefined);
    // the "broken" vantage gets a 503, everyone else the registry ping
    if (String(req.headers['x-forwarded-for']).startsWith('20.42.0.1')) res.writeHead(503).end();
    else res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const v = (name: string, ip: string): Vantage => ({ name, ip, cloud: null, region: null, url: null });
const t = (over: Partial<TargetDescription>) =>
  ({ name: 'x', url, ipMode: 'xff', lbIp: '9.9.9.9', vantages: [], ...over }) as TargetDescription;

describe('preflight', () => {
  it('pings /v2/ through each vantage (with its X-Forwarded-For); one answer is enough', async () => {
    const p = await preflight(t({}), [v('ok', '44.192.0.1'), v('sick', '20.42.0.1')]);
    expect(p.reachable).toBe(true);
    expect(p.vantages).toMatchObject([
      { vantage: 'ok', ok: true, status: 200 },
      { vantage: 'sick', ok: false },
    ]);
    expect(seen).toContain('44.192.0.1,9.9.9.9');
  });

  it('unreachable when nothing answers; egress without a declared vantage pings from the harness address', async () => {
    const closed = await preflight(t({ url: 'http://127.0.0.1:1' }), [v('a', '44.192.0.1')], { timeoutMs: 2_000 });
    expect(closed.reachable).toBe(false);
    expect(closed.vantages[0]!.message).toMatch(/ECONNREFUSED|NETWORK/);
    const egress = await preflight(t({ ipMode: 'egress' }), [v('a', '44.192.0.1')]);
    expect(egress).toMatchObject({ reachable: true, vantages: [{ vantage: '(harness address)', ok: true }] });
  });
});

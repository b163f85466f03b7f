import { describe, expect, it } from 'vitest';
import { NotApplicable } from '../results/check.js';
import type { TargetDescription, Vantage } from '../target/target-description.js';
import { vantageRoute } from './vantage-route.js';

const withEdge: Vantage = {
  name: 'aws',
  ip: '44.192.0.1',
  cloud: 'AWS',
  region: 'us-east-1',
  url: 'http://127.0.0.1:9001',
};
const noEdge: Vantage = {
  ...withEdge,
  name: 'gcp',
  ip: '104.154.113.1',
  cloud: 'GCP',
  region: 'us-central1',
  url: null,
};
const t = (over: Partial<TargetDescription>) =>
  ({ name: 'x', url: 'http://127.0.0.1:8080', ipMode: 'xff', lbIp: '34.96.108.209', ...over }) as TargetDescription;

describe('vantageRoute', () => {
  it('xff: the redirector URL with "<vantage>,<lb>", spoofed entries in front; header-less needs an edge', () => {
    expect(vantageRoute(t({}), noEdge)).toMatchObject({
      baseUrl: 'http://127.0.0.1:8080',
      headers: { 'x-forwarded-for': '104.154.113.1,34.96.108.209' },
      headerless: false,
    });
    expect(vantageRoute(t({ lbIp: undefined }), noEdge).headers['x-forwarded-for']).toBe('104.154.113.1,0.0.0.0');
    expect(vantageRoute(t({}), withEdge, { spoofedXff: ['1.1.1.1'] }).headers['x-forwarded-for']).toBe(
      '1.1.1.1,44.192.0.1,34.96.108.209',
    );
    expect(vantageRoute(t({}), withEdge, { headerless: true })).toMatchObject({
      baseUrl: 'http://127.0.0.1:9001',
      headers: {},
      headerless: true,
    });
    expect(() => vantageRoute(t({}), noEdge, { headerless: true })).toThrow(NotApplicable);
    expect(() => vantageRoute(t({}), noEdge, { headerless: true })).toThrow(/needs an edge port .* gcp has none/);
  });

  it('edge: the vantage port, spoofed entries sent as the client’s own header; no edge → not applicable', () => {
    expect(vantageRoute(t({ ipMode: 'edge' }), withEdge, { spoofedXff: ['1.1.1.1'] })).toMatchObject({
      baseUrl: 'http://127.0.0.1:9001',
      headers: { 'x-forwarded-for': '1.1.1.1' },
    });
    expect(() => vantageRoute(t({ ipMode: 'edge' }), noEdge)).toThrow(/edge mode and vantage gcp has no edge URL/);
  });

  it('egress: only the declared vantage, from the target URL', () => {
    expect(() => vantageRoute(t({ ipMode: 'egress' }), withEdge)).toThrow(/no egress vantage was declared/);
    const declared = t({ ipMode: 'egress', egressVantage: 'aws' });
    expect(vantageRoute(declared, withEdge)).toMatchObject({
      baseUrl: 'http://127.0.0.1:8080',
      headers: {},
      headerless: true,
    });
    expect(() => vantageRoute(declared, noEdge)).toThrow(/speaks from aws and cannot pose as gcp/);
  });
});

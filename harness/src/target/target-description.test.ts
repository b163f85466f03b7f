import { describe, expect, it } from 'vitest';
import { parseTargetDescription, TargetDescriptionError } from './target-description.js';

const valid = () => ({
  name: 'local',
  url: 'http://127.0.0.1:8080',
  ipMode: 'xff',
  semantics: 'most-specific',
  upstream: 'http://127.0.0.1:5000',
  upstreamPath: '',
  signatureUpstream: null,
  infoUrl: 'http://127.0.0.1:9000/info',
  privacyUrl: 'http://127.0.0.1:9000/privacy',
  bucketMap: { default: 'http://127.0.0.1:4569/default', regions: { 'us-east-1': 'http://127.0.0.1:4569/use1' } },
  s3: { endpoint: 'http://127.0.0.1:4569', buckets: ['default', 'use1'] },
  vantages: [{ name: 'aws-us-east-1', ip: '3.5.0.1', cloud: 'AWS', region: 'us-east-1', url: null }],
  images: [{ ref: 'pause:3.10', digest: 'sha256:' + 'a'.repeat(64) }],
  mirrorPlan: null,
  extraField: { kept: true },
});

describe('parseTargetDescription', () => {
  it('accepts a valid description and keeps extra fields', () => {
    const t = parseTargetDescription(valid());
    expect(t.name).toBe('local');
    expect(t.extraField).toEqual({ kept: true });
  });

  it.each([
    ['url', 'ftp://x', /url must be an http\(s\) URL/],
    ['ipMode', 'proxy', /ipMode must be/],
    ['semantics', 'lpm', /semantics must be/],
    ['upstreamPath', undefined, /upstreamPath must be a string/],
    ['signatureUpstream', 'nope', /signatureUpstream must be/],
    ['vantages', {}, /vantages must be an array/],
    ['images', [{ ref: 'pause', digest: 'sha256:x' }], /images\[0\]\.ref/],
    ['images', [{ ref: 'pause:1', digest: 'nodigest' }], /images\[0\]\.digest/],
  ])('rejects a bad %s with a message naming the field', (field, value, message) => {
    const t: Record<string, unknown> = valid();
    t[field] = value;
    expect(() => parseTargetDescription(t, 'my.json')).toThrow(TargetDescriptionError);
    expect(() => parseTargetDescription(t, 'my.json')).toThrow(message);
  });

  it('names nested fields precisely', () => {
    const t = valid();
    (t.vantages[0] as Record<string, unknown>).cloud = 'DigitalOcean';
    expect(() => parseTargetDescription(t)).toThrow('target: vantages[0].cloud must be "AWS", "GCP", "Azure" or null');
    const u = valid();
    u.bucketMap.regions['us-east-1'] = 'not a url';
    expect(() => parseTargetDescription(u)).toThrow('bucketMap.regions.us-east-1');
  });

  it('rejects non-objects', () => {
    expect(() => parseTargetDescription([])).toThrow('(root) must be a JSON object');
    expect(() => parseTargetDescription(null)).toThrow('(root) must be a JSON object');
  });
});

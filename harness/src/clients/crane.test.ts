import { describe, expect, it } from 'vitest';
import { clientReference } from './client-reference.js';
import { byDigest, craneRefusedRedirectHosts, isGuardedAddress } from './crane.js';

describe("crane's redirect guard", () => {
  it.each([
    ['127.0.0.1', true],
    ['127.9.9.9', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['0.0.0.0', true],
    ['[::1]', true],
    ['[::]', true],
    ['[fd00::1]', true],
    ['[fe80::1]', true],
    ['[::ffff:127.0.0.1]', true],
    ['[::ffff:7f00:1]', true],
    ['172.32.0.1', false],
    ['8.8.8.8', false],
    ['[2001:db8::1]', false],
    ['localhost', false],
    ['prod-registry-k8s-io-us-east-2.s3.dualstack.us-east-2.amazonaws.com', false],
  ])('%s guarded: %s', (host, guarded) => {
    expect(isGuardedAddress(host)).toBe(guarded);
  });

  it("allows every destination on the first request's host, whatever the port", () => {
    const buckets = ['http://127.0.0.1:5000/b', 'http://127.0.0.1:6000'];
    expect(craneRefusedRedirectHosts('http://127.0.0.1:4000', buckets)).toEqual([]);
  });

  it('names loopback and private destinations on another host, once each', () => {
    const refused = craneRefusedRedirectHosts('http://localhost:4000', [
      'http://127.0.0.1:5000/bucket-a',
      'http://127.0.0.1:5001/bucket-b',
      'http://10.0.0.5/upstream',
      'https://storage.googleapis.com/bucket',
      'http://localhost:7000',
    ]);
    expect(refused).toEqual(['127.0.0.1', '10.0.0.5']);
  });

  it('reads URL spellings of an address the way crane does (127.1 is 127.0.0.1)', () => {
    expect(craneRefusedRedirectHosts('http://example.test', ['http://127.1:9/'])).toEqual(['127.0.0.1']);
  });
});

describe('byDigest', () => {
  it('keeps the authority and repository and drops the tag', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const pinned = byDigest(clientReference('http://127.0.0.1:4000', 'e2e-test-images/busybox:1.36.1-1'), digest);
    expect(pinned.text).toBe(`127.0.0.1:4000/e2e-test-images/busybox@${digest}`);
    expect(pinned.tag).toBeUndefined();
    expect(pinned.plainHttp).toBe(true);
  });
});

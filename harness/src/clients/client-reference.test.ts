import { describe, expect, it } from 'vitest';
import { clientReference } from './client-reference.js';

describe('clientReference', () => {
  it('keeps only the authority of an edge URL and marks plain HTTP', () => {
    expect(clientReference('http://127.0.0.1:40195', 'e2e-test-images/busybox:1.36.1-1')).toEqual({
      authority: '127.0.0.1:40195',
      repository: 'e2e-test-images/busybox',
      tag: '1.36.1-1',
      text: '127.0.0.1:40195/e2e-test-images/busybox:1.36.1-1',
      plainHttp: true,
    });
  });

  it('spells default ports out and handles digests and IPv6 literals', () => {
    expect(clientReference('https://registry.k8s.io', 'pause:3.10').text).toBe('registry.k8s.io:443/pause:3.10');
    expect(clientReference('https://registry.k8s.io', 'pause:3.10').plainHttp).toBe(false);
    const d = clientReference('http://[::1]:5000/', 'pause@sha256:abc');
    expect(d).toMatchObject({ authority: '[::1]:5000', digest: 'sha256:abc', text: '[::1]:5000/pause@sha256:abc' });
  });

  it('rejects a ref without a tag', () => {
    expect(() => clientReference('http://127.0.0.1:1', 'pause')).toThrow(/no tag/);
    expect(() => clientReference('http://127.0.0.1:1', 'host:5000/pause')).toThrow(/no tag/);
  });
});

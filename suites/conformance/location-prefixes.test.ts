import { describe, expect, it } from 'vitest';
import type { TargetDescription } from '../../harness/src/index.js';
import { allowedLocationPrefixes, locationEscape } from './location-prefixes.js';

const target = {
  upstream: 'https://us-central1-docker.pkg.dev',
  upstreamPath: 'k8s-artifacts-prod/images',
  signatureUpstream: 'https://sig.example',
  infoUrl: 'https://github.com/kubernetes/registry.k8s.io',
  privacyUrl: 'https://www.linuxfoundation.org/privacy-policy/',
  bucketMap: {
    default: 'https://d1be1w964nk82h.cloudfront.net',
    regions: { 'eu-west-3': 'https://prod-registry-k8s-io-eu-west-3.s3.dualstack.eu-west-3.amazonaws.com' },
  },
} as unknown as TargetDescription;
const prefixes = allowedLocationPrefixes(target);
const from = 'https://registry.k8s.io/v2/pause/manifests/3.10';

describe('locationEscape', () => {
  it('accepts every configured destination', () => {
    for (const loc of [
      'https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/manifests/latest',
      'https://sig.example/v2/k8s-artifacts-prod/images/pause/manifests/sha256-ab.sig',
      'https://d1be1w964nk82h.cloudfront.net/containers/images/sha256:abc',
      'https://prod-registry-k8s-io-eu-west-3.s3.dualstack.eu-west-3.amazonaws.com/containers/images/sha256:abc',
      'https://github.com/kubernetes/registry.k8s.io',
      'https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/tags/list?n=1',
    ]) {
      expect(locationEscape(loc, from, prefixes), loc).toBeNull();
    }
  });

  it("catches archeio's path.Join escapes (docs/reference/archeio.md#url-construction) and other hosts", () => {
    expect(locationEscape('https://us-central1-docker.pkg.dev/v2/other/repo/manifests/x', from, prefixes)).toMatch(
      /outside/,
    );
    expect(locationEscape('https://us-central1-docker.pkg.dev/x', from, prefixes)).toMatch(/outside/);
    expect(
      locationEscape('https://evil.example/v2/k8s-artifacts-prod/images/pause/manifests/x', from, prefixes),
    ).toMatch(/outside/);
    expect(locationEscape('https://github.com/kubernetes/other', from, prefixes)).toMatch(/outside/);
  });

  it('reads dot segments as a client would, encoded or not', () => {
    expect(
      locationEscape(
        'https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/../../other/manifests/x',
        from,
        prefixes,
      ),
    ).toMatch(/outside/);
    expect(
      locationEscape(
        'https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/%2e%2e/%2E%2E/other/x',
        from,
        prefixes,
      ),
    ).toMatch(/outside/);
    expect(
      locationEscape(
        'https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/..%2F..%2Fother/x',
        from,
        prefixes,
      ),
    ).toMatch(/decoded/);
    expect(
      locationEscape('https://d1be1w964nk82h.cloudfront.net/containers/images/..%2f..%2fsecret', from, prefixes),
    ).toMatch(/decoded/);
  });

  it('rejects CR/LF and unparseable values', () => {
    expect(
      locationEscape('https://us-central1-docker.pkg.dev/v2/k8s-artifacts-prod/images/a\r\nX: 1', from, prefixes),
    ).toMatch(/CR\/LF/);
    expect(locationEscape('http://[bad', from, prefixes)).toMatch(/does not parse/);
  });

  it('an empty upstream path allows all of /v2/ on the upstream', () => {
    const p = allowedLocationPrefixes({ ...target, upstreamPath: '' } as TargetDescription);
    expect(locationEscape('https://us-central1-docker.pkg.dev/v2/anything/manifests/x', from, p)).toBeNull();
    expect(locationEscape('https://us-central1-docker.pkg.dev/v3/x', from, p)).toMatch(/outside/);
  });
});

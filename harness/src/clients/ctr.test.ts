import { describe, expect, it } from 'vitest';
import { ctrHttpHops } from './ctr.js';

// Shape of `ctr --http-dump` output (containerd 1.6.20, logrus text format), trimmed.
const DUMP = [
  'time="2026-11-25T07:07:12Z" level=info msg="HEAD /v2/pause/manifests/test HTTP/1.1"',
  'time="2026-11-25T07:07:12Z" level=info msg="Host: 127.0.0.1:5902"',
  'time="2026-11-25T07:07:12Z" level=info msg="Accept: application/vnd.oci.image.manifest.v1+json, */*"',
  'time="2026-11-25T07:07:12Z" level=info',
  'time="2026-11-25T07:07:12Z" level=info msg="HTTP/1.1 307 Temporary Redirect"',
  'time="2026-11-25T07:07:12Z" level=info msg="Location: http://127.0.0.1:5901/v2/up/pause/manifests/test"',
  'time="2026-11-25T07:07:12Z" level=info',
  'time="2026-11-25T07:07:12Z" level=info msg="HEAD /v2/up/pause/manifests/test HTTP/0.0"',
  'time="2026-11-25T07:07:12Z" level=info msg="Host: 127.0.0.1:5901"',
  'time="2026-11-25T07:07:12Z" level=info',
  'time="2026-11-25T07:07:12Z" level=info msg="HTTP/1.1 200 OK"',
  'time="2026-11-25T07:07:12Z" level=info msg="Content-Type: application/vnd.oci.image.manifest.v1+json"',
  'time="2026-11-25T07:07:12Z" level=info msg="Docker-Content-Digest: sha256:3e77"',
  'time="2026-11-25T07:07:12Z" level=info msg="Etag: \\"sha256:3e77\\""',
  'ctr: some unrelated line',
].join('\n');

describe('ctrHttpHops', () => {
  it('pairs request and status lines into hops with the headers that matter', () => {
    const hops = ctrHttpHops(DUMP);
    expect(hops).toHaveLength(2);
    expect(hops[0]).toMatchObject({
      method: 'HEAD',
      url: 'http://127.0.0.1:5902/v2/pause/manifests/test',
      status: 307,
      location: 'http://127.0.0.1:5901/v2/up/pause/manifests/test',
    });
    expect(hops[1]).toMatchObject({
      method: 'HEAD',
      url: 'http://127.0.0.1:5901/v2/up/pause/manifests/test',
      status: 200,
    });
    expect(hops[1]!.headers).toEqual({
      'content-type': 'application/vnd.oci.image.manifest.v1+json',
      'docker-content-digest': 'sha256:3e77',
    });
  });

  it('returns nothing for output without a dump', () => {
    expect(ctrHttpHops('ctr: failed to resolve reference\n')).toEqual([]);
  });
});

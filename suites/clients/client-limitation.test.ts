import { describe, expect, it } from 'vitest';
import { clientFailureClass } from './client-failure.js';
import { clientLimitation } from './client-limitation.js';

describe('client limitations', () => {
  it('recognises what Debian 12 skopeo and containerd cannot do', () => {
    expect(clientLimitation('skopeo', 'level=fatal msg="Manifest list must be converted to type \\"application/vnd.oci.image.index.v1+json\\" ..."')?.note).toMatch(/artifactType/);
    expect(clientLimitation('skopeo', 'blob with digest sha512:ab12 saved with digest sha256:cd34')?.note).toMatch(/sha512/);
    expect(clientLimitation('ctr', 'commit failed: unexpected commit digest sha256:0b70, expected sha512:62fe: failed precondition')?.note).toMatch(/sha512/);
  });

  it('never excuses a real digest mismatch', () => {
    expect(clientLimitation('skopeo', 'Digest did not match, expected sha256:e805, got sha256:93cb')).toBeNull();
    expect(clientLimitation('ctr', 'unexpected commit digest sha256:0b70, expected sha256:62fe')).toBeNull();
    expect(clientLimitation('ctr', 'blob with digest sha512:ab12 saved with digest sha256:cd34')).toBeNull();
  });
});

describe('clientFailureClass', () => {
  it.each([
    ['Digest did not match, expected sha256:e805, got sha256:93cb', 'integrity'],
    ['unexpected commit digest sha256:1, expected sha256:2', 'integrity'],
    ['dial tcp 127.0.0.1:1: connect: connection refused', 'availability'],
    ['invalid status code from registry 503 (Service Unavailable)', 'availability'],
    ['toomanyrequests: slow down', 'rate-limited'],
    ['manifest unknown: 404', 'conformance'],
  ])('%s → %s', (output, cls) => {
    expect(clientFailureClass(output)).toBe(cls);
  });
});

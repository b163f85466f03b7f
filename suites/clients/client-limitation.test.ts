import { describe, expect, it } from 'vitest';
import { clientFailureClass } from './client-failure.js';
import { clientLimitation } from './client-limitation.js';

describe('client limitations', () => {
  it('recognises what Debian 12 skopeo and containerd cannot do', () => {
    expect(
      clientLimitation(
        'skopeo',
        'level=fatal msg="Manifest list must be converted to type \\"application/vnd.oci.image.index.v1+json\\" ..."',
      )?.note,
    ).toMatch(/artifactType/);
    expect(clientLimitation('skopeo', 'blob with digest sha512:ab12 saved with digest sha256:cd34')?.note).toMatch(
      /sha512/,
    );
    expect(
      clientLimitation(
        'ctr',
        'commit failed: unexpected commit digest sha256:0b70, expected sha512:62fe: failed precondition',
      )?.note,
    ).toMatch(/sha512/);
  });

  it('recognises what crane v0.22 validate cannot judge', () => {
    expect(clientLimitation('crane', 'Error: validating layers: gzip: invalid header')?.note).toMatch(/uncompressed/);
    const sig = 'Error: mismatched number of diffids: len(ConfigFile.RootFS.DiffIDs)=1, len(layers)=0';
    expect(clientLimitation('crane', sig)?.note).toMatch(/diff_ids/);
    // another client's output never matches crane's patterns
    expect(clientLimitation('skopeo', 'validating layers: gzip: invalid header')).toBeNull();
  });

  it('never excuses a real digest mismatch', () => {
    const crane = 'error verifying sha256 checksum after reading 1024 bytes; got "sha256:93cb", want "sha256:e805"';
    expect(clientLimitation('crane', crane)).toBeNull();
    const layer = 'mismatched layer[0] digest: Digest()=sha256:1, SHA256(Compressed())=sha256:2';
    expect(clientLimitation('crane', layer)).toBeNull();
    expect(clientLimitation('skopeo', 'Digest did not match, expected sha256:e805, got sha256:93cb')).toBeNull();
    expect(clientLimitation('ctr', 'unexpected commit digest sha256:0b70, expected sha256:62fe')).toBeNull();
    expect(clientLimitation('ctr', 'blob with digest sha512:ab12 saved with digest sha256:cd34')).toBeNull();
  });
});

describe('clientFailureClass', () => {
  it.each([
    ['Digest did not match, expected sha256:e805, got sha256:93cb', 'integrity'],
    ['unexpected commit digest sha256:1, expected sha256:2', 'integrity'],
    ['error verifying sha256 checksum after reading 1024 bytes; got "sha256:1", want "sha256:2"', 'integrity'],
    ['error verifying size; got 10, want 12', 'integrity'],
    ['mismatched layer[0] digest: Digest()=sha256:1, SHA256(Compressed())=sha256:2', 'integrity'],
    ['dial tcp 127.0.0.1:1: connect: connection refused', 'availability'],
    ['invalid status code from registry 503 (Service Unavailable)', 'availability'],
    ['toomanyrequests: slow down', 'rate-limited'],
    ['manifest unknown: 404', 'conformance'],
  ])('%s → %s', (output, cls) => {
    expect(clientFailureClass(output)).toBe(cls);
  });
});

import { describe, expect, it } from 'vitest';
import { clientReference } from './client-reference.js';
import { regctlHostFlags } from './regctl.js';

describe('regctlHostFlags', () => {
  it('declares plain HTTP for an http edge and TLS for an https one', () => {
    const plain = clientReference('http://127.0.0.1:4000', 'pause:3.10');
    expect(regctlHostFlags(plain)).toEqual(['--host', 'reg=127.0.0.1:4000,tls=disabled']);
    const tls = clientReference('https://registry.k8s.io', 'pause:3.10');
    expect(regctlHostFlags(tls)).toEqual(['--host', 'reg=registry.k8s.io:443,tls=enabled']);
  });
});

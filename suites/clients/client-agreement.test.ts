import { describe, expect, it } from 'vitest';
import { clientDisagreements } from './client-agreement.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

describe('clientDisagreements', () => {
  it('counts the images two or more clients resolved, and agrees when their digests match', () => {
    const byTool = new Map([
      [
        'skopeo',
        new Map([
          ['pause:3.10', A],
          ['big:v1', A],
        ]),
      ],
      ['crane', new Map([['pause:3.10', A]])],
      [
        'regctl',
        new Map([
          ['pause:3.10', A],
          ['only-regctl:v1', B],
        ]),
      ],
    ]);
    expect(clientDisagreements(byTool)).toEqual({ compared: 1, differ: [] });
  });

  it("names the image and every client's digest when one client differs", () => {
    const byTool = new Map([
      ['skopeo', new Map([['pause:3.10', A]])],
      ['ctr', new Map([['pause:3.10', A]])],
      ['regctl', new Map([['pause:3.10', B]])],
    ]);
    const differ = [`pause:3.10: skopeo ${A}, ctr ${A}, regctl ${B}`];
    expect(clientDisagreements(byTool)).toEqual({ compared: 1, differ });
  });

  it('compares nothing when no two clients share an image', () => {
    const byTool = new Map([
      ['skopeo', new Map([['a:1', A]])],
      ['crane', new Map([['b:1', B]])],
      ['regctl', new Map<string, string>()],
    ]);
    expect(clientDisagreements(byTool)).toEqual({ compared: 0, differ: [] });
  });
});
